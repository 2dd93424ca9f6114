//! Peak memory and throughput of one large document (1 GiB by default) over the networked
//! store: four partner nodes on loopback (k = 1, so every block goes to three of them).
//!
//! ```text
//! cargo run --release -p dt-offchain --example large_document             # 1 GiB
//! cargo run --release -p dt-offchain --example large_document -- --mib 256 # another size
//! ```
//!
//! The plaintext is generated as it is read (never held in memory) and hashed with SHA-256
//! on the way into `put_document` on node A; node C then fetches the version
//! (`fetch_document`) and reads it back through `open_document`, hashing the plaintext it
//! yields; the two digests must match. The nodes keep their stores in a temporary
//! directory under `$TMPDIR` (or `DT_BENCH_DIR`), removed at the end: about 3.5 times the
//! document's size while it runs (three replicas, plus the writer's and the reader's
//! copies of the blocks they do not replicate).
//!
//! Memory: the process's peak resident set (VmHWM of `/proc/self/status`) is printed before
//! the document, after the put and after the get. Linux lets a process reset its peak
//! (`5` written to `/proc/self/clear_refs`), so each phase's own peak is printed as well
//! when the kernel allows it. Running two sizes shows whether the peak follows the size.

use std::{
	collections::BTreeMap,
	io::{self, Read},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use dt_offchain::{
	crypto::{ReaderPrivateKey, ReaderPublicKey},
	feed::FeedId,
	network::{
		AccessPolicy, AclChange, AclOp, Action, ItemId, Keypair, Multiaddr, PartnerDirectory,
		PeerId, SignedAction, StoreConfig, StoreHandle, StoreNode,
	},
	uploads::UploadLimits,
	GenesisHash,
};
use dt_primitives::OrganisationId;
use sha2::{Digest, Sha256};
use sp_core::{sr25519, Pair as _};

const BOB_PEM: &[u8] = include_bytes!("../../runtime/res/dev-keys/bob.pem");
const MIB: u64 = 1 << 20;

struct Partners(Vec<PeerId>);

impl PartnerDirectory for Partners {
	fn partners(&self) -> Vec<PeerId> {
		self.0.clone()
	}
}

/// Alice manages the document, Bob reads it; no feeds.
struct Ledger {
	manager: sr25519::Public,
	reader: sr25519::Public,
	reader_key: ReaderPublicKey,
}

impl AccessPolicy for Ledger {
	fn may_manage(&self, account: &sr25519::Public, _item: &ItemId) -> bool {
		*account == self.manager
	}

	fn reader_key(&self, account: &sr25519::Public) -> Option<ReaderPublicKey> {
		(*account == self.reader).then(|| self.reader_key.clone())
	}

	fn feed_owner(&self, _feed: FeedId) -> Option<sr25519::Public> {
		None
	}

	fn feed_appender(&self, _feed: FeedId) -> Option<sr25519::Public> {
		None
	}

	/// Everyone here is a member of one organisation.
	fn organisation_of(&self, _account: &sr25519::Public) -> Option<OrganisationId> {
		Some(0)
	}
}

/// The chain the example's partners serve.
const GENESIS: GenesisHash = [1; 32];

/// Counts the warnings and errors the store logs during the run: a figure obtained while
/// replicas failed, or records were refused, is not the figure of a healthy run.
struct WarningTally(Mutex<BTreeMap<String, u64>>);

static WARNINGS: WarningTally = WarningTally(Mutex::new(BTreeMap::new()));

impl log::Log for WarningTally {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::Level::Warn
	}

	fn log(&self, record: &log::Record) {
		if !self.enabled(record.metadata()) {
			return;
		}
		// Messages differ by the ids they name; the first words tell them apart enough.
		let message = record.args().to_string();
		let kind: String = message.chars().take(60).collect();
		*self.0.lock().expect("not poisoned").entry(kind).or_default() += 1;
	}

	fn flush(&self) {}
}

/// What the writer saw of its input once it was read to the end.
#[derive(Clone, Copy)]
struct WrittenInput {
	sha256: [u8; 32],
	/// When the input ran out: the end of local encryption and storage, before the
	/// replication of the blocks starts.
	exhausted_at: Instant,
}

/// `left` pseudo-random bytes (xorshift64) produced as they are read, hashed on the way;
/// the digest is published when the input runs out.
struct GeneratedInput {
	state: u64,
	left: u64,
	hasher: Sha256,
	done: Arc<Mutex<Option<WrittenInput>>>,
}

