//! Tests of the feeds pallet against the real access pallet and a mock specification.

use crate::{
	mock::{Feeds, *},
	pallet::replace_sensor_weight,
	*,
};
use dt_primitives::{
	access::{Confidentiality, Grantee, Permission, Role},
	program::MAX_DECIMALS,
};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{DispatchResultWithPostInfo, PostDispatchInfo},
	traits::{ConstU32, Hooks},
	BoundedVec,
};
use sp_runtime::{DispatchError, DispatchResult};

type Registration = FeedRegistrationOf<Test>;
type Fragment = BoundedVec<u8, ConstU32<MAX_FRAGMENT_LENGTH>>;

/// The fill-level sensor's feed: owned by `owner`, at `level`.
fn registration(owner: u64, level: Confidentiality) -> Registration {
	FeedRegistration {
		owner,
		schema: bounded("application/vnd.dt.fill-level+json"),
		unit: bounded("mm"),
		nominal_interval_ms: 500,
		expected_range: Some(ValueRange { min: 1_800, max: 2_200, decimals: 1 }),
		confidentiality: level,
	}
}

fn register_as(
	who: u64,
	twin: TwinId,
	element: &str,
	registration: Registration,
) -> Result<FeedId, DispatchError> {
	let feed = NextFeedId::<Test>::get();
	Feeds::register_feed(RuntimeOrigin::signed(who), twin, id(element), registration).map(|_| feed)
}

/// An internal feed of [`DEVICE`] on `fill-sensor` of [`TWIN`], registered by [`MAINTAINER`].
fn register() -> FeedId {
	register_as(MAINTAINER, TWIN, "fill-sensor", registration(DEVICE, Confidentiality::Internal))
		.expect("the maintainer registers")
}

fn checkpoint(sequence: u64, timestamp: u64) -> Checkpoint {
	Checkpoint { sequence, entry_hash: [sequence as u8; 32], timestamp }
}

/// [`DEVICE`] anchors a checkpoint on `feed`.
fn anchor(feed: FeedId, sequence: u64, timestamp: u64) -> DispatchResult {
	Feeds::anchor_checkpoint(RuntimeOrigin::signed(DEVICE), feed, checkpoint(sequence, timestamp))
}

fn fragment(text: &str) -> Fragment {
	bounded(text)
}

/// The new fill-level sensor's element, as the device agent reads it from the sensor.
const NEW_SENSOR: &str = r#"<InternalElement Name="FillLevelSensor" ID="fill-sensor-2"/>"#;

/// `who` replaces the sensor `old_element` of [`TWIN`] by [`NEW_SENSOR`], with its feed
/// `old_feed` by a feed of [`NEW_DEVICE`].
fn replace_sensor_as(
	who: u64,
	old_element: &str,
	max_removed: u32,
	old_feed: FeedId,
	final_checkpoint: Option<Checkpoint>,
) -> DispatchResultWithPostInfo {
	Feeds::replace_sensor(
		RuntimeOrigin::signed(who),
		TWIN,
		id(old_element),
		id("fill-sensor-2"),
		max_removed,
		fragment(NEW_SENSOR),
		old_feed,
		registration(NEW_DEVICE, Confidentiality::Internal),
		final_checkpoint,
	)
}

/// The Device role's default permissions.
fn device_permissions() -> Vec<Permission> {
	vec![
		Permission::Read(Confidentiality::Internal),
		Permission::RegisterFeeds,
		Permission::AppendToFeeds,
		Permission::RunPrograms,
	]
}

/// Lets the Device role write the specification below `filler`, as the owner would for the
/// plant's device agent.
fn let_device_write_filler() {
	let mut permissions = device_permissions();
	permissions.push(Permission::WriteSpecification(Some(id("filler"))));
	assert_ok!(Access::set_role_permissions(
		RuntimeOrigin::signed(OWNER),
		TWIN,
		Role::Device,
		permissions.try_into().unwrap()
	));
}

fn feed_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Feeds(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event was deposited").event
}

fn stored(feed: FeedId) -> FeedOf<Test> {
	crate::Feeds::<Test>::get(feed).expect("the feed exists")
}

fn active_on(twin: TwinId, element: &str) -> Vec<FeedId> {
	ElementFeeds::<Test>::get(twin, id(element)).into_inner()
}

fn ids(records: Vec<FeedRecordOf<Test>>) -> Vec<FeedId> {
	records.into_iter().map(|record| record.id).collect()
}

