//! # Feeds pallet
//!
//! The sensor feed registry of Digital Twins. A feed is the stream of one sensor: its
//! readings live in the off-chain store as an append-only, hash-chained log whose every entry
//! the device signs and timestamps, so appending never needs a transaction. The chain keeps
//! what the parties must agree on: which feeds a twin has, the element of the twin's
//! specification each one belongs to (the sensor), the device account that owns it, what its
//! entries hold (schema and unit), how often the sensor reports, the range its readings are
//! expected to stay in (clients compare readings with it to detect anomalies), its
//! confidentiality level, and the checkpoints its owner anchored: (sequence number, hash of
//! that entry, timestamp). Since the log is hash-chained, an anchored checkpoint fixes every
//! entry up to it, so an auditor can later prove that an entry existed at a checkpoint;
//! every checkpoint is kept, with the block that anchored it.
//!
//! Feeds are never deleted: a closed feed (its sensor replaced or removed) takes no new
//! checkpoints and keeps its history, so the last readings of a broken sensor can still be
//! analysed and verified.
//!
//! ## Calls
//!
//! - [`Pallet::register_feed`]: a new feed on an element of a twin's specification. Needs
//!   the twin's `RegisterFeeds` permission.
//! - [`Pallet::anchor_checkpoint`]: the next checkpoint of a feed's log. Only the feed's
//!   owner, holding `AppendToFeeds`; checkpoints move forward (greater sequence number, no
//!   earlier timestamp).
//! - [`Pallet::replace_feed`]: closes an active feed, optionally after anchoring its final
//!   checkpoint, and registers its successor on the same element. Needs `RegisterFeeds`.
//! - [`Pallet::close_feed`]: closes an active feed for good (its sensor was removed). Needs
//!   `RegisterFeeds`.
//! - [`Pallet::replace_sensor`]: the replaced sensor of the reference scenario, in one
//!   transaction: replaces the old sensor's element of the specification by the new
//!   sensor's ([`SensorSpecification::replace_element`], which authorizes the specification
//!   write itself), closes the old sensor's feed (after its final checkpoint, if given) and
//!   registers the new sensor's feed on the new element. Needs `RegisterFeeds`.
//!
//! A feed is closed or replaced (by any of the last three) only by its own device (its
//! owner) or by one of the twin's access managers (`ManageAccess`): `RegisterFeeds` alone,
//! which every device of the twin holds, lets an account start feeds, not end another
//! device's.
//!
//! Every call is authorized by the twin's access control ([`Config::Authorize`]); registering,
//! replacing and closing a feed also need clearance for the feed's confidentiality level:
//! nobody manages a feed they may not read. Each change is an event naming the twin, the
//! feed and the account that made it. Nothing changes when a call fails: the replacement of
//! the specification element in [`Pallet::replace_sensor`] is undone when the feed part
//! fails, and the other way round.
//!
//! A feed's element is checked when the feed is registered; an element removed from the
//! specification by other means than [`Pallet::replace_sensor`] (including elements below
//! the one `replace_sensor` replaces) leaves its feeds active until they are closed with
//! [`Pallet::close_feed`].
//!
//! ## Reads
//!
//! [`Pallet::feeds_of_twin`], [`Pallet::feeds_of_element`] (each feed with its latest
//! checkpoint, closed ones included; for a given reader only the feeds it is cleared to
//! read), [`Pallet::feed`] and [`Pallet::checkpoints`] (a page of a feed's history), also
//! offered to nodes and clients as the [`runtime_api::FeedsApi`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use dt_primitives::feed::{Checkpoint, EntryHash, FeedId, ValueRange};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use dt_primitives::access::{ElementId, TwinElements, TwinId};
use frame_support::weights::Weight;

/// Most checkpoints one call of [`Pallet::checkpoints`] returns.
pub const MAX_CHECKPOINTS_PER_READ: u32 = 1024;

/// What the pallet needs from the twins' specifications (the twin-spec pallet).
pub trait SensorSpecification<AccountId>: TwinElements {
	/// On behalf of `who`, replaces the element `old` and its subtree (at most `max_removed`
	/// elements) by the element `new` that `fragment` describes (an AML fragment whose root
	/// carries `ID="new"`), at the same place in the tree. Authorizes `who` itself (a
	/// specification write at `old`). Returns how many elements were removed. The caller
	/// runs it in a storage transaction, so a failure changes nothing.
	fn replace_element(
		who: &AccountId,
		twin: TwinId,
		old: &ElementId,
		new: &ElementId,
		fragment: &[u8],
		max_removed: u32,
	) -> Result<u32, sp_runtime::DispatchError>;

