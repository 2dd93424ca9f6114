//! The twin index on real nodes: a pruning node serves a twin's complete trail (through
//! `dt audit`) long after it dropped the state of the blocks the changes are in; deleting
//! the index makes the node rebuild it, as far back as it still has state, and say from
//! where the trail is complete; an archive node rebuilds the same trail; a damaged index file
//! is moved aside and rebuilt; bad paging parameters and unknown twins are refused with
//! their codes.
//!
//! The pruning node keeps the state of `DT_INDEX_TEST_PRUNING` blocks (32 by default): the
//! test waits for more blocks than that to be finalized after the changes, and at 2 s a block
//! the node's default of 256 would take 9 minutes of CI time for the same proof. Run it with
//! `DT_INDEX_TEST_PRUNING=256 scripts/integration-tests.sh twin_index` to check the default.

mod common;

use common::{plant, *};
use dt_primitives::access::{Confidentiality, TwinId};
use jsonrpsee::{core::client::ClientT, rpc_params};
use serde_json::{json, Value};
use std::{
	path::{Path, PathBuf},
	process::{Command, Stdio},
	time::{Duration, Instant},
};

/// The index's file under a `--dev` node's base path.
fn index_file(node: &Node) -> PathBuf {
	node.base_path.join("chains/dt_dev/twin-index.sqlite")
}

fn pruning() -> u32 {
	std::env::var("DT_INDEX_TEST_PRUNING")
		.map(|value| value.parse().expect("DT_INDEX_TEST_PRUNING is a number of blocks"))
		.unwrap_or(32)
}

/// Stops the node, deletes its index (with SQLite's WAL files) and starts it again.
fn restart_without_index(node: &mut Node) {
	node.kill();
	let file = index_file(node);
	assert!(file.is_file(), "{} exists", file.display());
	for suffix in ["", "-wal", "-shm"] {
		let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
	}
	node.restart();
}

