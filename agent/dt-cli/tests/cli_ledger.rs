//! `dt program`, `dt feed`, `dt verify`, `dt audit` and `dt watch` as processes against a
//! real `dt-node` (dev chain: Alice owns the twin, Bob becomes its device, Charlie is no
//! member). What a device does (claiming and reporting program calls, appending signed feed
//! entries, anchoring checkpoints) is done here with `dt_client` and `dt_offchain` as Bob,
//! exactly as the device agent does it.

mod common;

use codec::Encode;
use common::{Dt, Node};
use dt_client::Client;
use dt_offchain::{
	block_store::BlockStore,
	content_id::Cid,
	crypto::ReaderPublicKey,
	documents::{put_document, read_manifest},
	feed::{record, Entry, SignedBatch, GENESIS_PREVIOUS},
};
use dt_primitives::{
	access::{Confidentiality, TwinId},
	feed::{Checkpoint, FeedId},
	program::{ParameterDeclaration, ParameterType},
};
use dt_runtime::{AccountId, BlockNumber, RuntimeCall};
use jsonrpsee::rpc_params;
use pallet_dt_programs::{CallRecord, CallStatus, Outcome};
use serde_json::Value;
use sp_core::{sr25519, Pair as _};
use std::{
	io::{BufRead, BufReader, Read},
	path::Path,
	process::{Child, ChildStderr, Command, Stdio},
	time::{Duration, Instant},
};

const PLANT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<CAEXFile FileName="plant.aml" SchemaVersion="3.0">
  <InstanceHierarchy Name="Plant" ID="plant">
    <InternalElement Name="Filler" ID="filler">
      <InternalElement Name="FillLevel" ID="fill-level" />
    </InternalElement>
  </InstanceHierarchy>
</CAEXFile>
"#;

fn pair(uri: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(uri, None).unwrap()
}

fn bounded<S: sp_runtime::traits::Get<u32>>(text: &str) -> sp_runtime::BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().unwrap()
}

async fn submit_ok(client: &Client, signer: &str, call: RuntimeCall) {
	let finalized = client.submit(&pair(signer), call).await.expect("finalized");
	assert_eq!(finalized.result(), Ok(()), "events: {:?}", finalized.events);
}

/// A `dt` process running in the background (follow, watch, call --wait), killed if the
/// test ends before it does.
struct Background {
	child: Child,
	stderr: BufReader<ChildStderr>,
	args: Vec<String>,
}

impl Drop for Background {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Background {
	/// Starts `dt args`; with `ready`, returns once its standard error said so.
	fn start(dt: &Dt, args: &[&str], ready: Option<&str>) -> Background {
		let mut child = Command::new(env!("CARGO_BIN_EXE_dt"))
			.args(["--node", &dt.node.url])
			.args(args)
			.env("DT_KEYSTORE", &dt.keystore)
			.env("DT_PASSPHRASE", common::PASSPHRASE)
			.stdin(Stdio::null())
			.stdout(Stdio::piped())
			.stderr(Stdio::piped())
			.spawn()
			.expect("dt runs");
		let stderr = BufReader::new(child.stderr.take().unwrap());
		let mut background =
			Background { child, stderr, args: args.iter().map(|a| a.to_string()).collect() };
		if let Some(ready) = ready {
			let mut line = String::new();
			loop {
				line.clear();
				let read = background.stderr.read_line(&mut line).unwrap();
				assert!(read > 0, "dt {:?} ended before saying {ready:?}", background.args);
				if line.contains(ready) {
					break;
				}
			}
		}
		background
	}

	/// Waits for it to end: (success, standard output, rest of standard error).
	fn finish(mut self) -> (bool, String, String) {
		let deadline = Instant::now() + Duration::from_secs(180);
		let status = loop {
			if let Some(status) = self.child.try_wait().unwrap() {
				break status;
			}
			assert!(Instant::now() < deadline, "dt {:?} did not end in time", self.args);
			std::thread::sleep(Duration::from_millis(200));
		};
		let mut stdout = String::new();
		self.child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
		let mut stderr = String::new();
		self.stderr.read_to_string(&mut stderr).unwrap();
		(status.success(), stdout, stderr)
	}
}

fn strs(args: &[String]) -> Vec<&str> {
	args.iter().map(String::as_str).collect()
}

fn json_lines(stdout: &str) -> Vec<Value> {
	stdout
		.lines()
		.map(|line| serde_json::from_str(line).expect("one JSON object a line"))
		.collect()
}

/// The filler's program `SetFillVolume(volume: decimal(1) 250.0..=1500.5 ml, mode: normal |
/// gentle)`, declared by Alice.
fn declare_program(twin: TwinId) -> RuntimeCall {
	let mut mode = ParameterDeclaration {
		name: bounded("mode"),
		kind: ParameterType::Text,
		min: None,
		max: None,
		allowed: Default::default(),
		unit: Default::default(),
	};
	mode.allowed = vec![bounded("normal"), bounded("gentle")].try_into().unwrap();
	let volume = ParameterDeclaration {
		name: bounded("volume"),
		kind: ParameterType::Decimal { decimals: 1 },
		min: Some(2500),
		max: Some(15005),
		allowed: Default::default(),
		unit: bounded("ml"),
	};
	RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::declare_program {
		twin,
		element: bounded("filler"),
		program: bounded("SetFillVolume"),
		parameters: vec![volume, mode].try_into().unwrap(),
		described_by: bounded("filler"),
	})
}