	/// The weight of [`Self::replace_element`] removing at most `max_removed` elements and
	/// inserting a fragment of `fragment_len` bytes.
	fn replace_element_weight(max_removed: u32, fragment_len: u32) -> Weight;
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` a member of the consortium, so the twin's access control recognises it.
	fn make_member(who: &AccountId);

	/// Creates a twin owned by `owner` (a member), with its access control and at least one
	/// element below the root, and returns the twin and that element.
	fn create_twin(owner: &AccountId) -> (TwinId, ElementId);

	/// Creates a twin owned by `owner` (a member) with a sensor element below the root whose
	/// subtree holds `subtree_size` elements (the sensor included, at least 1), each carrying
	/// as much as the specification lets an element carry (what removing it costs most).
	/// Returns the twin, the sensor element, the id of a new sensor element not yet in the
	/// twin and its fragment of about `fragment_len` bytes (at least its minimal size, at
	/// most `MaxFragmentLength`), which [`SensorSpecification::replace_element`] accepts in
	/// place of the sensor.
	fn create_sensor(
		owner: &AccountId,
		subtree_size: u32,
		fragment_len: u32,
	) -> (TwinId, ElementId, ElementId, Vec<u8>);
}

// `replace_sensor` takes the specification change and the feed change as separate
// arguments (seven), like the extrinsic clients build; the pallet macro repeats them in
// generated code.
#[allow(clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use dt_primitives::{
		access::{AccessDenied, Action, Authorize, Confidentiality},
		feed::ValueRangeError,
	};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// A feed as stored.
	pub type FeedOf<T> = Feed<
		<T as frame_system::Config>::AccountId,
		BlockNumberFor<T>,
		<T as Config>::MaxSchemaLength,
		<T as Config>::MaxUnitLength,
	>;

	/// A feed's registration, as the calls take it.
	pub type FeedRegistrationOf<T> = FeedRegistration<
		<T as frame_system::Config>::AccountId,
		<T as Config>::MaxSchemaLength,
		<T as Config>::MaxUnitLength,
	>;

	/// A feed as the reads return it.
	pub type FeedRecordOf<T> =
		FeedRecord<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	/// The storage layout this code reads and writes. A change to it comes with a migration
	/// (`VersionedMigration`) from the previous version, listed in the runtime.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The twins' access control.
		type Authorize: Authorize<Self::AccountId>;

		/// The twins' specifications: their elements, and the replacement of a sensor's
		/// element.
		type Specification: SensorSpecification<Self::AccountId>;

		/// Longest schema (media type or schema name), in bytes.
		#[pallet::constant]
		type MaxSchemaLength: Get<u32>;

		/// Longest unit, in bytes.
		#[pallet::constant]
		type MaxUnitLength: Get<u32>;

		/// Most feeds of one twin (closed ones included).
		#[pallet::constant]
		type MaxFeedsPerTwin: Get<u32>;

		/// Most active feeds on one element.
		#[pallet::constant]
		type MaxFeedsPerElement: Get<u32>;

		/// Longest element fragment [`Pallet::replace_sensor`] takes, in bytes; at most the
		/// specification's own bound.
		#[pallet::constant]
		type MaxFragmentLength: Get<u32>;

		/// Most elements [`Pallet::replace_sensor`] removes with the old sensor's element
		/// (the upper bound of its witness); at most the specification's own bound.
		#[pallet::constant]
		type MaxRemovedElements: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Prepares accounts, twins and sensors for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// The id the next feed will get. Ids are never reused.
	#[pallet::storage]
	pub type NextFeedId<T: Config> = StorageValue<_, FeedId, ValueQuery>;

	/// The feeds.
	#[pallet::storage]
	pub type Feeds<T: Config> = StorageMap<_, Twox64Concat, FeedId, FeedOf<T>>;

	/// The checkpoints of each feed, numbered from 0 in the order they were anchored.
	#[pallet::storage]
	pub type Checkpoints<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		FeedId,
		Twox64Concat,
		CheckpointIndex,
		AnchoredCheckpoint<BlockNumberFor<T>>,
	>;

	/// Which feeds each twin has (closed ones included).
	#[pallet::storage]
	pub type TwinFeeds<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TwinId, Twox64Concat, FeedId, ()>;

	/// How many feeds each twin has (closed ones included).
	#[pallet::storage]
	pub type TwinFeedCount<T: Config> = StorageMap<_, Twox64Concat, TwinId, u32, ValueQuery>;

	/// The active feeds on each element, by id; elements without one are absent.
	#[pallet::storage]
	pub type ElementFeeds<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TwinId,
		Blake2_128Concat,
		ElementId,
		BoundedVec<FeedId, T::MaxFeedsPerElement>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A feed was registered on an element.
		FeedRegistered {
			twin: TwinId,
			feed: FeedId,
			element: ElementId,
			owner: T::AccountId,
			confidentiality: Confidentiality,
			by: T::AccountId,
		},
		/// The owner of a feed anchored a checkpoint of its log.
		CheckpointAnchored {
			twin: TwinId,
			feed: FeedId,
			index: CheckpointIndex,
			checkpoint: Checkpoint,
		},
		/// A feed was closed for good; its checkpoints stay.
		FeedClosed { twin: TwinId, feed: FeedId, by: T::AccountId },
		/// A feed was closed and `new` registered on its element in its place.
		FeedReplaced {
			twin: TwinId,
			old: FeedId,
			new: FeedId,
			element: ElementId,
			by: T::AccountId,
		},
		/// A sensor was replaced: its element of the specification by `new_element`, its feed
		/// (closed) by `new_feed` on the new element.
		SensorReplaced {
			twin: TwinId,
			old_element: ElementId,
			new_element: ElementId,
			old_feed: FeedId,
			new_feed: FeedId,
			by: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No twin has this id.
		UnknownTwin,
		/// The twin's specification has no element with this id.
		UnknownElement,
		/// No feed has this id.
		UnknownFeed,
		/// The twin's access control does not allow the caller this action.
		NotAuthorized,
		/// The caller is not cleared to read data of the feed's confidentiality level.
		InsufficientClearance,
		/// Only the feed's owner anchors its checkpoints.
		NotFeedOwner,
		/// Only the feed's owner (its device) or the twin's access managers close or replace
		/// it.
		NotFeedOwnerOrManager,
		/// The feed is closed: it takes no checkpoints and cannot be replaced or closed again.
		FeedClosed,
		/// A checkpoint must follow the latest one: a greater sequence number and a timestamp
		/// not earlier.
		CheckpointNotForward,
		/// The feed belongs to another twin than the one named.
		FeedOfAnotherTwin,
		/// The feed is not attached to the element named.
		FeedNotOnElement,
		/// The element has other active feeds, which would be left on a removed element.
		OtherFeedsOnElement,
		/// The twin has `MaxFeedsPerTwin` feeds already.
		TooManyFeeds,
		/// The element has `MaxFeedsPerElement` active feeds already.
		TooManyFeedsOnElement,
		/// The feed's checkpoint indices are exhausted.
		TooManyCheckpoints,
		/// Feed ids are exhausted.
		FeedIdsExhausted,
		/// A schema must be non-empty UTF-8 without control characters.
		InvalidSchema,
		/// A unit must be UTF-8 without control characters.
		InvalidUnit,
		/// A feed's nominal interval must not be zero.
		ZeroNominalInterval,
		/// The expected range's minimum is greater than its maximum.
		RangeMinAboveMax,
		/// The expected range has more than `dt_primitives::program::MAX_DECIMALS` decimal
		/// places.
		RangeTooManyDecimals,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxSchemaLength::get() > 0, "MaxSchemaLength must allow a schema");
			assert!(T::MaxFeedsPerTwin::get() > 0, "MaxFeedsPerTwin must allow one");
			assert!(T::MaxFeedsPerElement::get() > 0, "MaxFeedsPerElement must allow one");
			assert!(T::MaxFragmentLength::get() > 0, "MaxFragmentLength must allow a fragment");
			assert!(
				T::MaxFragmentLength::get() as usize
					<= dt_primitives::aml_fragment::MAX_FRAGMENT_LEN,
				"MaxFragmentLength must not exceed the fragment validator's bound"
			);
			assert!(T::MaxRemovedElements::get() > 0, "MaxRemovedElements must allow a removal");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a feed on `element` of `twin`'s specification, owned by the device
		/// account `registration.owner`. Needs `RegisterFeeds` on the twin and clearance for
		/// the feed's confidentiality level.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_feed())]
		pub fn register_feed(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			registration: FeedRegistrationOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Specification::twin_exists(twin), Error::<T>::UnknownTwin);
			Self::authorize(twin, &who, Action::RegisterFeed, registration.confidentiality)?;
			ensure!(T::Specification::element_exists(twin, &element), Error::<T>::UnknownElement);
			let (owner, confidentiality) =
				(registration.owner.clone(), registration.confidentiality);
			let feed = Self::register(&who, twin, element.clone(), registration)?;
			Self::deposit_event(Event::FeedRegistered {
				twin,
				feed,
				element,
				owner,
				confidentiality,
				by: who,
			});
			Ok(())
		}

		/// Anchors the next checkpoint of a feed's log: the entry `checkpoint.sequence` had
		/// the hash `checkpoint.entry_hash` and was timestamped `checkpoint.timestamp`. Only
		/// the feed's owner, holding `AppendToFeeds` on its twin; the feed must be active and
		/// the checkpoint must follow the latest one (greater sequence number, timestamp not
		/// earlier).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::anchor_checkpoint())]
		pub fn anchor_checkpoint(
			origin: OriginFor<T>,
			feed: FeedId,
			checkpoint: Checkpoint,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Feeds::<T>::get(feed).ok_or(Error::<T>::UnknownFeed)?;
			Self::anchor(&who, feed, &mut info, checkpoint)?;
			Feeds::<T>::insert(feed, info);
			Ok(())
		}

		/// Closes the active feed `old_feed` of `twin` and registers its successor on the same
		/// element (e.g. a new sensor reporting into a new feed, or the same sensor with a new
		/// schema). `final_checkpoint`, if given, is anchored on the old feed first, which
		/// only its owner may do. Needs `RegisterFeeds` on the twin and clearance for both
		/// feeds' levels, and the caller must be the old feed's owner or hold `ManageAccess`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::replace_feed())]
		pub fn replace_feed(
			origin: OriginFor<T>,
			twin: TwinId,
			old_feed: FeedId,
			registration: FeedRegistrationOf<T>,
			final_checkpoint: Option<Checkpoint>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::active_feed_of(twin, old_feed, &who, &registration)?;
			ensure!(
				T::Specification::element_exists(twin, &info.element),
				Error::<T>::UnknownElement
			);
			if let Some(checkpoint) = final_checkpoint {
				Self::anchor(&who, old_feed, &mut info, checkpoint)?;
			}
			let element = info.element.clone();
			// Detached first, so the successor takes the old feed's place on the element.
			Self::detach(twin, &element, old_feed);
			let new = Self::register(&who, twin, element.clone(), registration)?;
			Self::mark_closed(&who, old_feed, info, Some(new));
			Self::deposit_event(Event::FeedReplaced { twin, old: old_feed, new, element, by: who });
			Ok(())
		}

		/// Closes an active feed for good (e.g. its sensor was removed); its checkpoints stay.
		/// Needs `RegisterFeeds` on its twin and clearance for its level, and the caller must
		/// be the feed's owner or hold `ManageAccess`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::close_feed())]
		pub fn close_feed(origin: OriginFor<T>, feed: FeedId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Feeds::<T>::get(feed).ok_or(Error::<T>::UnknownFeed)?;
			let twin = info.twin;
			Self::authorize(twin, &who, Action::RegisterFeed, info.confidentiality)?;
			Self::ensure_owner_or_manager(twin, &who, &info)?;
			ensure!(info.is_active(), Error::<T>::FeedClosed);
			Self::detach(twin, &info.element, feed);
			Self::mark_closed(&who, feed, info, None);
			Self::deposit_event(Event::FeedClosed { twin, feed, by: who });
			Ok(())
		}

		/// Replaces a sensor in one step, as the device agent does when it detects a new
		/// sensor: replaces `old_element` of `twin`'s specification and its subtree (at most
		/// `max_removed` elements, the witness the call is weighed by) by the element
		/// `new_element` that `new_element_fragment` describes, closes `old_feed` (the old sensor's feed, which
		/// must be the only active feed on `old_element`) after anchoring `final_checkpoint`
		/// on it if given (only its owner may), and registers the new sensor's feed on the
		/// new element. Needs `RegisterFeeds` on the twin and clearance for both feeds' levels,
		/// and the caller must be the old feed's owner or hold `ManageAccess`; the
		/// specification authorizes its own change (a specification write at `old_element`).
		/// Nothing changes if any part fails.
		#[pallet::call_index(4)]
		#[pallet::weight(replace_sensor_weight::<T>(
			*max_removed,
			new_element_fragment.len() as u32,
		))]
		pub fn replace_sensor(
			origin: OriginFor<T>,
			twin: TwinId,
			old_element: ElementId,
			new_element: ElementId,
			max_removed: u32,
			new_element_fragment: BoundedVec<u8, T::MaxFragmentLength>,
			old_feed: FeedId,
			registration: FeedRegistrationOf<T>,
			final_checkpoint: Option<Checkpoint>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut info = Self::active_feed_of(twin, old_feed, &who, &registration)?;
			ensure!(info.element == old_element, Error::<T>::FeedNotOnElement);
			ensure!(
				ElementFeeds::<T>::decode_len(twin, &old_element) == Some(1),
				Error::<T>::OtherFeedsOnElement
			);
			if let Some(checkpoint) = final_checkpoint {
				Self::anchor(&who, old_feed, &mut info, checkpoint)?;
			}
			let removed = T::Specification::replace_element(
				&who,
				twin,
				&old_element,
				&new_element,
				&new_element_fragment,
				max_removed.min(T::MaxRemovedElements::get()),
			)?;
			Self::detach(twin, &old_element, old_feed);
			let new_feed = Self::register(&who, twin, new_element.clone(), registration)?;
			Self::mark_closed(&who, old_feed, info, Some(new_feed));
			Self::deposit_event(Event::SensorReplaced {
				twin,
				old_element,
				new_element,
				old_feed,
				new_feed,
				by: who,
			});
			Ok(Some(replace_sensor_weight::<T>(removed, new_element_fragment.len() as u32)).into())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks that `who` may do `action` on `twin` and read data of `level` there.
		fn authorize(
			twin: TwinId,
			who: &T::AccountId,
			action: Action<'_>,
			level: Confidentiality,
		) -> DispatchResult {
			Self::permit(twin, who, action, Error::<T>::NotAuthorized)?;
			Self::permit(twin, who, Action::Read(level), Error::<T>::InsufficientClearance)
		}

		/// Checks that `who` may do `action` on `twin`; `not_permitted` if it may not.
		fn permit(
			twin: TwinId,
			who: &T::AccountId,
			action: Action<'_>,
			not_permitted: Error<T>,
		) -> DispatchResult {
			T::Authorize::authorize(twin, who, action).map_err(|denied| match denied {
				AccessDenied::UnknownTwin => Error::<T>::UnknownTwin.into(),
				AccessDenied::NotPermitted => not_permitted.into(),
			})
		}

		/// The active feed `feed` of `twin`, which `who` may replace by a feed registered
		/// as `registration` says: `RegisterFeeds`, clearance for both feeds' levels, and
		/// `who` the feed's owner or one of the twin's access managers.
		fn active_feed_of(
			twin: TwinId,
			feed: FeedId,
			who: &T::AccountId,
			registration: &FeedRegistrationOf<T>,
		) -> Result<FeedOf<T>, DispatchError> {
			ensure!(T::Specification::twin_exists(twin), Error::<T>::UnknownTwin);
			let info = Feeds::<T>::get(feed).ok_or(Error::<T>::UnknownFeed)?;
			ensure!(info.twin == twin, Error::<T>::FeedOfAnotherTwin);
			let level = info.confidentiality.max(registration.confidentiality);
			Self::authorize(twin, who, Action::RegisterFeed, level)?;
			Self::ensure_owner_or_manager(twin, who, &info)?;
			ensure!(info.is_active(), Error::<T>::FeedClosed);
			Ok(info)
		}

		/// Checks that `who` may end the feed `info` of `twin`: it is the feed's owner (the
		/// device writing it), or it manages the twin's access control. Another device of the
		/// twin holds `RegisterFeeds` too, but must not take over or silence this one's feed.
		fn ensure_owner_or_manager(
			twin: TwinId,
			who: &T::AccountId,
			info: &FeedOf<T>,
		) -> DispatchResult {
			if *who == info.owner {
				return Ok(());
			}
			Self::permit(twin, who, Action::ManageAccess, Error::<T>::NotFeedOwnerOrManager)
		}

		/// Anchors `checkpoint` on `info` (the feed `feed`, stored by the caller) on behalf of
		/// `who`, which must be its owner and hold `AppendToFeeds`.
		fn anchor(
			who: &T::AccountId,
			feed: FeedId,
			info: &mut FeedOf<T>,
			checkpoint: Checkpoint,
		) -> DispatchResult {
			ensure!(*who == info.owner, Error::<T>::NotFeedOwner);
			Self::permit(info.twin, who, Action::AppendToFeed, Error::<T>::NotAuthorized)?;
			ensure!(info.is_active(), Error::<T>::FeedClosed);
			if let Some(latest) = &info.latest_checkpoint {
				ensure!(checkpoint.follows(&latest.checkpoint), Error::<T>::CheckpointNotForward);
			}
			let index = info.checkpoint_count;
			info.checkpoint_count = index.checked_add(1).ok_or(Error::<T>::TooManyCheckpoints)?;
			let anchored = AnchoredCheckpoint {
				checkpoint,
				anchored_at: frame_system::Pallet::<T>::block_number(),
			};
			Checkpoints::<T>::insert(feed, index, anchored.clone());
			info.latest_checkpoint = Some(anchored);
			Self::deposit_event(Event::CheckpointAnchored {
				twin: info.twin,
				feed,
				index,
				checkpoint,
			});
			Ok(())
		}

		/// Takes the feed `feed` off the active feeds of `element` of `twin`.
		fn detach(twin: TwinId, element: &ElementId, feed: FeedId) {
			ElementFeeds::<T>::mutate_exists(twin, element, |feeds| {
				if let Some(active) = feeds {
					active.retain(|id| *id != feed);
					if active.is_empty() {
						*feeds = None;
					}
				}
			});
		}

		/// Stores the detached feed `feed` (`info`) as closed by `who`, with its successor.
		fn mark_closed(
			who: &T::AccountId,
			feed: FeedId,
			mut info: FeedOf<T>,
			replaced_by: Option<FeedId>,
		) {
			info.status = FeedStatus::Closed {
				at: frame_system::Pallet::<T>::block_number(),
				by: who.clone(),
				replaced_by,
			};
			Feeds::<T>::insert(feed, info);
		}

		/// Checks `registration` and registers the feed on `element` of `twin` (checked by the
		/// caller), on behalf of `who`. Returns its id.
		fn register(
			who: &T::AccountId,
			twin: TwinId,
			element: ElementId,
			registration: FeedRegistrationOf<T>,
		) -> Result<FeedId, DispatchError> {
			check_registration::<T>(&registration)?;
			let count = TwinFeedCount::<T>::get(twin);
			ensure!(count < T::MaxFeedsPerTwin::get(), Error::<T>::TooManyFeeds);
			let mut active = ElementFeeds::<T>::get(twin, &element);
			let feed = NextFeedId::<T>::get();
			let next = feed.checked_add(1).ok_or(Error::<T>::FeedIdsExhausted)?;
			active.try_push(feed).map_err(|_| Error::<T>::TooManyFeedsOnElement)?;
			NextFeedId::<T>::put(next);
			TwinFeedCount::<T>::insert(twin, count + 1);
			TwinFeeds::<T>::insert(twin, feed, ());
			ElementFeeds::<T>::insert(twin, &element, active);
			let FeedRegistration {
				owner,
				schema,
				unit,
				nominal_interval_ms,
				expected_range,
				confidentiality,
			} = registration;
			Feeds::<T>::insert(
				feed,
				Feed {
					twin,
					element,
					owner,
					schema,
					unit,
					nominal_interval_ms,
					expected_range,
					confidentiality,
					registered_by: who.clone(),
					registered_at: frame_system::Pallet::<T>::block_number(),
					status: FeedStatus::Active,
					latest_checkpoint: None,
					checkpoint_count: 0,
				},
			);
			Ok(feed)
		}

		/// The highest level `reader` may read on `twin` (`None`: nothing, not even public
		/// data); everything without a reader.
		fn visible_level(twin: TwinId, reader: Option<&T::AccountId>) -> Option<Confidentiality> {
			let Some(reader) = reader else { return Some(Confidentiality::Secret) };
			T::Authorize::authorize(twin, reader, Action::Read(Confidentiality::Public)).ok()?;
			Some(T::Authorize::clearance(twin, reader).unwrap_or(Confidentiality::Public))
		}

		/// The feeds of a twin, by id, closed ones included, each with its latest checkpoint.
		/// With a `reader`, only the feeds it is cleared to read (none for a reader outside
		/// the consortium).
		pub fn feeds_of_twin(twin: TwinId, reader: Option<&T::AccountId>) -> Vec<FeedRecordOf<T>> {
			let Some(level) = Self::visible_level(twin, reader) else { return Vec::new() };
			let mut records: Vec<_> = TwinFeeds::<T>::iter_key_prefix(twin)
				.filter_map(|feed| {
					Feeds::<T>::get(feed)
						.filter(|info| info.confidentiality <= level)
						.map(|info| record::<T>(feed, info))
				})
				.collect();
			records.sort_by_key(|record| record.id);
			records
		}

		/// The feeds of a twin attached to one element, by id, closed ones included; with a
		/// `reader`, only those it is cleared to read.
		pub fn feeds_of_element(
			twin: TwinId,
			element: &ElementId,
			reader: Option<&T::AccountId>,
		) -> Vec<FeedRecordOf<T>> {
			let mut records = Self::feeds_of_twin(twin, reader);
			records.retain(|record| record.element == *element);
			records
		}

		/// A feed with its latest checkpoint.
		pub fn feed(feed: FeedId) -> Option<FeedRecordOf<T>> {
			Feeds::<T>::get(feed).map(|info| record::<T>(feed, info))
		}

		/// Up to `limit` checkpoints of a feed (at most [`MAX_CHECKPOINTS_PER_READ`]), in the
		/// order they were anchored, from the one at `from_index`.
		pub fn checkpoints(
			feed: FeedId,
			from_index: CheckpointIndex,
			limit: u32,
		) -> Vec<CheckpointRecord<BlockNumberFor<T>>> {
			let Some(info) = Feeds::<T>::get(feed) else { return Vec::new() };
			let end = from_index
				.saturating_add(limit.min(MAX_CHECKPOINTS_PER_READ))
				.min(info.checkpoint_count);
			(from_index..end)
				.filter_map(|index| {
					Checkpoints::<T>::get(feed, index).map(|anchored| CheckpointRecord {
						index,
						checkpoint: anchored.checkpoint,
						anchored_at: anchored.anchored_at,
					})
				})
				.collect()
		}
	}

	/// The weight of `replace_sensor`: the feeds' part, measured on a one-element sensor,
	/// plus what the specification says its part costs for `removed` elements (at least the
	/// replaced one, at most `MaxRemovedElements`) and the new fragment.
	pub(crate) fn replace_sensor_weight<T: Config>(removed: u32, fragment_len: u32) -> Weight {
		let removed = removed.clamp(1, T::MaxRemovedElements::get());
		T::WeightInfo::replace_sensor()
			.saturating_add(T::Specification::replace_element_weight(removed, fragment_len))
	}

	fn record<T: Config>(id: FeedId, info: FeedOf<T>) -> FeedRecordOf<T> {
		FeedRecord {
			id,
			twin: info.twin,
			element: info.element,
			owner: info.owner,
			schema: info.schema.into_inner(),
			unit: info.unit.into_inner(),
			nominal_interval_ms: info.nominal_interval_ms,
			expected_range: info.expected_range,
			confidentiality: info.confidentiality,
			registered_by: info.registered_by,
			registered_at: info.registered_at,
			status: info.status,
			latest_checkpoint: info.latest_checkpoint,
			checkpoint_count: info.checkpoint_count,
		}
	}

	fn check_registration<T: Config>(registration: &FeedRegistrationOf<T>) -> DispatchResult {
		ensure!(
			!registration.schema.is_empty() && is_text(&registration.schema),
			Error::<T>::InvalidSchema
		);
		ensure!(is_text(&registration.unit), Error::<T>::InvalidUnit);
		ensure!(registration.nominal_interval_ms > 0, Error::<T>::ZeroNominalInterval);
		if let Some(range) = &registration.expected_range {
			range.check().map_err(|reason| match reason {
				ValueRangeError::MinAboveMax => Error::<T>::RangeMinAboveMax,
				ValueRangeError::TooManyDecimals => Error::<T>::RangeTooManyDecimals,
			})?;
		}
		Ok(())
	}

	/// UTF-8 without control characters.
	pub(crate) fn is_text(bytes: &[u8]) -> bool {
		core::str::from_utf8(bytes).is_ok_and(|text| !text.chars().any(char::is_control))
	}
}
