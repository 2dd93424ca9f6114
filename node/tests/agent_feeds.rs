//! The device agent's sensor feeds on a real dt-node: the `dt-agent` binary streams the
//! simulated plant's fill levels into a feed it registers, anchors checkpoints that match the
//! stored entries, and loses and duplicates no reading while the node is killed and started
//! again, nor when the agent itself is killed and started again; when the plant's sensor is
//! exchanged (SIGUSR1), the agent replaces it on chain by itself (the element, the old feed
//! closed at a final checkpoint, the new feed on the new element) and streams on into the
//! new feed while it keeps running program calls.
//!
//! The feeds here are public: a `--dev` node has no store network to keep the reader lists
//! and key envelopes of encrypted feeds (tests/bottling_plant_scenario.rs streams those on a
//! consortium).

mod common;

use common::{agent::*, plant::*, *};
use dt_agent::{
	chain::Submitter,
	feeds::{FeedConfig, FeedStreamer},
	programs::ProgramRunner,
	simulator::{BottlingPlant, FILL_LEVEL_RANGE},
};
use dt_client::{reading::DECIMAL_READING_SCHEMA, Client};
use dt_primitives::access::{Confidentiality, TwinId};
use jsonrpsee::rpc_params;
use pallet_dt_feeds::FeedStatus;
use std::{
	path::Path,
	process::{Command, Stdio},
	sync::{Arc, Mutex},
	time::Duration,
};

/// The readings the agent logged for `element`: (timestamp, value), in order.
fn logged_readings(log: &Path, element: &str) -> Vec<(u64, String)> {
	std::fs::read_to_string(log)
		.unwrap()
		.lines()
		.filter_map(|line| {
			let mut fields = line.split(' ');
			let (logged, timestamp, value) = (fields.next()?, fields.next()?, fields.next()?);
			(logged == element).then(|| (timestamp.parse().unwrap(), value.to_owned()))
		})
		.collect()
}

