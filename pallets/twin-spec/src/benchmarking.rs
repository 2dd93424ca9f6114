//! Benchmarks of the twin-spec pallet.
//!
//! `insert_element` and `remove_element` are measured on twins of 10 up to 10,000 elements
//! (component `e`), to show that their cost does not grow with the document: the slope of
//! `e` must stay near zero (see `scripts/bench-spec-scaling.sh`). Every storage access costs
//! a little more as the whole state trie grows (logarithmically, for every pallet alike), so
//! these benchmarks keep the chain's state at the same size: another twin holds the
//! elements the measured twin does not have.

use super::*;
use crate::pallet::{Elements, Fragments, NextTwinId, Twins};
use crate::BenchmarkHelper;
use alloc::{format, vec, vec::Vec};
use dt_primitives::{
	access::{Authorize, Confidentiality, ElementId, ProgramName, TwinId},
	program::{
		ParameterDeclaration, ParameterText, ParameterType, ProgramParameters, MAX_ALLOWED_VALUES,
		MAX_PARAMETERS,
	},
};
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;

/// Most padding bytes a benchmark puts into a fragment.
const MAX_PADDING: u32 = 60_000;
/// Smallest and largest twin the size-independence benchmarks use.
const SMALL_TWIN: u32 = 10;
const LARGE_TWIN: u32 = 10_000;

fn element_id(text: &str) -> ElementId {
	ElementId::try_from(text.as_bytes().to_vec()).expect("benchmark ids are short")
}

