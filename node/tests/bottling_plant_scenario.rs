//! The bottling-plant scenario of the mission, end to end on real processes: the local
//! consortium's four partner nodes with the off-chain store's network, one `dt-agent` at the
//! owner's site, and `dt` as each party, each against its own node.
//!
//! 1. The owner creates the twin from the manufacturer's AML file, grants the roles, lets the
//!    device rewrite the first filling station's part of the specification, and stores the
//!    secret blueprint.
//! 2. The agent streams the fill-level sensor into its feed; the sensor is exchanged and the
//!    agent replaces its element and feed on chain by itself; the new feed streams. The fill
//!    level is confidential: its entries are encrypted under key epochs sealed for exactly
//!    the accounts cleared for it; no other reader (unsigned, an outsider, a member without
//!    a role) gets an entry from a node, no partner's files hold a reading in plaintext,
//!    and no member but the device sets an epoch's readers or key.
//! 3. The maintainer uploads the maintenance report, attached to the new sensor's element.
//! 4. The owner is notified (`dt watch`); the manufacturer reads the old sensor's last
//!    readings; the auditor reads the trail (`dt audit`), verifies it (`dt verify`), reads the
//!    report, and fails to decrypt the blueprint. A program call from the maintainer runs on
//!    the device; one outside the safety bounds never leaves the maintainer's machine. The
//!    maintainer cannot widen the bounds (it may insert a widened copy of the interface, not
//!    declare the program from it); a call inside the chain's bounds but beyond the filler's
//!    rated volume is refused by the device agent against its local envelope, reported
//!    `Failed`.
//! 5. Each document's reader list on the store's replicas names exactly its readers; once
//!    the auditor's role is revoked, the report's next version takes it off the list and it
//!    can read neither that version nor the earlier one; the agent re-keys the fill-level
//!    feed by itself, and every epoch begun after the revocation leaves the auditor out.
//!    Killed mid-stream (SIGKILL: what it had sent but not seen acknowledged is taken back
//!    from the node, checked to be its own) and started again, the agent seals under a new
//!    epoch, and the maintainer reads on across the crash.

mod common;

use codec::Encode;
use common::*;
use jsonrpsee::rpc_params;
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use std::{
	io::{BufRead, BufReader},
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	sync::mpsc,
	time::{Duration, Instant},
};

const PASSPHRASE: &str = "bottling plant";
/// The maintainer's copy of the filler's SetFillVolume interface, its maximum widened from
/// 1500.5 ml to 5000 ml.
const WIDENED_SET_FILL_VOLUME: &str = r#"<ExternalInterface Name="SetFillVolume" ID="set-fill-volume-widened" RefBaseClassPath="DtLedgerInterfaceClassLib/Program"><Attribute Name="volume" AttributeDataType="xs:decimal" Unit="ml"><Constraint Name="SafeRange"><OrdinalScaledType><RequiredMinValue>250.0</RequiredMinValue><RequiredMaxValue>5000</RequiredMaxValue></OrdinalScaledType></Constraint></Attribute></ExternalInterface>"#;
/// The device agent's account: a member of the owner's organisation.
const AGENT_URI: &str = "//Ferdie";

/// `dt` as one party: its own keystore, its own partner's node.
struct Party {
	name: &'static str,
	node: String,
	keystore: PathBuf,
	dt: PathBuf,
}

impl Party {
	fn run(&self, args: &[&str]) -> Output {
		Command::new(&self.dt)
			.args(["--node", &self.node])
			.args(args)
			.env("DT_KEYSTORE", &self.keystore)
			.env("DT_PASSPHRASE", PASSPHRASE)
			.stdin(Stdio::null())
			.output()
			.expect("dt runs")
	}

	/// `dt --json ARGS … --as PARTY`, asserting success.
	fn json(&self, args: &[&str]) -> Value {
		self.json_ending(args, true)
	}

	/// `dt --json ARGS … --as PARTY`, asserting that it fails and still prints its JSON
	/// answer (a program call the device refused, say).
	fn json_failing(&self, args: &[&str]) -> Value {
		self.json_ending(args, false)
	}

	fn json_ending(&self, args: &[&str], success: bool) -> Value {
		let mut all = vec!["--json"];
		all.extend_from_slice(args);
		let output = self.run(&all);
		assert_eq!(
			output.status.success(),
			success,
			"{}: dt {args:?} ended {}: {}{}",
			self.name,
			output.status,
			String::from_utf8_lossy(&output.stderr),
			String::from_utf8_lossy(&output.stdout)
		);
		serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
			panic!("dt {args:?} printed no JSON ({e}): {}", String::from_utf8_lossy(&output.stdout))
		})
	}

	/// The entries `from` (inclusive) to `to` (exclusive) of a feed, read and decrypted by
	/// `dt feed range` as this party.
	fn feed_range(&self, feed: &str, from: u64, to: u64) -> Vec<Value> {
		let (from, to) = (from.to_string(), to.to_string());
		let range =
			self.json(&["feed", "range", feed, "--from", &from, "--to", &to, "--as", self.name]);
		range["entries"].as_array().expect("a list of entries").clone()
	}

	/// `dt ARGS`, asserting failure; its standard error.
	fn fails(&self, args: &[&str]) -> String {
		let output = self.run(args);
		assert!(
			!output.status.success(),
			"{}: dt {args:?} succeeded: {}",
			self.name,
			String::from_utf8_lossy(&output.stdout)
		);
		String::from_utf8_lossy(&output.stderr).into_owned()
	}
}

/// A child process killed when dropped, its standard output read line by line.
struct Running {
	child: Child,
	lines: mpsc::Receiver<String>,
}

