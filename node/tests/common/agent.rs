//! What the device agent's tests share: the `dt-agent` binary as a process, the feeds it
//! writes read back from the chain and the node (each entry's hash chain checked), and the
//! fill-level feed of [`super::plant::set_up_with_sensor`]'s sensor.

use super::{
	plant::{bounded, id, set_fill_volume, submit_ok, DEVICE, FILL_SENSOR, OWNER},
	workspace_binary,
};
use dt_client::{reading::DECIMAL_READING_SCHEMA, Client};
use dt_offchain::feed::{Entry, GENESIS_PREVIOUS};
use dt_primitives::{
	access::{Confidentiality, TwinId},
	feed::{FeedId, ValueRange},
};
use dt_runtime::RuntimeCall;
use jsonrpsee::rpc_params;
use pallet_dt_feeds::{FeedRecord, FeedRegistration, FeedStatus};
use pallet_dt_programs::{CallId, CallRecord, CallStatus};
use serde::Deserialize;
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

pub type ChainFeed = FeedRecord<dt_runtime::AccountId, u32>;

/// An entry as `feed_range` returns it.
#[derive(Debug, Deserialize)]
pub struct EntryView {
	pub feed: FeedId,
	pub sequence: u64,
	pub timestamp: u64,
	pub hash: String,
	pub previous: String,
	pub epoch: Option<u32>,
	pub payload: String,
}

pub fn unhex(text: &str) -> Vec<u8> {
	hex::decode(text.trim_start_matches("0x")).unwrap()
}

pub async fn feeds_of(client: &Client, twin: TwinId, element: &str) -> Vec<ChainFeed> {
	client
		.runtime_api(
			"FeedsApi_feeds_of_element",
			(twin, id(element), None::<dt_runtime::AccountId>),
			None,
		)
		.await
		.unwrap()
}

pub async fn chain_feed(client: &Client, feed: FeedId) -> ChainFeed {
	client
		.runtime_api::<Option<ChainFeed>>("FeedsApi_feed", feed, None)
		.await
		.unwrap()
		.expect("the feed is on chain")
}

/// Every entry of the feed's log on the node.
pub async fn entries(client: &Client, feed: FeedId) -> Vec<EntryView> {
	client
		.request("feed_range", rpc_params![feed, 0u64, u64::MAX, None::<u32>])
		.await
		.unwrap()
}

pub async fn stored_count(client: &Client, feed: FeedId) -> u64 {
	let latest: Option<EntryView> = client.request("feed_latest", rpc_params![feed]).await.unwrap();
	latest.map_or(0, |entry| entry.sequence + 1)
}