/// Claims the twin's oldest pending call as Bob and reports `outcome`.
async fn run_next_call(client: &Client, twin: TwinId, outcome: Outcome, result: &str) -> u64 {
	let deadline = Instant::now() + Duration::from_secs(120);
	let call = loop {
		let pending: Vec<CallRecord<AccountId, BlockNumber>> =
			client.runtime_api("ProgramsApi_pending_calls", twin, None).await.unwrap();
		if let Some(record) = pending.into_iter().find(|r| r.call.status == CallStatus::Pending) {
			break record.id;
		}
		assert!(Instant::now() < deadline, "no call was queued");
		tokio::time::sleep(Duration::from_millis(500)).await;
	};
	submit_ok(
		client,
		"//Bob",
		RuntimeCall::Programs(pallet_dt_programs::Call::claim_call { call }),
	)
	.await;
	let report =
		pallet_dt_programs::Call::report_outcome { call, outcome, result: bounded(result) };
	submit_ok(client, "//Bob", RuntimeCall::Programs(report)).await;
	call
}

/// Bob's signed entries `first..` of `feed` with these readings, one second apart.
fn entries(
	feed: FeedId,
	first: u64,
	previous: [u8; 32],
	base_ms: u64,
	readings: &[&str],
) -> Vec<Entry> {
	let mut previous = previous;
	readings
		.iter()
		.enumerate()
		.map(|(offset, reading)| {
			let sequence = first + offset as u64;
			let entry = Entry {
				feed,
				sequence,
				timestamp: base_ms + sequence * 1000,
				previous,
				epoch: None,
				payload: dt_client::reading::encode_reading(reading).unwrap(),
			};
			previous = entry.hash();
			entry
		})
		.collect()
}

/// The genesis hash of the node's chain: what puts and feed entries are signed for.
async fn genesis(client: &Client) -> [u8; 32] {
	client.block_hash(0).await.unwrap().unwrap().into()
}

async fn append(client: &Client, feed: FeedId, entries: Vec<Entry>) -> Value {
	let batch = SignedBatch::sign(entries, &pair("//Bob"), &genesis(client).await);
	client
		.request("feed_append", rpc_params![feed, format!("0x{}", hex::encode(batch.encode()))])
		.await
		.expect("the node stores the batch")
}

fn block_file(node: &Node, cid: &Cid) -> std::path::PathBuf {
	node.blocks_dir().join(format!("{:02x}", cid.digest()[0])).join(cid.to_string())
}

/// Encrypts `text` for `reader` in a scratch store and copies its blocks to the node's
/// store: (manifest, key envelope, chunks).
async fn store_document(
	client: &Client,
	scratch: &BlockStore,
	text: &[u8],
	reader: &ReaderPublicKey,
) -> (Cid, Cid, Vec<Cid>) {
	let stored = put_document(scratch, text, std::slice::from_ref(reader)).unwrap();
	let chunks = read_manifest(scratch, &stored.content_id).unwrap().chunks().to_vec();
	let genesis = genesis(client).await;
	for cid in chunks.iter().chain([&stored.key_envelope, &stored.content_id]) {
		let bytes = scratch.get(cid).unwrap().unwrap();
		let put = dt_offchain::network::SignedAction::sign(
			dt_offchain::network::Action::PutBlock { block: *cid },
			&pair("//Alice"),
			&genesis,
		);
		let stored_as: String = client
			.request(
				"store_putBlock",
				rpc_params![
					format!("0x{}", hex::encode(&bytes)),
					format!("0x{}", hex::encode(put.encode()))
				],
			)
			.await
			.unwrap();
		assert_eq!(stored_as, cid.to_string());
	}
	(stored.content_id, stored.key_envelope, chunks)
}