#[test]
fn register_feed_stores_the_feed_on_its_element() {
	new_test_ext().execute_with(|| {
		System::set_block_number(5);
		let feed = register();
		assert_eq!(feed, 0);
		assert_eq!(NextFeedId::<Test>::get(), 1);
		assert_eq!(
			stored(feed),
			Feed {
				twin: TWIN,
				element: id("fill-sensor"),
				owner: DEVICE,
				schema: bounded("application/vnd.dt.fill-level+json"),
				unit: bounded("mm"),
				nominal_interval_ms: 500,
				expected_range: Some(ValueRange { min: 1_800, max: 2_200, decimals: 1 }),
				confidentiality: Confidentiality::Internal,
				registered_by: MAINTAINER,
				registered_at: 5,
				status: FeedStatus::Active,
				latest_checkpoint: None,
				checkpoint_count: 0,
			}
		);
		assert!(TwinFeeds::<Test>::contains_key(TWIN, feed));
		assert_eq!(TwinFeedCount::<Test>::get(TWIN), 1);
		assert_eq!(active_on(TWIN, "fill-sensor"), vec![feed]);
		assert_eq!(
			last_event(),
			Event::FeedRegistered {
				twin: TWIN,
				feed,
				element: id("fill-sensor"),
				owner: DEVICE,
				confidentiality: Confidentiality::Internal,
				by: MAINTAINER,
			}
			.into()
		);
		// The device registers its own sensors' feeds; several feeds can share an element.
		let own =
			register_as(DEVICE, TWIN, "fill-sensor", registration(DEVICE, Confidentiality::Public));
		assert_eq!(own, Ok(1));
		assert_eq!(active_on(TWIN, "fill-sensor"), vec![0, 1]);
		// Ids run on across twins and are never reused.
		assert_eq!(
			register_as(OWNER, OTHER_TWIN, "motor", registration(OWNER, Confidentiality::Secret)),
			Ok(2)
		);
	});
}

#[test]
fn registrations_are_checked() {
	new_test_ext().execute_with(|| {
		let with = |change: &dyn Fn(&mut Registration)| {
			let mut registration = registration(DEVICE, Confidentiality::Internal);
			change(&mut registration);
			register_as(OWNER, TWIN, "fill-sensor", registration)
		};
		assert_noop!(with(&|r| r.schema = bounded("")), Error::<Test>::InvalidSchema);
		assert_noop!(with(&|r| r.schema = bounded("fill\nlevel")), Error::<Test>::InvalidSchema);
		assert_noop!(
			with(&|r| r.schema = vec![0xff, 0xfe].try_into().unwrap()),
			Error::<Test>::InvalidSchema
		);
		assert_noop!(
			with(&|r| r.unit = vec![b'm', 0xc3].try_into().unwrap()),
			Error::<Test>::InvalidUnit
		);
		assert_noop!(with(&|r| r.unit = bounded("m\tm")), Error::<Test>::InvalidUnit);
		assert_noop!(with(&|r| r.nominal_interval_ms = 0), Error::<Test>::ZeroNominalInterval);
		assert_noop!(
			with(&|r| r.expected_range = Some(ValueRange { min: 5, max: 4, decimals: 0 })),
			Error::<Test>::RangeMinAboveMax
		);
		assert_noop!(
			with(&|r| {
				r.expected_range = Some(ValueRange { min: 0, max: 1, decimals: MAX_DECIMALS + 1 })
			}),
			Error::<Test>::RangeTooManyDecimals
		);
		// A dimensionless feed, without a range; a one-value range; a unit beyond ASCII.
		assert_ok!(with(&|r| {
			r.unit = bounded("");
			r.expected_range = None;
		}));
		assert_ok!(with(&|r| {
			r.unit = bounded("°C");
			r.expected_range = Some(ValueRange { min: -7, max: -7, decimals: MAX_DECIMALS });
		}));
	});
}

#[test]
fn anchor_checkpoint_appends_to_the_history() {
	new_test_ext().execute_with(|| {
		let feed = register();
		System::set_block_number(3);
		assert_ok!(anchor(feed, 0, 1_000));
		System::set_block_number(4);
		// Sequence numbers may skip entries; timestamps may repeat.
		assert_ok!(anchor(feed, 10, 1_000));
		assert_ok!(anchor(feed, 11, 7_000));
		let info = stored(feed);
		assert_eq!(info.checkpoint_count, 3);
		assert_eq!(
			info.latest_checkpoint,
			Some(AnchoredCheckpoint { checkpoint: checkpoint(11, 7_000), anchored_at: 4 })
		);
		assert_eq!(
			Checkpoints::<Test>::get(feed, 0),
			Some(AnchoredCheckpoint { checkpoint: checkpoint(0, 1_000), anchored_at: 3 })
		);
		assert_eq!(Checkpoints::<Test>::get(feed, 1).unwrap().checkpoint, checkpoint(10, 1_000));
		assert_eq!(
			last_event(),
			Event::CheckpointAnchored {
				twin: TWIN,
				feed,
				index: 2,
				checkpoint: checkpoint(11, 7_000)
			}
			.into()
		);
	});
}

#[test]
fn checkpoints_must_move_forward() {
	new_test_ext().execute_with(|| {
		let feed = register();
		assert_ok!(anchor(feed, 10, 5_000));
		for (sequence, timestamp) in [(9, 6_000), (10, 6_000), (10, 5_000), (11, 4_999), (0, 0)] {
			assert_noop!(anchor(feed, sequence, timestamp), Error::<Test>::CheckpointNotForward);
		}
		assert_ok!(anchor(feed, 11, 5_000));
	});
}