impl Read for GeneratedInput {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		let n = out.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
		if n == 0 {
			let mut done = self.done.lock().expect("not poisoned");
			if done.is_none() {
				let sha256 = std::mem::take(&mut self.hasher).finalize().into();
				*done = Some(WrittenInput { sha256, exhausted_at: Instant::now() });
			}
			return Ok(0);
		}
		for word in out[..n].chunks_mut(8) {
			self.state ^= self.state << 13;
			self.state ^= self.state >> 7;
			self.state ^= self.state << 17;
			word.copy_from_slice(&self.state.to_le_bytes()[..word.len()]);
		}
		self.hasher.update(&out[..n]);
		self.left -= n as u64;
		Ok(n)
	}
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	let line = status.lines().find(|line| line.starts_with(field))?;
	line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
	kib.map_or_else(|| "n/a".into(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
}

/// Sets the peak resident set back to the current one, so the next reading is a phase's
/// own peak. False where the kernel does not allow it.
fn reset_peak() -> bool {
	std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn free_address() -> Multiaddr {
	let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
	format!("/ip4/127.0.0.1/tcp/{}", probe.local_addr().expect("bound").port())
		.parse()
		.expect("a valid address")
}

fn size_from_args() -> Result<u64, String> {
	let mut args = std::env::args().skip(1);
	let mut mib = 1024;
	while let Some(arg) = args.next() {
		match arg.as_str() {
			"--mib" => {
				let value = args.next().ok_or("--mib needs a number of MiB")?;
				mib = value
					.parse::<u64>()
					.ok()
					.filter(|mib| *mib > 0)
					.ok_or(format!("--mib {value}: not a positive number of MiB"))?;
			},
			other => return Err(format!("unknown argument {other}; usage: [--mib N]")),
		}
	}
	Ok(mib * MIB)
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
	bytes as f64 / 1e6 / time.as_secs_f64()
}

async fn start_partners(
	ledger: Arc<Ledger>,
	root: &std::path::Path,
) -> Result<Vec<StoreHandle>, Box<dyn std::error::Error>> {
	let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate_ed25519()).collect();
	let partners = Arc::new(Partners(keys.iter().map(|k| k.public().to_peer_id()).collect()));
	let mut nodes: Vec<StoreHandle> = Vec::new();
	for (index, key) in keys.iter().enumerate() {
		let data_dir = root.join(format!("node-{index}"));
		std::fs::create_dir(&data_dir)?;
		nodes.push(
			StoreNode::start(StoreConfig {
				listen: free_address(),
				keypair: key.clone(),
				data_dir,
				k: 1,
				bootstrap: Vec::new(),
				directory: partners.clone(),
				policy: ledger.clone(),
				genesis: GENESIS,
				uploads: UploadLimits::default(),
			})
			.await?,
		);
	}
	for node in &nodes {
		for other in &nodes {
			if other.peer_id() != node.peer_id() {
				node.add_address(other.peer_id(), other.listen_addr().clone());
			}
		}
	}
	Ok(nodes)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
	let size = size_from_args()?;
	log::set_logger(&WARNINGS).map_err(|error| error.to_string())?;
	log::set_max_level(log::LevelFilter::Warn);
	let alice = sr25519::Pair::from_string("//Alice", None)?;
	let bob = sr25519::Pair::from_string("//Bob", None)?;
	let bob_rsa = ReaderPrivateKey::from_file_contents(BOB_PEM)?;
	let ledger = Arc::new(Ledger {
		manager: alice.public(),
		reader: bob.public(),
		reader_key: bob_rsa.public_key().clone(),
	});
	let parent = std::env::var_os("DT_BENCH_DIR")
		.map(Into::into)
		.unwrap_or_else(std::env::temp_dir);
	let root = tempfile::tempdir_in(parent)?;
	let nodes = start_partners(ledger, root.path()).await?;
	let (a, c) = (&nodes[0], &nodes[2]);
	let item = ItemId::from_name(b"large document");
	let add_bob = AclChange { item, base_version: 0, op: AclOp::AddReader(bob.public()) };
	a.change_acl(SignedAction::sign(Action::ChangeAcl(add_bob), &alice, &GENESIS))
		.await?;

	println!(
		"4 partner nodes on 127.0.0.1 in this process, k = 1 (3 replicas, quorum 2); stores in {}",
		root.path().display()
	);
	let before_hwm = status_kib("VmHWM:");
	println!("before the document: VmHWM {}, VmRSS {}", mib(before_hwm), mib(status_kib("VmRSS:")));
	let phase_peaks = reset_peak();

	// Put on A: encrypt and store locally, replicate every block, publish the envelope.
	let written = Arc::new(Mutex::new(None));
	let input = GeneratedInput {
		state: 0x9e37_79b9_7f4a_7c15,
		left: size,
		hasher: Sha256::new(),
		done: written.clone(),
	};
	let started = Instant::now();
	let stored = a.put_document(input, vec![bob_rsa.public_key().clone()], &alice).await?;
	let publish = Action::WriteEnvelope { item, envelope: stored.key_envelope };
	a.publish_envelope(SignedAction::sign(publish, &alice, &GENESIS)).await?;
	let put_time = started.elapsed();
	let written = written
		.lock()
		.expect("not poisoned")
		.ok_or("the input was not read to its end")?;
	let put_hwm = status_kib("VmHWM:");
	let mut process_peak = before_hwm.max(put_hwm);
	println!(
		"after the put: VmHWM {}{}, VmRSS {}; process peak so far {}",
		mib(put_hwm),
		if phase_peaks { " (this phase's peak)" } else { "" },
		mib(status_kib("VmRSS:")),
		mib(process_peak)
	);
	println!(
		"  put on A: {:.1} s encrypting and storing locally, {:.1} s replicating and publishing",
		(written.exhausted_at - started).as_secs_f64(),
		put_time.saturating_sub(written.exhausted_at - started).as_secs_f64()
	);
	reset_peak();

	// Get on C: signed envelope request, fetch the blocks C lacks, decrypt while hashing.
	let started = Instant::now();
	let read = Action::ReadEnvelope { item, envelope: stored.key_envelope };
	let envelope = c.get_envelope(SignedAction::sign(read, &bob, &GENESIS)).await?;
	c.fetch_document(stored.content_id).await?;
	let fetch_time = started.elapsed();
	let reader_node = c.clone();
	let content_id = stored.content_id;
	let (read_len, read_sha256) =
		tokio::task::spawn_blocking(move || -> Result<(u64, [u8; 32]), String> {
			let mut reader = reader_node
				.open_document(&content_id, &envelope, &bob_rsa)
				.map_err(|error| error.to_string())?;
			let mut hasher = Sha256::new();
			let mut buffer = vec![0u8; 256 * 1024];
			let mut total = 0u64;
			loop {
				match reader.read(&mut buffer).map_err(|error| error.to_string())? {
					0 => return Ok((total, hasher.finalize().into())),
					n => {
						hasher.update(&buffer[..n]);
						total += n as u64;
					},
				}
			}
		})
		.await??;
	let get_time = started.elapsed();
	let get_hwm = status_kib("VmHWM:");
	process_peak = process_peak.max(get_hwm);
	println!(
		"after the get: VmHWM {}{}, VmRSS {}; process peak so far {}",
		mib(get_hwm),
		if phase_peaks { " (this phase's peak)" } else { "" },
		mib(status_kib("VmRSS:")),
		mib(process_peak)
	);
	println!(
		"  get on C: {:.1} s fetching the blocks, {:.1} s decrypting and hashing",
		fetch_time.as_secs_f64(),
		(get_time - fetch_time).as_secs_f64()
	);
	if read_len != size || read_sha256 != written.sha256 {
		return Err(format!(
			"read back {read_len} bytes with SHA-256 {}, wrote {size} bytes with SHA-256 {}",
			hex::encode(read_sha256),
			hex::encode(written.sha256)
		)
		.into());
	}
	println!("SHA-256 of the plaintext, written on A and read on C: {}", hex::encode(read_sha256));

	println!();
	println!("| Size | put s | put MB/s | get s | get MB/s | peak RSS before | put | get |");
	println!("|---|---|---|---|---|---|---|---|");
	println!(
		"| {} MiB | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
		size / MIB,
		put_time.as_secs_f64(),
		mb_per_s(size, put_time),
		get_time.as_secs_f64(),
		mb_per_s(size, get_time),
		mib(before_hwm),
		mib(put_hwm),
		mib(get_hwm),
	);
	let warnings = WARNINGS.0.lock().expect("not poisoned").clone();
	println!();
	println!("warnings logged by the store nodes: {}", warnings.values().sum::<u64>());
	for (kind, count) in warnings {
		println!("  {count} × {kind}…");
	}
	for node in nodes {
		node.shutdown().await?;
	}
	root.close()?;
	Ok(())
}
