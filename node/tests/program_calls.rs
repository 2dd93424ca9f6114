//! A program call on a real dt-node: the owner calls a program the twin's specification
//! declares, the device account claims it and reports it completed, all through signed
//! extrinsics, while a client follows the chain's events over an RPC subscription, as the
//! device agent does.

mod common;

use codec::{Decode, Encode};
use common::{
	plant::{bounded, id, DEVICE, OWNER},
	*,
};
use dt_primitives::program::ArgumentError;
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use frame_system::EventRecord;
use jsonrpsee::{
	core::client::{Subscription, SubscriptionClientT},
	rpc_params,
};
use pallet_dt_programs::{ArgumentRejection, CallId, CallRecord, CallStatus, Outcome};
use serde_json::Value;
use sp_core::H256;
use sp_io::hashing::twox_128;
use std::time::{Duration, Instant};

fn dispatch_error(events: &[RuntimeEvent]) -> Option<sp_runtime::DispatchError> {
	events.iter().find_map(|event| match event {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
			Some(*dispatch_error)
		},
		_ => None,
	})
}

fn program_events(events: Vec<RuntimeEvent>) -> Vec<pallet_dt_programs::Event<Runtime>> {
	events
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Programs(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The block events as a subscriber receives them: `state_subscribeStorage` on the
/// `System::Events` key notifies every new block's events.
async fn subscribe_to_events(rpc: &Rpc) -> Subscription<Value> {
	let key = format!("0x{}", hex::encode([twox_128(b"System"), twox_128(b"Events")].concat()));
	rpc.client
		.subscribe("state_subscribeStorage", rpc_params![vec![key]], "state_unsubscribeStorage")
		.await
		.expect("the node offers storage subscriptions")
}

/// Reads notifications until `done` holds for the program events received so far.
async fn program_events_until(
	subscription: &mut Subscription<Value>,
	done: impl Fn(&[pallet_dt_programs::Event<Runtime>]) -> bool,
) -> Vec<pallet_dt_programs::Event<Runtime>> {
	let deadline = Instant::now() + Duration::from_secs(120);
	let mut received = Vec::new();
	while !done(&received) {
		let notification = tokio::time::timeout_at(deadline.into(), subscription.next())
			.await
			.unwrap_or_else(|_| panic!("program events so far: {received:?}"))
			.expect("subscription open")
			.expect("notification decodes");
		for change in notification["changes"].as_array().into_iter().flatten() {
			let Some(value) = change[1].as_str() else { continue };
			let bytes = hex::decode(value.trim_start_matches("0x")).unwrap();
			let records = Vec::<EventRecord<RuntimeEvent, H256>>::decode(&mut &bytes[..])
				.expect("events decode");
			received.extend(program_events(records.into_iter().map(|r| r.event).collect()));
		}
	}
	received
}

/// `ProgramsApi_call` through `state_call`, at the latest block.
async fn read_call(rpc: &Rpc, call: CallId) -> Option<CallRecord<dt_runtime::AccountId, u32>> {
	let encoded: String = rpc
		.request(
			"state_call",
			rpc_params!["ProgramsApi_call", format!("0x{}", hex::encode(call.encode()))],
		)
		.await;
	let bytes = hex::decode(encoded.trim_start_matches("0x")).unwrap();
	Option::decode(&mut &bytes[..]).expect("the runtime API answer decodes")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_call_is_queued_claimed_and_completed_by_the_device() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start_dev("program-node", dir.path(), &[]);
	let rpc = node.rpc().await;
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let twin = plant::set_up(&client).await;
	let mut events = subscribe_to_events(&rpc).await;

	// 2 l is outside the declared 250..1500.5 ml: refused, nothing queued.
	let refused = rpc
		.submit_finalized(&dev_pair(OWNER), plant::set_fill_volume(twin, 20_000))
		.await;
	let out_of_bounds: sp_runtime::DispatchError =
		pallet_dt_programs::Error::<Runtime>::InvalidArguments(ArgumentRejection(
			ArgumentError::AboveMaximum(0),
		))
		.into();
	assert_eq!(dispatch_error(&refused.events), Some(out_of_bounds));

	let queued = plant::submit_ok(&client, OWNER, plant::set_fill_volume(twin, 5_000)).await;
	let call: CallId = program_events(queued.events)
		.into_iter()
		.find_map(|event| match event {
			pallet_dt_programs::Event::ProgramCallQueued { call, .. } => Some(call),
			_ => None,
		})
		.expect("the call was queued");
	assert!(matches!(read_call(&rpc, call).await.unwrap().call.status, CallStatus::Pending));

	// The owner may call programs but not run them: only the device claims.
	let not_device = rpc
		.submit_finalized(
			&dev_pair(OWNER),
			RuntimeCall::Programs(pallet_dt_programs::Call::claim_call { call }),
		)
		.await;
	let not_authorized: sp_runtime::DispatchError =
		pallet_dt_programs::Error::<Runtime>::NotAuthorized.into();
	assert_eq!(dispatch_error(&not_device.events), Some(not_authorized));

	plant::submit_ok(
		&client,
		DEVICE,
		RuntimeCall::Programs(pallet_dt_programs::Call::claim_call { call }),
	)
	.await;
	plant::submit_ok(
		&client,
		DEVICE,
		RuntimeCall::Programs(pallet_dt_programs::Call::report_outcome {
			call,
			outcome: Outcome::Completed,
			result: bounded("fill volume set to 500.0 ml"),
		}),
	)
	.await;

	// The subscriber saw every transition of the call, in order, and nothing of the refused
	// one.
	let received = program_events_until(&mut events, |received| {
		received
			.iter()
			.any(|event| matches!(event, pallet_dt_programs::Event::ProgramCallCompleted { .. }))
	})
	.await;
	let device = DEVICE.to_account_id();
	assert_eq!(
		received,
		vec![
			pallet_dt_programs::Event::ProgramCallQueued {
				twin,
				call,
				element: id("filler"),
				program: bounded("SetFillVolume"),
				caller: OWNER.to_account_id(),
			},
			pallet_dt_programs::Event::ProgramCallClaimed { twin, call, device: device.clone() },
			pallet_dt_programs::Event::ProgramCallCompleted {
				twin,
				call,
				device,
				result: bounded("fill volume set to 500.0 ml"),
			},
		]
	);
	let finished = read_call(&rpc, call).await.expect("finished calls stay readable");
	assert!(matches!(finished.call.status, CallStatus::Completed { .. }));
}
