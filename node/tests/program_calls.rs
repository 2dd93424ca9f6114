//! A program call on a real dt-node: the owner calls a program the twin's specification
//! declares, the device account claims it and reports it completed, all through signed
//! extrinsics, while a client follows the chain's events over an RPC subscription, as the
//! device agent does.

mod common;

use codec::{Decode, Encode};
use common::*;
use dt_primitives::{
	access::{ElementId, Grantee, Role, TwinId},
	program::{
		Argument, ArgumentError, ParameterDeclaration, ParameterType, ParameterValue,
		ProgramArguments,
	},
};
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use frame_system::EventRecord;
use jsonrpsee::{
	core::client::{Subscription, SubscriptionClientT},
	rpc_params,
};
use pallet_dt_programs::{ArgumentRejection, CallId, CallRecord, CallStatus, Outcome};
use pallet_dt_twin_spec::{DocumentHeader, NewElement};
use serde_json::Value;
use sp_core::H256;
use sp_io::hashing::twox_128;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob};
use std::time::{Duration, Instant};

/// The twin's owner (the dev chain's only organisation admin).
const OWNER: Sr25519Keyring = Alice;
/// The device's account: a member of the same organisation, granted the Device role.
const DEVICE: Sr25519Keyring = Bob;

fn bounded<S: sp_runtime::traits::Get<u32>>(text: &str) -> sp_runtime::BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn id(text: &str) -> ElementId {
	bounded(text)
}

fn volume(tenths_of_ml: i128) -> ProgramArguments {
	vec![Argument { name: bounded("volume"), value: ParameterValue::Decimal(tenths_of_ml) }]
		.try_into()
		.unwrap()
}

fn call_program(twin: TwinId, tenths_of_ml: i128) -> RuntimeCall {
	RuntimeCall::Programs(pallet_dt_programs::Call::call_program {
		twin,
		element: id("filler"),
		program: bounded("SetFillVolume"),
		arguments: volume(tenths_of_ml),
	})
}

async fn submit(rpc: &Rpc, party: Sr25519Keyring, call: RuntimeCall) -> Finalized {
	let outcome = rpc.submit_finalized(&dev_pair(party), call).await;
	assert!(succeeded(&outcome.events), "call failed: {:?}", outcome.events);
	outcome
}

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

/// The filler with its fill-volume program, and the device role for Bob.
async fn set_up_plant(rpc: &Rpc) -> TwinId {
	let twin: TwinId = 0;
	let elements: Vec<NewElement<_>> = vec![
		NewElement {
			id: id("/CAEXFile"),
			parent: None,
			previous_sibling: None,
			fragment: bounded(r#"<CAEXFile FileName="plant.aml"><?dt-children?></CAEXFile>"#),
		},
		NewElement {
			id: id("filler"),
			parent: Some(id("/CAEXFile")),
			previous_sibling: None,
			fragment: bounded(r#"<InternalElement Name="Filler" ID="filler"/>"#),
		},
	];
	submit(
		rpc,
		OWNER,
		RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::create_twin {
			header: DocumentHeader::default(),
			elements: elements.try_into().unwrap(),
			complete: true,
		}),
	)
	.await;
	let parameters = vec![ParameterDeclaration {
		name: bounded("volume"),
		kind: ParameterType::Decimal { decimals: 1 },
		min: Some(2500),
		max: Some(15005),
		allowed: Default::default(),
		unit: bounded("ml"),
	}];
	submit(
		rpc,
		OWNER,
		RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::declare_program {
			twin,
			element: id("filler"),
			program: bounded("SetFillVolume"),
			parameters: parameters.try_into().unwrap(),
		}),
	)
	.await;
	submit(
		rpc,
		OWNER,
		RuntimeCall::Access(pallet_dt_access::Call::grant_role {
			twin,
			grantee: Grantee::Account(DEVICE.to_account_id()),
			role: Role::Device,
		}),
	)
	.await;
	twin
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_call_is_queued_claimed_and_completed_by_the_device() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start(NodeConfig {
		name: "program-node",
		chain: "dev",
		dev_account: Some("alice"),
		node_key_index: 1,
		bootnodes: vec![],
		base_path: dir.path(),
		validator: true,
		extra_args: vec![],
	});
	let rpc = node.rpc().await;
	let twin = set_up_plant(&rpc).await;
	let mut events = subscribe_to_events(&rpc).await;

	// 2 l is outside the declared 250..1500.5 ml: refused, nothing queued.
	let refused = rpc.submit_finalized(&dev_pair(OWNER), call_program(twin, 20_000)).await;
	let out_of_bounds: sp_runtime::DispatchError =
		pallet_dt_programs::Error::<Runtime>::InvalidArguments(ArgumentRejection(
			ArgumentError::AboveMaximum(0),
		))
		.into();
	assert_eq!(dispatch_error(&refused.events), Some(out_of_bounds));

	let queued = submit(&rpc, OWNER, call_program(twin, 5_000)).await;
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

	submit(&rpc, DEVICE, RuntimeCall::Programs(pallet_dt_programs::Call::claim_call { call }))
		.await;
	submit(
		&rpc,
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