/// `<InternalElement ID="id" Padding="xxx…"/>` with `padding` filler bytes.
fn element_fragment<S: Get<u32>>(id: &str, padding: u32) -> BoundedVec<u8, S> {
	let mut xml = format!(r#"<InternalElement Name="Machine" ID="{id}" Padding=""#).into_bytes();
	xml.extend(core::iter::repeat_n(b'x', padding as usize));
	xml.extend_from_slice(b"\"/>");
	xml.try_into().expect("MaxFragmentLength holds the benchmark's fragments")
}

fn root_fragment<S: Get<u32>>() -> BoundedVec<u8, S> {
	b"<CAEXFile FileName=\"bench.aml\"><?dt-children?></CAEXFile>"
		.to_vec()
		.try_into()
		.expect("short")
}

fn child_id(index: u32) -> ElementId {
	element_id(&format!("c-{index}"))
}

/// Writes a complete twin straight into storage: a root with `children` children in a row.
fn seed_twin<T: Config>(owner: &T::AccountId, children: u32) -> TwinId {
	T::BenchmarkHelper::make_member(owner);
	let twin = NextTwinId::<T>::get();
	NextTwinId::<T>::put(twin + 1);
	T::Authorize::twin_created(twin, owner);
	let now = frame_system::Pallet::<T>::block_number();
	let node = |parent: Option<ElementId>, previous, next, first_child, depth| ElementNode {
		parent,
		previous_sibling: previous,
		next_sibling: next,
		first_child,
		depth,
		confidentiality: Confidentiality::Internal,
		version: 1,
		last_change: ChangeKind::Imported,
		changed_at: now,
		changed_by: owner.clone(),
		previous_change_at: None,
		program_count: 0,
		source_count: 0,
	};
	let root = element_id("root");
	let first = (children > 0).then(|| child_id(0));
	Elements::<T>::insert((twin, &root), node(None, None, None, first, 0));
	Fragments::<T>::insert((twin, &root), root_fragment::<T::MaxFragmentLength>());
	for index in 0..children {
		let id = child_id(index);
		let previous = index.checked_sub(1).map(child_id);
		let next = (index + 1 < children).then(|| child_id(index + 1));
		Elements::<T>::insert((twin, &id), node(Some(root.clone()), previous, next, None, 1));
		Fragments::<T>::insert(
			(twin, &id),
			element_fragment::<T::MaxFragmentLength>(&format!("c-{index}"), 0),
		);
	}
	Twins::<T>::insert(
		twin,
		TwinInfo {
			creator: owner.clone(),
			created_at: now,
			root: Some(root),
			element_count: children + 1,
			importing: false,
			source_count: 0,
			next_source_id: 0,
		},
	);
	DocumentHeaders::<T>::insert(twin, DocumentHeader::default());
	twin
}

/// A document of `n` elements (a root and `n - 1` children) with `padding` extra bytes in
/// the root's first child (or the root).
fn document<T: Config>(
	n: u32,
	padding: u32,
) -> BoundedVec<NewElement<T::MaxFragmentLength>, T::MaxElementsPerCall> {
	let root = element_id("root");
	let mut elements = vec![NewElement {
		id: root.clone(),
		parent: None,
		previous_sibling: None,
		fragment: root_fragment::<T::MaxFragmentLength>(),
	}];
	for index in 0..n.saturating_sub(1) {
		let padding = if index == 0 { padding } else { 0 };
		elements.push(NewElement {
			id: child_id(index),
			parent: Some(root.clone()),
			previous_sibling: index.checked_sub(1).map(child_id),
			fragment: element_fragment::<T::MaxFragmentLength>(&format!("c-{index}"), padding),
		});
	}
	elements.try_into().expect("n is at most MaxElementsPerCall")
}

fn parameters(count: u32) -> ProgramParameters {
	(0..count)
		.map(|index| ParameterDeclaration {
			name: format!("parameter-{index}").into_bytes().try_into().expect("short"),
			kind: ParameterType::Integer,
			min: Some(0),
			max: Some(i128::from(MAX_ALLOWED_VALUES)),
			// Allowed values make the consistency check do the most work.
			allowed: (0..MAX_ALLOWED_VALUES)
				.map(|value| {
					ParameterText::try_from(format!("{value}").into_bytes()).expect("short")
				})
				.collect::<Vec<_>>()
				.try_into()
				.expect("MAX_ALLOWED_VALUES values"),
			unit: b"mm".to_vec().try_into().expect("short"),
		})
		.collect::<Vec<_>>()
		.try_into()
		.expect("at most MAX_PARAMETERS")
}

fn program_name() -> ProgramName {
	b"set-fill-volume".to_vec().try_into().expect("short")
}

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_twin(n: Linear<1, { T::MaxElementsPerCall::get() }>, b: Linear<0, MAX_PADDING>) {
		let caller: T::AccountId = whitelisted_caller();
		T::BenchmarkHelper::make_member(&caller);
		let elements = document::<T>(n, b);
		let twin = NextTwinId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), DocumentHeader::default(), elements, true);

		assert_eq!(Twins::<T>::get(twin).map(|info| info.element_count), Some(n));
	}

	#[benchmark]
	fn import_elements(n: Linear<1, { T::MaxElementsPerCall::get() }>, b: Linear<0, MAX_PADDING>) {
		let caller: T::AccountId = whitelisted_caller();
		T::BenchmarkHelper::make_member(&caller);
		let twin = NextTwinId::<T>::get();
		Pallet::<T>::create_twin(
			RawOrigin::Signed(caller.clone()).into(),
			DocumentHeader::default(),
			Default::default(),
			false,
		)
		.expect("an empty import starts");
		let elements = document::<T>(n, b);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, elements, true);

		assert_eq!(Twins::<T>::get(twin).map(|info| info.element_count), Some(n));
	}

	#[benchmark]
	fn insert_element(e: Linear<SMALL_TWIN, LARGE_TWIN>, b: Linear<0, MAX_PADDING>) {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, e - 1);
		seed_twin::<T>(&caller, LARGE_TWIN - e);
		// In the middle: the previous and the next sibling both get relinked.
		let previous = child_id((e - 1) / 2);
		let fragment = element_fragment::<T::MaxFragmentLength>("new", b);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			twin,
			element_id("new"),
			element_id("root"),
			Some(previous),
			fragment,
		);

		assert_last_event::<T>(Event::ElementInserted {
			twin,
			element: element_id("new"),
			parent: element_id("root"),
			author: caller,
		});
	}

	#[benchmark]
	fn remove_element(
		e: Linear<SMALL_TWIN, LARGE_TWIN>,
		n: Linear<1, { T::MaxRemovedElements::get() }>,
	) {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, e - 1);
		seed_twin::<T>(&caller, LARGE_TWIN - e);
		// A middle child gets `n - 1` children of its own, so the subtree has `n` elements.
		let target = child_id((e - 1) / 2);
		let mut previous = None;
		for index in 0..n - 1 {
			let id = format!("sub-{index}");
			Pallet::<T>::insert_element(
				RawOrigin::Signed(caller.clone()).into(),
				twin,
				element_id(&id),
				target.clone(),
				previous.clone(),
				element_fragment::<T::MaxFragmentLength>(&id, 0),
			)
			.expect("the subtree is built");
			previous = Some(element_id(&id));
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), twin, target.clone(), n);

		assert_last_event::<T>(Event::ElementRemoved {
			twin,
			element: target,
			removed: n,
			author: caller,
		});
	}

	#[benchmark]
	fn replace_fragment(b: Linear<0, MAX_PADDING>) {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, SMALL_TWIN);
		let fragment = element_fragment::<T::MaxFragmentLength>("c-1", b);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, child_id(1), fragment);

		assert_eq!(Elements::<T>::get((twin, child_id(1))).map(|node| node.version), Some(2));
	}

	#[benchmark]
	fn set_element_confidentiality() {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, SMALL_TWIN);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, child_id(1), Confidentiality::Secret);

		assert_eq!(
			Elements::<T>::get((twin, child_id(1))).map(|node| node.confidentiality),
			Some(Confidentiality::Secret)
		);
	}

	#[benchmark]
	fn add_external_source(
		u: Linear<8, { T::MaxUriLength::get() }>,
		d: Linear<0, { T::MaxDescriptionLength::get() }>,
	) {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, SMALL_TWIN);
		let mut uri = b"https://".to_vec();
		uri.resize(u as usize, b'a');
		let uri: BoundedVec<u8, T::MaxUriLength> = uri.try_into().expect("u is bounded");
		let description: BoundedVec<u8, T::MaxDescriptionLength> =
			vec![b'd'; d as usize].try_into().expect("d is bounded");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, Some(child_id(1)), uri, description, SourceKind::Web);

		assert_eq!(ExternalSources::<T>::iter_prefix(twin).count(), 1);
	}

	#[benchmark]
	fn remove_external_source() {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, SMALL_TWIN);
		Pallet::<T>::add_external_source(
			RawOrigin::Signed(caller.clone()).into(),
			twin,
			Some(child_id(1)),
			b"https://plant.example/level".to_vec().try_into().expect("short"),
			Default::default(),
			SourceKind::Web,
		)
		.expect("the source is added");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, 0);

		assert_eq!(ExternalSources::<T>::iter_prefix(twin).count(), 0);
	}

	#[benchmark]
	fn declare_program(p: Linear<0, MAX_PARAMETERS>) {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, SMALL_TWIN);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, child_id(1), program_name(), parameters(p));

		assert_eq!(Elements::<T>::get((twin, child_id(1))).map(|node| node.program_count), Some(1));
	}

	#[benchmark]
	fn remove_program() {
		let caller: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&caller, SMALL_TWIN);
		Pallet::<T>::declare_program(
			RawOrigin::Signed(caller.clone()).into(),
			twin,
			child_id(1),
			program_name(),
			parameters(MAX_PARAMETERS),
		)
		.expect("the program is declared");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, child_id(1), program_name());

		assert_eq!(Elements::<T>::get((twin, child_id(1))).map(|node| node.program_count), Some(0));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