impl Running {
	fn start(command: &mut Command) -> Running {
		let mut child = command.stdout(Stdio::piped()).spawn().expect("the process starts");
		let stdout = child.stdout.take().unwrap();
		let (sender, lines) = mpsc::channel();
		std::thread::spawn(move || {
			for line in BufReader::new(stdout).lines().map_while(Result::ok) {
				if sender.send(line).is_err() {
					return;
				}
			}
		});
		Running { child, lines }
	}

	/// Lines printed so far.
	fn printed(&self) -> Vec<String> {
		self.lines.try_iter().collect()
	}
}

impl Drop for Running {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// Polls `check` until it returns something, or fails saying what was awaited.
fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(value) = check() {
			return value;
		}
		assert!(Instant::now() < deadline, "timed out waiting for {what}");
		std::thread::sleep(Duration::from_millis(500));
	}
}

/// The readers on `document`'s list as `node` reads it from the replicas, sorted.
async fn reader_list(node: &Node, document: &str) -> Vec<String> {
	let document: u64 = document.parse().expect("a document id");
	let item: String = node.rpc().await.request("store_documentItem", rpc_params![document]).await;
	item_readers(node, item).await
}

/// The readers on the list of the store's item `item` (hex) as `node` reads it, sorted.
async fn item_readers(node: &Node, item: String) -> Vec<String> {
	let acl: Value = node.rpc().await.request("store_acl", rpc_params![item]).await;
	let mut readers: Vec<String> = acl["readers"]
		.as_array()
		.expect("a list of readers")
		.iter()
		.map(|reader| reader.as_str().unwrap().to_owned())
		.collect();
	readers.sort();
	readers
}

fn accounts(parties: &[Sr25519Keyring]) -> Vec<String> {
	let mut accounts: Vec<String> =
		parties.iter().map(|party| party.to_account_id().to_string()).collect();
	accounts.sort();
	accounts
}

/// `dt program call TWIN filling-station-1 SetFillVolume ARGUMENT` as the maintainer, with
/// `--wait` for the device's outcome if `wait`.
fn set_fill_volume<'a>(twin: &'a str, argument: &'a str, wait: bool) -> Vec<&'a str> {
	let mut args = vec!["program", "call", twin, "filling-station-1", "SetFillVolume", argument];
	if wait {
		args.extend(["--wait", "--timeout", "120"]);
	}
	args.extend(["--as", "maintainer"]);
	args
}

fn bottling_plant_aml() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo/bottling-plant.aml")
}

fn write_file(dir: &Path, name: &str, contents: &[u8]) -> String {
	let path = dir.join(name);
	std::fs::write(&path, contents).unwrap();
	path.display().to_string()
}

/// How long after a revocation's block is final the device agent may still build entries
/// in the epoch before (see docs/security.md, "Confidential feeds").
const REKEY_BOUND_MS: u64 = 3_000;

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_millis() as u64
}

/// The readings the agent took, by timestamp, from its `--readings-log`.
fn readings_logged(path: &Path) -> std::collections::HashMap<u64, String> {
	std::fs::read_to_string(path)
		.unwrap()
		.lines()
		.filter_map(|line| {
			let mut fields = line.split(' ');
			let (_element, timestamp, value) = (fields.next()?, fields.next()?, fields.next()?);
			Some((timestamp.parse().ok()?, value.to_owned()))
		})
		.collect()
}

/// Who signs a feed read over RPC.
#[derive(Debug)]
enum AgentKey {
	/// The feed's device (its owner).
	Device,
	/// Nobody: no `signedRead`.
	Unsigned,
	/// An account outside the consortium.
	Outsider,
	/// A member of the consortium with no role on the twin (Eve).
	UnclearedMember,
}

impl AgentKey {
	fn signed_read(&self, feed: u64, genesis: &[u8; 32]) -> Option<String> {
		use dt_offchain::network::{Action, SignedAction};
		let pair = match self {
			AgentKey::Device => dev_pair(Sr25519Keyring::Ferdie),
			AgentKey::Outsider => {
				<sp_core::sr25519::Pair as sp_core::Pair>::from_string("//Outsider", None).unwrap()
			},
			AgentKey::UnclearedMember => dev_pair(Sr25519Keyring::Eve),
			AgentKey::Unsigned => return None,
		};
		Some(hex0x(&SignedAction::sign(Action::ReadFeed { feed }, &pair, genesis).encode()))
	}
}

async fn read_feed(
	node: &Node,
	feed: u64,
	reader: &AgentKey,
) -> Result<Vec<Value>, dt_client::ClientError> {
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let genesis = node.rpc().await.genesis().await;
	let signed = reader.signed_read(feed, &genesis);
	client
		.request("feed_range", rpc_params![feed, 0, u64::MAX, 65536, signed])
		.await
}

/// Every entry of `feed` as `node` serves it to `reader`.
async fn sealed_entries(node: &Node, feed: u64, reader: &AgentKey) -> Vec<Value> {
	read_feed(node, feed, reader).await.expect("the feed is served")
}

/// The node's error code refusing `reader` the feed, `None` if it served it.
async fn read_refused(node: &Node, feed: u64, reader: &AgentKey) -> Option<i32> {
	read_feed(node, feed, reader).await.err().map(|error| error.code().unwrap_or(0))
}

/// The readers of epoch `epoch` of `feed`, sorted.
async fn epoch_readers(node: &Node, feed: u64, epoch: u32) -> Vec<String> {
	let item = dt_offchain::network::feed_epoch_item(feed, epoch);
	item_readers(node, hex0x(&item.0)).await
}

