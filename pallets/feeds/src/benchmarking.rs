//! Benchmarks of the feeds pallet.
//!
//! Every call is measured at its worst case: the longest schema and unit, an expected range,
//! an element with as many active feeds as allowed (less one where the call adds one), a
//! feed with a checkpoint to compare with, a final checkpoint where a call takes one, and for
//! [`Pallet::replace_sensor`] the removed subtree's size and the new fragment's length as
//! components, on the runtime's real specification ([`crate::BenchmarkHelper`]). A feed is
//! closed by an access manager who does not own it (the owner check fails and the manager's
//! permission is read); a feed is replaced by its owner, who anchors a final checkpoint.

use super::*;
use crate::pallet::{Checkpoints, ElementFeeds, Feeds, NextFeedId};
use crate::BenchmarkHelper;
use alloc::vec;
use dt_primitives::{access::Confidentiality, program::MAX_DECIMALS};
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;

/// `S::get()` bytes of `byte`, at least `min`.
fn filled<S: Get<u32>>(byte: u8, min: u32) -> BoundedVec<u8, S> {
	BoundedVec::try_from(vec![byte; S::get().max(min) as usize]).expect("fits its bound")
}

/// The largest registration: longest schema and unit, an expected range, the top level.
fn registration<T: Config>(owner: &T::AccountId) -> FeedRegistrationOf<T> {
	FeedRegistration {
		owner: owner.clone(),
		schema: filled::<T::MaxSchemaLength>(b's', 1),
		unit: filled::<T::MaxUnitLength>(b'u', 0),
		nominal_interval_ms: 1_000,
		expected_range: Some(ValueRange { min: i128::MIN, max: i128::MAX, decimals: MAX_DECIMALS }),
		confidentiality: Confidentiality::Secret,
	}
}

fn checkpoint(sequence: u64) -> Checkpoint {
	Checkpoint { sequence, entry_hash: [sequence as u8; 32], timestamp: sequence * 1_000 }
}

/// A member owning a twin with an element.
fn setup<T: Config>() -> (T::AccountId, TwinId, ElementId) {
	let owner: T::AccountId = account("owner", 0, 0);
	T::BenchmarkHelper::make_member(&owner);
	let (twin, element) = T::BenchmarkHelper::create_twin(&owner);
	(owner, twin, element)
}

/// Registers `count` feeds of `owner` on `element`, each with one checkpoint (sequence 1).
fn seed_feeds<T: Config>(
	owner: &T::AccountId,
	twin: TwinId,
	element: &ElementId,
	count: u32,
) -> Vec<FeedId> {
	(0..count)
		.map(|_| {
			let feed = NextFeedId::<T>::get();
			Pallet::<T>::register_feed(
				RawOrigin::Signed(owner.clone()).into(),
				twin,
				element.clone(),
				registration::<T>(owner),
			)
			.expect("the owner registers");
			Pallet::<T>::anchor_checkpoint(
				RawOrigin::Signed(owner.clone()).into(),
				feed,
				checkpoint(1),
			)
			.expect("the owner anchors");
			feed
		})
		.collect()
}

/// How many active feeds an element can have, given both bounds.
fn element_capacity<T: Config>() -> u32 {
	T::MaxFeedsPerElement::get().min(T::MaxFeedsPerTwin::get())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_feed() {
		let (owner, twin, element) = setup::<T>();
		seed_feeds::<T>(&owner, twin, &element, element_capacity::<T>() - 1);
		let feed = NextFeedId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), twin, element, registration::<T>(&owner));

		assert!(Feeds::<T>::contains_key(feed));
	}

	#[benchmark]
	fn anchor_checkpoint() {
		let (owner, twin, element) = setup::<T>();
		let feed = seed_feeds::<T>(&owner, twin, &element, 1)[0];

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), feed, checkpoint(2));

		assert!(Checkpoints::<T>::contains_key(feed, 1));
	}

	#[benchmark]
	fn replace_feed() {
		let (owner, twin, element) = setup::<T>();
		// The successor takes one place of the twin's.
		let count = T::MaxFeedsPerElement::get().min(T::MaxFeedsPerTwin::get() - 1).max(1);
		let old = *seed_feeds::<T>(&owner, twin, &element, count).last().expect("one at least");
		let new = NextFeedId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			twin,
			old,
			registration::<T>(&owner),
			Some(checkpoint(2)),
		);

		assert!(Feeds::<T>::get(old).is_some_and(|info| !info.is_active()));
		assert!(ElementFeeds::<T>::get(twin, &element).contains(&new));
	}

	#[benchmark]
	fn close_feed() {
		let (owner, twin, element) = setup::<T>();
		let feed = *seed_feeds::<T>(&owner, twin, &element, element_capacity::<T>())
			.last()
			.expect("one at least");
		// Another account's feed: the twin's owner closes it as an access manager.
		let device: T::AccountId = account("device", 0, 0);
		Feeds::<T>::mutate(feed, |info| {
			if let Some(info) = info {
				info.owner = device.clone();
			}
		});

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), feed);

		assert!(Feeds::<T>::get(feed).is_some_and(|info| !info.is_active()));
	}

	#[benchmark]
	/// The feeds' part of a sensor replacement: a one-element sensor and a short fragment
	/// (the call adds the specification's own weight for larger ones).
	fn replace_sensor() {
		let (r, f) = (1, 0);
		let owner: T::AccountId = account("owner", 0, 0);
		T::BenchmarkHelper::make_member(&owner);
		let (twin, old_element, new_element, fragment) =
			T::BenchmarkHelper::create_sensor(&owner, r, f);
		let fragment: BoundedVec<u8, T::MaxFragmentLength> =
			fragment.try_into().expect("the helper keeps to MaxFragmentLength");
		let old = seed_feeds::<T>(&owner, twin, &old_element, 1)[0];
		let new = NextFeedId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			twin,
			old_element.clone(),
			new_element.clone(),
			r,
			fragment,
			old,
			registration::<T>(&owner),
			Some(checkpoint(2)),
		);

		assert!(Feeds::<T>::get(old).is_some_and(|info| !info.is_active()));
		assert!(Feeds::<T>::get(new).is_some_and(|info| info.element == new_element));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
