//! Throughput of the networked store among four partner nodes on loopback (k = 1, so every
//! block goes to three of them), and the latency of live feed delivery.
//!
//! ```text
//! cargo run --release -p dt-offchain --example network_bench
//! ```
//!
//! Document put (on A) = encrypt under a fresh key, store every block on A, replicate each
//! to its three replicas (each fsyncs before acknowledging), publish the key envelope to
//! the item's replicas. Get (on D) = signed envelope request, fetch the blocks D lacks from
//! their replicas (verified), decrypt. With four partners and three replicas D itself holds
//! about three quarters of the blocks, as any partner would. Feed latency: one-entry
//! batches appended on A, each acknowledged by a quorum of the feed's replicas, received by
//! a subscriber on D; from the append call to the entry coming out of D's subscription.

use std::{
	collections::HashMap,
	io::{self, Read},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use dt_offchain::{
	crypto::{ReaderPrivateKey, ReaderPublicKey},
	feed::{FeedId, FeedWriter, SignedBatch},
	network::{
		AccessPolicy, AclChange, AclOp, Action, ItemId, Keypair, Multiaddr, PartnerDirectory,
		PeerId, SignedAction, StoreConfig, StoreHandle, StoreNode,
	},
	uploads::UploadLimits,
	GenesisHash,
};
use dt_primitives::OrganisationId;
use sp_core::{sr25519, Pair as _};

const BOB_PEM: &[u8] = include_bytes!("../../runtime/res/dev-keys/bob.pem");
const FEED: FeedId = 1;
const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

struct Partners(Vec<PeerId>);

impl PartnerDirectory for Partners {
	fn partners(&self) -> Vec<PeerId> {
		self.0.clone()
	}
}

struct Ledger {
	manager: sr25519::Public,
	reader: sr25519::Public,
	reader_key: ReaderPublicKey,
	device: sr25519::Public,
}

impl AccessPolicy for Ledger {
	fn may_manage(&self, account: &sr25519::Public, _item: &ItemId) -> bool {
		*account == self.manager
	}

	fn reader_key(&self, account: &sr25519::Public) -> Option<ReaderPublicKey> {
		(*account == self.reader).then(|| self.reader_key.clone())
	}

	fn feed_owner(&self, feed: FeedId) -> Option<sr25519::Public> {
		(feed == FEED).then_some(self.device)
	}

	fn feed_appender(&self, feed: FeedId) -> Option<sr25519::Public> {
		self.feed_owner(feed)
	}

	/// Everyone here is a member of one organisation.
	fn organisation_of(&self, _account: &sr25519::Public) -> Option<OrganisationId> {
		Some(0)
	}
}

/// The chain the benchmark's partners serve.
const GENESIS: GenesisHash = [1; 32];

/// `len` pseudo-random bytes produced as they are read.
struct Input {
	state: u64,
	left: usize,
}

impl Read for Input {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		let n = out.len().min(self.left);
		for byte in &mut out[..n] {
			self.state ^= self.state << 13;
			self.state ^= self.state >> 7;
			self.state ^= self.state << 17;
			*byte = self.state as u8;
		}
		self.left -= n;
		Ok(n)
	}
}