/// No file of any partner's feed store holds one of the readings in plaintext.
fn assert_no_plaintext_in_replicas(
	nodes: &[Node],
	readings: &std::collections::HashMap<u64, String>,
) {
	let values: std::collections::BTreeSet<&str> = readings.values().map(String::as_str).collect();
	let mut feed_files = 0;
	let mut pending: Vec<PathBuf> = nodes.iter().map(|node| node.base_path.clone()).collect();
	while let Some(path) = pending.pop() {
		if path.is_dir() {
			pending.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
			continue;
		}
		if !path.components().any(|part| part.as_os_str() == "feeds") {
			continue;
		}
		feed_files += 1;
		let bytes = std::fs::read(&path).unwrap();
		for value in &values {
			let found = bytes.windows(value.len()).any(|window| window == value.as_bytes());
			assert!(!found, "{} holds the reading {value} in plaintext", path.display());
		}
	}
	assert!(feed_files > 0, "the replicas hold the feed");
}

/// A member other than the feed's device (the maintainer, cleared for the feed) may neither
/// change the readers of one of its epochs, nor claim a new one, nor publish a key for one
/// (which would hand the readers a key of its choosing): the lists stay as they were.
async fn setting_epoch_readers_is_the_devices_alone(node: &Node, feed: u64, current: u32) {
	use dt_offchain::{
		content_id::Cid,
		crypto::{EpochEncryptor, ReaderPublicKey},
		network::{AclChange, AclOp, Action, SignedAction},
	};
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let rpc = node.rpc().await;
	let genesis = rpc.genesis().await;
	let maintainer = dev_pair(Sr25519Keyring::Charlie);
	let sign = |action| hex0x(&SignedAction::sign(action, &maintainer, &genesis).encode());
	// The current epoch, and one far beyond any the agent reaches in this test.
	for epoch in [current, 1_000_000] {
		let item = dt_offchain::network::feed_epoch_item(feed, epoch);
		let before: Value = rpc.request("store_acl", rpc_params![hex0x(&item.0)]).await;
		let change = Action::ChangeAcl(AclChange {
			item,
			base_version: before["version"].as_u64().unwrap(),
			op: AclOp::ReplaceReaders(vec![sp_core::Pair::public(&maintainer)]),
		});
		let refused = client.request::<Value>("store_changeAcl", rpc_params![sign(change)]).await;
		assert!(refused.is_err(), "the maintainer set epoch {epoch}'s readers: {refused:?}");
		let after: Value = rpc.request("store_acl", rpc_params![hex0x(&item.0)]).await;
		assert_eq!(after, before, "epoch {epoch}");
	}
	let own_key =
		ReaderPublicKey::from_der(include_bytes!("../../runtime/res/dev-keys/charlie.der"))
			.unwrap();
	let (_, envelope) = EpochEncryptor::start(feed, current, 0, &[own_key]).unwrap();
	let envelope = envelope.to_bytes();
	let item = dt_offchain::network::feed_epoch_item(feed, current);
	let publish = Action::WriteEnvelope { item, envelope: Cid::of(&envelope) };
	let refused = client
		.request::<Value>("store_putEnvelope", rpc_params![hex0x(&envelope), sign(publish)])
		.await;
	assert_eq!(refused.err().and_then(|e| e.code()), Some(7302), "the maintainer published a key");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bottling_plant_scenario_end_to_end() {
	let dir = tempfile::tempdir().unwrap();
	let nodes = start_store_consortium(dir.path());
	nodes[0].rpc().await.wait_finalized(1, STARTUP_TIMEOUT).await;
	let dt = workspace_binary("dt");
	let agent_binary = workspace_binary("dt-agent");
	let party = |index: usize, name: &'static str| Party {
		name,
		node: nodes[index].ws_url(),
		keystore: dir.path().join(format!("{name}-keys")),
		dt: dt.clone(),
	};
	let manufacturer = party(0, "manufacturer");
	let owner = party(1, "owner");
	let maintainer = party(2, "maintainer");
	let auditor = party(3, "auditor");

	// Each party's key, its RSA key registered on chain for documents.
	for (party, uri) in [
		(&manufacturer, "//Alice"),
		(&owner, "//Bob"),
		(&maintainer, "//Charlie"),
		(&auditor, "//Dave"),
	] {
		party.json(&["key", "import", party.name, "--suri", uri]);
		party.json(&["key", "register", party.name]);
	}
	// The device agent's account joins the owner's organisation, and so does Eve, who gets
	// no role on the twin.
	owner.json(&["key", "import", "plant-agent", "--suri", AGENT_URI]);
	owner.json(&["member", "add", "plant-agent", "--as", "owner"]);
	owner.json(&["key", "import", "eve", "--suri", "//Eve"]);
	owner.json(&["member", "add", "eve", "--as", "owner"]);

	// --- The owner creates the twin from the manufacturer's AML file and sets its access ---
	let aml = bottling_plant_aml();
	let created = owner.json(&["twin", "create", aml.to_str().unwrap(), "--as", "owner"]);
	let twin = created["twin"].as_u64().unwrap().to_string();
	owner.json(&[
		"twin",
		"declare-program",
		&twin,
		"filling-station-1",
		"SetFillVolume",
		"--parameters-from",
		"set-fill-volume-1",
		"--as",
		"owner",
	]);
	for (account, role) in [
		("//Alice", "manufacturer"),
		("//Charlie", "maintainer"),
		("//Dave", "auditor"),
		("plant-agent", "device"),
	] {
		owner.json(&["access", "grant", &twin, account, role, "--as", "owner"]);
	}
	// The fill level is confidential: the device that registers its feed must be cleared.
	owner.json(&[
		"access",
		"permissions",
		&twin,
		"device",
		"--add",
		"write-spec:filling-station-1",
		"read:confidential",
		"--as",
		"owner",
	]);
	let blueprint =
		write_file(dir.path(), "filler-blueprint.pdf", b"%PDF-1.7 the filler's valve geometry");
	let blueprint_doc = owner.json(&[
		"doc",
		"upload",
		&twin,
		&blueprint,
		"--title",
		"Filler blueprint",
		"--element",
		"filling-station-1",
		"--confidentiality",
		"secret",
		"--as",
		"owner",
	]);
	let blueprint_id = blueprint_doc["document"].to_string();
	// Only the owner may read secret data: the list, read through the maintainer's node.
	assert_eq!(reader_list(&nodes[2], &blueprint_id).await, accounts(&[Sr25519Keyring::Bob]));

	// The owner watches the twin's ledger updates from now on.
	let watch = Running::start(
		Command::new(&dt)
			.args(["--node", &owner.node, "--json", "watch", &twin])
			.env("DT_KEYSTORE", &owner.keystore)
			.stderr(Stdio::null()),
	);

	// --- The device agent streams the sensor; the sensor is exchanged after a while ---
	let agent_command = |extra: &[&str]| {
		let agent_log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(dir.path().join("agent.log"))
			.unwrap();
		let mut command = Command::new(&agent_binary);
		command
			.args(["--node", &nodes[1].ws_url(), "--twin", &twin])
			.args(["--station", "filling-station-1"])
			.args(["--sensor", "filling-station-1=fill-level-sensor-1"])
			.args(["--register-feeds", "--feed-confidentiality", "confidential"])
			.args(["--sample-interval", "200ms", "--batch-interval", "500ms"])
			.arg("--readings-log")
			.arg(dir.path().join("readings.log"))
			.args(["--checkpoint-interval", "3s"])
			.args(extra)
			.arg("--data-dir")
			.arg(dir.path().join("agent-data"))
			.env("DT_AGENT_KEY", AGENT_URI)
			.stderr(agent_log);
		command
	};
	let mut agent = Running::start(&mut agent_command(&["--replace-sensor-after", "15s"]));
	let agent_log_tail = || {
		let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
		log.lines().rev().take(30).collect::<Vec<_>>().join("\n")
	};

	// The maintainer, on its own node, sees the old feed closed, replaced by a new one on the
	// new sensor's element, which receives readings: nobody but the agent acted.
	let deadline = Instant::now() + Duration::from_secs(240);
	let (old_feed, new_feed) = loop {
		if let Ok(Some(status)) = agent.child.try_wait() {
			panic!("dt-agent exited ({status}):\n{}", agent_log_tail());
		}
		let feeds = maintainer.json(&["feed", "list", &twin]);
		let replaced = feeds["feeds"].as_array().and_then(|feeds| {
			let old = feeds.iter().find(|f| f["element"] == "fill-level-sensor-1")?;
			let new = feeds
				.iter()
				.find(|f| f["element"] != "fill-level-sensor-1" && f["active"] == true)?;
			(old["active"] == false).then(|| (old.clone(), new.clone()))
		});
		if let Some(replaced) = replaced {
			break replaced;
		}
		assert!(
			Instant::now() < deadline,
			"the agent did not replace the sensor; feeds: {feeds}\nagent log:\n{}",
			agent_log_tail()
		);
		std::thread::sleep(Duration::from_secs(1));
	};
	let new_element = new_feed["element"].as_str().unwrap().to_owned();
	let old_id = old_feed["feed"].to_string();
	let new_id = new_feed["feed"].to_string();
	assert!(old_feed["status"]
		.as_str()
		.unwrap()
		.contains(&format!("replaced by feed {new_id}")));
	let tree = maintainer.json(&["twin", "show", &twin]);
	let ids: Vec<&str> = tree["elements"]
		.as_array()
		.unwrap()
		.iter()
		.filter_map(|e| e["id"].as_str())
		.collect();
	assert!(ids.contains(&new_element.as_str()), "{ids:?}");
	assert!(!ids.contains(&"fill-level-sensor-1"), "the old sensor's element is gone: {ids:?}");
	wait_for("readings in the new feed", Duration::from_secs(60), || {
		let latest = maintainer.json(&["feed", "latest", &new_id, "--as", "maintainer"]);
		latest["sequence"].is_number().then_some(())
	});

	// --- The fill level is confidential: sealed for the parties cleared, no one else reads
	// it, nor may anyone but the device set who may ---
	let feed_id: u64 = new_id.parse().unwrap();
	let sealed = sealed_entries(&nodes[3], feed_id, &AgentKey::Device).await;
	assert!(!sealed.is_empty() && sealed.iter().all(|entry| entry["epoch"].is_number()));
	let opened = maintainer.feed_range(&new_id, 0, 20);
	assert!(!opened.is_empty());
	// Read after the entries: the agent logs a reading as it takes it, before it forwards
	// it, so every entry the node served is in the log by now (and newer ones may be too).
	let readings = readings_logged(&dir.path().join("readings.log"));
	for entry in opened {
		let taken = readings.get(&entry["timestamp"].as_u64().unwrap());
		assert_eq!(entry["value"].as_str(), taken.map(String::as_str), "{entry}");
	}
	for reader in [AgentKey::Unsigned, AgentKey::Outsider, AgentKey::UnclearedMember] {
		let refused = read_refused(&nodes[3], feed_id, &reader).await;
		assert_eq!(refused, Some(7208), "{reader:?} reads the confidential feed");
	}
	let refused = owner.fails(&["feed", "latest", &new_id, "--as", "eve"]);
	assert!(refused.contains("not cleared"), "{refused}");
	// The epoch's key is sealed for exactly the accounts cleared for confidential data on
	// the twin: the four parties and the device (which needs the clearance to register it).
	let current = sealed.iter().filter_map(|entry| entry["epoch"].as_u64()).max().unwrap();
	let cleared = accounts(&[
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Ferdie,
	]);
	assert_eq!(epoch_readers(&nodes[0], feed_id, current as u32).await, cleared);
	assert_no_plaintext_in_replicas(&nodes, &readings);
	setting_epoch_readers_is_the_devices_alone(&nodes[2], feed_id, current as u32).await;
	// The readers' key is the device's still.
	let latest = maintainer.json(&["feed", "latest", &new_id, "--as", "maintainer"]);
	assert!(latest["value"].is_string(), "{latest}");

	// --- The maintainer's report, attached to the new sensor's element ---
	let report = write_file(
		dir.path(),
		"maintenance-report.txt",
		b"Fill-level sensor FLS-1001 failed (stuck at 0 mm); replaced, bottles no longer overflow.",
	);
	let report_doc = maintainer.json(&[
		"doc",
		"upload",
		&twin,
		&report,
		"--title",
		"Maintenance report: fill-level sensor",
		"--element",
		&new_element,
		"--confidentiality",
		"confidential",
		"--as",
		"maintainer",
	]);
	let report_id = report_doc["document"].to_string();
	// Everyone cleared for confidential data is on the report's list: the four parties, and
	// the device, cleared for its confidential fill level (but not Eve, a member without a
	// role on the twin).
	assert_eq!(reader_list(&nodes[3], &report_id).await, cleared);
	assert_eq!(report_doc["reader_list"]["added"].as_array().unwrap().len(), 5, "{report_doc}");

	// --- The owner was notified of both ---
	let mut notified: Vec<Value> = Vec::new();
	wait_for("the owner's notifications", Duration::from_secs(60), || {
		notified.extend(watch.printed().iter().filter_map(|line| serde_json::from_str(line).ok()));
		let events: Vec<&str> = notified.iter().filter_map(|u| u["event"].as_str()).collect();
		(events.contains(&"feeds.SensorReplaced")
			&& events.contains(&"documents.DocumentRegistered"))
		.then_some(())
	});

	// --- The manufacturer analyses the broken sensor's last readings ---
	let final_checkpoint = old_feed["latest_checkpoint"]["sequence"].as_u64().unwrap();
	let last_readings =
		manufacturer.feed_range(&old_id, final_checkpoint.saturating_sub(9), final_checkpoint + 1);
	assert!(!last_readings.is_empty());
	assert_eq!(last_readings.last().unwrap()["sequence"], final_checkpoint);

	// --- The auditor: the trail, its verification, the report, and no blueprint ---
	let audit = auditor.json(&["audit", &twin]);
	let events: Vec<&str> = audit["changes"]
		.as_array()
		.unwrap()
		.iter()
		.filter_map(|change| change["event"].as_str())
		.collect();
	for expected in [
		"twinSpec.TwinCreated",
		"access.RoleGranted",
		"feeds.FeedRegistered",
		"feeds.CheckpointAnchored",
		"feeds.SensorReplaced",
		"documents.DocumentRegistered",
	] {
		assert!(events.contains(&expected), "{expected} in the trail: {events:?}");
	}
	let verified = auditor.json(&["verify", &twin, "--as", "auditor"]);
	assert_eq!(verified["ok"], true, "{verified}");
	assert_eq!(verified["unverified"], serde_json::json!([]), "{verified}");
	let report_copy = dir.path().join("report-read-by-auditor.txt");
	auditor.json(&[
		"doc",
		"download",
		&twin,
		&report_id,
		"-o",
		report_copy.to_str().unwrap(),
		"--as",
		"auditor",
	]);
	assert_eq!(std::fs::read(&report_copy).unwrap(), std::fs::read(&report).unwrap());
	let blueprint_copy = dir.path().join("blueprint-read-by-auditor.pdf");
	let refused = auditor.fails(&[
		"doc",
		"download",
		&twin,
		&blueprint_id,
		"-o",
		blueprint_copy.to_str().unwrap(),
		"--as",
		"auditor",
	]);
	assert!(!blueprint_copy.exists(), "nothing written: {refused}");
	assert!(refused.contains("not a reader of this document"), "{refused}");

	// --- A program call from the maintainer runs on the device; an unsafe one never leaves ---
	let unsafe_call = maintainer.fails(&set_fill_volume(&twin, "volume=2000.0", false));
	assert!(unsafe_call.contains("volume"), "{unsafe_call}");
	let call = maintainer.json(&set_fill_volume(&twin, "volume=500.0", true));
	assert_eq!(call["outcome"]["status"], "completed", "{call}");

	// --- The maintainer cannot widen the bound: it may write the specification, so it
	// inserts a copy of the interface with a 5000 ml maximum, but declaring the program from
	// it (or re-declaring it at all) is not the maintainer's to do ---
	maintainer.json(&[
		"twin",
		"insert",
		&twin,
		"--xml",
		WIDENED_SET_FILL_VOLUME,
		"--parent",
		"filling-station-1",
		"--as",
		"maintainer",
	]);
	let widening = maintainer.fails(&[
		"twin",
		"declare-program",
		&twin,
		"filling-station-1",
		"SetFillVolume",
		"--parameters-from",
		"set-fill-volume-widened",
		"--as",
		"maintainer",
	]);
	assert!(widening.contains("twinSpec.NotAuthorized"), "{widening}");
	let still_unsafe = maintainer.fails(&set_fill_volume(&twin, "volume=4000.0", false));
	assert!(still_unsafe.contains("volume"), "{still_unsafe}");

	// --- Inside the chain's 1500.5 ml but beyond the filler's rated 1200.0 ml: the chain
	// queues it, the device agent refuses it against its local envelope ---
	let beyond_envelope = maintainer.json_failing(&set_fill_volume(&twin, "volume=1300.0", true));
	assert_eq!(beyond_envelope["outcome"]["status"], "failed", "{beyond_envelope}");
	let reason = beyond_envelope["outcome"]["result"].as_str().unwrap_or_default();
	assert!(reason.starts_with(dt_agent::programs::REFUSED), "{beyond_envelope}");
	assert!(reason.contains("above the device's safety maximum 1200.0 ml"), "{beyond_envelope}");

	// --- Revocation: the auditor loses its role; the report's next version re-keys, and so
	// does the fill-level feed, by itself ---
	owner.json(&["access", "revoke", &twin, "//Dave", "auditor", "--as", "owner"]);
	let revoked_at = now_ms();
	let revised = write_file(
		dir.path(),
		"maintenance-report-rev1.txt",
		b"Fill-level sensor FLS-1001 replaced; calibration of the new sensor confirmed.",
	);
	let version =
		maintainer.json(&["doc", "version", &twin, &report_id, &revised, "--as", "maintainer"]);
	assert_eq!(version["version"], 1, "{version}");
	assert_eq!(
		version["reader_list"]["removed"],
		serde_json::json!([Sr25519Keyring::Dave.to_account_id().to_string()]),
		"{version}"
	);
	let remaining = accounts(&[
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Ferdie,
	]);
	assert_eq!(reader_list(&nodes[0], &report_id).await, remaining);
	for version in ["1", "0"] {
		let copy = dir.path().join(format!("report-v{version}-after-revocation.txt"));
		let refused = auditor.fails(&[
			"doc",
			"download",
			&twin,
			&report_id,
			"--version",
			version,
			"-o",
			copy.to_str().unwrap(),
			"--as",
			"auditor",
		]);
		assert!(!copy.exists(), "nothing written: {refused}");
		assert!(refused.contains("not a reader of this document"), "{refused}");
	}
	let manufacturer_copy = dir.path().join("report-v1-read-by-manufacturer.txt");
	manufacturer.json(&[
		"doc",
		"download",
		&twin,
		&report_id,
		"-o",
		manufacturer_copy.to_str().unwrap(),
		"--as",
		"manufacturer",
	]);
	assert_eq!(std::fs::read(&manufacturer_copy).unwrap(), std::fs::read(&revised).unwrap());

	// Every entry built after the agent saw the revocation is sealed in an epoch the auditor
	// is not a reader of (the agent sees the block as its node finalizes it, and builds the
	// next batch within one batch interval, 500 ms here; REKEY_BOUND_MS allows for both).
	let after = wait_for("entries after the revocation", Duration::from_secs(60), || {
		let entries = tokio::task::block_in_place(|| {
			tokio::runtime::Handle::current().block_on(sealed_entries(
				&nodes[3],
				feed_id,
				&AgentKey::Device,
			))
		});
		let later: Vec<Value> = entries
			.into_iter()
			.filter(|entry| entry["timestamp"].as_u64().unwrap() > revoked_at + REKEY_BOUND_MS)
			.collect();
		(later.len() >= 5).then_some(later)
	});
	let epochs: std::collections::BTreeSet<u64> =
		after.iter().map(|entry| entry["epoch"].as_u64().unwrap()).collect();
	for epoch in epochs {
		let readers = epoch_readers(&nodes[0], feed_id, epoch as u32).await;
		assert_eq!(readers, remaining, "epoch {epoch}, begun after the revocation");
	}
	let refused = auditor.fails(&["feed", "latest", &new_id, "--as", "auditor"]);
	assert!(refused.contains("not cleared"), "{refused}");

	// The agent crashes. Started again, it takes back from the node what it had sent without
	// seeing it acknowledged (encrypted, so checked by signature, sequence, link and time),
	// and seals under a new epoch (its key lived only in its memory); the maintainer reads
	// on across the crash.
	agent.child.kill().unwrap();
	agent.child.wait().unwrap();
	let before = sealed_entries(&nodes[3], feed_id, &AgentKey::Device).await;
	let last_epoch = before.iter().filter_map(|entry| entry["epoch"].as_u64()).max().unwrap();
	let last_sequence = before.last().unwrap()["sequence"].as_u64().unwrap();
	let mut agent = Running::start(&mut agent_command(&[]));
	let first_new = wait_for("entries after the agent's restart", Duration::from_secs(60), || {
		let entries = tokio::task::block_in_place(|| {
			tokio::runtime::Handle::current().block_on(sealed_entries(
				&nodes[3],
				feed_id,
				&AgentKey::Device,
			))
		});
		let new: Vec<Value> = entries
			.into_iter()
			.filter(|entry| entry["sequence"].as_u64().unwrap() > last_sequence)
			.collect();
		(new.len() >= 3).then_some(new)
	});
	assert!(first_new.iter().all(|entry| entry["epoch"].as_u64().unwrap() > last_epoch));
	let across = maintainer.feed_range(&new_id, last_sequence.saturating_sub(2), last_sequence + 3);
	assert_eq!(across.len(), 5, "{across:?}");
	let readings = readings_logged(&dir.path().join("readings.log"));
	for entry in across {
		let taken = readings.get(&entry["timestamp"].as_u64().unwrap());
		assert_eq!(entry["value"].as_str(), taken.map(String::as_str), "{entry}");
	}

	let parties = Parties {
		manufacturer: &manufacturer,
		owner: &owner,
		maintainer: &maintainer,
		auditor: &auditor,
	};
	let twin_state =
		TwinState { twin: &twin, report: &report_id, report_contents: &revised, feed: &new_id };
	the_consortium_upgrades_its_runtime(&nodes, &parties, dir.path(), &twin_state).await;
	stop_cleanly(&mut agent, &agent_log_tail);
}

