//! Tests of the programs pallet against the real access pallet.

use crate::{
	mock::{Programs, *},
	*,
};
use dt_primitives::{
	access::{Confidentiality, Grantee, Permission, Role},
	program::{ArgumentError, ParameterValue, ProgramArguments},
};
use frame_support::{assert_noop, assert_ok, traits::Hooks, BoundedVec};
use sp_runtime::DispatchError;

type StoredResult = BoundedVec<u8, frame_support::traits::ConstU32<MAX_RESULT_LENGTH>>;

/// Calls [`SET_FILL_VOLUME`] on [`FILLER`] of `twin` as `who` with `given`.
fn call_with(who: u64, twin: TwinId, given: ProgramArguments) -> Result<CallId, DispatchError> {
	let call = NextCallId::<Test>::get();
	Programs::call_program(
		RuntimeOrigin::signed(who),
		twin,
		id(FILLER),
		program(SET_FILL_VOLUME),
		given,
	)
	.map(|_| call)
	.map_err(|error| error.error)
}

/// A valid call of [`SET_FILL_VOLUME`] on [`TWIN`] by [`OWNER`].
fn call() -> CallId {
	call_with(OWNER, TWIN, fill_volume_arguments()).expect("the owner calls")
}

fn claim(who: u64, call: CallId) -> Result<(), DispatchError> {
	Programs::claim_call(RuntimeOrigin::signed(who), call).map(|_| ())
}

fn report(who: u64, call: CallId, outcome: Outcome, result: &str) -> Result<(), DispatchError> {
	Programs::report_outcome(RuntimeOrigin::signed(who), call, outcome, bounded(result)).map(|_| ())
}

fn cancel(who: u64, call: CallId) -> Result<(), DispatchError> {
	Programs::cancel_call(RuntimeOrigin::signed(who), call).map(|_| ())
}

/// The call's status as stored.
fn status(call: CallId) -> CallStatus<u64, u64, StoredResult> {
	Calls::<Test>::get(call).expect("the call exists").status
}

/// The call's status as the reads tell it (expiry included).
fn read_status(call: CallId) -> CallStatus<u64, u64, Vec<u8>> {
	Programs::call(call).expect("the call exists").call.status
}

