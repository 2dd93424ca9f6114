//! What the tests of `dt` share: a real `dt-node` on free local ports (stopped on drop) and
//! `dt` run as a process against it with its own keystore.
//!
//! The node binary comes from `DT_NODE_BIN`, else `$CARGO_TARGET_DIR/debug/dt-node` (else
//! `target/debug/dt-node` of the workspace); the tests build nothing themselves. Without a
//! node binary they fail, saying so.

// Each test binary uses its own part of the harness.
#![allow(dead_code)]

use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	time::{Duration, Instant},
};

// The node tests' ports module: one way of choosing ports for every test that starts nodes.
#[path = "../../../../node/tests/common/ports.rs"]
mod ports;

pub use ports::free_port;

/// The passphrase every test key is stored under.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// The dt-node binary the tests run.
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("DT_NODE_BIN") {
		return path.into();
	}
	let target = std::env::var_os("CARGO_TARGET_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
	let path = target.join("debug/dt-node");
	assert!(
		path.exists(),
		"no dt-node at {}: build it (scripts/build.sh) or set DT_NODE_BIN",
		path.display()
	);
	path
}

/// A development chain node (`--chain dev --alice`: Alice is the only partner, Bob a member
/// of her organisation, Charlie nobody), killed when dropped.
pub struct Node {
	child: Child,
	/// Its WebSocket RPC address.
	pub url: String,
	/// Its `--base-path` (the off-chain store is under `offchain/`).
	pub base_path: PathBuf,
	log: PathBuf,
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Node {
	/// Starts a node whose base path and log live in `dir`.
	pub fn start(dir: &Path) -> Node {
		let rpc_port = free_port();
		let log = dir.join("node.log");
		let base_path = dir.join("node");
		let child = Command::new(node_binary())
			.args(["--chain", "dev", "--alice", "--base-path"])
			.arg(&base_path)
			.args(["--node-key", &format!("{:064x}", 1)])
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{}", free_port())])
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdout(Stdio::null())
			.stderr(std::fs::File::create(&log).unwrap())
			.spawn()
			.expect("dt-node starts");
		Node { child, url: format!("ws://127.0.0.1:{rpc_port}"), base_path, log }
	}

	/// The last lines of the node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		let log = std::fs::read_to_string(&self.log).unwrap_or_default();
		log.lines()
			.rev()
			.take(30)
			.collect::<Vec<_>>()
			.into_iter()
			.rev()
			.collect::<Vec<_>>()
			.join("\n")
	}

	/// The directory of the node's off-chain blocks (`<shard>/<content id>` files).
	pub fn blocks_dir(&self) -> PathBuf {
		self.base_path.join("offchain/blocks/blocks")
	}
}

/// `dt` with its own keystore, talking to one node.
pub struct Dt<'a> {
	pub node: &'a Node,
	pub keystore: PathBuf,
}

impl Dt<'_> {
	/// Runs `dt` with `passphrase` in `DT_PASSPHRASE`.
	pub fn run_with(&self, passphrase: &str, args: &[&str]) -> Output {
		Command::new(env!("CARGO_BIN_EXE_dt"))
			.args(["--node", &self.node.url])
			.args(args)
			.env("DT_KEYSTORE", &self.keystore)
			.env("DT_PASSPHRASE", passphrase)
			.stdin(Stdio::null())
			.output()
			.expect("dt runs")
	}

	/// Runs `dt`, asserting success; its standard output.
	pub fn ok(&self, args: &[&str]) -> String {
		let output = self.run_with(PASSPHRASE, args);
		assert!(
			output.status.success(),
			"dt {args:?} failed: {}\n{}\nnode log:\n{}",
			String::from_utf8_lossy(&output.stderr),
			String::from_utf8_lossy(&output.stdout),
			self.node.log_tail()
		);
		String::from_utf8(output.stdout).unwrap()
	}

	/// Runs `dt --json`, asserting success; the JSON it printed.
	pub fn json(&self, args: &[&str]) -> Value {
		let mut all = vec!["--json"];
		all.extend_from_slice(args);
		let out = self.ok(&all);
		serde_json::from_str(&out)
			.unwrap_or_else(|e| panic!("dt {args:?} printed no JSON ({e}): {out}"))
	}

	/// Runs `dt`, asserting failure; its standard error.
	pub fn fails_with(&self, passphrase: &str, args: &[&str]) -> String {
		let output = self.run_with(passphrase, args);
		assert!(
			!output.status.success(),
			"dt {args:?} succeeded: {}",
			String::from_utf8_lossy(&output.stdout)
		);
		String::from_utf8(output.stderr).unwrap()
	}

	/// Runs `dt` with the usual passphrase, asserting failure; its standard error.
	pub fn fails(&self, args: &[&str]) -> String {
		self.fails_with(PASSPHRASE, args)
	}

	/// Waits until the node answers `dt` (its RPC is up and the runtime readable).
	pub fn wait_for_node(&self) {
		let deadline = Instant::now() + Duration::from_secs(180);
		while !self.run_with(PASSPHRASE, &["twin", "list"]).status.success() {
			assert!(
				Instant::now() < deadline,
				"the node's RPC never came up:\n{}",
				self.node.log_tail()
			);
			std::thread::sleep(Duration::from_millis(500));
		}
	}
}

/// The CandyFactory example twin shipped with the project.
pub fn candy_factory() -> PathBuf {
	dt_aml::examples::example_file("CandyFactory.aml")
}