/// The four parties' `dt`.
struct Parties<'a> {
	manufacturer: &'a Party,
	owner: &'a Party,
	maintainer: &'a Party,
	auditor: &'a Party,
}

/// What the scenario left on the chain and in the store, to find intact after the upgrade.
struct TwinState<'a> {
	twin: &'a str,
	/// The maintenance report's id and the file its latest version was uploaded from.
	report: &'a str,
	report_contents: &'a str,
	/// The feed the agent streams into.
	feed: &'a str,
}

/// --- The consortium upgrades its runtime by vote while the agent streams: refused before
/// a majority and with a code that does not raise the version, applied after 3 of 4; the
/// documents pallet's migration runs, blocks and finality go on, the twin, its documents and
/// its feeds read as before, the agent loses no reading and runs program calls signed for
/// the new runtime, and an unmodified Polkadot.js client follows the upgrade by itself ---
async fn the_consortium_upgrades_its_runtime(
	nodes: &[Node],
	parties: &Parties<'_>,
	dir: &Path,
	state: &TwinState<'_>,
) {
	let Parties { manufacturer, owner, maintainer, auditor } = *parties;
	let running = dt_runtime::VERSION.spec_version;
	let next_version = running + 1;
	let next = dt_runtime::upgrade_fixture::WASM_BINARY.expect("dt-runtime builds the fixture");
	let next_code = write_file(dir, "dt_runtime_next.compact.compressed.wasm", next);
	let current_code = write_file(
		dir,
		"dt_runtime.compact.compressed.wasm",
		dt_runtime::WASM_BINARY.expect("dt-runtime builds its Wasm"),
	);

	// A Polkadot.js client connected before the upgrade.
	let polkadotjs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/polkadotjs");
	assert!(
		polkadotjs.join("node_modules/@polkadot/api").is_dir(),
		"Polkadot.js is not installed: run `npm ci` in scripts/polkadotjs (scripts/test.sh does)"
	);
	let mut watcher = Running::start(
		Command::new("node")
			.arg(polkadotjs.join("upgrade-watch.mjs"))
			.args([nodes[3].ws_url(), next_version.to_string()]),
	);
	let mut watched: Vec<String> = Vec::new();
	wait_for("Polkadot.js to connect", Duration::from_secs(60), || {
		watched.extend(watcher.printed());
		watched
			.iter()
			.any(|line| line.contains("connected at spec version"))
			.then_some(())
	});

	// Where the feed stands before anything happens.
	let latest = maintainer.json(&["feed", "latest", state.feed, "--as", "maintainer"]);
	let first_sequence = latest["sequence"].as_u64().unwrap();

	// Refused: a code that does not raise the spec version, a proposer who is no admin.
	let stale = manufacturer.fails(&[
		"consortium",
		"propose-upgrade",
		&current_code,
		"--as",
		"manufacturer",
	]);
	assert!(stale.contains(&format!("not above the running {running}")), "{stale}");
	let not_admin =
		owner.fails(&["consortium", "propose-upgrade", &next_code, "--as", "plant-agent"]);
	assert!(not_admin.contains("consortium.NotAnAdmin"), "{not_admin}");

	let proposed =
		manufacturer.json(&["consortium", "propose-upgrade", &next_code, "--as", "manufacturer"]);
	assert_eq!(proposed["spec_version"], next_version, "{proposed}");
	let proposal = proposed["proposal"].to_string();

	// Applying before the vote: `dt` says so, and the chain refuses the code itself.
	let early = auditor.fails(&["consortium", "apply", &next_code, "--as", "auditor"]);
	assert!(early.contains("no runtime upgrade is authorized"), "{early}");
	let apply = dt_runtime::RuntimeCall::System(frame_system::Call::apply_authorized_upgrade {
		code: next.to_vec(),
	});
	let refused = nodes[3]
		.rpc()
		.await
		.submit_finalized(&dev_pair(Sr25519Keyring::Dave), apply)
		.await;
	assert_eq!(dispatch_errors(&refused.events), vec!["system.NothingAuthorized"]);

	// An approval must name the code it approves.
	let blind = owner.fails(&["consortium", "vote", &proposal, "approve", "--as", "owner"]);
	assert!(blind.contains("--code"), "{blind}");
	let approve = |party: &Party| {
		let vote = ["consortium", "vote", &proposal, "approve", "--code", &next_code];
		party.json(&[&vote[..], &["--as", party.name]].concat())
	};
	approve(owner);
	// Two of four: no majority, no upgrade.
	let short = auditor.fails(&["consortium", "execute", &proposal, "--as", "auditor"]);
	assert!(short.contains("consortium.NotEnoughApprovals"), "{short}");
	assert_eq!(spec_version(&nodes[0]).await, running);

	approve(maintainer);
	let open = auditor.json(&["consortium", "proposals"]);
	assert_eq!(open[0]["approvals"].as_array().map(Vec::len), Some(3), "{open}");
	auditor.json(&["consortium", "execute", &proposal, "--as", "auditor"]);
	let upgraded_at = now_ms();
	let applied = auditor.json(&["consortium", "apply", &next_code, "--as", "auditor"]);
	assert_eq!(applied["spec_version"], next_version, "{applied}");
	let code_block: sp_core::H256 = serde_json::from_value(applied["block"].clone()).unwrap();

	// Every partner's node runs it, and blocks go on being finalized.
	for node in nodes {
		wait_for("every node to run the new runtime", Duration::from_secs(60), || {
			let version = tokio::task::block_in_place(|| {
				tokio::runtime::Handle::current().block_on(spec_version(node))
			});
			(version == next_version).then_some(())
		});
	}
	let rpc = nodes[0].rpc().await;
	let code_number = rpc.header(Some(code_block)).await.number;
	rpc.wait_finalized(code_number + 5, Duration::from_secs(120)).await;

	// The documents pallet's migration ran in the first block of the new runtime.
	let documents_version = [
		sp_io::hashing::twox_128(b"Documents"),
		sp_io::hashing::twox_128(b":__STORAGE_VERSION__:"),
	]
	.concat();
	let first_block = rpc.block_hash(code_number + 1).await.unwrap();
	assert_eq!(rpc.storage::<u16>(documents_version.clone(), Some(code_block)).await, Some(0));
	assert_eq!(rpc.storage::<u16>(documents_version, Some(first_block)).await, Some(1));
	// Its checks hold on the scenario's state: what the documents pallet held in the code's
	// block (before) and in the first block of the new runtime (after).
	{
		use pallet_dt_documents::migrations::v1;
		let before = pallet_state(&nodes[0], b"Documents", code_block).await;
		let after = pallet_state(&nodes[0], b"Documents", first_block).await;
		let snapshot =
			sp_io::TestExternalities::new(before).execute_with(v1::snapshot::<dt_runtime::Runtime>);
		assert!(snapshot.documents.len() >= 2 && snapshot.versions.len() >= 3, "{snapshot:?}");
		sp_io::TestExternalities::new(after)
			.execute_with(|| v1::verify::<dt_runtime::Runtime>(&snapshot))
			.expect("the migration's post-upgrade checks hold on the scenario's state");
	}
	for node in nodes {
		assert!(node.log_shows("recounted the documents of every twin"), "{}", node.log_tail());
		// The node checked that the runtime APIs it calls are still those it was built for.
		let upgraded =
			format!("upgraded the runtime from spec version {running} to {next_version}");
		assert!(node.log_shows(&upgraded), "{}", node.log_tail());
		assert!(!node.log_contains("changed runtime APIs this node calls"), "{}", node.log_tail());
	}

	// The twin, its documents and its feeds, through the new runtime.
	let verified = manufacturer.json(&["verify", state.twin, "--as", "manufacturer"]);
	assert_eq!(verified["ok"], true, "{verified}");
	assert_eq!(verified["unverified"], serde_json::json!([]), "{verified}");
	let copy = dir.join("report-after-upgrade.txt");
	let copy_path = copy.to_str().unwrap();
	manufacturer.json(&[
		"doc",
		"download",
		state.twin,
		state.report,
		"-o",
		copy_path,
		"--as",
		"manufacturer",
	]);
	assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(state.report_contents).unwrap());
	let tree = owner.json(&["twin", "show", state.twin]);
	assert!(tree["elements"].as_array().is_some_and(|elements| elements.len() > 3), "{tree}");

	// The agent signs for the new runtime: it claims and reports a program call.
	let call = maintainer.json(&set_fill_volume(state.twin, "volume=600.0", true));
	assert_eq!(call["outcome"]["status"], "completed", "{call}");
	let agent_log = std::fs::read_to_string(dir.join("agent.log")).unwrap();
	assert!(
		agent_log
			.contains(&format!("upgraded the runtime to dt-ledger spec version {next_version}")),
		"the agent saw the upgrade: {agent_log}"
	);

	// It streamed on and lost no reading: every reading it took from before the proposal to
	// well after the upgrade is an entry, in sequence.
	let last = wait_for("readings after the upgrade", Duration::from_secs(60), || {
		let latest = maintainer.json(&["feed", "latest", state.feed, "--as", "maintainer"]);
		(latest["timestamp"].as_u64()? > upgraded_at + 5_000)
			.then(|| latest["sequence"].as_u64())?
	});
	let streamed = maintainer.feed_range(state.feed, first_sequence, last + 1);
	let sequences: Vec<u64> = streamed.iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
	assert_eq!(sequences, (first_sequence..=last).collect::<Vec<_>>());
	let readings = readings_logged(&dir.join("readings.log"));
	let (since, until) = (
		streamed[0]["timestamp"].as_u64().unwrap(),
		streamed.last().unwrap()["timestamp"].as_u64().unwrap(),
	);
	let taken = readings.keys().filter(|time| (since..=until).contains(*time)).count();
	assert_eq!(taken, streamed.len(), "every reading taken across the upgrade is an entry");
	for entry in &streamed {
		let taken = readings.get(&entry["timestamp"].as_u64().unwrap());
		assert_eq!(entry["value"].as_str(), taken.map(String::as_str), "{entry}");
	}

	// Polkadot.js saw the new version by itself and reads through the new metadata.
	let status = wait_for("Polkadot.js to see the upgrade", Duration::from_secs(120), || {
		watcher.child.try_wait().ok().flatten()
	});
	watched.extend(watcher.printed());
	assert!(status.success(), "{}", watched.join("\n"));
}

