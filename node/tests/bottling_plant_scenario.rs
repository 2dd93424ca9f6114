//! The bottling-plant scenario of the mission, end to end on real processes: the local
//! consortium's four partner nodes with the off-chain store's network, one `dt-agent` at the
//! owner's site, and `dt` as each party, each against its own node.
//!
//! 1. The owner creates the twin from the manufacturer's AML file, grants the roles, lets the
//!    device rewrite the first filling station's part of the specification, and stores the
//!    secret blueprint.
//! 2. The agent streams the fill-level sensor into its feed; the sensor is exchanged and the
//!    agent replaces its element and feed on chain by itself; the new feed streams.
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
//!    can read neither that version nor the earlier one.

mod common;

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
	let rpc = node.rpc().await;
	let document: u64 = document.parse().expect("a document id");
	let item: String = rpc.request("store_documentItem", rpc_params![document]).await;
	let acl: Value = rpc.request("store_acl", rpc_params![item]).await;
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
	// The device agent's account joins the owner's organisation.
	owner.json(&["key", "import", "plant-agent", "--suri", AGENT_URI]);
	owner.json(&["member", "add", "plant-agent", "--as", "owner"]);

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
	owner.json(&[
		"access",
		"permissions",
		&twin,
		"device",
		"--add",
		"write-spec:filling-station-1",
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
	let agent_log = std::fs::File::create(dir.path().join("agent.log")).unwrap();
	let mut agent = Running::start(
		Command::new(&agent_binary)
			.args(["--node", &nodes[1].ws_url(), "--twin", &twin])
			.args(["--station", "filling-station-1"])
			.args(["--sensor", "filling-station-1=fill-level-sensor-1"])
			.args(["--register-feeds", "--sample-interval", "200ms", "--batch-interval", "500ms"])
			.args(["--checkpoint-interval", "3s", "--replace-sensor-after", "15s"])
			.arg("--data-dir")
			.arg(dir.path().join("agent-data"))
			.env("DT_AGENT_KEY", AGENT_URI)
			.stderr(agent_log),
	);
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
		let latest = maintainer.json(&["feed", "latest", &new_id]);
		latest["sequence"].is_number().then_some(())
	});

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
	// Everyone cleared for confidential data, but not the device, is on the report's list.
	let report_readers = accounts(&[
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
	]);
	assert_eq!(reader_list(&nodes[3], &report_id).await, report_readers);
	assert_eq!(report_doc["reader_list"]["added"].as_array().unwrap().len(), 4, "{report_doc}");

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
	let from = final_checkpoint.saturating_sub(9).to_string();
	let to = (final_checkpoint + 1).to_string();
	let last_readings =
		manufacturer.json(&["feed", "range", &old_id, "--from", &from, "--to", &to]);
	let last_readings = last_readings["entries"].as_array().expect("a list of readings");
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
	let verified = auditor.json(&["verify", &twin]);
	assert_eq!(verified["ok"], true, "{verified}");
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

	// --- Revocation: the auditor loses its role; the report's next version re-keys ---
	owner.json(&["access", "revoke", &twin, "//Dave", "auditor", "--as", "owner"]);
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
	let remaining =
		accounts(&[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]);
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

	// The agent stops cleanly.
	let pid = agent.child.id().to_string();
	Command::new("kill").args(["-TERM", &pid]).status().unwrap();
	let status = wait_for("the agent to stop", Duration::from_secs(30), || {
		agent.child.try_wait().ok().flatten()
	});
	assert!(status.success(), "{}", agent_log_tail());
}