#[test]
fn only_the_feed_owner_anchors_checkpoints() {
	new_test_ext().execute_with(|| {
		let feed = register();
		// Not even the twin's owner or the feed's registrar.
		for who in [OWNER, MAINTAINER, NEW_DEVICE, OUTSIDER] {
			assert_noop!(
				Feeds::anchor_checkpoint(RuntimeOrigin::signed(who), feed, checkpoint(1, 1)),
				Error::<Test>::NotFeedOwner
			);
		}
		// The owner needs `AppendToFeeds`: a device whose role was revoked anchors nothing.
		assert_ok!(Access::revoke_role(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Grantee::Account(DEVICE),
			Role::Device
		));
		assert_noop!(anchor(feed, 1, 1), Error::<Test>::NotAuthorized);
		assert_noop!(
			Feeds::anchor_checkpoint(RuntimeOrigin::signed(DEVICE), feed + 1, checkpoint(1, 1)),
			Error::<Test>::UnknownFeed
		);
	});
}

#[test]
fn close_feed_ends_the_feed_and_keeps_its_history() {
	new_test_ext().execute_with(|| {
		let feed = register();
		assert_ok!(anchor(feed, 1, 1_000));
		System::set_block_number(8);
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), feed));
		let info = stored(feed);
		assert_eq!(info.status, FeedStatus::Closed { at: 8, by: OWNER, replaced_by: None });
		assert_eq!(info.checkpoint_count, 1);
		assert!(Checkpoints::<Test>::contains_key(feed, 0));
		assert!(TwinFeeds::<Test>::contains_key(TWIN, feed));
		assert_eq!(TwinFeedCount::<Test>::get(TWIN), 1);
		assert!(!ElementFeeds::<Test>::contains_key(TWIN, id("fill-sensor")));
		assert_eq!(last_event(), Event::FeedClosed { twin: TWIN, feed, by: OWNER }.into());
		// A closed feed takes no checkpoints and is not closed or replaced again.
		assert_noop!(anchor(feed, 2, 2_000), Error::<Test>::FeedClosed);
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(OWNER), feed),
			Error::<Test>::FeedClosed
		);
		assert_noop!(
			Feeds::replace_feed(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				feed,
				registration(NEW_DEVICE, Confidentiality::Internal),
				None
			),
			Error::<Test>::FeedClosed
		);
		// The device closes its own feeds too (it holds `RegisterFeeds`).
		let other = register();
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(DEVICE), other));
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(OWNER), other + 1),
			Error::<Test>::UnknownFeed
		);
	});
}

#[test]
fn replace_feed_closes_the_old_feed_and_registers_its_successor() {
	new_test_ext().execute_with(|| {
		let old = register();
		assert_ok!(anchor(old, 1, 1_000));
		let neighbour = register();
		System::set_block_number(6);
		System::reset_events();
		// The device replaces its feed, anchoring the old one's last entry first.
		assert_ok!(Feeds::replace_feed(
			RuntimeOrigin::signed(DEVICE),
			TWIN,
			old,
			registration(NEW_DEVICE, Confidentiality::Internal),
			Some(checkpoint(42, 9_000))
		));
		let new = neighbour + 1;
		let info = stored(old);
		assert_eq!(info.status, FeedStatus::Closed { at: 6, by: DEVICE, replaced_by: Some(new) });
		assert_eq!(info.checkpoint_count, 2);
		assert_eq!(
			Checkpoints::<Test>::get(old, 1),
			Some(AnchoredCheckpoint { checkpoint: checkpoint(42, 9_000), anchored_at: 6 })
		);
		let successor = stored(new);
		assert_eq!(successor.element, id("fill-sensor"));
		assert_eq!((successor.owner, successor.registered_by), (NEW_DEVICE, DEVICE));
		assert_eq!(successor.status, FeedStatus::Active);
		assert_eq!(active_on(TWIN, "fill-sensor"), vec![neighbour, new]);
		assert_eq!(TwinFeedCount::<Test>::get(TWIN), 3);
		assert_eq!(
			feed_events(),
			vec![
				Event::CheckpointAnchored {
					twin: TWIN,
					feed: old,
					index: 1,
					checkpoint: checkpoint(42, 9_000)
				},
				Event::FeedReplaced {
					twin: TWIN,
					old,
					new,
					element: id("fill-sensor"),
					by: DEVICE
				},
			]
		);
		// Without a final checkpoint, one of the twin's access managers replaces a feed.
		assert_ok!(Feeds::replace_feed(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			new,
			registration(DEVICE, Confidentiality::Internal),
			None
		));
		assert_eq!(stored(new).checkpoint_count, 0);
		assert_eq!(active_on(TWIN, "fill-sensor"), vec![neighbour, new + 1]);
	});
}

