//! The operator guide's service set-up, done as a partner would: a node key from
//! `dt-node key generate-node-key`, the consortium's chain spec from `dt-node
//! consortium-spec`, the session keys inserted with `dt-node key insert`, then dt-node
//! started with exactly the command line of scripts/systemd/dt-node.service, its variables
//! taken from the example dt-node.env as systemd expands them (only the paths moved into a
//! temporary directory and the ports made free). The node must author and finalize blocks
//! and open its store port; then it must stop on SIGTERM well within the unit's stop
//! timeout.

mod common;

use common::*;
use sp_core::{crypto::Ss58Codec, ed25519, sr25519, Pair};
use std::{
	collections::HashMap,
	net::TcpStream,
	path::{Path, PathBuf},
	process::Command,
	time::{Duration, Instant},
};

fn repository_file(relative: &str) -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// The unit's `ExecStart=` with its continuation lines joined, split into words.
fn exec_start(unit: &str) -> Vec<String> {
	let joined = unit.replace("\\\n", " ");
	let line = joined
		.lines()
		.find_map(|line| line.strip_prefix("ExecStart="))
		.expect("the unit has an ExecStart line");
	line.split_whitespace().map(str::to_string).collect()
}

/// `KEY=VALUE` lines of an environment file, comments and blank lines skipped.
fn environment_file(text: &str) -> HashMap<String, String> {
	text.lines()
		.map(str::trim)
		.filter(|line| !line.is_empty() && !line.starts_with('#'))
		.map(|line| {
			let (key, value) = line.split_once('=').expect("KEY=VALUE");
			(key.to_string(), value.to_string())
		})
		.collect()
}

/// systemd's expansion: `${VAR}` is the value as one word, a word that is exactly `$VAR`
/// becomes the value split at whitespace.
fn expand(words: &[String], env: &HashMap<String, String>) -> Vec<String> {
	let mut expanded = Vec::new();
	for word in words {
		if let Some(name) = word.strip_prefix('$').filter(|name| !name.starts_with('{')) {
			let value = env.get(name).unwrap_or_else(|| panic!("${name} is not in the env file"));
			expanded.extend(value.split_whitespace().map(str::to_string));
			continue;
		}
		let mut word = word.clone();
		while let Some(start) = word.find("${") {
			let end = start + word[start..].find('}').expect("a closed ${...}");
			let name = &word[start + 2..end];
			let value =
				env.get(name).unwrap_or_else(|| panic!("${{{name}}} is not in the env file"));
			word.replace_range(start..=end, value);
		}
		expanded.push(word);
	}
	expanded
}

fn dt_node(args: &[&str]) -> std::process::Output {
	let output = Command::new(env!("CARGO_BIN_EXE_dt-node")).args(args).output().unwrap();
	assert!(
		output.status.success(),
		"dt-node {args:?} failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	output
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_node_runs_from_the_systemd_unit_and_the_operator_guides_steps() {
	let dir = tempfile::tempdir().unwrap();
	let etc = dir.path().join("etc/dt-node");
	let state = dir.path().join("var/lib/dt-node");
	std::fs::create_dir_all(&etc).unwrap();

	// The operator guide's steps.
	let node_key = etc.join("node-key");
	let generated = dt_node(&["key", "generate-node-key", "--file", node_key.to_str().unwrap()]);
	let peer_id = String::from_utf8_lossy(&generated.stderr).trim().to_string();
	assert!(peer_id.starts_with("12D3KooW"), "the peer id to register: {peer_id}");
	let alice_sr = sr25519::Pair::from_string("//Alice", None).unwrap().public().to_ss58check();
	let alice_ed = ed25519::Pair::from_string("//Alice", None).unwrap().public().to_ss58check();
	std::fs::copy(repository_file("runtime/res/dev-keys/alice.der"), etc.join("admin.der"))
		.unwrap();
	let partners = serde_json::json!({
		"name": "Service test consortium",
		"id": "service_test",
		"partners": [{
			"organisation": "Manufacturer",
			"role": "Manufacturer",
			"admin": alice_sr,
			"encryptionKeyFile": "admin.der",
			"validator": { "aura": alice_sr, "grandpa": alice_ed },
			"peerId": peer_id,
		}],
	});
	let partners_file = etc.join("partners.json");
	std::fs::write(&partners_file, serde_json::to_vec_pretty(&partners).unwrap()).unwrap();
	let spec =
		dt_node(&["consortium-spec", "--partners", partners_file.to_str().unwrap(), "--raw"]);
	let spec_file = etc.join("consortium-raw.json");
	std::fs::write(&spec_file, &spec.stdout).unwrap();
	for (key_type, scheme) in [("aura", "sr25519"), ("gran", "ed25519")] {
		dt_node(&[
			"key",
			"insert",
			"--base-path",
			state.to_str().unwrap(),
			"--chain",
			spec_file.to_str().unwrap(),
			"--key-type",
			key_type,
			"--scheme",
			scheme,
			"--suri",
			"//Alice",
		]);
	}

	// The unit's command line with the example env file, as systemd expands it.
	let unit = std::fs::read_to_string(repository_file("scripts/systemd/dt-node.service")).unwrap();
	let mut env = environment_file(
		&std::fs::read_to_string(repository_file("scripts/systemd/dt-node.env")).unwrap(),
	);
	assert!(unit.contains("EnvironmentFile=/etc/dt-node/dt-node.env"));
	let (p2p, store, rpc) = (free_port(), free_port(), free_port());
	for (name, port) in [("DT_P2P_PORT", p2p), ("DT_STORE_PORT", store), ("DT_RPC_PORT", rpc)] {
		env.insert(name.into(), port.to_string());
	}
	env.insert("DT_PROMETHEUS_PORT".into(), free_port().to_string());
	let command = expand(&exec_start(&unit), &env);
	assert_eq!(command[0], "/usr/local/bin/dt-node");
	let args: Vec<String> = command[1..]
		.iter()
		.map(|word| {
			word.replace("/etc/dt-node", etc.to_str().unwrap())
				.replace("/var/lib/dt-node", state.to_str().unwrap())
		})
		.collect();
	assert!(args.contains(&"--validator".to_string()), "the example env validates: {args:?}");

	let node = Node::start_with_args("systemd-unit", &state, rpc, args);
	let rpc_client = node.rpc().await;
	let chain: String = rpc_client.request("system_chain", jsonrpsee::rpc_params![]).await;
	assert_eq!(chain, "Service test consortium");
	let local_peer: String =
		rpc_client.request("system_localPeerId", jsonrpsee::rpc_params![]).await;
	assert_eq!(local_peer, peer_id, "the node key file is the one the unit names");
	rpc_client.wait_finalized(2, Duration::from_secs(90)).await;
	assert!(TcpStream::connect(("127.0.0.1", store)).is_ok(), "the store listens on DT_STORE_PORT");
	assert!(node.log_shows("Service test consortium"), "{}", node.log_tail());

	// Stopping as systemd does (SIGTERM), well within TimeoutStopSec.
	let timeout: u64 = unit
		.lines()
		.find_map(|line| line.strip_prefix("TimeoutStopSec="))
		.expect("a stop timeout")
		.parse()
		.unwrap();
	let stop_started = Instant::now();
	assert!(node.terminate(Duration::from_secs(timeout)), "dt-node exits cleanly on SIGTERM");
	println!("dt-node stopped {:?} after SIGTERM", stop_started.elapsed());
}