/// The calls in the twin's queue, expired ones not yet let go of included.
fn queue(twin: TwinId) -> Vec<CallId> {
	CallQueues::<Test>::get(twin).into_iter().map(|queued| queued.call).collect()
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Programs(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn last_event() -> Event<Test> {
	events().pop().expect("an event was deposited")
}

fn rejected(reason: ArgumentError) -> Error<Test> {
	Error::<Test>::InvalidArguments(ArgumentRejection(reason))
}

fn ids(records: Vec<CallRecord<u64, u64>>) -> Vec<CallId> {
	records.into_iter().map(|record| record.id).collect()
}

#[test]
fn call_program_queues_a_checked_call() {
	new_test_ext().execute_with(|| {
		System::set_block_number(5);
		let call = call_with(MAINTAINER, TWIN, fill_volume_arguments()).unwrap();
		assert_eq!(call, 0);
		assert_eq!(NextCallId::<Test>::get(), 1);
		assert_eq!(
			Calls::<Test>::get(call).unwrap(),
			ProgramCall {
				twin: TWIN,
				element: id(FILLER),
				program: program(SET_FILL_VOLUME),
				arguments: fill_volume_arguments(),
				declaration_hash: declaration_hash(&fill_volume_parameters()),
				caller: MAINTAINER,
				queued_at: 5,
				expires_at: 5 + CALL_TIME_TO_LIVE,
				status: CallStatus::Pending,
			}
		);
		assert_eq!(
			CallQueues::<Test>::get(TWIN).into_inner(),
			vec![QueuedCall { call, expires_at: 5 + CALL_TIME_TO_LIVE }]
		);
		assert!(TwinCalls::<Test>::contains_key(TWIN, call));
		assert_eq!(
			last_event(),
			Event::ProgramCallQueued {
				twin: TWIN,
				call,
				element: id(FILLER),
				program: program(SET_FILL_VOLUME),
				caller: MAINTAINER
			}
		);
		// Ids run on across twins and are never reused; a program without parameters takes
		// no arguments.
		assert_ok!(Programs::call_program(
			RuntimeOrigin::signed(OWNER),
			OTHER_TWIN,
			id(FILLER),
			program(RINSE),
			Default::default()
		));
		assert_eq!(queue(OTHER_TWIN), vec![1]);
		assert_eq!(NextCallId::<Test>::get(), 2);
		assert_eq!(Calls::<Test>::get(1).unwrap().declaration_hash, declaration_hash(&[]));
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn the_declaration_hash_tells_declarations_apart() {
	let declared = fill_volume_parameters();
	assert_eq!(declaration_hash(&declared), declaration_hash(&declared.clone()));
	let mut widened = declared.clone();
	widened[0].max = widened[0].max.map(|max| max + 1);
	assert_ne!(declaration_hash(&widened), declaration_hash(&declared));
	let mut rescaled = declared.clone();
	rescaled[0].kind = dt_primitives::program::ParameterType::Decimal { decimals: 2 };
	assert_ne!(declaration_hash(&rescaled), declaration_hash(&declared));
	// The hash is of the SCALE encoding, which the device agent recomputes off chain.
	use codec::Encode;
	assert_eq!(
		declaration_hash(&declared),
		sp_io::hashing::blake2_256(&declared.into_inner().encode())
	);
}

#[test]
fn parties_without_the_permission_cannot_call() {
	new_test_ext().execute_with(|| {
		// Auditors, devices, parties without a role and outsiders call nothing.
		for who in [AUDITOR, DEVICE, BYSTANDER, OUTSIDER] {
			assert_noop!(
				call_with(who, TWIN, fill_volume_arguments()),
				Error::<Test>::NotAuthorized
			);
		}
		// Roles on one twin give nothing on another.
		assert_noop!(
			call_with(MAINTAINER, OTHER_TWIN, fill_volume_arguments()),
			Error::<Test>::NotAuthorized
		);
		// A permission for one program allows that program only.
		let permissions = vec![
			Permission::Read(Confidentiality::Internal),
			Permission::CallPrograms(Some(program(RINSE))),
		];
		assert_ok!(Access::set_role_permissions(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Role::Auditor,
			permissions.try_into().unwrap()
		));
		assert_ok!(Programs::call_program(
			RuntimeOrigin::signed(AUDITOR),
			TWIN,
			id(FILLER),
			program(RINSE),
			Default::default()
		));
		assert_noop!(
			call_with(AUDITOR, TWIN, fill_volume_arguments()),
			Error::<Test>::NotAuthorized
		);
	});
}

#[test]
fn unknown_twin_element_and_program_are_refused() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			call_with(OWNER, NO_TWIN, fill_volume_arguments()),
			Error::<Test>::UnknownTwin
		);
		let call_on = |element: &str, name: &str| {
			Programs::call_program(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				id(element),
				program(name),
				fill_volume_arguments(),
			)
		};
		assert_noop!(call_on("Gearbox1", SET_FILL_VOLUME), Error::<Test>::UnknownElement);
		// The capper exists but offers no program; the filler offers no `Explode`.
		assert_noop!(call_on(CAPPER, SET_FILL_VOLUME), Error::<Test>::UnknownProgram);
		assert_noop!(call_on(FILLER, "Explode"), Error::<Test>::UnknownProgram);
		// Unknown elements and programs are only revealed to parties who may call programs.
		assert_noop!(
			Programs::call_program(
				RuntimeOrigin::signed(AUDITOR),
				TWIN,
				id("Gearbox1"),
				program("Explode"),
				Default::default()
			),
			Error::<Test>::NotAuthorized
		);
	});
}

#[test]
fn arguments_must_fit_the_declared_parameters() {
	new_test_ext().execute_with(|| {
		let volume = |value| ("volume", value);
		let mode = ("mode", ParameterValue::Text(text("gentle")));
		let count = ("count", ParameterValue::Integer(2));
		let rinse = ("rinse", ParameterValue::Boolean(true));
		let valid = volume(ParameterValue::Decimal(3300));
		let cases = [
			// `volume` is missing.
			(
				arguments(&[mode.clone(), count.clone(), rinse.clone()]),
				ArgumentError::MissingArgument(0),
			),
			(arguments(&[]), ArgumentError::MissingArgument(0)),
			// `speed` is not a parameter.
			(
				arguments(&[
					valid.clone(),
					("speed", ParameterValue::Integer(3)),
					mode.clone(),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::UnknownArgument(1),
			),
			// `count` is given twice.
			(
				arguments(&[
					valid.clone(),
					count.clone(),
					mode.clone(),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::DuplicateArgument(3),
			),
			// A volume as a whole number, as text; a boolean as an integer.
			(
				arguments(&[
					volume(ParameterValue::Integer(330)),
					mode.clone(),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::WrongType(0),
			),
			(
				arguments(&[
					volume(ParameterValue::Text(text("330.0"))),
					mode.clone(),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::WrongType(0),
			),
			(
				arguments(&[
					valid.clone(),
					mode.clone(),
					count.clone(),
					("rinse", ParameterValue::Integer(1)),
				]),
				ArgumentError::WrongType(3),
			),
			// 249.9 ml and 1500.6 ml lie outside 250.0..=1500.5; 0 and 11 outside 1..=10.
			(
				arguments(&[
					volume(ParameterValue::Decimal(2499)),
					mode.clone(),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::BelowMinimum(0),
			),
			(
				arguments(&[
					volume(ParameterValue::Decimal(15006)),
					mode.clone(),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::AboveMaximum(0),
			),
			(
				arguments(&[
					valid.clone(),
					mode.clone(),
					("count", ParameterValue::Integer(0)),
					rinse.clone(),
				]),
				ArgumentError::BelowMinimum(2),
			),
			(
				arguments(&[
					valid.clone(),
					mode.clone(),
					("count", ParameterValue::Integer(11)),
					rinse.clone(),
				]),
				ArgumentError::AboveMaximum(2),
			),
			// `fast` is not an allowed mode.
			(
				arguments(&[
					valid.clone(),
					("mode", ParameterValue::Text(text("fast"))),
					count.clone(),
					rinse.clone(),
				]),
				ArgumentError::NotAllowed(1),
			),
		];
		for (given, reason) in cases {
			assert_noop!(call_with(OWNER, TWIN, given), rejected(reason));
		}
		// The bounds themselves are allowed, in any order.
		assert_ok!(call_with(
			OWNER,
			TWIN,
			arguments(&[
				rinse,
				("count", ParameterValue::Integer(10)),
				volume(ParameterValue::Decimal(15005)),
				("mode", ParameterValue::Text(text("normal"))),
			])
		));
		assert_ok!(call_with(
			OWNER,
			TWIN,
			arguments(&[
				volume(ParameterValue::Decimal(2500)),
				mode,
				("count", ParameterValue::Integer(1)),
				("rinse", ParameterValue::Boolean(false))
			])
		));
		// A program without parameters takes no arguments.
		assert_noop!(
			Programs::call_program(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				id(FILLER),
				program(RINSE),
				arguments(&[("rinse", ParameterValue::Boolean(true))])
			),
			rejected(ArgumentError::UnknownArgument(0))
		);
	});
}

#[test]
fn the_queue_per_twin_is_bounded() {
	new_test_ext().execute_with(|| {
		for _ in 0..MAX_PENDING_CALLS {
			call();
		}
		assert_noop!(call_with(OWNER, TWIN, fill_volume_arguments()), Error::<Test>::QueueFull);
		// Claimed calls still count.
		assert_ok!(claim(DEVICE, 0));
		assert_noop!(call_with(OWNER, TWIN, fill_volume_arguments()), Error::<Test>::QueueFull);
		// The bound is per twin.
		assert_ok!(call_with(OWNER, OTHER_TWIN, fill_volume_arguments()));
		// A finished call frees its place: completed, cancelled or expired.
		assert_ok!(report(DEVICE, 0, Outcome::Completed, "ok"));
		let fourth = call();
		assert_noop!(call_with(OWNER, TWIN, fill_volume_arguments()), Error::<Test>::QueueFull);
		assert_ok!(cancel(OWNER, 1));
		assert_ok!(call_with(OWNER, TWIN, fill_volume_arguments()));
		assert_eq!(queue(TWIN), vec![2, fourth, fourth + 1]);
		// Expired calls make room too: the next call takes them out of the queue.
		run_to_block(1 + CALL_TIME_TO_LIVE);
		assert!(Programs::pending_calls(TWIN).is_empty());
		let after_expiry = call();
		assert_eq!(queue(TWIN), vec![after_expiry]);
		Programs::do_try_state().unwrap();
	});
}

/// One member's traffic on its own twins, as fast as it can queue, takes nothing from
/// another twin: every other twin can still fill its whole queue in the same block (a stop
/// command included), and again once the flooding twin's calls expire.
#[test]
fn one_twins_traffic_never_blocks_another_twins_calls() {
	new_test_ext().execute_with(|| {
		// The owner of the other twin floods it until its own queue is full.
		for _ in 0..MAX_PENDING_CALLS {
			assert_ok!(call_with(OWNER, OTHER_TWIN, fill_volume_arguments()));
		}
		assert_noop!(
			call_with(OWNER, OTHER_TWIN, fill_volume_arguments()),
			Error::<Test>::QueueFull
		);
		// The maintainer of the plant still queues as many calls as its twin takes, in the
		// same block.
		for _ in 0..MAX_PENDING_CALLS {
			assert_ok!(call_with(MAINTAINER, TWIN, fill_volume_arguments()));
		}
		assert_eq!(Programs::pending_calls(TWIN).len(), MAX_PENDING_CALLS as usize);
		// Whenever the flood is renewed after expiry, the plant's calls go through as well.
		for block in 1..=3 {
			run_to_block(1 + block * CALL_TIME_TO_LIVE);
			for _ in 0..MAX_PENDING_CALLS {
				assert_ok!(call_with(OWNER, OTHER_TWIN, fill_volume_arguments()));
				assert_ok!(call_with(MAINTAINER, TWIN, fill_volume_arguments()));
			}
		}
		Programs::do_try_state().unwrap();
	});
}

/// `call_program` pays for the expired calls it takes out of the queue, no more: it is
/// weighed for a queue full of them and refunds the rest.
#[test]
fn call_program_is_weighed_for_the_expired_calls_it_removes() {
	new_test_ext().execute_with(|| {
		let given = fill_volume_arguments().len() as u32;
		let dispatch = |arguments: ProgramArguments| {
			Programs::call_program(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				id(FILLER),
				program(SET_FILL_VOLUME),
				arguments,
			)
		};
		let info = pallet::Call::<Test>::call_program {
			twin: TWIN,
			element: id(FILLER),
			program: program(SET_FILL_VOLUME),
			arguments: fill_volume_arguments(),
		};
		use frame_support::dispatch::GetDispatchInfo;
		assert_eq!(
			info.get_dispatch_info().call_weight,
			<() as WeightInfo>::call_program(given, MAX_PENDING_CALLS)
		);
		let first = dispatch(fill_volume_arguments()).unwrap();
		assert_eq!(first.actual_weight, Some(<() as WeightInfo>::call_program(given, 0)));
		dispatch(fill_volume_arguments()).unwrap();
		run_to_block(1 + CALL_TIME_TO_LIVE);
		let after = dispatch(fill_volume_arguments()).unwrap();
		assert_eq!(after.actual_weight, Some(<() as WeightInfo>::call_program(given, 2)));
		assert_ne!(
			<() as WeightInfo>::call_program(given, 2),
			<() as WeightInfo>::call_program(given, 0)
		);
	});
}

#[test]
fn the_device_claims_the_oldest_pending_call() {
	new_test_ext().execute_with(|| {
		let first = call();
		let second = call();
		System::set_block_number(3);
		assert_noop!(claim(DEVICE, second), Error::<Test>::NotNextInQueue);
		assert_ok!(claim(DEVICE, first));
		assert_eq!(status(first), CallStatus::Claimed { by: DEVICE, at: 3 });
		assert_eq!(
			last_event(),
			Event::ProgramCallClaimed { twin: TWIN, call: first, device: DEVICE }
		);
		// Claimed calls stay queued, first.
		assert_eq!(queue(TWIN), vec![first, second]);
		assert_noop!(claim(DEVICE, first), Error::<Test>::CallNotPending);
		// The next pending call can be claimed while the first runs, by any device account.
		assert_ok!(claim(SECOND_DEVICE, second));
		assert_eq!(status(second), CallStatus::Claimed { by: SECOND_DEVICE, at: 3 });
		assert_noop!(claim(DEVICE, 99), Error::<Test>::UnknownCall);
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn a_cancelled_call_makes_way_for_the_next() {
	new_test_ext().execute_with(|| {
		let first = call();
		let second = call();
		let third = call();
		assert_ok!(cancel(OWNER, first));
		assert_noop!(claim(DEVICE, first), Error::<Test>::CallNotPending);
		assert_noop!(claim(DEVICE, third), Error::<Test>::NotNextInQueue);
		assert_ok!(claim(DEVICE, second));
		assert_ok!(cancel(OWNER, third));
		assert_eq!(queue(TWIN), vec![second]);
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn only_the_twins_device_claims_calls() {
	new_test_ext().execute_with(|| {
		let call = call();
		for who in [OWNER, MAINTAINER, AUDITOR, BYSTANDER, OUTSIDER] {
			assert_noop!(claim(who, call), Error::<Test>::NotAuthorized);
		}
		// A device of one twin is nobody on another.
		let elsewhere = call_with(OWNER, OTHER_TWIN, fill_volume_arguments()).unwrap();
		assert_noop!(claim(DEVICE, elsewhere), Error::<Test>::NotAuthorized);
		// Any account given `RunPrograms` may.
		assert_ok!(Access::grant_role(
			RuntimeOrigin::signed(OWNER),
			OTHER_TWIN,
			Grantee::Account(DEVICE),
			Role::Device
		));
		assert_ok!(claim(DEVICE, elsewhere));
	});
}

#[test]
fn the_claimant_reports_completion_with_a_result() {
	new_test_ext().execute_with(|| {
		let call = call();
		let next = self::call();
		assert_ok!(claim(DEVICE, call));
		System::set_block_number(4);
		assert_ok!(report(DEVICE, call, Outcome::Completed, "filled 330.2 ml"));
		assert_eq!(
			status(call),
			CallStatus::Completed { at: 4, result: bounded("filled 330.2 ml") }
		);
		assert_eq!(
			last_event(),
			Event::ProgramCallCompleted {
				twin: TWIN,
				call,
				device: DEVICE,
				result: bounded("filled 330.2 ml")
			}
		);
		assert_eq!(queue(TWIN), vec![next]);
		assert_noop!(report(DEVICE, call, Outcome::Failed, ""), Error::<Test>::CallNotClaimed);
		assert_noop!(cancel(OWNER, call), Error::<Test>::CallNotPending);
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn the_claimant_reports_failure_with_a_reason() {
	new_test_ext().execute_with(|| {
		let call = call();
		assert_ok!(claim(DEVICE, call));
		assert_ok!(report(DEVICE, call, Outcome::Failed, "valve stuck"));
		assert_eq!(status(call), CallStatus::Failed { at: 1, result: bounded("valve stuck") });
		assert_eq!(
			last_event(),
			Event::ProgramCallFailed {
				twin: TWIN,
				call,
				device: DEVICE,
				result: bounded("valve stuck")
			}
		);
		assert!(queue(TWIN).is_empty());
		assert!(!CallQueues::<Test>::contains_key(TWIN));
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn nobody_else_reports_a_claimed_call() {
	new_test_ext().execute_with(|| {
		let call = call();
		assert_noop!(report(DEVICE, call, Outcome::Completed, ""), Error::<Test>::CallNotClaimed);
		assert_ok!(claim(DEVICE, call));
		// Another device account cannot complete someone else's call.
		assert_noop!(
			report(SECOND_DEVICE, call, Outcome::Completed, "done"),
			Error::<Test>::NotClaimant
		);
		for who in [OWNER, MAINTAINER, OUTSIDER] {
			assert_noop!(report(who, call, Outcome::Failed, "no"), Error::<Test>::NotAuthorized);
		}
		assert_noop!(report(DEVICE, 99, Outcome::Completed, ""), Error::<Test>::UnknownCall);
		// A device that lost its role reports nothing; its call expires.
		assert_ok!(Access::revoke_role(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Grantee::Account(DEVICE),
			Role::Device
		));
		assert_noop!(
			report(DEVICE, call, Outcome::Completed, "done"),
			Error::<Test>::NotAuthorized
		);
		run_to_block(1 + CALL_TIME_TO_LIVE);
		assert_eq!(read_status(call), CallStatus::Expired { at: 1 + CALL_TIME_TO_LIVE });
	});
}

#[test]
fn the_caller_cancels_a_pending_call() {
	new_test_ext().execute_with(|| {
		let call = call_with(MAINTAINER, TWIN, fill_volume_arguments()).unwrap();
		assert_noop!(cancel(OWNER, call), Error::<Test>::NotCaller);
		assert_noop!(cancel(DEVICE, call), Error::<Test>::NotCaller);
		System::set_block_number(2);
		// The caller may withdraw its call even after losing its permissions.
		assert_ok!(Access::revoke_role(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Grantee::Account(MAINTAINER),
			Role::Maintainer
		));
		assert_ok!(cancel(MAINTAINER, call));
		assert_eq!(status(call), CallStatus::Cancelled { at: 2 });
		assert_eq!(
			last_event(),
			Event::ProgramCallCancelled { twin: TWIN, call, caller: MAINTAINER }
		);
		assert!(queue(TWIN).is_empty());
		assert_noop!(cancel(MAINTAINER, call), Error::<Test>::CallNotPending);
		assert_noop!(claim(DEVICE, call), Error::<Test>::CallNotPending);
		assert_noop!(cancel(OWNER, 99), Error::<Test>::UnknownCall);
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn a_claimed_call_cannot_be_cancelled() {
	new_test_ext().execute_with(|| {
		let call = call();
		assert_ok!(claim(DEVICE, call));
		assert_noop!(cancel(OWNER, call), Error::<Test>::CallNotPending);
	});
}

#[test]
fn unfinished_calls_expire_pending_or_claimed() {
	new_test_ext().execute_with(|| {
		let claimed = call();
		let pending = call();
		let finished = call();
		assert_ok!(claim(DEVICE, claimed));
		assert_ok!(cancel(OWNER, finished));
		System::set_block_number(2);
		let later = call();
		System::reset_events();

		// Not yet: a call lives `CALL_TIME_TO_LIVE` blocks.
		run_to_block(CALL_TIME_TO_LIVE);
		assert_eq!(read_status(pending), CallStatus::Pending);
		assert_eq!(ids(Programs::pending_calls(TWIN)), vec![claimed, pending, later]);

		// From the start of its expiry block on, a call is expired for every read and check,
		// with no transaction.
		let due = 1 + CALL_TIME_TO_LIVE;
		run_to_block(due);
		assert_eq!(read_status(claimed), CallStatus::Expired { at: due });
		assert_eq!(read_status(pending), CallStatus::Expired { at: due });
		assert_eq!(read_status(finished), CallStatus::Cancelled { at: 1 });
		assert_eq!(ids(Programs::pending_calls(TWIN)), vec![later]);
		assert_eq!(ids(Programs::calls_of_twin(TWIN, None, 10)), vec![0, 1, 2, 3]);
		// Expired calls can be neither claimed, reported nor cancelled.
		assert_noop!(report(DEVICE, claimed, Outcome::Completed, ""), Error::<Test>::CallExpired);
		assert_noop!(cancel(OWNER, pending), Error::<Test>::CallExpired);
		assert_noop!(claim(DEVICE, pending), Error::<Test>::CallExpired);
		assert!(events().is_empty());
		// The later call is next now: the expired ones before it do not hold it back.
		assert_ok!(claim(DEVICE, later));
		Programs::do_try_state().unwrap();

		// The twin's next call takes the expired calls out of its queue, stored as expired
		// at their due block, each with its event.
		System::reset_events();
		let next = call();
		assert_eq!(status(claimed), CallStatus::Expired { at: due });
		assert_eq!(status(pending), CallStatus::Expired { at: due });
		assert_eq!(queue(TWIN), vec![later, next]);
		assert_eq!(
			events()[..2],
			[
				Event::ProgramCallExpired { twin: TWIN, call: claimed, at: due },
				Event::ProgramCallExpired { twin: TWIN, call: pending, at: due },
			]
		);
		assert_noop!(claim(DEVICE, pending), Error::<Test>::CallNotPending);
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn reads_list_pending_and_past_calls() {
	new_test_ext().execute_with(|| {
		let first = call();
		let second = call();
		let elsewhere = call_with(OWNER, OTHER_TWIN, fill_volume_arguments()).unwrap();
		let third = call();
		assert_ok!(claim(DEVICE, first));
		assert_ok!(report(DEVICE, first, Outcome::Completed, "ok"));
		assert_ok!(claim(DEVICE, second));

		assert_eq!(ids(Programs::pending_calls(TWIN)), vec![second, third]);
		assert_eq!(ids(Programs::pending_calls(OTHER_TWIN)), vec![elsewhere]);
		assert!(Programs::pending_calls(NO_TWIN).is_empty());

		assert_eq!(ids(Programs::calls_of_twin(TWIN, None, 10)), vec![first, second, third]);
		assert_eq!(ids(Programs::calls_of_twin(TWIN, None, 2)), vec![first, second]);
		assert_eq!(ids(Programs::calls_of_twin(TWIN, Some(second), 2)), vec![third]);
		assert_eq!(ids(Programs::calls_of_twin(TWIN, Some(first), 0)), Vec::<CallId>::new());
		assert!(Programs::calls_of_twin(NO_TWIN, None, 10).is_empty());

		let record = Programs::call(first).unwrap();
		assert_eq!(record.id, first);
		assert_eq!(record.call.status, CallStatus::Completed { at: 1, result: b"ok".to_vec() });
		assert_eq!(record.call.arguments, fill_volume_arguments());
		assert_eq!(record.call.caller, OWNER);
		assert_eq!(
			Programs::call(second).unwrap().call.status,
			CallStatus::Claimed { by: DEVICE, at: 1 }
		);
		assert_eq!(Programs::call(99), None);
	});
}

#[test]
fn pages_of_past_calls_are_capped() {
	new_test_ext().execute_with(|| {
		let total = MAX_CALLS_PER_PAGE + 5;
		for block in 0..total {
			run_to_block(u64::from(block) + 2);
			let call = call();
			assert_ok!(cancel(OWNER, call));
		}
		let page = ids(Programs::calls_of_twin(TWIN, None, u32::MAX));
		assert_eq!(page, (0..u64::from(MAX_CALLS_PER_PAGE)).collect::<Vec<_>>());
		let rest = ids(Programs::calls_of_twin(TWIN, page.last().copied(), u32::MAX));
		assert_eq!(rest, (u64::from(MAX_CALLS_PER_PAGE)..u64::from(total)).collect::<Vec<_>>());
	});
}

#[test]
fn every_transition_is_an_event_in_order() {
	new_test_ext().execute_with(|| {
		let completed = call();
		let failed = call();
		let cancelled = call_with(MAINTAINER, TWIN, fill_volume_arguments()).unwrap();
		assert_ok!(claim(DEVICE, completed));
		assert_ok!(report(DEVICE, completed, Outcome::Completed, "ok"));
		assert_ok!(claim(DEVICE, failed));
		assert_ok!(cancel(MAINTAINER, cancelled));
		assert_ok!(report(DEVICE, failed, Outcome::Failed, "jam"));
		let expired = call();
		run_to_block(1 + CALL_TIME_TO_LIVE);
		let next = call();
		let queued = |call, caller| Event::ProgramCallQueued {
			twin: TWIN,
			call,
			element: id(FILLER),
			program: program(SET_FILL_VOLUME),
			caller,
		};
		assert_eq!(
			events(),
			vec![
				queued(completed, OWNER),
				queued(failed, OWNER),
				queued(cancelled, MAINTAINER),
				Event::ProgramCallClaimed { twin: TWIN, call: completed, device: DEVICE },
				Event::ProgramCallCompleted {
					twin: TWIN,
					call: completed,
					device: DEVICE,
					result: bounded("ok")
				},
				Event::ProgramCallClaimed { twin: TWIN, call: failed, device: DEVICE },
				Event::ProgramCallCancelled { twin: TWIN, call: cancelled, caller: MAINTAINER },
				Event::ProgramCallFailed {
					twin: TWIN,
					call: failed,
					device: DEVICE,
					result: bounded("jam")
				},
				queued(expired, OWNER),
				Event::ProgramCallExpired { twin: TWIN, call: expired, at: 1 + CALL_TIME_TO_LIVE },
				queued(next, OWNER),
			]
		);
		// Finished calls stay readable.
		assert_eq!(
			ids(Programs::calls_of_twin(TWIN, None, 10)),
			vec![completed, failed, cancelled, expired, next]
		);
		assert_eq!(ids(Programs::pending_calls(TWIN)), vec![next]);
		Programs::do_try_state().unwrap();
	});
}

#[test]
fn integrity_test_passes() {
	new_test_ext().execute_with(Programs::integrity_test);
}