fn free_address() -> Multiaddr {
	let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
	format!("/ip4/127.0.0.1/tcp/{}", probe.local_addr().expect("bound").port())
		.parse()
		.expect("a valid address")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
	sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
	let alice = sr25519::Pair::from_string("//Alice", None)?;
	let bob = sr25519::Pair::from_string("//Bob", None)?;
	let device = sr25519::Pair::from_string("//Dave", None)?;
	let bob_rsa = ReaderPrivateKey::from_file_contents(BOB_PEM)?;
	let ledger = Arc::new(Ledger {
		manager: alice.public(),
		reader: bob.public(),
		reader_key: bob_rsa.public_key().clone(),
		device: device.public(),
	});
	let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate_ed25519()).collect();
	let partners = Arc::new(Partners(keys.iter().map(|k| k.public().to_peer_id()).collect()));
	let dirs: Vec<tempfile::TempDir> =
		(0..4).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
	let mut nodes: Vec<StoreHandle> = Vec::new();
	for (key, dir) in keys.iter().zip(&dirs) {
		nodes.push(
			StoreNode::start(StoreConfig {
				listen: free_address(),
				keypair: key.clone(),
				data_dir: dir.path().to_owned(),
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
	let (a, d) = (&nodes[0], &nodes[3]);
	let item = ItemId::from_name(b"bench");
	let add_bob = AclChange { item, base_version: 0, op: AclOp::AddReader(bob.public()) };
	a.change_acl(SignedAction::sign(Action::ChangeAcl(add_bob), &alice, &GENESIS))
		.await?;

	println!("4 partner nodes on 127.0.0.1, k = 1 (3 replicas, quorum 2)");
	println!("| Size | put ms/op | put MB/s | get ms/op | get MB/s |");
	println!("|---|---|---|---|---|");
	for (size, count) in [(KIB, 50usize), (MIB, 10), (100 * MIB, 1)] {
		let (mut put_time, mut get_time) = (Duration::ZERO, Duration::ZERO);
		for i in 0..count {
			let input = Input { state: 0x9e37_79b9_7f4a_7c15 ^ (size + i) as u64, left: size };
			let started = Instant::now();
			let stored = a.put_document(input, vec![bob_rsa.public_key().clone()], &alice).await?;
			let publish = Action::WriteEnvelope { item, envelope: stored.key_envelope };
			a.publish_envelope(SignedAction::sign(publish, &alice, &GENESIS)).await?;
			put_time += started.elapsed();

			let started = Instant::now();
			let read = Action::ReadEnvelope { item, envelope: stored.key_envelope };
			let envelope = d.get_envelope(SignedAction::sign(read, &bob, &GENESIS)).await?;
			d.fetch_document(stored.content_id).await?;
			let d_handle = d.clone();
			let content_id = stored.content_id;
			let key = ReaderPrivateKey::from_file_contents(BOB_PEM)?;
			let read_len = tokio::task::spawn_blocking(move || -> Result<u64, String> {
				let mut reader = d_handle
					.open_document(&content_id, &envelope, &key)
					.map_err(|e| e.to_string())?;
				io::copy(&mut reader, &mut io::sink()).map_err(|e| e.to_string())
			})
			.await??;
			get_time += started.elapsed();
			assert_eq!(read_len, size as u64);
		}
		let mb = (size * count) as f64 / 1e6;
		let label = match size {
			KIB => format!("1 KiB (×{count})"),
			MIB => format!("1 MiB (×{count})"),
			_ => format!("{} MiB", size / MIB),
		};
		println!(
			"| {label} | {:.1} | {:.2} | {:.1} | {:.2} |",
			put_time.as_secs_f64() * 1e3 / count as f64,
			mb / put_time.as_secs_f64(),
			get_time.as_secs_f64() * 1e3 / count as f64,
			mb / get_time.as_secs_f64(),
		);
	}

	// Feed: live delivery from A to a subscriber on D.
	let mut subscription = d.subscribe_feed(FEED).await?;
	let sent_at: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
	const SAMPLES: u64 = 1000;
	let receiver = {
		let sent_at = sent_at.clone();
		tokio::spawn(async move {
			let mut latencies = Vec::new();
			while (latencies.len() as u64) < SAMPLES {
				let entry = match subscription.recv().await {
					Ok(entry) => entry,
					Err(error) => return Err(error.to_string()),
				};
				let now = Instant::now();
				if let Some(sent) = sent_at.lock().expect("not poisoned").get(&entry.entry.sequence)
				{
					latencies.push(now - *sent);
				}
			}
			Ok(latencies)
		})
	};
	let mut writer = FeedWriter::new(FEED, None);
	let started = Instant::now();
	for i in 0..SAMPLES {
		let entry = writer.next_entry(1_000 + i, None, i.to_le_bytes().to_vec());
		sent_at.lock().expect("not poisoned").insert(entry.sequence, Instant::now());
		a.append_feed(FEED, SignedBatch::sign(vec![entry], &device, &GENESIS)).await?;
	}
	let one_by_one = started.elapsed();
	let mut latencies = receiver.await??;
	latencies.sort();
	println!();
	println!(
		"feed, one-entry batches appended on A: {:.0} samples/s (each acknowledged by 2 of 3 \
		 replicas before the next)",
		SAMPLES as f64 / one_by_one.as_secs_f64()
	);
	println!(
		"subscriber on D, append call to delivery: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
		percentile(&latencies, 0.5).as_secs_f64() * 1e3,
		percentile(&latencies, 0.99).as_secs_f64() * 1e3,
		latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
	);
	// Batches of 1000 samples.
	let started = Instant::now();
	for round in 0..20u64 {
		let entries = (0..1000u64)
			.map(|i| writer.next_entry(10_000 + round * 1000 + i, None, vec![7; 16]))
			.collect();
		a.append_feed(FEED, SignedBatch::sign(entries, &device, &GENESIS)).await?;
	}
	println!(
		"feed, batches of 1,000 appended on A: {:.0} samples/s",
		20_000.0 / started.elapsed().as_secs_f64()
	);
	for node in nodes {
		node.shutdown().await?;
	}
	Ok(())
}
