//! Starts real dt-node processes on 127.0.0.1 and talks to them over JSON-RPC, building and
//! signing extrinsics with the runtime's own types (so what is tested is what clients send).

#![allow(dead_code)]

use codec::{Decode, Encode};
use dt_runtime::{AccountId, Hash, Nonce, RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use frame_system::EventRecord;
use jsonrpsee::{
	core::{
		client::{ClientT, Subscription, SubscriptionClientT},
		params::ArrayParams,
	},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_io::hashing::twox_128;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{generic::Header as GenericHeader, traits::BlakeTwo256};
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Mutex, MutexGuard, PoisonError},
	time::{Duration, Instant},
};

pub mod agent;
pub mod plant;
mod ports;

pub use ports::free_port;

/// Makes the tests of one binary that start nodes take turns: each starts several
/// processes, and the machine may have only two cores. Hold the guard for the whole test.
/// A test that failed while holding it does not stop the others.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
	static TURN: Mutex<()> = Mutex::new(());
	TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

type Header = GenericHeader<u32, BlakeTwo256>;

/// How long a node may take to start and answer RPC.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// The peer id that `--node-key 00..0N` gives, as registered in the `local` chain.
pub fn local_peer_id(index: u8) -> String {
	let bytes = dt_runtime::genesis_config_presets::LOCAL_PARTNER_NODES[usize::from(index) - 1];
	sc_network_types::PeerId::from_bytes(&bytes).expect("valid peer id").to_base58()
}

/// A 32-byte ed25519 node key whose last byte is `index`, hex encoded.
pub fn node_key(index: u8) -> String {
	let mut key = [0u8; 32];
	key[31] = index;
	hex::encode(key)
}

/// A dt-node child process; killed when dropped.
pub struct Node {
	pub name: String,
	pub base_path: PathBuf,
	pub p2p_port: u16,
	pub rpc_port: u16,
	args: Vec<String>,
	child: Option<Child>,
	log_path: PathBuf,
}

/// What a node is started with.
pub struct NodeConfig<'a> {
	pub name: &'a str,
	pub chain: &'a str,
	/// `--alice`, `--bob`, ...: the development account whose keys the node uses.
	pub dev_account: Option<&'a str>,
	pub node_key_index: u8,
	pub bootnodes: Vec<String>,
	pub base_path: &'a Path,
	pub validator: bool,
	/// Further command-line arguments.
	pub extra_args: Vec<String>,
}

impl Node {
	pub fn start(config: NodeConfig) -> Node {
		let p2p_port = free_port();
		let rpc_port = free_port();
		let mut args = vec![
			"--chain".into(),
			config.chain.into(),
			"--base-path".into(),
			config.base_path.display().to_string(),
			"--name".into(),
			config.name.into(),
			"--node-key".into(),
			node_key(config.node_key_index),
			"--listen-addr".into(),
			format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
			"--rpc-port".into(),
			rpc_port.to_string(),
			"--no-prometheus".into(),
			"--no-telemetry".into(),
			"--no-mdns".into(),
			"--rpc-cors".into(),
			"all".into(),
		];
		if let Some(account) = config.dev_account {
			args.push(format!("--{account}"));
		} else if config.validator {
			args.push("--validator".into());
		}
		for bootnode in &config.bootnodes {
			args.push("--bootnodes".into());
			args.push(bootnode.clone());
		}
		args.extend(config.extra_args);
		let log_path = config.base_path.join(format!("{}.log", config.name));
		let mut node = Node {
			name: config.name.into(),
			base_path: config.base_path.into(),
			p2p_port,
			rpc_port,
			args,
			child: None,
			log_path,
		};
		node.spawn();
		node
	}