#[test]
fn replace_feed_refusals() {
	new_test_ext().execute_with(|| {
		let feed = register();
		assert_ok!(anchor(feed, 5, 5_000));
		let replace = |who: u64, twin: TwinId, level: Confidentiality, last: Option<Checkpoint>| {
			Feeds::replace_feed(
				RuntimeOrigin::signed(who),
				twin,
				feed,
				registration(NEW_DEVICE, level),
				last,
			)
		};
		let internal = Confidentiality::Internal;
		assert_noop!(replace(OWNER, OTHER_TWIN, internal, None), Error::<Test>::FeedOfAnotherTwin);
		assert_noop!(replace(OWNER, NO_TWIN, internal, None), Error::<Test>::UnknownTwin);
		assert_noop!(
			Feeds::replace_feed(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				feed + 1,
				registration(NEW_DEVICE, internal),
				None
			),
			Error::<Test>::UnknownFeed
		);
		// Only the old feed's owner anchors its final checkpoint, and it moves forward.
		assert_noop!(
			replace(OWNER, TWIN, internal, Some(checkpoint(6, 6_000))),
			Error::<Test>::NotFeedOwner
		);
		assert_noop!(
			replace(DEVICE, TWIN, internal, Some(checkpoint(5, 6_000))),
			Error::<Test>::CheckpointNotForward
		);
		assert_noop!(replace(AUDITOR, TWIN, internal, None), Error::<Test>::NotAuthorized);
		assert_noop!(replace(OUTSIDER, TWIN, internal, None), Error::<Test>::NotAuthorized);
		// Clearance is needed for the successor's level as for the old feed's.
		assert_noop!(
			replace(DEVICE, TWIN, Confidentiality::Confidential, None),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			Feeds::replace_feed(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				feed,
				registration(NEW_DEVICE, internal).tap(|r| r.schema = bounded("")),
				None
			),
			Error::<Test>::InvalidSchema
		);
		// A feed whose element left the specification is closed, not replaced.
		assert_ok!(MockSpecification::replace_element(
			&OWNER,
			TWIN,
			&id("fill-sensor"),
			&id("fill-sensor-2"),
			NEW_SENSOR.as_bytes(),
			2
		));
		assert_noop!(replace(OWNER, TWIN, internal, None), Error::<Test>::UnknownElement);
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), feed));
	});
}

/// Another device of the twin (or any holder of `RegisterFeeds` who neither owns the feed nor
/// manages the twin's access) can neither close a device's feed nor take it over by replacing
/// it, alone or with its sensor; the feed's own device and the twin's access managers can.
#[test]
fn only_the_feeds_device_or_an_access_manager_ends_a_feed() {
	new_test_ext().execute_with(|| {
		let_device_write_filler();
		let feed = register();
		assert_ok!(anchor(feed, 1, 1_000));
		let successor = |owner| registration(owner, Confidentiality::Internal);
		// NEW_DEVICE, the Device of the same twin, and the Maintainer hold `RegisterFeeds`
		// and clearance for the feed, but the feed is DEVICE's.
		for intruder in [NEW_DEVICE, MAINTAINER] {
			assert_noop!(
				Feeds::close_feed(RuntimeOrigin::signed(intruder), feed),
				Error::<Test>::NotFeedOwnerOrManager
			);
			assert_noop!(
				Feeds::replace_feed(
					RuntimeOrigin::signed(intruder),
					TWIN,
					feed,
					successor(intruder),
					None
				),
				Error::<Test>::NotFeedOwnerOrManager
			);
		}
		// Nor can the other device replace the sensor to take its feed, although the
		// specification would let it rewrite the filler.
		assert_noop!(
			replace_sensor_as(NEW_DEVICE, "fill-sensor", 2, feed, None),
			Error::<Test>::NotFeedOwnerOrManager
		);
		assert!(stored(feed).is_active());
		assert_eq!(active_on(TWIN, "fill-sensor"), vec![feed]);

		// The feed's own device replaces it; the twin's owner (an access manager) closes the
		// successor, which is NEW_DEVICE's.
		assert_ok!(Feeds::replace_feed(
			RuntimeOrigin::signed(DEVICE),
			TWIN,
			feed,
			successor(NEW_DEVICE),
			Some(checkpoint(2, 2_000))
		));
		let next = feed + 1;
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(DEVICE), next),
			Error::<Test>::NotFeedOwnerOrManager
		);
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), next));
		// A manager without `RegisterFeeds` is still refused: ending a feed is a feed write.
		let mut owner_role = pallet_dt_access::default_permissions(Role::Owner);
		owner_role.retain(|permission| *permission != Permission::RegisterFeeds);
		let third = register();
		assert_ok!(Access::set_role_permissions(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Role::Owner,
			owner_role.try_into().unwrap()
		));
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(OWNER), third),
			Error::<Test>::NotAuthorized
		);
	});
}

/// Changes a value in place and returns it, for one-off variations of test data.
trait Tap: Sized {
	fn tap(mut self, change: impl FnOnce(&mut Self)) -> Self {
		change(&mut self);
		self
	}
}
impl<T> Tap for T {}