/// Stores and registers a manual as Alice, and annotates it: (manifest, key envelope,
/// chunks) of the manual and the chunks of the annotation.
async fn upload_document(
	client: &Client,
	scratch: &Path,
	twin: TwinId,
	reader: &ReaderPublicKey,
) -> (Cid, Cid, Vec<Cid>, Vec<Cid>) {
	let scratch = BlockStore::open(scratch).unwrap();
	let text = b"Filler maintenance manual: replace the fill-level sensor every 5000 hours.";
	let (manifest, envelope, chunks) = store_document(client, &scratch, text, reader).await;
	let content_id = |cid: &Cid| cid.as_bytes().to_vec().try_into().unwrap();
	let register = pallet_dt_documents::Call::register_document {
		twin,
		title: bounded("Filler manual"),
		media_type: bounded("text/plain"),
		size: text.len() as u64,
		content_id: content_id(&manifest),
		key_envelope: content_id(&envelope),
		confidentiality: Confidentiality::Internal,
		element: None,
	};
	submit_ok(client, "//Alice", RuntimeCall::Documents(register)).await;
	let (note, _, note_chunks) =
		store_document(client, &scratch, b"Sensor replaced at 4980 hours.", reader).await;
	let annotate = pallet_dt_documents::Call::annotate {
		document: 0,
		version: 0,
		content_id: content_id(&note),
	};
	submit_ok(client, "//Alice", RuntimeCall::Documents(annotate)).await;
	(manifest, envelope, chunks, note_chunks)
}

fn event_names(audit: &Value) -> Vec<String> {
	audit["changes"]
		.as_array()
		.unwrap()
		.iter()
		.map(|change| change["event"].as_str().unwrap().to_owned())
		.collect()
}