	/// A node started with exactly `args` (a command line taken from elsewhere, such as the
	/// systemd unit), its log beside `base_path`. `rpc_port` must be the port `args` set.
	/// A `--dev` node authoring as Alice, alone, with `extra_args`.
	pub fn start_dev(name: &str, base_path: &Path, extra_args: &[&str]) -> Node {
		Node::start(NodeConfig {
			name,
			chain: "dev",
			dev_account: Some("alice"),
			node_key_index: 1,
			bootnodes: vec![],
			base_path,
			validator: true,
			extra_args: extra_args.iter().map(|arg| arg.to_string()).collect(),
		})
	}

	pub fn start_with_args(name: &str, base_path: &Path, rpc_port: u16, args: Vec<String>) -> Node {
		let log_path = base_path.with_extension("log");
		let mut node = Node {
			name: name.into(),
			base_path: base_path.into(),
			p2p_port: 0,
			rpc_port,
			args,
			child: None,
			log_path,
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		std::fs::create_dir_all(&self.base_path).unwrap();
		let log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(&self.log_path)
			.unwrap();
		let child = Command::new(env!("CARGO_BIN_EXE_dt-node"))
			.args(&self.args)
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("dt-node starts");
		self.child = Some(child);
	}

	/// The multiaddress other nodes use to reach this one.
	pub fn multiaddr(&self, peer_id: &str) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer_id}", self.p2p_port)
	}

	pub fn ws_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// Kills the process at once (SIGKILL), as a crash would.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Stops the process as an operator or systemd would (SIGTERM); whether it exited
	/// cleanly within `within`.
	pub fn terminate(mut self, within: Duration) -> bool {
		let mut child = self.child.take().expect("the node is running");
		terminate(&mut child, within).success()
	}

	/// Starts the process again with the same arguments and base path.
	pub fn restart(&mut self) {
		self.kill();
		self.spawn();
	}

	/// Whether the node's log, from its start, contains `text` now.
	pub fn log_contains(&self, text: &str) -> bool {
		std::fs::read_to_string(&self.log_path).is_ok_and(|log| log.contains(text))
	}

	/// Whether the node's log comes to contain `text` within a few seconds. A node writes
	/// its log through a buffer that another thread flushes every 50 ms, so a line logged
	/// before the node answered an RPC call may reach the file only after the answer (on a
	/// loaded machine, seconds after): a check for a line the node must have logged waits.
	pub fn log_shows(&self, text: &str) -> bool {
		let deadline = Instant::now() + Duration::from_secs(15);
		while !self.log_contains(text) {
			if Instant::now() > deadline {
				return false;
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		true
	}

	/// The last lines of the node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}

	/// Connects to the node's RPC, waiting for it to come up.
	pub async fn rpc(&self) -> Rpc {
		let deadline = Instant::now() + STARTUP_TIMEOUT;
		loop {
			if let Ok(client) = WsClientBuilder::default()
				.request_timeout(Duration::from_secs(60))
				.build(self.ws_url())
				.await
			{
				let health: Result<Value, _> = client.request("system_health", rpc_params![]).await;
				if health.is_ok() {
					return Rpc { client };
				}
			}
			if Instant::now() > deadline {
				panic!("node {} did not answer RPC in time:\n{}", self.name, self.log_tail());
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
	}
}

/// Sends `child` SIGTERM and waits for it to exit; panics if it takes longer than `within`.
pub fn terminate(child: &mut Child, within: Duration) -> std::process::ExitStatus {
	let pid = child.id().to_string();
	Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
	let deadline = Instant::now() + within;
	loop {
		if let Some(status) = child.try_wait().expect("the child can be waited for") {
			return status;
		}
		assert!(
			Instant::now() < deadline,
			"process {pid} did not stop within {within:?} of SIGTERM"
		);
		std::thread::sleep(Duration::from_millis(200));
	}
}

/// A JSON-RPC connection to one node.
pub struct Rpc {
	pub client: WsClient,
}

/// The outcome of a submitted extrinsic once its block is finalized.
pub struct Finalized {
	pub block: H256,
	pub events: Vec<RuntimeEvent>,
}

impl Rpc {
	pub async fn request<T: serde::de::DeserializeOwned>(
		&self,
		method: &str,
		params: ArrayParams,
	) -> T {
		self.client
			.request(method, params)
			.await
			.unwrap_or_else(|e| panic!("{method} failed: {e}"))
	}

	pub async fn header(&self, hash: Option<H256>) -> Header {
		self.request("chain_getHeader", rpc_params![hash]).await
	}

	pub async fn finalized_head(&self) -> H256 {
		self.request("chain_getFinalizedHead", rpc_params![]).await
	}

	pub async fn finalized_number(&self) -> u32 {
		let head = self.finalized_head().await;
		self.header(Some(head)).await.number
	}

	pub async fn best_number(&self) -> u32 {
		self.header(None).await.number
	}

	pub async fn block_hash(&self, number: u32) -> Option<H256> {
		self.request("chain_getBlockHash", rpc_params![number]).await
	}

	/// The chain's genesis hash: what signed store requests and feed entries are signed
	/// for.
	pub async fn genesis(&self) -> [u8; 32] {
		self.block_hash(0).await.expect("the chain has a genesis block").into()
	}

	/// Waits until the node has finalized block `number`.
	pub async fn wait_finalized(&self, number: u32, timeout: Duration) {
		let deadline = Instant::now() + timeout;
		loop {
			let finalized = self.finalized_number().await;
			if finalized >= number {
				return;
			}
			if Instant::now() > deadline {
				panic!("finalized only #{finalized}, wanted #{number} within {timeout:?}");
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}

	/// A storage value at a block (the best block if `at` is `None`).
	pub async fn storage<T: Decode>(&self, key: Vec<u8>, at: Option<H256>) -> Option<T> {
		let value: Option<String> = self
			.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key)), at])
			.await;
		value.map(|hex_value| {
			let bytes = hex::decode(hex_value.trim_start_matches("0x")).unwrap();
			T::decode(&mut &bytes[..]).expect("storage value decodes")
		})
	}

	pub async fn events(&self, at: H256) -> Vec<RuntimeEvent> {
		// `System::Events` is private to frame-system; its key is the usual prefix pair.
		let key = [twox_128(b"System"), twox_128(b"Events")].concat();
		let records: Vec<EventRecord<RuntimeEvent, Hash>> =
			self.storage(key, Some(at)).await.unwrap_or_default();
		records.into_iter().map(|record| record.event).collect()
	}

	pub async fn next_nonce(&self, who: &AccountId) -> Nonce {
		self.request("system_accountNextIndex", rpc_params![who.to_string()]).await
	}

	/// Signs `call` as `signer` with the right nonce, genesis and runtime version.
	pub async fn sign(&self, signer: &sr25519::Pair, call: RuntimeCall) -> UncheckedExtrinsic {
		let who: AccountId = signer.public().into();
		let nonce = self.next_nonce(&who).await;
		self.sign_with_nonce(signer, call, nonce).await
	}

	/// Signs `call` as `signer` with `nonce`: for several transactions queued at once.
	pub async fn sign_with_nonce(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		nonce: Nonce,
	) -> UncheckedExtrinsic {
		let genesis = self.block_hash(0).await.expect("genesis exists");
		let version: Value = self.request("state_getRuntimeVersion", rpc_params![]).await;
		let context = dt_client::SigningContext {
			genesis,
			spec_version: version["specVersion"].as_u64().unwrap() as u32,
			transaction_version: version["transactionVersion"].as_u64().unwrap() as u32,
		};
		context.sign(signer, call, nonce)
	}

	/// Submits an extrinsic; the error string is what the node answered if it refused it.
	pub async fn submit_watch(
		&self,
		extrinsic: &UncheckedExtrinsic,
	) -> Result<Subscription<Value>, String> {
		let hex_xt = format!("0x{}", hex::encode(extrinsic.encode()));
		self.client
			.subscribe(
				"author_submitAndWatchExtrinsic",
				rpc_params![hex_xt],
				"author_unwatchExtrinsic",
			)
			.await
			.map_err(|e| e.to_string())
	}

	/// Signs, submits and waits until the extrinsic's block is finalized.
	pub async fn submit_finalized(&self, signer: &sr25519::Pair, call: RuntimeCall) -> Finalized {
		let extrinsic = self.sign(signer, call).await;
		let mut subscription =
			self.submit_watch(&extrinsic).await.unwrap_or_else(|e| panic!("refused: {e}"));
		let deadline = Instant::now() + Duration::from_secs(120);
		loop {
			let status = tokio::time::timeout_at(deadline.into(), subscription.next())
				.await
				.expect("extrinsic finalized in time")
				.expect("subscription open")
				.expect("status decodes");
			if let Some(block) = status.get("finalized") {
				let block: H256 = serde_json::from_value(block.clone()).unwrap();
				let events = self.events(block).await;
				return Finalized { block, events };
			}
			for failure in ["invalid", "dropped", "usurped", "retracted"] {
				if status.get(failure).is_some() || status == Value::String(failure.into()) {
					panic!("extrinsic {failure}: {status}");
				}
			}
		}
	}
}

/// The sr25519 pair of a development account.
pub fn dev_pair(account: Sr25519Keyring) -> sr25519::Pair {
	account.pair()
}

/// The proof that the development account `account` holds its development RSA key (whose
/// private half is in runtime/res/dev-keys), for the chain `rpc` serves: what registering
/// the key (adding the member, admitting its organisation) asks for.
pub async fn dev_key_proof(rpc: &Rpc, account: Sr25519Keyring) -> Vec<u8> {
	use rsa::pkcs8::DecodePrivateKey;
	let name = format!("{account:?}").to_lowercase();
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
		.join("../runtime/res/dev-keys")
		.join(format!("{name}.pem"));
	let pem = std::fs::read_to_string(&path)
		.unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
	let private_key = rsa::PrivateKey::from_pkcs8_pem(&pem).expect("a development RSA key");
	let genesis = rpc.block_hash(0).await.expect("the genesis block");
	let message = dt_primitives::encryption_key::key_proof_message(
		genesis.as_ref(),
		&account.to_account_id().encode(),
	);
	dt_primitives::encryption_key::sign_key_proof(&private_key, &message).expect("signing works")
}

/// Whether the events of a block say that an extrinsic succeeded / failed.
pub fn succeeded(events: &[RuntimeEvent]) -> bool {
	events.iter().any(|event| {
		matches!(event, RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { .. }))
	}) && !failed(events)
}