#[test]
fn roles_without_the_permission_are_refused() {
	new_test_ext().execute_with(|| {
		// An Auditor reads feeds but cannot register, replace or close them.
		assert_noop!(
			register_as(AUDITOR, TWIN, "motor", registration(DEVICE, Confidentiality::Public)),
			Error::<Test>::NotAuthorized
		);
		let feed = register();
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(AUDITOR), feed),
			Error::<Test>::NotAuthorized
		);
		// Parties without a role on the twin, or outside the consortium, can do nothing.
		for who in [BYSTANDER, OUTSIDER] {
			assert_noop!(
				register_as(who, TWIN, "motor", registration(who, Confidentiality::Public)),
				Error::<Test>::NotAuthorized
			);
			assert_noop!(
				Feeds::close_feed(RuntimeOrigin::signed(who), feed),
				Error::<Test>::NotAuthorized
			);
		}
		// Roles on one twin give nothing on another.
		assert_noop!(
			register_as(
				MAINTAINER,
				OTHER_TWIN,
				"motor",
				registration(DEVICE, Confidentiality::Public)
			),
			Error::<Test>::NotAuthorized
		);
	});
}

#[test]
fn writers_need_clearance_for_the_feed_level() {
	new_test_ext().execute_with(|| {
		// The Device's clearance is Internal, the Maintainer's Confidential.
		assert_noop!(
			register_as(
				DEVICE,
				TWIN,
				"fill-sensor",
				registration(DEVICE, Confidentiality::Confidential)
			),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			register_as(MAINTAINER, TWIN, "motor", registration(DEVICE, Confidentiality::Secret)),
			Error::<Test>::InsufficientClearance
		);
		let confidential = register_as(
			MAINTAINER,
			TWIN,
			"fill-sensor",
			registration(DEVICE, Confidentiality::Confidential),
		)
		.unwrap();
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(DEVICE), confidential),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			Feeds::replace_feed(
				RuntimeOrigin::signed(DEVICE),
				TWIN,
				confidential,
				registration(DEVICE, Confidentiality::Internal),
				None
			),
			Error::<Test>::InsufficientClearance
		);
		// Writing entries needs no clearance: the device anchors checkpoints of a feed it
		// may not read.
		assert_ok!(anchor(confidential, 1, 1));
	});
}

#[test]
fn unknown_twin_element_and_feed_are_refused() {
	new_test_ext().execute_with(|| {
		let internal = registration(DEVICE, Confidentiality::Internal);
		assert_noop!(
			register_as(OWNER, NO_TWIN, "motor", internal.clone()),
			Error::<Test>::UnknownTwin
		);
		assert_noop!(
			register_as(OWNER, TWIN, "gearbox", internal.clone()),
			Error::<Test>::UnknownElement
		);
		assert_noop!(anchor(0, 1, 1), Error::<Test>::UnknownFeed);
		assert_noop!(
			Feeds::close_feed(RuntimeOrigin::signed(OWNER), 0),
			Error::<Test>::UnknownFeed
		);
		assert_noop!(
			replace_sensor_as(OWNER, "fill-sensor", 2, 0, None),
			Error::<Test>::UnknownFeed
		);
		assert_noop!(
			Feeds::replace_sensor(
				RuntimeOrigin::signed(OWNER),
				NO_TWIN,
				id("fill-sensor"),
				id("fill-sensor-2"),
				2,
				fragment(NEW_SENSOR),
				0,
				internal,
				None
			),
			Error::<Test>::UnknownTwin
		);
	});
}

#[test]
fn bounds_are_enforced() {
	new_test_ext().execute_with(|| {
		for _ in 0..MAX_FEEDS_PER_ELEMENT {
			register();
		}
		assert_noop!(
			register_as(
				OWNER,
				TWIN,
				"fill-sensor",
				registration(DEVICE, Confidentiality::Internal)
			),
			Error::<Test>::TooManyFeedsOnElement
		);
		// Closing a feed frees its place on the element, not on the twin.
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), 0));
		assert_ok!(register_as(
			OWNER,
			TWIN,
			"fill-sensor",
			registration(DEVICE, Confidentiality::Internal)
		));
		while TwinFeedCount::<Test>::get(TWIN) < MAX_FEEDS_PER_TWIN {
			assert_ok!(register_as(
				OWNER,
				TWIN,
				"motor",
				registration(DEVICE, Confidentiality::Internal)
			));
			assert_ok!(Feeds::close_feed(
				RuntimeOrigin::signed(OWNER),
				NextFeedId::<Test>::get() - 1
			));
		}
		// Closed feeds still count.
		assert_noop!(
			register_as(OWNER, TWIN, "valve", registration(DEVICE, Confidentiality::Internal)),
			Error::<Test>::TooManyFeeds
		);
		assert_noop!(
			Feeds::replace_feed(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				1,
				registration(DEVICE, Confidentiality::Internal),
				None
			),
			Error::<Test>::TooManyFeeds
		);
		// The bound is per twin.
		assert_ok!(register_as(
			OWNER,
			OTHER_TWIN,
			"valve",
			registration(OWNER, Confidentiality::Internal)
		));
	});
}