/// Waits until the index has every block finalized now.
async fn wait_indexed(rpc: &Rpc) -> Value {
	let target = rpc.finalized_number().await;
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		let status: Result<Value, _> = rpc.client.request("index_status", rpc_params![]).await;
		if let Ok(status) = status {
			if status["indexedTo"].as_u64().is_some_and(|to| to >= u64::from(target)) {
				return status;
			}
		}
		assert!(Instant::now() < deadline, "the index did not reach block #{target}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Every change of `twin` through `index_twinTrail`, in pages of `limit`, and the last
/// page's `completeFrom`.
async fn whole_trail(rpc: &Rpc, twin: TwinId, limit: u32) -> (Vec<Value>, u64) {
	let mut changes = Vec::new();
	let mut cursor: Option<String> = None;
	loop {
		let page: Value = rpc
			.request(
				"index_twinTrail",
				rpc_params![twin, json!({ "cursor": cursor, "limit": limit })],
			)
			.await;
		changes.extend(page["changes"].as_array().unwrap().iter().cloned());
		cursor = page["nextCursor"].as_str().map(Into::into);
		if cursor.is_none() {
			return (changes, page["completeFrom"].as_u64().unwrap());
		}
	}
}

/// `dt --json audit TWIN` against the node: its JSON and what it said on standard error.
fn audit(dt: &Path, node: &Node, twin: TwinId) -> (Value, String) {
	let output = Command::new(dt)
		.args(["--node", &node.ws_url(), "--json", "audit", &twin.to_string()])
		.stdin(Stdio::null())
		.output()
		.expect("dt runs");
	let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
	assert!(output.status.success(), "dt audit failed: {stderr}");
	(serde_json::from_slice(&output.stdout).expect("dt prints JSON"), stderr)
}

fn events_of(changes: &[Value]) -> Vec<String> {
	changes
		.iter()
		.map(|change| change["event"].as_str().unwrap().to_string())
		.collect()
}

/// The plant's twin, then an inserted element and a confidentiality change: the twin's
/// trail, with the blocks in which they happened.
async fn create_and_change(node: &Node) -> (TwinId, u32) {
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let twin = plant::set_up(&client).await;
	let insert = dt_runtime::RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::insert_element {
		twin,
		element: plant::id("level-probe"),
		parent: plant::id(plant::FILLER),
		previous_sibling: None,
		fragment: plant::bounded(r#"<InternalElement Name="Fill Level Probe" ID="level-probe"/>"#),
	});
	plant::submit_ok(&client, plant::OWNER, insert).await;
	let secret =
		dt_runtime::RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::set_element_confidentiality {
			twin,
			element: plant::id("level-probe"),
			level: Confidentiality::Secret,
		});
	let last = plant::submit_ok(&client, plant::OWNER, secret).await;
	let number = node.rpc().await.header(Some(last.block)).await.number;
	(twin, number)
}

/// The twin's changes read from each block's events while their state is still there:
/// what the index must give.
async fn trail_read_from_blocks(rpc: &Rpc, twin: TwinId, from: u32, to: u32) -> Vec<String> {
	let mut events = Vec::new();
	for number in from..=to {
		let hash = rpc.block_hash(number).await.unwrap();
		for event in rpc.events(hash).await {
			if let Some((name, ..)) = dt_client::ledger::describe(&event, twin) {
				events.push(name.to_string());
			}
		}
	}
	events
}

async fn error_code(rpc: &Rpc, method: &str, params: jsonrpsee::core::params::ArrayParams) -> i32 {
	match rpc.client.request::<Value, _>(method, params).await {
		Err(jsonrpsee::core::ClientError::Call(error)) => error.code(),
		other => panic!("{method} was not refused: {other:?}"),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn the_twin_index_keeps_trails_past_pruning_and_rebuilds() {
	let _turn = one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let keep = pruning();
	let mut pruned = Node::start_dev(
		"pruned",
		&dir.path().join("pruned"),
		&["--state-pruning", &keep.to_string()],
	);
	let mut archive =
		Node::start_dev("archive", &dir.path().join("archive"), &["--state-pruning", "archive"]);
	let dt = workspace_binary("dt");
	let (rpc, archive_rpc) = (pruned.rpc().await, archive.rpc().await);
	rpc.wait_finalized(1, STARTUP_TIMEOUT).await;
	archive_rpc.wait_finalized(1, STARTUP_TIMEOUT).await;

	let ((twin, changed_at), (archive_twin, _)) =
		tokio::join!(create_and_change(&pruned), create_and_change(&archive));
	let created_at: u32 = {
		let twins: Value = rpc.request("twin_listTwins", rpc_params![]).await;
		twins[twin as usize]["createdAt"].as_u64().unwrap() as u32
	};
	let expected = trail_read_from_blocks(&rpc, twin, created_at, changed_at).await;
	assert!(
		expected.contains(&"twinSpec.TwinCreated".to_string())
			&& expected.contains(&"twinSpec.ConfidentialitySet".to_string()),
		"{expected:?}"
	);

	// The archive node: delete its index and restart: the whole trail comes back the same.
	wait_indexed(&archive_rpc).await;
	let (before, complete_from) = whole_trail(&archive_rpc, archive_twin, 3).await;
	assert_eq!(complete_from, 0);
	assert!(before.len() >= 6, "{before:?}");
	restart_without_index(&mut archive);
	let archive_rpc = archive.rpc().await;
	wait_indexed(&archive_rpc).await;
	let (rebuilt, complete_from) = whole_trail(&archive_rpc, archive_twin, 1000).await;
	assert_eq!(complete_from, 0, "an archive node has every block's state");
	assert_eq!(rebuilt, before, "the rebuilt trail is the same");
	assert!(archive.log_shows("twin index: building"), "{}", archive.log_tail());
	drop(archive);

	// The pruning node, long after the changes: their blocks' state is gone...
	rpc.wait_finalized(changed_at + keep + 10, Duration::from_secs(u64::from(keep) * 3 + 120))
		.await;
	let old = rpc.block_hash(created_at).await.unwrap();
	let events_key =
		[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat();
	let read: Result<Option<String>, _> = rpc
		.client
		.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(&events_key)), old])
		.await;
	assert!(read.is_err(), "block #{created_at}'s state was pruned: {read:?}");
	// ... and `dt audit` still gives every change, from the index.
	let (audited, stderr) = audit(&dt, &pruned, twin);
	let changes = audited["changes"].as_array().unwrap();
	assert_eq!(events_of(changes), expected, "{audited}");
	assert!(!stderr.contains("reading blocks"), "the index was used: {stderr}");
	assert_eq!(audited["complete_from"], 0);
	assert!(changes
		.iter()
		.all(|change| change["who"].is_string() && change["time"].is_string()));
	// Search: the inserted element by a part of its name, the twin by its root's id.
	let found: Value = rpc
		.request("index_searchElements", rpc_params!["level PROBE", json!({ "twin": twin })])
		.await;
	assert_eq!(found["elements"][0]["id"], "level-probe", "{found}");
	assert_eq!(found["elements"][0]["confidentiality"], "secret");
	let twins: Value = rpc.request("index_searchTwins", rpc_params!["caexFILE"]).await;
	assert!(twins["twins"].as_array().unwrap().iter().any(|t| t["id"] == twin), "{twins}");
	// A reader without clearance on the twin finds nothing of it.
	let eve = sp_keyring::Sr25519Keyring::Eve.to_account_id().to_string();
	let hidden: Value = rpc
		.request("index_searchElements", rpc_params!["level", json!({ "reader": eve })])
		.await;
	assert_eq!(hidden["elements"], json!([]), "{hidden}");

	// Refusals, with their codes; nothing changes.
	let bad = [
		("index_twinTrail", rpc_params![twin, json!({ "limit": 1001 })], 7402),
		("index_twinTrail", rpc_params![twin, json!({ "cursor": "garbage" })], 7402),
		("index_twinTrail", rpc_params![twin, json!({ "who": "not-an-address" })], 7402),
		("index_twinTrail", rpc_params![999, json!({})], 7403),
		("index_searchElements", rpc_params!["x".repeat(100_000), json!({})], 7402),
		("index_searchElements", rpc_params!["x", json!({ "cursor": "t:1" })], 7402),
		("index_searchTwins", rpc_params!["", json!({ "limit": 0 })], 7402),
		("index_twinTrail", rpc_params![twin, json!({ "limits": 5 })], -32602),
	];
	for (method, params, code) in bad {
		assert_eq!(error_code(&rpc, method, params).await, code, "{method}");
	}
	assert_eq!(whole_trail(&rpc, twin, 1000).await.0, *changes);

	// Delete the index and restart: the node rebuilds it from the earliest state it has,
	// says so, and answers with completeFrom; the twin and its elements are still found.
	restart_without_index(&mut pruned);
	let rpc = pruned.rpc().await;
	let status = wait_indexed(&rpc).await;
	let complete_from = status["completeFrom"].as_u64().unwrap() as u32;
	assert!(complete_from > changed_at, "{status}");
	assert!(pruned.log_shows("no longer has the state of blocks #0"), "{}", pruned.log_tail());
	let (trail, from) = whole_trail(&rpc, twin, 100).await;
	assert_eq!((trail.len(), from), (0, u64::from(complete_from)));
	let (audited, stderr) = audit(&dt, &pruned, twin);
	assert_eq!(audited["complete_from"], complete_from);
	assert!(stderr.contains(&format!("complete from block #{complete_from}")), "{stderr}");
	let found: Value = rpc.request("index_searchElements", rpc_params!["probe", json!({})]).await;
	assert_eq!(found["elements"][0]["id"], "level-probe", "{found}");
	assert_eq!(found["completeFrom"], complete_from);

	// A damaged index file is moved aside, named in the log, and the index rebuilt.
	pruned.kill();
	let file = index_file(&pruned);
	for suffix in ["-wal", "-shm"] {
		let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
	}
	std::fs::write(&file, vec![0x55u8; 16384]).unwrap();
	pruned.restart();
	let rpc = pruned.rpc().await;
	wait_indexed(&rpc).await;
	assert!(pruned.log_shows("moved it aside to"), "{}", pruned.log_tail());
	let moved = std::fs::read_dir(file.parent().unwrap())
		.unwrap()
		.filter_map(Result::ok)
		.any(|entry| entry.file_name().to_string_lossy().contains(".unreadable-"));
	assert!(moved, "the damaged file was kept aside");
	let twins: Value = rpc.request("index_searchTwins", rpc_params![""]).await;
	assert!(twins["twins"].as_array().unwrap().iter().any(|t| t["id"] == twin), "{twins}");
}