pub fn failed(events: &[RuntimeEvent]) -> bool {
	events.iter().any(|event| {
		matches!(event, RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { .. }))
	})
}

/// The four partners of the `local` chain, started on loopback and connected.
pub struct LocalConsortium {
	pub nodes: Vec<Node>,
	/// Holds the nodes' base paths; removed when the consortium is dropped.
	dir: tempfile::TempDir,
}

pub const PARTNERS: [(&str, &str); 4] =
	[("manufacturer", "alice"), ("owner", "bob"), ("maintainer", "charlie"), ("auditor", "dave")];

impl LocalConsortium {
	pub fn start() -> LocalConsortium {
		let dir = tempfile::tempdir().unwrap();
		let nodes = start_partners(dir.path(), |_| Vec::new());
		LocalConsortium { nodes, dir }
	}

	pub fn dir(&self) -> &Path {
		self.dir.path()
	}
}

/// `bytes` as JSON-RPC takes them: `0x` and lowercase hex.
pub fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// The `signedAction` of `store_putBlock` for `bytes`: a put signed by `signer` for the
/// chain `genesis`, hex.
pub fn signed_put(bytes: &[u8], signer: &sr25519::Pair, genesis: &[u8; 32]) -> String {
	use dt_offchain::{
		content_id::Cid,
		network::{Action, SignedAction},
	};
	let action = Action::PutBlock { block: Cid::of(bytes) };
	hex0x(&SignedAction::sign(action, signer, genesis).encode())
}