/// Every storage entry of a pallet at a block, read over RPC: the state a migration's checks
/// run on, as try-runtime runs them on a live chain's state.
async fn pallet_state(node: &Node, pallet: &[u8], at: sp_core::H256) -> sp_core::storage::Storage {
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let prefix = sp_io::hashing::twox_128(pallet);
	let mut top = std::collections::BTreeMap::new();
	for key in client.storage_keys(&prefix, Some(at)).await.unwrap() {
		let value: Option<String> =
			client.request("state_getStorage", rpc_params![hex0x(&key), at]).await.unwrap();
		let value = value.expect("a listed key has a value");
		top.insert(key, hex::decode(value.trim_start_matches("0x")).unwrap());
	}
	sp_core::storage::Storage { top, children_default: Default::default() }
}

/// The spec version the node's best block runs.
async fn spec_version(node: &Node) -> u32 {
	let version: Value = node.rpc().await.request("state_getRuntimeVersion", rpc_params![]).await;
	version["specVersion"].as_u64().unwrap() as u32
}

/// The names of the dispatch errors among `events`.
fn dispatch_errors(events: &[dt_runtime::RuntimeEvent]) -> Vec<String> {
	events
		.iter()
		.filter_map(|event| match event {
			dt_runtime::RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) => Some(dt_client::dispatch_error_name(dispatch_error)),
			_ => None,
		})
		.collect()
}

/// Stops the agent with SIGTERM and asserts that it ended cleanly.
fn stop_cleanly(agent: &mut Running, log_tail: &dyn Fn() -> String) {
	let pid = agent.child.id().to_string();
	Command::new("kill").args(["-TERM", &pid]).status().unwrap();
	let status = wait_for("the agent to stop", Duration::from_secs(30), || {
		agent.child.try_wait().ok().flatten()
	});
	assert!(status.success(), "{}", log_tail());
}