fn start_node(dir: &Path) -> Node {
	Node::start_dev("feeds-node", dir, &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_streams_readings_through_node_and_agent_restarts_losing_and_repeating_none() {
	let _turn = common::one_at_a_time();
	let binary = agent_binary();
	let dir = tempfile::tempdir().unwrap();
	let mut node = start_node(&dir.path().join("node"));
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up_with_sensor(&client).await;
	allow_sensor_replacement(&client, twin).await;
	let node_url = node.ws_url();

	let readings_log = dir.path().join("readings.log");
	let start_agent = || {
		let agent_log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(dir.path().join("agent.log"))
			.unwrap();
		AgentProcess(
			Command::new(&binary)
				.env("DT_AGENT_KEY", "//Bob")
				.args(["--node", &node_url, "--twin", &twin.to_string()])
				.args(["--station", FILLER, "--sensor", &format!("{FILLER}={FILL_SENSOR}")])
				.arg("--data-dir")
				.arg(dir.path().join("agent-data"))
				.args(["--sample-interval", "50ms", "--flush-interval", "100ms"])
				.args(["--batch-interval", "300ms", "--checkpoint-interval", "3s"])
				.args(["--register-feeds", "--feed-confidentiality", "public"])
				.arg("--readings-log")
				.arg(&readings_log)
				.stdout(Stdio::null())
				.stderr(agent_log)
				.spawn()
				.expect("dt-agent starts"),
		)
	};
	let mut agent = start_agent();

	// The agent found no feed on the sensor and registered one, as its device account.
	let feed = active_feed(&client, twin, FILL_SENSOR).await;
	assert_eq!(feed.owner, DEVICE.to_account_id());
	assert_eq!(feed.registered_by, DEVICE.to_account_id());
	assert_eq!(feed.schema, DECIMAL_READING_SCHEMA.as_bytes());
	assert_eq!((feed.unit.as_slice(), feed.expected_range), (&b"mm"[..], Some(FILL_LEVEL_RANGE)));
	let feed = feed.id;
	wait_stored(&client, feed, 20).await;

	// A checkpoint on chain names an entry the store holds, hash and timestamp alike.
	let anchored = wait_for("a checkpoint", Duration::from_secs(60), || async {
		chain_feed(&client, feed).await.latest_checkpoint
	})
	.await
	.checkpoint;
	let log = entries(&client, feed).await;
	let entry = &log[anchored.sequence as usize];
	assert_eq!(unhex(&entry.hash), anchored.entry_hash.to_vec());
	assert_eq!(entry.timestamp, anchored.timestamp);
	verified_readings(feed, &log);

	// The node is killed while the agent streams, and comes back on the same base path.
	drop(client);
	let stored_before = {
		let probe = Client::connect(&node.ws_url()).await.unwrap();
		stored_count(&probe, feed).await
	};
	node.kill();
	let outage_start = now_ms();
	tokio::time::sleep(Duration::from_secs(3)).await;
	node.restart();
	node.rpc().await;
	let outage_end = now_ms();
	let client = Client::connect(&node.ws_url()).await.unwrap();
	wait_stored(&client, feed, stored_before + 150).await;
	// Anchoring goes on after the restart.
	let count_after_restart = chain_feed(&client, feed).await.checkpoint_count;
	wait_for("a checkpoint after the restart", Duration::from_secs(60), || async {
		(chain_feed(&client, feed).await.checkpoint_count > count_after_restart).then_some(())
	})
	.await;

	// The agent itself is killed (SIGKILL) and started again on its data directory.
	agent.kill();
	let stored_at_kill = stored_count(&client, feed).await;
	let mut agent = start_agent();
	wait_stored(&client, feed, stored_at_kill + 60).await;

	// The simulated sensor is exchanged (SIGUSR1); the agent replaces it on chain.
	agent.signal("-USR1");
	let new_feed = active_feed(&client, twin, "fill-sensor-2").await.id;
	wait_stored(&client, new_feed, 10).await;

	assert!(agent.terminate(), "dt-agent exits cleanly on SIGTERM");

	// Every reading the agent took is in the store exactly once, in order, hash-chained.
	let stored = verified_readings(feed, &entries(&client, feed).await);
	let taken = logged_readings(&readings_log, FILL_SENSOR);
	assert!(
		taken
			.iter()
			.any(|(timestamp, _)| (outage_start..outage_end).contains(timestamp)),
		"readings were taken while the node was down"
	);
	assert_eq!(stored.len(), taken.len(), "as many entries as readings");
	assert_eq!(stored, taken, "the store holds exactly the readings taken, in order");
	// The old feed was closed at a final checkpoint of its last entry.
	let old = chain_feed(&client, feed).await;
	assert!(matches!(old.status, FeedStatus::Closed { replaced_by: Some(f), .. } if f == new_feed));
	let last = old.latest_checkpoint.unwrap().checkpoint;
	assert_eq!(last.sequence + 1, stored.len() as u64);
	assert_eq!(
		verified_readings(new_feed, &entries(&client, new_feed).await),
		logged_readings(&readings_log, "fill-sensor-2")
	);
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_millis() as u64
}

/// Runs `SetFillVolume` with `tenths_of_ml`; what the device answered.
async fn run_program(client: &Client, twin: TwinId, tenths_of_ml: i128) -> String {
	let call = queue(client, twin, tenths_of_ml).await;
	call_ended(client, call)
		.await
		.unwrap_or_else(|reason| panic!("call {call} failed: {reason}"))
}

/// The agent run from the library: feeds and programs in one process, on one plant.
struct LibraryAgent {
	plant: Arc<Mutex<BottlingPlant>>,
	stop: tokio::sync::watch::Sender<bool>,
	feeds: tokio::task::JoinHandle<()>,
	programs: tokio::task::JoinHandle<()>,
}

/// Starts the agent on the plant's filler with its sensor `fill-sensor`, logging readings
/// to `<dir>/readings.log`.
fn start_library_agent(
	node: &Node,
	twin: TwinId,
	dir: &Path,
	checkpoint_interval: Duration,
) -> LibraryAgent {
	let mut plant = BottlingPlant::new([FILLER]);
	plant.set_sensor_element(FILLER, FILL_SENSOR).unwrap();
	let plant = Arc::new(Mutex::new(plant));
	let submitter = Submitter::new(DEVICE.pair());
	let config = FeedConfig {
		node: node.ws_url(),
		twin,
		data_dir: dir.join("agent-data"),
		sample_interval: Duration::from_millis(50),
		flush_interval: Duration::from_millis(100),
		batch_interval: Duration::from_millis(300),
		max_batch: 1000,
		checkpoint_interval,
		register_missing: false,
		confidentiality: Confidentiality::Public,
		readings_log: Some(dir.join("readings.log")),
	};
	let streamer = FeedStreamer::open(config, submitter.clone(), plant.clone()).unwrap();
	let (stop, shutdown) = tokio::sync::watch::channel(false);
	let feeds = tokio::spawn(streamer.run(shutdown));
	let envelope = dt_agent::envelope::SafetyEnvelope::bottling_plant();
	let mut runner =
		ProgramRunner::new(&node.ws_url(), DEVICE.pair(), twin, plant.clone(), envelope)
			.with_submitter(submitter);
	let programs = tokio::spawn(async move { runner.run().await });
	LibraryAgent { plant, stop, feeds, programs }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exchanged_sensor_is_replaced_on_chain_by_the_agent_and_its_new_feed_streams() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let node = start_node(&dir.path().join("node"));
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up_with_sensor(&client).await;
	allow_sensor_replacement(&client, twin).await;
	let old_feed = register_fill_level_feed(&client, twin).await;
	let readings_log = dir.path().join("readings.log");
	let LibraryAgent { plant, stop, feeds, programs } =
		start_library_agent(&node, twin, dir.path(), Duration::from_secs(3));

	wait_stored(&client, old_feed, 20).await;
	assert_eq!(run_program(&client, twin, 3_305).await, "fill volume set to 330.5 ml");

	// The fill-level sensor breaks and is exchanged; nobody tells the chain.
	let replacement = plant.lock().unwrap().replace_sensor(FILLER).unwrap();
	let new_element = replacement.new_sensor.element.clone();
	assert_eq!(new_element, "fill-sensor-2");
	let new_feed = active_feed(&client, twin, &new_element).await;

	// One transaction of the device account: the element replaced in the specification...
	let aml: String = client.request("twin_getAml", rpc_params![twin]).await.unwrap();
	assert!(!aml.contains(r#"ID="fill-sensor""#), "the old sensor's element is gone:\n{aml}");
	assert!(!aml.contains(FILL_SENSOR_PORT), "with its subtree:\n{aml}");
	assert!(aml.contains(r#"ID="fill-sensor-2""#), "the new sensor's element is in:\n{aml}");
	assert!(aml.contains(&replacement.serial), "with its serial number:\n{aml}");
	// ...the old feed closed in favour of the new one, after a final checkpoint that names
	// the last entry the old sensor wrote...
	let old = chain_feed(&client, old_feed).await;
	assert!(
		matches!(&old.status, FeedStatus::Closed { replaced_by: Some(by_feed), by, .. }
			if *by_feed == new_feed.id && *by == DEVICE.to_account_id()),
		"{:?}",
		old.status
	);
	let old_log = entries(&client, old_feed).await;
	let last_old = old_log.last().expect("the old feed has entries");
	let final_checkpoint = old.latest_checkpoint.expect("a final checkpoint").checkpoint;
	assert_eq!(final_checkpoint.sequence, last_old.sequence);
	assert_eq!(final_checkpoint.entry_hash.to_vec(), unhex(&last_old.hash));
	// ...and the new feed registered on the new element, like the old one.
	assert_eq!(new_feed.element, id(&new_element));
	assert_eq!(
		(new_feed.owner.clone(), new_feed.registered_by.clone()),
		(DEVICE.to_account_id(), DEVICE.to_account_id())
	);
	assert_eq!((new_feed.schema.clone(), new_feed.unit.clone()), (old.schema, old.unit));
	assert_eq!(new_feed.nominal_interval_ms, old.nominal_interval_ms);

	// The new sensor streams into the new feed, and programs still run.
	wait_stored(&client, new_feed.id, 20).await;
	assert_eq!(run_program(&client, twin, 4_000).await, "fill volume set to 400.0 ml");

	let _ = stop.send(true);
	tokio::time::timeout(Duration::from_secs(30), feeds)
		.await
		.expect("stops")
		.unwrap();
	programs.abort();

	// Every reading of each sensor is in its own feed, exactly once.
	assert_eq!(verified_readings(old_feed, &old_log), logged_readings(&readings_log, FILL_SENSOR));
	assert_eq!(
		verified_readings(new_feed.id, &entries(&client, new_feed.id).await),
		logged_readings(&readings_log, &new_element)
	);
	// The old feed takes no more entries.
	assert_eq!(entries(&client, old_feed).await.len(), old_log.len());
	let plant = plant.lock().unwrap();
	assert_eq!(plant.log.len(), 2, "the device ran both program calls once each");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_the_chain_refuses_changes_nothing_and_goes_through_once_allowed() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let node = start_node(&dir.path().join("node"));
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	// The device may not rewrite the specification yet.
	let twin = set_up_with_sensor(&client).await;
	let old_feed = register_fill_level_feed(&client, twin).await;
	let readings_log = dir.path().join("readings.log");
	// No checkpoints but the replacement's: the device account's next transaction is it.
	let LibraryAgent { plant, stop, feeds, programs } =
		start_library_agent(&node, twin, dir.path(), Duration::from_secs(3_600));
	wait_stored(&client, old_feed, 20).await;

	let device = DEVICE.to_account_id();
	let finalized_nonce = || async {
		let head = client.finalized_head().await.unwrap();
		client
			.runtime_api::<u32>("AccountNonceApi_account_nonce", &device, Some(head))
			.await
			.unwrap()
	};
	let nonce = finalized_nonce().await;
	let replacement = plant.lock().unwrap().replace_sensor(FILLER).unwrap();
	let new_element = replacement.new_sensor.element.clone();
	wait_for("the agent's replacement transaction", Duration::from_secs(120), || async {
		(finalized_nonce().await > nonce).then_some(())
	})
	.await;
	// Refused (twinSpec.NotAuthorized): the specification and both feeds as they were.
	let aml: String = client.request("twin_getAml", rpc_params![twin]).await.unwrap();
	assert!(aml.contains(r#"ID="fill-sensor""#) && !aml.contains(&new_element), "{aml}");
	let old = chain_feed(&client, old_feed).await;
	assert_eq!((old.status, old.checkpoint_count), (FeedStatus::Active, 0));
	assert!(feeds_of(&client, twin, &new_element).await.is_empty());

	// The owner allows it; the agent tries again by itself and the new sensor's readings,
	// buffered meanwhile, reach its feed.
	let allowed_at = now_ms();
	allow_sensor_replacement(&client, twin).await;
	let new_feed = active_feed(&client, twin, &new_element).await.id;
	assert!(matches!(
		chain_feed(&client, old_feed).await.status,
		FeedStatus::Closed { replaced_by: Some(successor), .. } if successor == new_feed
	));
	wait_stored(&client, new_feed, 10).await;
	let _ = stop.send(true);
	tokio::time::timeout(Duration::from_secs(30), feeds)
		.await
		.expect("stops")
		.unwrap();
	programs.abort();
	drop(plant);

	let stored = verified_readings(new_feed, &entries(&client, new_feed).await);
	assert!(stored[0].0 < allowed_at, "the first readings were taken while refused");
	assert_eq!(stored, logged_readings(&readings_log, &new_element));
	assert_eq!(
		verified_readings(old_feed, &entries(&client, old_feed).await),
		logged_readings(&readings_log, FILL_SENSOR)
	);
}