/// `store_putBlock`'s parameters for `bytes` put by `signer` on the chain `genesis`.
pub fn put_params(bytes: &[u8], signer: &sr25519::Pair, genesis: &[u8; 32]) -> ArrayParams {
	rpc_params![hex0x(bytes), signed_put(bytes, signer, genesis)]
}

/// Retries `attempt` every half second until it succeeds, for at most `timeout`: the store's
/// peers find each other, and the nodes import a registration, a moment after they answer
/// RPC.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut attempt: F) -> T
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = Result<T, jsonrpsee::core::ClientError>>,
{
	let deadline = Instant::now() + timeout;
	loop {
		match attempt().await {
			Ok(value) => return value,
			Err(error) if Instant::now() < deadline => {
				eprintln!("retrying {what}: {error}");
				tokio::time::sleep(Duration::from_millis(500)).await;
			},
			Err(error) => panic!("{what} never succeeded: {error}"),
		}
	}
}

/// The local consortium's four partner nodes, validators under `dir`, the first the others'
/// bootnode; `extra_args(index)` adds the arguments of the node at `index`.
fn start_partners(dir: &Path, extra_args: impl Fn(usize) -> Vec<String>) -> Vec<Node> {
	let mut nodes: Vec<Node> = Vec::new();
	for (index, (name, account)) in PARTNERS.iter().enumerate() {
		let bootnodes = nodes
			.first()
			.map(|first| vec![first.multiaddr(&local_peer_id(1))])
			.unwrap_or_default();
		nodes.push(Node::start(NodeConfig {
			name,
			chain: "local",
			dev_account: Some(account),
			node_key_index: index as u8 + 1,
			bootnodes,
			base_path: &dir.join(name),
			validator: true,
			extra_args: extra_args(index),
		}));
	}
	nodes
}