#[test]
fn replace_sensor_replaces_element_and_feed_in_one_step() {
	new_test_ext().execute_with(|| {
		let_device_write_filler();
		let old = register();
		assert_ok!(anchor(old, 1, 1_000));
		assert_ok!(anchor(old, 2, 2_000));
		System::set_block_number(9);
		System::reset_events();

		// The fill sensor and its port (two elements) give way to the new sensor.
		let result = replace_sensor_as(DEVICE, "fill-sensor", 3, old, Some(checkpoint(3, 3_000)));
		let new = old + 1;
		assert_eq!(
			result,
			Ok(PostDispatchInfo {
				actual_weight: Some(replace_sensor_weight::<Test>(2, NEW_SENSOR.len() as u32)),
				pays_fee: frame_support::dispatch::Pays::Yes,
			})
		);
		// Charged for the two elements removed, not for the three the witness allowed.
		assert!(replace_sensor_weight::<Test>(2, NEW_SENSOR.len() as u32)
			.all_lt(replace_sensor_weight::<Test>(3, NEW_SENSOR.len() as u32)));

		// The specification: the new sensor in the old one's place, the old subtree gone.
		let tree = MockSpecification::tree(TWIN).unwrap();
		let names: Vec<_> = tree.iter().map(|(element, _)| element.to_vec()).collect();
		assert_eq!(
			names,
			["root", "filler", "fill-sensor-2", "valve", "motor"].map(|n| n.as_bytes().to_vec())
		);
		assert_eq!(tree[2].1, Some(id("filler")));

		// The old feed: closed, its history with the final checkpoint kept.
		let info = stored(old);
		assert_eq!(info.status, FeedStatus::Closed { at: 9, by: DEVICE, replaced_by: Some(new) });
		assert_eq!(info.checkpoint_count, 3);
		assert_eq!(info.latest_checkpoint.unwrap().checkpoint, checkpoint(3, 3_000));
		assert_eq!(Checkpoints::<Test>::get(old, 0).unwrap().checkpoint, checkpoint(1, 1_000));
		assert!(active_on(TWIN, "fill-sensor").is_empty());

		// The new feed: active on the new element, owned by the new device account.
		let successor = stored(new);
		assert_eq!(successor.element, id("fill-sensor-2"));
		assert_eq!(successor.owner, NEW_DEVICE);
		assert_eq!(successor.status, FeedStatus::Active);
		assert_eq!(active_on(TWIN, "fill-sensor-2"), vec![new]);
		assert_eq!(
			feed_events(),
			vec![
				Event::CheckpointAnchored {
					twin: TWIN,
					feed: old,
					index: 2,
					checkpoint: checkpoint(3, 3_000)
				},
				Event::SensorReplaced {
					twin: TWIN,
					old_element: id("fill-sensor"),
					new_element: id("fill-sensor-2"),
					old_feed: old,
					new_feed: new,
					by: DEVICE,
				},
			]
		);
		// The new sensor's readings are anchored by the new device account.
		assert_ok!(Feeds::anchor_checkpoint(
			RuntimeOrigin::signed(NEW_DEVICE),
			new,
			checkpoint(0, 4_000)
		));
	});
}

