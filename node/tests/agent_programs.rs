//! The device agent on a real dt-node: program calls queued before and after it starts are
//! claimed, run on the simulated bottling plant in order and reported back; a call whose
//! argument breaks the declared bounds never reaches the device; when the node restarts, the
//! agent reconnects and handles what was queued meanwhile. The agent judges every call
//! itself: a call inside the chain's bounds but outside the device's safety envelope, the
//! declared maximum widened on chain included, is reported `Failed` with the reason and never
//! reaches the device; a call queued before its program was declared anew is judged by the
//! declaration it was checked against.

mod common;

use common::{
	agent::{queue, queue_call},
	plant::*,
	*,
};
use dt_agent::{
	envelope::SafetyEnvelope,
	programs::{ProgramRunner, REFUSED},
	simulator::BottlingPlant,
};
use dt_client::Client;
use dt_primitives::program::{Argument, ParameterDeclaration, ParameterType, ParameterValue};
use dt_runtime::RuntimeCall;
use pallet_dt_programs::{CallId, CallRecord, CallStatus};
use std::{
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

type Record = CallRecord<dt_runtime::AccountId, u32>;

async fn call_record(client: &Client, call: CallId) -> Record {
	client
		.runtime_api::<Option<Record>>("ProgramsApi_call", call, None)
		.await
		.unwrap()
		.expect("the call exists")
}

async fn wait_finished(client: &Client, call: CallId) -> Record {
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		let record = call_record(client, call).await;
		if !matches!(record.call.status, CallStatus::Pending | CallStatus::Claimed { .. }) {
			return record;
		}
		assert!(Instant::now() < deadline, "call {call} still {:?}", record.call.status);
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

fn result_text(record: &Record) -> String {
	match &record.call.status {
		CallStatus::Completed { result, .. } => String::from_utf8_lossy(result).into_owned(),
		other => panic!("call {} ended {other:?}", record.id),
	}
}

fn failure_text(record: &Record) -> String {
	match &record.call.status {
		CallStatus::Failed { result, .. } => String::from_utf8_lossy(result).into_owned(),
		other => panic!("call {} ended {other:?}", record.id),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_runs_queued_program_calls_on_the_device() {
	let _turn = one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let mut node = Node::start_dev("agent-node", dir.path(), &[]);
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up(&client).await;

	// Queued while no agent runs: handled when it starts.
	let before = queue(&client, twin, 5_000).await;
	let plant = Arc::new(Mutex::new(BottlingPlant::new([FILLER])));
	let mut runner = ProgramRunner::new(
		&node.ws_url(),
		DEVICE.pair(),
		twin,
		plant.clone(),
		SafetyEnvelope::bottling_plant(),
	);
	let agent = tokio::spawn(async move { runner.run().await });

	// Out of bounds: the chain refuses it, nothing is queued for the device.
	let refused = client.submit(&OWNER.pair(), set_fill_volume(twin, 20_000)).await.unwrap();
	assert!(refused.result().is_err());
	// Queued while the agent runs.
	let after = queue(&client, twin, 3_305).await;

	assert_eq!(result_text(&wait_finished(&client, before).await), "fill volume set to 500.0 ml");
	assert_eq!(result_text(&wait_finished(&client, after).await), "fill volume set to 330.5 ml");
	assert_eq!(
		plant.lock().unwrap().stations[FILLER].fill_volume,
		3_305,
		"the later call ran last"
	);

	// The node goes away and comes back; the agent reconnects by itself.
	drop(client);
	node.restart();
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let after_restart = queue(&client, twin, 4_000).await;
	assert_eq!(
		result_text(&wait_finished(&client, after_restart).await),
		"fill volume set to 400.0 ml"
	);
	agent.abort();

	let plant = plant.lock().unwrap();
	assert_eq!(plant.stations[FILLER].fill_volume, 4_000);
	assert_eq!(
		plant.log,
		vec![(FILLER.to_owned(), SET_FILL_VOLUME.to_owned()); 3],
		"the device ran exactly the three valid calls, each once"
	);
	let pending: Vec<Record> =
		client.runtime_api("ProgramsApi_pending_calls", twin, None).await.unwrap();
	assert!(pending.is_empty());
}

/// The maintainer's attack of the issue, with the chain alone: declare the filler's program
/// anew with a wider maximum, then call it beyond the device's limits. The chain queues it;
/// the device agent refuses it against the plant's safety envelope (250.0 to 1200.0 ml,
/// inside the declared 250.0 to 1500.5 ml) and reports why. A call queued before the program
/// was declared anew is read by the declaration it was checked against.
#[tokio::test(flavor = "multi_thread")]
async fn the_agent_refuses_calls_outside_the_devices_envelope_whatever_the_chain_declares() {
	let _turn = one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start_dev("envelope-node", dir.path(), &[]);
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up(&client).await;

	// Inside the declared 250.0 to 1500.5 ml, above the device's 1200.0 ml.
	let outside_envelope = queue(&client, twin, 13_000).await;
	// 1100.0 ml at the declaration's one decimal: fine for the device.
	let before_redeclaring = queue(&client, twin, 11_000).await;
	// The program declared anew: whole millilitres, up to 5000 ml. By this declaration the
	// call queued before would read 11000 ml.
	let widened = vec![ParameterDeclaration {
		name: bounded("volume"),
		kind: ParameterType::Decimal { decimals: 0 },
		min: Some(250),
		max: Some(5000),
		allowed: Default::default(),
		unit: bounded("ml"),
	}];
	submit_ok(
		&client,
		OWNER,
		RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::declare_program {
			twin,
			element: id(FILLER),
			program: bounded(SET_FILL_VOLUME),
			parameters: widened.try_into().unwrap(),
			described_by: id(FILLER),
		}),
	)
	.await;
	// 4000 ml: the chain accepts it now.
	let arguments =
		vec![Argument { name: bounded("volume"), value: ParameterValue::Decimal(4000) }];
	let beyond = queue_call(
		&client,
		RuntimeCall::Programs(pallet_dt_programs::Call::call_program {
			twin,
			element: id(FILLER),
			program: bounded(SET_FILL_VOLUME),
			arguments: arguments.try_into().unwrap(),
		}),
	)
	.await;

	let plant = Arc::new(Mutex::new(BottlingPlant::new([FILLER])));
	let mut runner = ProgramRunner::new(
		&node.ws_url(),
		DEVICE.pair(),
		twin,
		plant.clone(),
		SafetyEnvelope::bottling_plant(),
	);
	let agent = tokio::spawn(async move { runner.run().await });

	assert_eq!(
		failure_text(&wait_finished(&client, outside_envelope).await),
		format!("{REFUSED}volume = 1300.0 ml is above the device's safety maximum 1200.0 ml")
	);
	assert_eq!(
		result_text(&wait_finished(&client, before_redeclaring).await),
		"fill volume set to 1100.0 ml"
	);
	assert_eq!(
		failure_text(&wait_finished(&client, beyond).await),
		format!("{REFUSED}volume = 4000 ml is above the device's safety maximum 1200.0 ml")
	);
	agent.abort();

	let plant = plant.lock().unwrap();
	assert_eq!(
		plant.log,
		vec![(FILLER.to_owned(), SET_FILL_VOLUME.to_owned())],
		"only the call inside the envelope reached the device"
	);
	assert_eq!(plant.stations[FILLER].fill_volume, 11_000);
}