/// The local consortium's nodes with the store's network open, each told every other
/// partner's store address (as an operator lists the partners' endpoints).
pub fn start_store_consortium(dir: &Path) -> Vec<Node> {
	let store_ports: Vec<u16> = PARTNERS.iter().map(|_| free_port()).collect();
	start_partners(dir, |index| {
		let mut args = vec![
			"--store-listen".to_string(),
			format!("/ip4/127.0.0.1/tcp/{}", store_ports[index]),
		];
		for (other, port) in store_ports.iter().enumerate().filter(|(other, _)| *other != index) {
			args.push("--store-bootnode".into());
			args.push(format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", local_peer_id(other as u8 + 1)));
		}
		args
	})
}

/// A binary of the workspace (`dt`, `dt-agent`), built now so that the test runs the
/// current code. It is built by scripts/build.sh, as the scripts build it, into this test's
/// target directory, so one compilation serves the tests and the scripts; cargo does
/// nothing when it is up to date.
pub fn workspace_binary(binary: &str) -> PathBuf {
	let test_binary = std::env::current_exe().unwrap();
	let profile_dir = test_binary.parent().unwrap().parent().unwrap();
	let target_dir = profile_dir.parent().unwrap();
	let output = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/build.sh"))
		.env("CARGO_TARGET_DIR", target_dir)
		.stderr(Stdio::inherit())
		.output()
		.expect("scripts/build.sh runs");
	assert!(output.status.success(), "{binary} builds");
	let built_into = String::from_utf8(output.stdout).unwrap();
	assert_eq!(Path::new(built_into.trim_end()), profile_dir, "built into the test's own profile");
	let path = profile_dir.join(binary);
	assert!(path.is_file(), "{} exists", path.display());
	path
}