#[test]
fn replace_sensor_keeps_an_element_id_the_new_sensor_reuses() {
	new_test_ext().execute_with(|| {
		let old =
			register_as(OWNER, TWIN, "valve", registration(DEVICE, Confidentiality::Internal))
				.unwrap();
		assert_ok!(Feeds::replace_sensor(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			id("valve"),
			id("valve"),
			1,
			fragment(r#"<InternalElement Name="Valve" ID="valve"/>"#),
			old,
			registration(NEW_DEVICE, Confidentiality::Internal),
			None
		));
		assert!(!stored(old).is_active());
		assert_eq!(active_on(TWIN, "valve"), vec![old + 1]);
	});
}

#[test]
fn replace_sensor_refused_by_the_specification_changes_nothing() {
	new_test_ext().execute_with(|| {
		let_device_write_filler();
		let old = register();
		assert_ok!(anchor(old, 1, 1_000));
		// Each refusal comes after the final checkpoint was anchored: it is undone too.
		let last = Some(checkpoint(2, 2_000));
		assert_noop!(
			replace_sensor_as(DEVICE, "fill-sensor", 1, old, last),
			SPEC_WITNESS_TOO_SMALL
		);
		for bad in ["", "InternalElement ID=\"x\"/>", "<InternalElement Name=\"NoId\"/>"] {
			assert_noop!(
				Feeds::replace_sensor(
					RuntimeOrigin::signed(DEVICE),
					TWIN,
					id("fill-sensor"),
					id("x"),
					2,
					fragment(bad),
					old,
					registration(NEW_DEVICE, Confidentiality::Internal),
					last
				),
				SPEC_INVALID_FRAGMENT
			);
		}
		assert_noop!(
			Feeds::replace_sensor(
				RuntimeOrigin::signed(DEVICE),
				TWIN,
				id("fill-sensor"),
				id("motor"),
				2,
				fragment(r#"<InternalElement ID="motor"/>"#),
				old,
				registration(NEW_DEVICE, Confidentiality::Internal),
				last
			),
			SPEC_DUPLICATE_ID
		);
		// The device's specification rights end at the filler's subtree.
		let on_motor =
			register_as(DEVICE, TWIN, "motor", registration(DEVICE, Confidentiality::Internal))
				.unwrap();
		assert_noop!(replace_sensor_as(DEVICE, "motor", 1, on_motor, None), SPEC_NOT_AUTHORIZED);
		// Without the extra permission the device may not touch the specification at all.
		assert_ok!(Access::set_role_permissions(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Role::Device,
			device_permissions().try_into().unwrap()
		));
		assert_noop!(replace_sensor_as(DEVICE, "fill-sensor", 2, old, last), SPEC_NOT_AUTHORIZED);
		assert!(stored(old).is_active());
		assert_eq!(stored(old).checkpoint_count, 1);
	});
}

#[test]
fn replace_sensor_refused_on_the_feed_side_leaves_the_specification_unchanged() {
	new_test_ext().execute_with(|| {
		let old = register();
		let replace = |who: u64, registration: Registration| {
			Feeds::replace_sensor(
				RuntimeOrigin::signed(who),
				TWIN,
				id("fill-sensor"),
				id("fill-sensor-2"),
				2,
				fragment(NEW_SENSOR),
				old,
				registration,
				None,
			)
		};
		let internal = || registration(NEW_DEVICE, Confidentiality::Internal);
		// Refused after the specification was changed: the change is undone.
		assert_noop!(
			replace(OWNER, internal().tap(|r| r.nominal_interval_ms = 0)),
			Error::<Test>::ZeroNominalInterval
		);
		assert!(MockSpecification::element_exists(TWIN, &id("fill-sensor")));
		assert!(MockSpecification::element_exists(TWIN, &id("fill-sensor-port")));
		assert!(!MockSpecification::element_exists(TWIN, &id("fill-sensor-2")));
		// Refused before: who may not, or a feed that is not the sensor's.
		assert_noop!(replace(AUDITOR, internal()), Error::<Test>::NotAuthorized);
		assert_noop!(replace(OUTSIDER, internal()), Error::<Test>::NotAuthorized);
		assert_noop!(
			replace(MAINTAINER, registration(NEW_DEVICE, Confidentiality::Secret)),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			Feeds::replace_sensor(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				id("fill-sensor"),
				id("fill-sensor-2"),
				2,
				fragment(NEW_SENSOR),
				old,
				internal(),
				Some(checkpoint(1, 1))
			),
			Error::<Test>::NotFeedOwner
		);
		let on_valve =
			register_as(OWNER, TWIN, "valve", registration(DEVICE, Confidentiality::Internal))
				.unwrap();
		assert_noop!(
			replace_sensor_as(OWNER, "fill-sensor", 2, on_valve, None),
			Error::<Test>::FeedNotOnElement
		);
		let elsewhere = register_as(
			OWNER,
			OTHER_TWIN,
			"fill-sensor",
			registration(OWNER, Confidentiality::Internal),
		)
		.unwrap();
		assert_noop!(
			replace_sensor_as(OWNER, "fill-sensor", 2, elsewhere, None),
			Error::<Test>::FeedOfAnotherTwin
		);
		// A second active feed on the sensor would be left on a removed element.
		let second = register();
		assert_noop!(replace(OWNER, internal()), Error::<Test>::OtherFeedsOnElement);
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), second));
		assert_ok!(anchor(old, 5, 5_000));
		assert_noop!(
			Feeds::replace_sensor(
				RuntimeOrigin::signed(DEVICE),
				TWIN,
				id("fill-sensor"),
				id("fill-sensor-2"),
				2,
				fragment(NEW_SENSOR),
				old,
				internal(),
				Some(checkpoint(5, 6_000))
			),
			Error::<Test>::CheckpointNotForward
		);
		// The twin is full: the new feed is refused after the specification changed.
		while TwinFeedCount::<Test>::get(TWIN) < MAX_FEEDS_PER_TWIN {
			let feed = register_as(OWNER, TWIN, "motor", internal()).unwrap();
			assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), feed));
		}
		assert_noop!(replace(OWNER, internal()), Error::<Test>::TooManyFeeds);
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), old));
		assert_noop!(replace(OWNER, internal()), Error::<Test>::FeedClosed);
	});
}