#[test]
fn programs_feeds_verify_audit_and_watch_on_a_real_node() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start(dir.path());
	let dt = Dt { node: &node, keystore: dir.path().join("keys") };
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = dt.json(&["key", "import", "alice", "--suri", "//Alice"]);
	dt.ok(&["key", "import", "bob", "--suri", "//Bob"]);
	dt.ok(&["key", "import", "charlie", "--suri", "//Charlie"]);
	dt.wait_for_node();
	let client = runtime.block_on(Client::connect(&node.url)).unwrap();

	// The twin: a filler with a fill-level sensor, the filler's program declared.
	let plant = dir.path().join("plant.aml");
	std::fs::write(&plant, PLANT).unwrap();
	let created = dt.json(&["twin", "create", plant.to_str().unwrap(), "--as", "alice"]);
	let twin = created["twin"].as_u64().unwrap() as TwinId;
	let t = twin.to_string();
	runtime.block_on(submit_ok(&client, "//Alice", declare_program(twin)));

	// `dt program list` shows the declared parameters with their bounds.
	let listed = dt.json(&["program", "list", &t]);
	let program = &listed["programs"][0];
	assert_eq!(program["program"], "SetFillVolume");
	assert_eq!(program["element"], "filler");
	assert_eq!(program["parameters"][0]["min"], "250.0");
	assert_eq!(program["parameters"][0]["max"], "1500.5");
	assert_eq!(program["parameters"][1]["allowed"], serde_json::json!(["normal", "gentle"]));
	let text = dt.ok(&["program", "list", &t]);
	assert!(text.contains("volume: decimal(1), 250.0 ml ..= 1500.5 ml"), "{text}");

	// Wrong arguments are refused before anything is sent, naming the argument and bound.
	let call = |args: &[&'static str]| -> Vec<String> {
		["program", "call", &t, "filler", "SetFillVolume"]
			.iter()
			.chain(args)
			.map(|arg| arg.to_string())
			.collect()
	};
	for (args, expected) in [
		(
			&["volume=1600", "mode=gentle"][..],
			"argument volume = 1600.0: above the maximum 1500.5 ml",
		),
		(&["volume=249.9", "mode=gentle"], "argument volume = 249.9: below the minimum 250.0 ml"),
		(&["volume=full", "mode=gentle"], "argument volume: \"full\" is not a number"),
		(&["volume=500.05", "mode=gentle"], "more than 1 decimal places"),
		(&["volume=500", "mode=fast"], "argument mode = \"fast\": not among the allowed values"),
		(&["volume=500", "mode=gentle", "speed=3"], "unknown argument speed"),
		(&["volume=500"], "argument mode is missing"),
	] {
		let mut all = call(args);
		all.extend(["--as".to_owned(), "alice".to_owned()]);
		let error = dt.fails(&strs(&all));
		assert!(error.contains(expected), "{args:?}: {error}");
		assert!(error.contains("nothing was sent"), "{error}");
	}
	let error = dt.fails(&["program", "call", &t, "filler", "Explode", "--as", "alice"]);
	assert!(error.contains("declares no program Explode"), "{error}");
	let error = dt.fails(&["program", "call", "999", "filler", "SetFillVolume", "--as", "alice"]);
	assert!(error.contains("twin 999 does not exist"), "{error}");
	assert_eq!(dt.json(&["program", "calls", &t])["calls"], serde_json::json!([]));

	// Bob holds no role yet: the chain refuses his call by name; Charlie is no member.
	let error = dt.fails(&strs(&call(&["volume=500", "mode=gentle", "--as", "bob"])));
	assert!(error.contains("refused by the chain: programs.NotAuthorized"), "{error}");
	let as_charlie = call(&["volume=500", "mode=gentle", "--as", "charlie"]);
	assert!(dt.fails(&strs(&as_charlie)).contains("the node refused to call the program"));

	// Bob becomes the device; a call waited for completes when he runs it.
	dt.ok(&["access", "grant", &t, "bob", "device", "--as", "alice"]);
	let mut waiting = vec!["--json".to_owned()];
	waiting.extend(call(&["volume=500", "mode=gentle", "--as", "alice", "--wait"]));
	let background = Background::start(&dt, &strs(&waiting), None);
	let first =
		runtime.block_on(run_next_call(&client, twin, Outcome::Completed, "filled 500.0 ml"));
	let (success, stdout, stderr) = background.finish();
	assert!(success, "{stdout}\n{stderr}");
	let outcome: Value = serde_json::from_str(&stdout).unwrap();
	assert_eq!(outcome["call"], first);
	assert_eq!(outcome["outcome"]["status"], "completed");
	assert_eq!(outcome["outcome"]["result"], "filled 500.0 ml");
	assert_eq!(outcome["arguments"], serde_json::json!(["volume=500.0", "mode=\"gentle\""]));

	// A call that fails makes `dt` exit non-zero, with the device's reason.
	let background = Background::start(
		&dt,
		&strs(&call(&["volume=1500.5", "mode=normal", "--as", "alice", "--wait"])),
		None,
	);
	runtime.block_on(run_next_call(&client, twin, Outcome::Failed, "valve stuck"));
	let (success, stdout, _) = background.finish();
	assert!(!success, "a failed call exits non-zero: {stdout}");
	assert!(stdout.contains("FAILED") && stdout.contains("valve stuck"), "{stdout}");
	// Without --wait, the id comes back at once.
	let queued = dt.json(&strs(&call(&["volume=250", "mode=normal", "--as", "alice"])));
	assert_eq!(queued["status"], "pending");
	// Waiting gives up after --timeout, saying the call stays queued.
	let fourth = queued["call"].as_u64().unwrap() + 1;
	let error = dt.fails(&strs(&call(&[
		"volume=260",
		"mode=normal",
		"--as",
		"alice",
		"--wait",
		"--timeout",
		"4",
	])));
	assert!(error.contains(&format!("call {fourth} is still pending after 4 s")), "{error}");
	let calls = dt.json(&["program", "calls", &t]);
	let statuses: Vec<&str> = calls["calls"]
		.as_array()
		.unwrap()
		.iter()
		.map(|c| c["outcome"]["status"].as_str().unwrap())
		.collect();
	assert_eq!(statuses, ["completed", "failed", "pending", "pending"]);
	let pending = dt.json(&["program", "calls", &t, "--pending"]);
	assert_eq!(pending["calls"].as_array().unwrap().len(), 2);
	// Only its caller may withdraw a pending call; a finished one cannot be.
	let third = queued["call"].to_string();
	let error = dt.fails(&["program", "cancel", &third, "--as", "bob"]);
	assert!(error.contains("refused by the chain: programs.NotCaller"), "{error}");
	dt.ok(&["program", "cancel", &third, "--as", "alice"]);
	dt.ok(&["program", "cancel", &fourth.to_string(), "--as", "alice"]);
	let error = dt.fails(&["program", "cancel", &first.to_string(), "--as", "alice"]);
	assert!(error.contains("cannot be cancelled: it is completed"), "{error}");
	assert!(dt
		.fails(&["program", "cancel", "999", "--as", "alice"])
		.contains("call 999 does not exist"));
	assert_eq!(dt.json(&["program", "calls", &t, "--pending"])["calls"], serde_json::json!([]));

	// A feed of the fill level, written by Bob, expected 240.00..260.00 mm.
	let register = |by: &str, min: &str, max: &str| {
		vec![
			"feed",
			"register",
			&t,
			"fill-level",
			"--owner",
			"bob",
			"--unit",
			"mm",
			"--interval-ms",
			"1000",
			"--min",
			min,
			"--max",
			max,
			"--confidentiality",
			"public",
			"--as",
			by,
		]
		.into_iter()
		.map(str::to_owned)
		.collect::<Vec<String>>()
	};
	let error = dt.fails(&strs(&register("alice", "260", "240")));
	assert!(error.contains("--min 260 is above --max 240"), "{error}");
	let error = dt.fails(&strs(&register("charlie", "240.00", "260.00")));
	assert!(error.contains("the node refused to register the feed"), "{error}");
	let registered = dt.json(&strs(&register("alice", "240.00", "260.00")));
	let feed = registered["feed"].as_u64().unwrap();
	assert_eq!(registered["encrypted"], false, "{registered}");
	let f = feed.to_string();
	let feeds = dt.json(&["feed", "list", &t]);
	assert_eq!(feeds["feeds"][0]["feed"], feed);
	assert_eq!(feeds["feeds"][0]["owner"], "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
	assert_eq!(
		feeds["feeds"][0]["expected_range"],
		serde_json::json!({ "min": "240.00", "max": "260.00" })
	);
	assert!(dt.ok(&["feed", "latest", &f]).contains("no readings yet"));
	let error = dt.fails(&["feed", "latest", "999"]);
	assert!(error.contains("feed 999 does not exist"), "{error}");

	// Readings 0..3 before `dt feed follow` starts, 3..5 after: it prints only the later
	// ones, in order, and flags the one outside the range.
	let base_ms = 1_795_685_400_000;
	let early = entries(feed, 0, GENESIS_PREVIOUS, base_ms, &["250.5", "251", "275.25"]);
	let last_early = early[2].hash();
	runtime.block_on(append(&client, feed, early.clone()));
	let follow = Background::start(
		&dt,
		&["--json", "feed", "follow", &f, "--count", "2"],
		Some("following feed"),
	);
	let late = entries(feed, 3, last_early, base_ms, &["249.9", "239.99"]);
	let head = runtime.block_on(append(&client, feed, late.clone()));
	assert_eq!(head["head"]["sequence"], 4);
	let (success, stdout, stderr) = follow.finish();
	assert!(success, "{stderr}");
	let followed = json_lines(&stdout);
	let sequences: Vec<u64> = followed.iter().map(|r| r["sequence"].as_u64().unwrap()).collect();
	assert_eq!(sequences, [3, 4]);
	assert_eq!(followed[0]["outside_range"], false);
	assert_eq!(followed[1]["outside_range"], true);
	assert_eq!(followed[1]["value"], "239.99");

	// latest and range flag what lies outside the range.
	let latest = dt.json(&["feed", "latest", &f]);
	assert_eq!(
		(latest["sequence"].as_u64(), latest["outside_range"].as_bool()),
		(Some(4), Some(true))
	);
	let text = dt.ok(&["feed", "latest", &f]);
	assert!(text.starts_with('!') && text.contains("outside 240.00..260.00 mm"), "{text}");
	let range = dt.json(&["feed", "range", &f, "--from", "0", "--to", "5"]);
	let flags: Vec<bool> = range["entries"]
		.as_array()
		.unwrap()
		.iter()
		.map(|r| r["outside_range"].as_bool().unwrap())
		.collect();
	assert_eq!(flags, [false, false, true, false, true]);
	assert_eq!(range["outside_range"], 2);
	let text = dt.ok(&["feed", "range", &f, "--from", "1", "--to", "3"]);
	assert_eq!(text.lines().count(), 3, "two readings and the summary: {text}");
	assert!(text.contains("275.25 mm  ! outside 240.00..260.00 mm"), "{text}");
	let by_time = dt.json(&[
		"feed",
		"range",
		&f,
		"--since",
		"2026-11-26T09:30:01Z",
		"--until",
		"2026-11-26T09:30:03Z",
	]);
	let sequences: Vec<u64> = by_time["entries"]
		.as_array()
		.unwrap()
		.iter()
		.map(|r| r["sequence"].as_u64().unwrap())
		.collect();
	assert_eq!(sequences, [1, 2]);
	assert!(dt.fails(&["feed", "range", &f]).contains("--from"));
	// The entries come from the store named by --store; one that is not there is named.
	let store = dt.json(&["feed", "latest", &f, "--store", &node.url]);
	assert_eq!(store["sequence"], 4);
	// A public feed is anyone's to read; a read signed by a party (--as) is served alike.
	let signed = dt.json(&["feed", "range", &f, "--from", "0", "--to", "5", "--as", "charlie"]);
	assert_eq!(signed["entries"].as_array().unwrap().len(), 5);
	// An internal feed is read only by a party cleared for it (Alice owns the twin; Charlie
	// is no member), and takes no plaintext.
	let internal = dt.json(&[
		"feed",
		"register",
		&t,
		"fill-level",
		"--owner",
		"bob",
		"--unit",
		"mm",
		"--interval-ms",
		"1000",
		"--confidentiality",
		"internal",
		"--as",
		"alice",
	]);
	let internal_feed = internal["feed"].as_u64().unwrap();
	assert_eq!(internal["encrypted"], true, "{internal}");
	let i = internal_feed.to_string();
	let error = dt.fails(&["feed", "latest", &i]);
	assert!(error.contains(&format!("feed {i} is internal")) && error.contains("--as"), "{error}");
	let error = dt.fails(&["feed", "latest", &i, "--as", "charlie"]);
	assert!(
		error.contains(&format!("may not read feed {i}")) && error.contains("not cleared"),
		"{error}"
	);
	assert!(dt.ok(&["feed", "latest", &i, "--as", "alice"]).contains("no readings yet"));
	let plaintext = entries(internal_feed, 0, GENESIS_PREVIOUS, base_ms, &["250.5"]);
	let batch = SignedBatch::sign(plaintext, &pair("//Bob"), &runtime.block_on(genesis(&client)));
	let refused = runtime
		.block_on(client.request::<Value>(
			"feed_append",
			rpc_params![internal_feed, format!("0x{}", hex::encode(batch.encode()))],
		))
		.expect_err("a plaintext entry of an internal feed is refused");
	assert_eq!(refused.code(), Some(7207), "{refused}");
	assert!(dt.ok(&["feed", "latest", &i, "--as", "alice"]).contains("no readings yet"));
	let error = dt.fails(&["feed", "latest", &f, "--store", "ws://127.0.0.1:1"]);
	assert!(
		error.contains("cannot connect to ws://127.0.0.1:1") && error.contains("--store"),
		"{error}"
	);

	// Honest data verifies: a checkpoint anchored at entry 2, and a document in the store.
	let anchor = |checkpoint: Checkpoint| {
		RuntimeCall::Feeds(pallet_dt_feeds::Call::anchor_checkpoint { feed, checkpoint })
	};
	runtime.block_on(submit_ok(&client, "//Bob", anchor(early[2].checkpoint())));
	let alice_rsa = hex::decode(alice["rsa_public_key"].as_str().unwrap()).unwrap();
	let reader = ReaderPublicKey::from_der(&alice_rsa).unwrap();
	let (manifest, envelope, chunks, note_chunks) =
		runtime.block_on(upload_document(&client, &dir.path().join("scratch"), twin, &reader));
	let verified = dt.json(&["verify", &t, "--store", &node.url]);
	assert_eq!(verified["ok"], true, "{verified}");
	assert_eq!(verified["checked"].as_array().unwrap().len(), 2, "{verified}");
	assert_eq!(verified["checked"][0], "document 0 version 0: 3 blocks, 1 annotations");
	// The internal feed is not read without a party cleared for it, and says so.
	let unverified = verified["unverified"].as_array().unwrap();
	assert_eq!(unverified.len(), 1, "{verified}");
	assert!(unverified[0].as_str().unwrap().starts_with(&format!("feed {i}: internal")));
	let as_alice = dt.json(&["verify", &t, "--as", "alice"]);
	assert_eq!(as_alice["checked"].as_array().unwrap().len(), 3, "{as_alice}");
	assert_eq!(as_alice["unverified"], serde_json::json!([]), "{as_alice}");
	let as_charlie = dt.json(&["verify", &t, "--as", "charlie"]);
	assert!(as_charlie["unverified"][0].as_str().unwrap().contains("not cleared"), "{as_charlie}");
	let text = dt.ok(&["verify", &t]);
	assert!(
		text.contains(&format!(
			"ok        feed {feed}: 5 entries signed by its owner and chained, 1 checkpoints match"
		)),
		"{text}"
	);

	// A checkpoint that does not match the stored log is reported, and dt exits non-zero.
	let mut wrong = late[1].checkpoint();
	wrong.entry_hash = [7; 32];
	runtime.block_on(submit_ok(&client, "//Bob", anchor(wrong)));
	let output = dt.run_with(common::PASSPHRASE, &["--json", "verify", &t]);
	assert!(!output.status.success());
	let report: Value = serde_json::from_slice(&output.stdout).unwrap();
	assert_eq!(report["ok"], false);
	let mismatches = report["mismatches"].as_array().unwrap();
	assert_eq!(mismatches.len(), 1, "{report}");
	assert_eq!(mismatches[0]["item"], format!("feed {feed} entry 4"));
	assert!(mismatches[0]["problem"].as_str().unwrap().contains("checkpoint 1"), "{report}");

	// A corrupted chunk and a missing key envelope are reported by item.
	std::fs::write(block_file(&node, &chunks[0]), b"not what was stored").unwrap();
	std::fs::remove_file(block_file(&node, &envelope)).unwrap();
	std::fs::remove_file(block_file(&node, &note_chunks[0])).unwrap();
	let output = dt.run_with(common::PASSPHRASE, &["verify", &t]);
	assert!(!output.status.success());
	let text = String::from_utf8(output.stdout).unwrap();
	assert!(
		text.contains(&format!("MISMATCH  document 0 version 0 chunk 0 ({})", chunks[0])),
		"{text}"
	);
	assert!(text.contains("corrupted in the store"), "{text}");
	assert!(
		text.contains(&format!(
			"MISMATCH  document 0 version 0 key envelope {envelope}: missing from the store"
		)),
		"{text}"
	);
	assert!(
		text.contains(&format!(
			"MISMATCH  document 0 version 0 annotation 0 chunk 0 ({}): missing from the store",
			note_chunks[0]
		)),
		"{text}"
	);
	assert!(text.contains("4 mismatches"), "{text}");
	assert!(!text.contains(&manifest.to_string()), "the manifest is intact: {text}");

	// The audit trail: who did what, in which block.
	let audit = dt.json(&["audit", &t]);
	let names = event_names(&audit);
	for expected in [
		"twinSpec.TwinCreated",
		"access.AccessControlCreated",
		"twinSpec.ProgramDeclared",
		"access.RoleGranted",
		"programs.ProgramCallQueued",
		"programs.ProgramCallClaimed",
		"programs.ProgramCallCompleted",
		"programs.ProgramCallFailed",
		"programs.ProgramCallCancelled",
		"feeds.FeedRegistered",
		"feeds.CheckpointAnchored",
		"documents.DocumentRegistered",
		"documents.DocumentAnnotated",
	] {
		assert!(names.iter().any(|name| name == expected), "{expected} missing from {names:?}");
	}
	let changes = audit["changes"].as_array().unwrap();
	let alice_address = alice["account"].as_str().unwrap();
	let created = changes.iter().find(|c| c["event"] == "twinSpec.TwinCreated").unwrap();
	assert_eq!(created["detail"]["creator"], alice_address);
	assert_eq!(created["who"], alice_address);
	assert!(
		created["block"].as_u64().unwrap() > 0
			&& created["hash"].as_str().unwrap().starts_with("0x")
	);
	assert!(created["time"].as_str().unwrap().ends_with('Z'));
	let granted = changes.iter().find(|c| c["event"] == "access.RoleGranted").unwrap();
	assert_eq!(granted["detail"]["role"], "device");
	let anchored: Vec<&Value> =
		changes.iter().filter(|c| c["event"] == "feeds.CheckpointAnchored").collect();
	assert_eq!(anchored.len(), 2);
	assert_eq!(anchored[0]["who"], "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
	let blocks: Vec<u64> = changes.iter().map(|c| c["block"].as_u64().unwrap()).collect();
	assert!(blocks.windows(2).all(|pair| pair[0] <= pair[1]), "{blocks:?}");
	let text = dt.ok(&["audit", &t]);
	assert!(
		text.contains("programs.ProgramCallQueued")
			&& text.contains(&format!("(by {alice_address})")),
		"{text}"
	);
	assert!(dt.fails(&["audit", "999"]).contains("twin 999 does not exist"));
	// From a later block on, only the later changes.
	let registered_at =
		changes.iter().find(|c| c["event"] == "feeds.FeedRegistered").unwrap()["block"].to_string();
	let recent = event_names(&dt.json(&["audit", &t, "--from", &registered_at]));
	assert!(recent.contains(&"feeds.FeedRegistered".to_owned()), "{recent:?}");
	assert!(!recent.contains(&"twinSpec.TwinCreated".to_owned()), "{recent:?}");

	// watch prints what happens after it started.
	let watch =
		Background::start(&dt, &["--json", "watch", &t, "--count", "1"], Some("watching twin"));
	dt.ok(&["access", "grant", &t, "bob", "maintainer", "--as", "alice"]);
	let (success, stdout, stderr) = watch.finish();
	assert!(success, "{stderr}");
	let updates = json_lines(&stdout);
	assert_eq!(updates.len(), 1);
	assert_eq!(updates[0]["event"], "access.RoleGranted");
	assert_eq!(updates[0]["detail"]["role"], "maintainer");
	assert_eq!(updates[0]["who"], alice_address);
	assert!(updates[0]["block"].as_u64().unwrap() > blocks.last().copied().unwrap());

	// A node that alters or withholds entries after the last checkpoint is caught by
	// `dt feed` and `dt verify`: every entry carries its owner's signature over its batch.
	let registered = dt.json(&[
		"feed",
		"register",
		&t,
		"filler",
		"--owner",
		"bob",
		"--interval-ms",
		"1000",
		"--confidentiality",
		"public",
		"--as",
		"alice",
	]);
	let tail_feed = registered["feed"].as_u64().unwrap();
	let g = tail_feed.to_string();
	let first = entries(tail_feed, 0, GENESIS_PREVIOUS, base_ms, &["1", "2", "3"]);
	let second = entries(tail_feed, 3, first[2].hash(), base_ms, &["4", "5", "6"]);
	runtime.block_on(append(&client, tail_feed, first.clone()));
	runtime.block_on(append(&client, tail_feed, second));
	let checkpoint = first[2].checkpoint();
	let anchor = RuntimeCall::Feeds(pallet_dt_feeds::Call::anchor_checkpoint {
		feed: tail_feed,
		checkpoint,
	});
	runtime.block_on(submit_ok(&client, "//Bob", anchor));
	assert_eq!(
		dt.json(&["feed", "range", &g, "--from", "0", "--to", "9"])["entries"]
			.as_array()
			.unwrap()
			.len(),
		6
	);
	let keys = dt.keystore.clone();
	let honest = |verified: &Value| {
		verified["checked"].as_array().unwrap().iter().any(|line| {
			line.as_str()
				.unwrap()
				.starts_with(&format!("feed {tail_feed}: 6 entries signed"))
		})
	};
	assert!(honest(&verified_report(&dt, &t)), "the untouched feed verifies");
	drop((dt, client));

	// The last reading rewritten on disk (its record's checksum made good again), the node
	// restarted: it serves the altered entry.
	let node = restart_with_last_batch(node, dir.path(), tail_feed, |batch| {
		batch.entries[2].payload = dt_client::reading::encode_reading("999").unwrap();
	});
	let dt = Dt { node: &node, keystore: keys.clone() };
	dt.wait_for_node();
	// The proofs the node makes from the altered batch fail for each of its entries; the
	// range stops at the first, the latest entry is the altered one.
	let altered =
		|entry: u64| format!("entry {entry} of feed {tail_feed} is not what its owner signed");
	let error = dt.fails(&["feed", "range", &g, "--from", "0", "--to", "9"]);
	assert!(error.contains(&altered(3)), "{error}");
	let error = dt.fails(&["feed", "latest", &g]);
	assert!(error.contains(&altered(5)), "{error}");
	let report = verified_report(&dt, &t);
	assert!(!honest(&report));
	assert!(has_mismatch(&report, &format!("feed {tail_feed} entry 3"), &altered(3)), "{report}");
	drop(dt);

	// The last reading left out: what remains of its batch no longer carries its owner's
	// signature (a node cannot make a batch's proofs for fewer entries than were signed).
	let node = restart_with_last_batch(node, dir.path(), tail_feed, |batch| {
		batch.entries.pop();
	});
	let dt = Dt { node: &node, keystore: keys };
	dt.wait_for_node();
	let error = dt.fails(&["feed", "range", &g, "--from", "0", "--to", "9"]);
	assert!(
		error.contains(&format!("entry 3 of feed {tail_feed} is not what its owner signed")),
		"{error}"
	);
	let error = dt.fails(&["feed", "latest", &g]);
	assert!(
		error.contains(&format!("entry 4 of feed {tail_feed} is not what its owner signed")),
		"{error}"
	);
	// The entries before the cut are still shown: nothing of theirs was touched.
	let kept = dt.json(&["feed", "range", &g, "--from", "0", "--to", "3"]);
	assert_eq!(kept["entries"].as_array().unwrap().len(), 3);
	let report = verified_report(&dt, &t);
	assert!(
		has_mismatch(&report, &format!("feed {tail_feed} entry 3"), "not what its owner signed"),
		"{report}"
	);
}

/// `dt --json verify TWIN`'s report, whether or not it found mismatches.
fn verified_report(dt: &Dt, twin: &str) -> Value {
	let output = dt.run_with(common::PASSPHRASE, &["--json", "verify", twin]);
	serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
		panic!("verify printed no JSON ({e}): {}", String::from_utf8_lossy(&output.stderr))
	})
}

