//! Benchmarks of the documents pallet.
//!
//! Every call is measured at its worst case: the longest title and media type, a document
//! with as many versions as allowed less one, a version with as many annotations as allowed
//! less one.

use super::*;
use crate::pallet::{Documents, NextDocumentId, Versions};
use crate::BenchmarkHelper;
use alloc::vec;
use dt_primitives::{
	access::{Confidentiality, ElementId},
	content_id::{raw_sha256_content_id, ContentId},
};
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;

fn content_id(seed: u8) -> ContentId {
	ContentId::try_from(raw_sha256_content_id(&[seed; 32]).to_vec()).expect("36 bytes fit")
}

/// `len` bytes of `byte`, at least one.
fn filled<S: Get<u32>>(byte: u8) -> BoundedVec<u8, S> {
	BoundedVec::try_from(vec![byte; S::get().max(1) as usize]).expect("fits its bound")
}

/// The longest valid media type: `a/bbb…`.
fn media_type<S: Get<u32>>() -> BoundedVec<u8, S> {
	let mut media = vec![b'b'; S::get() as usize];
	media[0] = b'a';
	media[1] = b'/';
	BoundedVec::try_from(media).expect("fits its bound")
}

/// A member owning a twin with an element.
fn setup<T: Config>() -> (T::AccountId, TwinId, ElementId) {
	let owner: T::AccountId = account("owner", 0, 0);
	T::BenchmarkHelper::make_member(&owner);
	let (twin, element) = T::BenchmarkHelper::create_twin(&owner);
	(owner, twin, element)
}

/// Registers a secret document of `twin`, attached to `element`, with `versions` versions.
fn seed_document<T: Config>(
	owner: &T::AccountId,
	twin: TwinId,
	element: &ElementId,
	versions: u32,
) -> DocumentId {
	let document = NextDocumentId::<T>::get();
	Pallet::<T>::register_document(
		RawOrigin::Signed(owner.clone()).into(),
		twin,
		filled::<T::MaxTitleLength>(b't'),
		media_type::<T::MaxMediaTypeLength>(),
		u64::MAX,
		content_id(1),
		content_id(2),
		Confidentiality::Secret,
		Some(element.clone()),
	)
	.expect("the owner registers");
	for _ in 1..versions {
		Pallet::<T>::add_version(
			RawOrigin::Signed(owner.clone()).into(),
			document,
			u64::MAX,
			content_id(3),
			content_id(4),
		)
		.expect("the owner versions");
	}
	document
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_document() {
		let (owner, twin, element) = setup::<T>();
		let document = NextDocumentId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			twin,
			filled::<T::MaxTitleLength>(b't'),
			media_type::<T::MaxMediaTypeLength>(),
			u64::MAX,
			content_id(1),
			content_id(2),
			Confidentiality::Secret,
			Some(element),
		);

		assert!(Documents::<T>::contains_key(document));
	}

	#[benchmark]
	fn add_version() {
		let (owner, twin, element) = setup::<T>();
		let versions = T::MaxVersionsPerDocument::get().saturating_sub(1).max(1);
		let document = seed_document::<T>(&owner, twin, &element, versions);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), document, u64::MAX, content_id(5), content_id(6));

		assert!(Versions::<T>::contains_key(document, versions));
	}

	#[benchmark]
	fn annotate() {
		let (owner, twin, element) = setup::<T>();
		let document = seed_document::<T>(&owner, twin, &element, 1);
		for _ in 1..T::MaxAnnotationsPerVersion::get() {
			Pallet::<T>::annotate(
				RawOrigin::Signed(owner.clone()).into(),
				document,
				0,
				content_id(7),
			)
			.expect("the owner annotates");
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), document, 0, content_id(8));

		assert_eq!(
			Versions::<T>::get(document, 0).map(|version| version.annotation_count),
			Some(T::MaxAnnotationsPerVersion::get())
		);
	}

	#[benchmark]
	fn retire_document() {
		let (owner, twin, element) = setup::<T>();
		let document = seed_document::<T>(&owner, twin, &element, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), document);

		assert!(Documents::<T>::get(document).is_some_and(|info| info.retired.is_some()));
	}

	#[benchmark]
	fn attach_to_element() {
		let (owner, twin, element) = setup::<T>();
		let document = seed_document::<T>(&owner, twin, &element, 1);
		Pallet::<T>::attach_to_element(RawOrigin::Signed(owner.clone()).into(), document, None)
			.expect("the owner detaches");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), document, Some(element.clone()));

		assert_eq!(Documents::<T>::get(document).and_then(|info| info.element), Some(element));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