/// Polls `check` every half second until it gives a value.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = Option<T>>,
{
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(value) = check().await {
			return value;
		}
		assert!(Instant::now() < deadline, "timed out waiting for {what}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// The active feed on `element` once there is one.
pub async fn active_feed(client: &Client, twin: TwinId, element: &str) -> ChainFeed {
	wait_for(&format!("an active feed on {element}"), Duration::from_secs(120), || async {
		feeds_of(client, twin, element)
			.await
			.into_iter()
			.find(|feed| feed.status == FeedStatus::Active)
	})
	.await
}

pub async fn wait_stored(client: &Client, feed: FeedId, at_least: u64) {
	wait_for(&format!("{at_least} entries in feed {feed}"), Duration::from_secs(120), || async {
		(stored_count(client, feed).await >= at_least).then_some(())
	})
	.await
}

/// Asserts that the feed's log is one unbroken hash chain from entry 0, every entry signed
/// into the right feed, and returns its readings: (timestamp, value), in order.
pub fn verified_readings(feed: FeedId, log: &[EntryView]) -> Vec<(u64, String)> {
	let mut previous = GENESIS_PREVIOUS;
	log.iter()
		.enumerate()
		.map(|(index, view)| {
			assert_eq!(view.sequence, index as u64, "sequence numbers run on from 0");
			assert_eq!(view.feed, feed);
			let entry = Entry {
				feed,
				sequence: view.sequence,
				timestamp: view.timestamp,
				previous: unhex(&view.previous).try_into().unwrap(),
				epoch: view.epoch,
				payload: unhex(&view.payload),
			};
			assert_eq!(entry.previous, previous, "entry {index} links to the one before");
			assert_eq!(entry.hash().to_vec(), unhex(&view.hash), "entry {index}'s hash");
			previous = entry.hash();
			let value = dt_client::reading::decode_reading(&entry.payload).unwrap().to_owned();
			(entry.timestamp, value)
		})
		.collect()
}

/// The `dt-agent` binary, built now so the test runs the current code.
pub fn agent_binary() -> PathBuf {
	workspace_binary("dt-agent")
}

/// A running `dt-agent` process; killed if still running when dropped.
pub struct AgentProcess(pub Child);

impl AgentProcess {
	/// Stops it as an operator would (SIGTERM) and returns whether it exited cleanly.
	pub fn terminate(&mut self) -> bool {
		super::terminate(&mut self.0, Duration::from_secs(30)).success()
	}
}

impl AgentProcess {
	/// Sends it a signal (`-USR1`, ...).
	pub fn signal(&self, signal: &str) {
		let pid = self.0.id().to_string();
		assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
	}

	/// Kills it at once, as a crash would.
	pub fn kill(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

impl Drop for AgentProcess {
	fn drop(&mut self) {
		self.kill();
	}
}

/// Starts `dt-agent` as the device (`//Bob`) on `twin` with the device file `device` and
/// the environment `env` (the passwords the file names), its log in `dir/NAME.log` and its
/// data in `dir/NAME-data`; samples, flushes and sends within a few hundred ms.
pub fn start_device_agent(
	node: &super::Node,
	twin: TwinId,
	dir: &Path,
	device: &Path,
	env: &[(&str, &str)],
	name: &str,
) -> AgentProcess {
	let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
	AgentProcess(
		Command::new(agent_binary())
			.env("DT_AGENT_KEY", "//Bob")
			.envs(env.iter().copied())
			.args(["--node", &node.ws_url(), "--twin", &twin.to_string()])
			.arg("--device")
			.arg(device)
			.arg("--data-dir")
			.arg(dir.join(format!("{name}-data")))
			.args(["--sample-interval", "100ms", "--flush-interval", "100ms"])
			.args(["--batch-interval", "300ms", "--checkpoint-interval", "5s"])
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("dt-agent starts"),
	)
}

/// The log of the agent `name` of [`start_device_agent`].
pub fn log_of(dir: &Path, name: &str) -> String {
	std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

/// Waits until the log of the agent `name` says `text`.
pub async fn wait_logged(dir: &Path, name: &str, text: &str) {
	wait_for(&format!("{name}'s log to say {text:?}"), Duration::from_secs(60), || async {
		log_of(dir, name).contains(text).then_some(())
	})
	.await;
}

/// Waits until the status file of the agent `name` satisfies `holds`.
pub async fn wait_status(
	dir: &Path,
	name: &str,
	what: &str,
	holds: impl Fn(&serde_json::Value) -> bool,
) {
	let path = dir.join(format!("{name}-data")).join(dt_agent::status::STATUS_FILE);
	wait_for(&format!("the status file to show {what}"), Duration::from_secs(60), || async {
		let status: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
		holds(&status).then_some(())
	})
	.await;
}

/// The `[[exchange]]` fragment of the tests' device files: the AML element of an
/// exchanged fill-level sensor, `{element}` and `{serial}` filled in by the agent.
pub const EXCHANGED_SENSOR_FRAGMENT: &str = r#"<InternalElement Name="FillLevelSensor" ID="{element}"><Attribute Name="SerialNumber"><Value>{serial}</Value></Attribute></InternalElement>"#;

/// Waits until every reading of `expected` is in `feeds` (every entry verified, values as
/// `normal` makes them), then checks that none is stored twice; every stored reading.
/// `context` says what to show if they never all arrive.
pub async fn wait_readings_stored(
	client: &Client,
	feeds: &[FeedId],
	expected: &[(u64, String)],
	normal: impl Fn(&str) -> String,
	context: impl Fn() -> String,
) -> Vec<(u64, String)> {
	let deadline = Instant::now() + Duration::from_secs(60);
	let stored = loop {
		let mut stored = Vec::new();
		for feed in feeds {
			let readings = verified_readings(*feed, &entries(client, *feed).await);
			stored.extend(readings.into_iter().map(|(time, value)| (time, normal(&value))));
		}
		let have: std::collections::BTreeSet<&(u64, String)> = stored.iter().collect();
		let missing: Vec<&(u64, String)> =
			expected.iter().filter(|reading| !have.contains(reading)).collect();
		if missing.is_empty() {
			break stored;
		}
		assert!(
			Instant::now() < deadline,
			"{} of {} readings are not in the feeds ({} stored), e.g. {:?}; {}",
			missing.len(),
			expected.len(),
			stored.len(),
			&missing[..missing.len().min(5)],
			context()
		);
		tokio::time::sleep(Duration::from_millis(500)).await;
	};
	let distinct: std::collections::BTreeSet<&(u64, String)> = stored.iter().collect();
	assert_eq!(distinct.len(), stored.len(), "no reading stored twice");
	stored
}

/// The owner registers the fill-level sensor's feed for the device; its id.
pub async fn register_fill_level_feed(client: &Client, twin: TwinId) -> FeedId {
	let registration = FeedRegistration {
		owner: DEVICE.to_account_id(),
		schema: bounded(DECIMAL_READING_SCHEMA),
		unit: bounded("mm"),
		nominal_interval_ms: 100,
		expected_range: Some(ValueRange { min: 2_400, max: 2_600, decimals: 1 }),
		confidentiality: Confidentiality::Public,
	};
	let register = dt_runtime::RuntimeCall::Feeds(pallet_dt_feeds::Call::register_feed {
		twin,
		element: id(FILL_SENSOR),
		registration,
	});
	submit_ok(client, OWNER, register).await;
	active_feed(client, twin, FILL_SENSOR).await.id
}

/// Queues `SetFillVolume` as the owner and returns the call's id.
pub async fn queue(client: &Client, twin: TwinId, tenths_of_ml: i128) -> CallId {
	queue_call(client, set_fill_volume(twin, tenths_of_ml)).await
}

/// Queues `call` (a `callProgram`) as the owner and returns the call's id.
pub async fn queue_call(client: &Client, call: RuntimeCall) -> CallId {
	let finalized = submit_ok(client, OWNER, call).await;
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

/// How `call` ended, once it has: `Ok` with the device's answer if it completed, `Err` with
/// the reason if it failed.
pub async fn call_ended(client: &Client, call: CallId) -> Result<String, String> {
	wait_for(&format!("the outcome of call {call}"), Duration::from_secs(120), || async {
		let record: CallRecord<dt_runtime::AccountId, u32> = client
			.runtime_api::<Option<CallRecord<dt_runtime::AccountId, u32>>>(
				"ProgramsApi_call",
				call,
				None,
			)
			.await
			.unwrap()?;
		let text = |result: &[u8]| String::from_utf8_lossy(result).into_owned();
		match record.call.status {
			CallStatus::Pending | CallStatus::Claimed { .. } => None,
			CallStatus::Completed { result, .. } => Some(Ok(text(&result))),
			CallStatus::Failed { result, .. } => Some(Err(text(&result))),
			other => panic!("call {call} ended {other:?}"),
		}
	})
	.await
}
