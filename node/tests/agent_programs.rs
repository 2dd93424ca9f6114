//! The device agent on a real dt-node: program calls queued before and after it starts are
//! claimed, run on the simulated bottling plant in order and reported back; a call whose
//! argument breaks the declared bounds never reaches the device; when the node restarts, the
//! agent reconnects and handles what was queued meanwhile.

mod common;

use common::{plant::*, *};
use dt_agent::{programs::ProgramRunner, simulator::BottlingPlant};
use dt_client::Client;
use dt_primitives::access::TwinId;
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

/// Queues `SetFillVolume` as the owner and returns the call's id.
async fn queue(client: &Client, twin: TwinId, tenths_of_ml: i128) -> CallId {
	let finalized = submit_ok(client, OWNER, set_fill_volume(twin, tenths_of_ml)).await;
	finalized
		.events
		.iter()
		.find_map(|event| match event {
			dt_runtime::RuntimeEvent::Programs(pallet_dt_programs::Event::ProgramCallQueued {
				call,
				..
			}) => Some(*call),
			_ => None,
		})
		.expect("the call was queued")
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

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_runs_queued_program_calls_on_the_device() {
	let dir = tempfile::tempdir().unwrap();
	let mut node = Node::start(NodeConfig {
		name: "agent-node",
		chain: "dev",
		dev_account: Some("alice"),
		node_key_index: 1,
		bootnodes: vec![],
		base_path: dir.path(),
		validator: true,
		extra_args: vec![],
	});
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up(&client).await;

	// Queued while no agent runs: handled when it starts.
	let before = queue(&client, twin, 5_000).await;
	let plant = Arc::new(Mutex::new(BottlingPlant::new([FILLER])));
	let mut runner = ProgramRunner::new(&node.ws_url(), DEVICE.pair(), twin, plant.clone());
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