fn has_mismatch(report: &Value, item: &str, problem: &str) -> bool {
	report["mismatches"].as_array().unwrap().iter().any(|mismatch| {
		mismatch["item"] == item && mismatch["problem"].as_str().unwrap().contains(problem)
	})
}

/// Stops `node`, changes the last stored batch of `feed` with `change` (rewriting its
/// record with a good checksum, as a node's operator could) and starts the node again.
fn restart_with_last_batch(
	node: Node,
	dir: &Path,
	feed: FeedId,
	change: impl FnOnce(&mut SignedBatch),
) -> Node {
	let segment = node.base_path.join(format!("offchain/feeds/{feed}/{:020}.seg", 0));
	drop(node);
	let bytes = std::fs::read(&segment).unwrap();
	let mut reader = &bytes[..];
	let mut last = None;
	loop {
		let offset = bytes.len() - reader.len();
		match record::read_next(&mut reader).unwrap() {
			record::Next::Record(body) => last = Some((offset, body)),
			record::Next::End => break,
			record::Next::Bad(reason) => panic!("{}: {reason}", segment.display()),
		}
	}
	let (offset, body) = last.expect("a stored batch");
	let mut batch = SignedBatch::decode_bounded(&body).unwrap();
	change(&mut batch);
	let mut rewritten = bytes[..offset].to_vec();
	rewritten.extend(record::frame(&batch.encode()).unwrap());
	std::fs::write(&segment, rewritten).unwrap();
	Node::start(dir)
}