#[test]
fn reads_list_feeds_with_their_latest_checkpoint_filtered_by_clearance() {
	new_test_ext().execute_with(|| {
		use Confidentiality::*;
		let public = register_as(OWNER, TWIN, "motor", registration(DEVICE, Public)).unwrap();
		let internal = register();
		let confidential =
			register_as(OWNER, TWIN, "valve", registration(DEVICE, Confidential)).unwrap();
		let secret = register_as(OWNER, TWIN, "motor", registration(DEVICE, Secret)).unwrap();
		let elsewhere =
			register_as(OWNER, OTHER_TWIN, "motor", registration(OWNER, Public)).unwrap();
		System::set_block_number(4);
		assert_ok!(anchor(internal, 7, 7_000));
		assert_ok!(Feeds::close_feed(RuntimeOrigin::signed(OWNER), public));

		let all = vec![public, internal, confidential, secret];
		assert_eq!(ids(Feeds::feeds_of_twin(TWIN, None)), all);
		assert_eq!(ids(Feeds::feeds_of_twin(TWIN, Some(&OWNER))), all);
		assert_eq!(
			ids(Feeds::feeds_of_twin(TWIN, Some(&AUDITOR))),
			vec![public, internal, confidential]
		);
		assert_eq!(ids(Feeds::feeds_of_twin(TWIN, Some(&DEVICE))), vec![public, internal]);
		// Members without a role read public data; outsiders read nothing.
		assert_eq!(ids(Feeds::feeds_of_twin(TWIN, Some(&BYSTANDER))), vec![public]);
		assert!(Feeds::feeds_of_twin(TWIN, Some(&OUTSIDER)).is_empty());
		assert_eq!(ids(Feeds::feeds_of_twin(OTHER_TWIN, Some(&OWNER))), vec![elsewhere]);
		assert!(Feeds::feeds_of_twin(NO_TWIN, None).is_empty());
		assert!(Feeds::feeds_of_twin(NO_TWIN, Some(&OWNER)).is_empty());

		// Closed feeds are listed, with their status.
		assert_eq!(ids(Feeds::feeds_of_element(TWIN, &id("motor"), None)), vec![public, secret]);
		assert_eq!(ids(Feeds::feeds_of_element(TWIN, &id("motor"), Some(&AUDITOR))), vec![public]);
		assert!(Feeds::feeds_of_element(TWIN, &id("root"), None).is_empty());

		let record = Feeds::feed(internal).unwrap();
		assert_eq!(
			record,
			FeedRecord {
				id: internal,
				twin: TWIN,
				element: id("fill-sensor"),
				owner: DEVICE,
				schema: b"application/vnd.dt.fill-level+json".to_vec(),
				unit: b"mm".to_vec(),
				nominal_interval_ms: 500,
				expected_range: Some(ValueRange { min: 1_800, max: 2_200, decimals: 1 }),
				confidentiality: Internal,
				registered_by: MAINTAINER,
				registered_at: 1,
				status: FeedStatus::Active,
				latest_checkpoint: Some(AnchoredCheckpoint {
					checkpoint: checkpoint(7, 7_000),
					anchored_at: 4
				}),
				checkpoint_count: 1,
			}
		);
		assert_eq!(
			Feeds::feed(public).unwrap().status,
			FeedStatus::Closed { at: 4, by: OWNER, replaced_by: None }
		);
		assert_eq!(Feeds::feed(99), None);
	});
}

#[test]
fn checkpoints_are_read_in_pages() {
	new_test_ext().execute_with(|| {
		let feed = register();
		let total = MAX_CHECKPOINTS_PER_READ + 5;
		for sequence in 0..total {
			System::set_block_number(u64::from(sequence) + 1);
			assert_ok!(anchor(feed, sequence.into(), 1_000));
		}
		let page = Feeds::checkpoints(feed, 3, 2);
		assert_eq!(
			page,
			vec![
				CheckpointRecord { index: 3, checkpoint: checkpoint(3, 1_000), anchored_at: 4 },
				CheckpointRecord { index: 4, checkpoint: checkpoint(4, 1_000), anchored_at: 5 },
			]
		);
		assert_eq!(Feeds::checkpoints(feed, 0, u32::MAX).len() as u32, MAX_CHECKPOINTS_PER_READ);
		assert_eq!(Feeds::checkpoints(feed, total - 2, 10).len(), 2);
		assert!(Feeds::checkpoints(feed, total, 10).is_empty());
		assert!(Feeds::checkpoints(feed, u32::MAX, u32::MAX).is_empty());
		assert!(Feeds::checkpoints(feed + 1, 0, 10).is_empty());
	});
}

#[test]
fn mock_constants_pass_the_integrity_test() {
	<Feeds as Hooks<u64>>::integrity_test();
}

#[test]
fn text_check() {
	assert!(pallet::is_text(b""));
	assert!(pallet::is_text("µm/s²".as_bytes()));
	assert!(!pallet::is_text(b"a\x00b"));
	assert!(!pallet::is_text(b"\x7f"));
	assert!(!pallet::is_text(&[0xc3]));
}
