//! The networked store on four (and five) real store nodes over TCP on 127.0.0.1, in one
//! process. The ledger's answers (partner list, RBAC, reader keys, feed owners) come from
//! fixed tables: the chain is not what is under test here.

use std::{
	collections::{HashMap, HashSet},
	io::Read,
	sync::{Arc, Mutex},
	time::Duration,
};

use dt_offchain::{
	content_id::Cid,
	crypto::{CryptoError, ReaderPrivateKey, ReaderPublicKey},
	feed::{FeedId, FeedWriter, SignedBatch},
	network::{
		sealing_keys, AccessPolicy, AclChange, AclOp, Action, ItemId, Keypair, Multiaddr,
		NodeError, PartnerDirectory, PeerId, PlacementKey, PutReceipt, Refusal, SignedAction,
		StoreConfig, StoreHandle, StoreNode,
	},
	uploads::UploadLimits,
	GenesisHash,
};
use dt_primitives::OrganisationId;
use sp_core::{sr25519, Pair as _};

const K: usize = 1;
const FEED: FeedId = 7;
/// The chain the partners of these tests serve.
const GENESIS: GenesisHash = [5; 32];

/// The partner list: fixed at start.
struct Partners(Vec<PeerId>);

impl PartnerDirectory for Partners {
	fn partners(&self) -> Vec<PeerId> {
		self.0.clone()
	}
}

/// The ledger's RBAC as a table: who manages which item, each account's RSA key, feed
/// owners, the closed feeds, the members and their organisations.
#[derive(Default)]
struct Ledger {
	managers: Mutex<Vec<(sr25519::Public, ItemId)>>,
	reader_keys: Mutex<HashMap<sr25519::Public, ReaderPublicKey>>,
	feeds: Mutex<HashMap<FeedId, sr25519::Public>>,
	closed: Mutex<HashSet<FeedId>>,
	members: Mutex<HashMap<sr25519::Public, OrganisationId>>,
}

impl Ledger {
	/// Alice and the device (Dave) in organisation 1, Bob in 2, Charlie in 3; Eve is no
	/// member.
	fn with_members() -> Self {
		let ledger = Ledger::default();
		let mut members = ledger.members.lock().unwrap();
		for (seed, organisation) in [("//Alice", 1), ("//Dave", 1), ("//Bob", 2), ("//Charlie", 3)]
		{
			members.insert(account(seed).public(), organisation);
		}
		drop(members);
		ledger
	}
}

impl AccessPolicy for Ledger {
	fn may_manage(&self, account: &sr25519::Public, item: &ItemId) -> bool {
		self.managers.lock().unwrap().contains(&(*account, *item))
	}

	fn reader_key(&self, account: &sr25519::Public) -> Option<ReaderPublicKey> {
		self.reader_keys.lock().unwrap().get(account).cloned()
	}

	fn feed_owner(&self, feed: FeedId) -> Option<sr25519::Public> {
		self.feeds.lock().unwrap().get(&feed).copied()
	}

	fn feed_appender(&self, feed: FeedId) -> Option<sr25519::Public> {
		let owner = self.feed_owner(feed)?;
		let active = !self.closed.lock().unwrap().contains(&feed);
		(active && self.organisation_of(&owner).is_some()).then_some(owner)
	}

	fn organisation_of(&self, account: &sr25519::Public) -> Option<OrganisationId> {
		self.members.lock().unwrap().get(account).copied()
	}
}

/// The member whose puts the tests sign, unless they say otherwise.
fn uploader() -> sr25519::Pair {
	account("//Alice")
}

/// A block put signed by `signer` for the chain `genesis`.
fn put_request(bytes: &[u8], signer: &sr25519::Pair, genesis: &GenesisHash) -> SignedAction {
	SignedAction::sign(Action::PutBlock { block: Cid::of(bytes) }, signer, genesis)
}

/// Puts as [`uploader`] does.
trait PutSigned {
	async fn put_signed(&self, bytes: Vec<u8>) -> Result<PutReceipt, NodeError>;
}

impl PutSigned for StoreHandle {
	async fn put_signed(&self, bytes: Vec<u8>) -> Result<PutReceipt, NodeError> {
		self.put_block(put_request(&bytes, &uploader(), &GENESIS), bytes).await
	}
}

fn account(seed: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(seed, None).unwrap()
}

fn rsa_key(name: &str) -> ReaderPrivateKey {
	let path = format!("{}/../runtime/res/dev-keys/{name}.pem", env!("CARGO_MANIFEST_DIR"));
	ReaderPrivateKey::from_file_contents(&std::fs::read(path).unwrap()).unwrap()
}

/// Bob and Charlie read, Alice manages the test item, Dave's device owns feed 7.
struct Parties {
	alice: sr25519::Pair,
	bob: sr25519::Pair,
	charlie: sr25519::Pair,
	bob_rsa: ReaderPrivateKey,
	charlie_rsa: ReaderPrivateKey,
	device: sr25519::Pair,
	item: ItemId,
}

fn parties(ledger: &Ledger) -> Parties {
	let parties = Parties {
		alice: account("//Alice"),
		bob: account("//Bob"),
		charlie: account("//Charlie"),
		bob_rsa: rsa_key("bob"),
		charlie_rsa: rsa_key("charlie"),
		device: account("//Dave"),
		item: ItemId::from_name(b"twin 1 / document 1"),
	};
	ledger.managers.lock().unwrap().push((parties.alice.public(), parties.item));
	let mut keys = ledger.reader_keys.lock().unwrap();
	keys.insert(parties.bob.public(), parties.bob_rsa.public_key().clone());
	keys.insert(parties.charlie.public(), parties.charlie_rsa.public_key().clone());
	drop(keys);
	ledger.feeds.lock().unwrap().insert(FEED, parties.device.public());
	parties
}

// One way of choosing ports for every test that starts nodes (see there why not port 0).
#[path = "../../node/tests/common/ports.rs"]
mod ports;

/// A TCP address on 127.0.0.1 with a port no other node of this process was given.
///
/// libp2p binds listeners with SO_REUSEPORT, and Linux may hand the same port 0 to two such
/// sockets, which then share incoming connections: nodes of tests running side by side
/// would receive each other's dials. `ports::free_port` never hands a port out twice.
fn fresh_address() -> Multiaddr {
	format!("/ip4/127.0.0.1/tcp/{}", ports::free_port()).parse().unwrap()
}

/// Four partner nodes (A, B, C, D = 0..4) with k = 1.
struct Cluster {
	nodes: Vec<Option<StoreHandle>>,
	keys: Vec<Keypair>,
	dirs: Vec<tempfile::TempDir>,
	addrs: Vec<Multiaddr>,
	partners: Arc<Partners>,
	ledger: Arc<Ledger>,
	limits: UploadLimits,
}

impl Cluster {
	/// `n` partners, none started yet.
	fn new(n: usize) -> Self {
		let keys: Vec<Keypair> = (0..n).map(|_| Keypair::generate_ed25519()).collect();
		let partners = Arc::new(Partners(keys.iter().map(|k| k.public().to_peer_id()).collect()));
		Cluster {
			nodes: Vec::new(),
			keys,
			dirs: (0..n).map(|_| tempfile::tempdir().unwrap()).collect(),
			addrs: Vec::new(),
			partners,
			ledger: Arc::new(Ledger::with_members()),
			limits: UploadLimits::default(),
		}
	}

	/// `n` partners, each told every other's address.
	async fn start(n: usize) -> Self {
		Self::start_with(n, UploadLimits::default()).await
	}

	/// `n` partners with these upload limits, each told every other's address.
	async fn start_with(n: usize, limits: UploadLimits) -> Self {
		let mut cluster = Cluster::new(n);
		cluster.limits = limits;
		for i in 0..n {
			let handle = cluster.launch(i, fresh_address(), Vec::new()).await;
			cluster.addrs.push(handle.listen_addr().clone());
			cluster.nodes.push(Some(handle));
		}
		for node in cluster.nodes.iter().flatten() {
			for (j, addr) in cluster.addrs.iter().enumerate() {
				if cluster.peer(j) != node.peer_id() {
					node.add_address(cluster.peer(j), addr.clone());
				}
			}
		}
		cluster
	}

	/// `n` partners as `dt-node` starts them with `--store-bootnode` naming the first: the
	/// first knows nobody, every other node knows only the first's address.
	async fn start_from_first(n: usize) -> Self {
		let mut cluster = Cluster::new(n);
		for i in 0..n {
			let bootstrap = match cluster.addrs.first() {
				Some(first) => vec![(cluster.peer(0), first.clone())],
				None => Vec::new(),
			};
			let handle = cluster.launch(i, fresh_address(), bootstrap).await;
			cluster.addrs.push(handle.listen_addr().clone());
			cluster.nodes.push(Some(handle));
		}
		cluster
	}

	async fn launch(
		&self,
		i: usize,
		listen: Multiaddr,
		bootstrap: Vec<(PeerId, Multiaddr)>,
	) -> StoreHandle {
		StoreNode::start(StoreConfig {
			listen,
			keypair: self.keys[i].clone(),
			data_dir: self.dirs[i].path().to_owned(),
			k: K,
			bootstrap,
			directory: self.partners.clone(),
			policy: self.ledger.clone(),
			genesis: GENESIS,
			uploads: self.limits,
		})
		.await
		.unwrap()
	}

	fn peer(&self, i: usize) -> PeerId {
		self.keys[i].public().to_peer_id()
	}

	fn index_of(&self, peer: PeerId) -> usize {
		(0..self.keys.len()).find(|i| self.peer(*i) == peer).unwrap()
	}

	fn node(&self, i: usize) -> &StoreHandle {
		self.nodes[i].as_ref().expect("node is running")
	}

	/// The indices of the replicas of `key`, closest first, and of the other nodes.
	fn placement(&self, key: &PlacementKey) -> (Vec<usize>, Vec<usize>) {
		let replicas: Vec<usize> = dt_offchain::network::replicas(key, &self.partners.0, K)
			.into_iter()
			.map(|p| self.index_of(p))
			.collect();
		let others = (0..self.keys.len()).filter(|i| !replicas.contains(i)).collect();
		(replicas, others)
	}

	async fn stop(&mut self, i: usize) {
		self.nodes[i].take().unwrap().shutdown().await.unwrap();
	}

	/// Starts node `i` again from its directory, on its old address.
	async fn restart(&mut self, i: usize) {
		let bootstrap = (0..self.keys.len())
			.filter(|j| *j != i)
			.map(|j| (self.peer(j), self.addrs[j].clone()))
			.collect();
		let handle = self.launch(i, self.addrs[i].clone(), bootstrap).await;
		self.nodes[i] = Some(handle);
	}
}

fn sample(len: usize, seed: u8) -> Vec<u8> {
	(0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn change(item: ItemId, base_version: u64, op: AclOp, signer: &sr25519::Pair) -> SignedAction {
	SignedAction::sign(Action::ChangeAcl(AclChange { item, base_version, op }), signer, &GENESIS)
}

fn read_request(item: ItemId, envelope: Cid, reader: &sr25519::Pair) -> SignedAction {
	SignedAction::sign(Action::ReadEnvelope { item, envelope }, reader, &GENESIS)
}

fn is_refused(result: &Result<impl std::fmt::Debug, NodeError>, expected: Refusal) -> bool {
	matches!(result, Err(NodeError::Refused { reason, .. }) if *reason == expected)
}

/// Puts a document version for `readers` on node `writer` and publishes its envelope signed
/// by `manager`.
async fn put_version(
	cluster: &Cluster,
	writer: usize,
	parties: &Parties,
	plaintext: Vec<u8>,
	readers: Vec<ReaderPublicKey>,
) -> (Cid, Cid) {
	let node = cluster.node(writer);
	let stored = node
		.put_document(std::io::Cursor::new(plaintext), readers, &uploader())
		.await
		.unwrap();
	let publish = Action::WriteEnvelope { item: parties.item, envelope: stored.key_envelope };
	let receipt = node
		.publish_envelope(SignedAction::sign(publish, &parties.alice, &GENESIS))
		.await
		.unwrap();
	assert!(receipt.stored_on.len() >= 2, "{receipt:?}");
	(stored.content_id, stored.key_envelope)
}

/// Reads a version on node `at` as `reader`: signed envelope request, fetch, decrypt.
async fn read_version(
	cluster: &Cluster,
	at: usize,
	parties: &Parties,
	(content_id, envelope): (Cid, Cid),
	reader: &sr25519::Pair,
	key: &ReaderPrivateKey,
) -> Result<Vec<u8>, NodeError> {
	let node = cluster.node(at);
	let envelope = node.get_envelope(read_request(parties.item, envelope, reader)).await?;
	node.fetch_document(content_id).await?;
	let mut plaintext = Vec::new();
	node.open_document(&content_id, &envelope, key)?
		.read_to_end(&mut plaintext)
		.unwrap();
	Ok(plaintext)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_block_put_on_a_is_read_on_c_and_its_replicas_are_found_through_the_dht() {
	let cluster = Cluster::start(4).await;
	let bytes = sample(300_000, 1);
	let receipt = cluster.node(0).put_signed(bytes.clone()).await.unwrap();
	let (replicas, _) = cluster.placement(&PlacementKey::block(&receipt.cid));
	assert_eq!(receipt.stored_on.len(), 3, "{receipt:?}");
	let mut stored_on: Vec<usize> =
		receipt.stored_on.iter().map(|p| cluster.index_of(*p)).collect();
	stored_on.sort();
	let mut expected = replicas.clone();
	expected.sort();
	assert_eq!(stored_on, expected);

	let fetched = cluster.node(2).get_block(receipt.cid).await.unwrap();
	assert_eq!(fetched.bytes, bytes);
	assert!(fetched.corrupt.is_empty());
	assert!(receipt.stored_on.contains(&fetched.served_by));

	// The replicas announced themselves as providers.
	let key = PlacementKey::block(&receipt.cid);
	let mut providers = Vec::new();
	for _ in 0..50 {
		providers = cluster.node(3).providers(&key).await;
		if receipt.stored_on.iter().all(|p| providers.contains(p)) {
			break;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	assert!(receipt.stored_on.iter().all(|p| providers.contains(p)), "{providers:?}");

	// An id nobody stored is reported unavailable, naming the replicas asked.
	match cluster.node(1).get_block(Cid::of(b"never stored")).await {
		Err(NodeError::Unavailable { tried, .. }) => assert!(tried.len() >= 3),
		other => panic!("{other:?}"),
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_one_replica_stopped_blocks_are_still_read_and_written_but_not_with_two() {
	let mut cluster = Cluster::start(4).await;
	let bytes = sample(50_000, 2);
	let cid = cluster.node(0).put_signed(bytes.clone()).await.unwrap().cid;
	let (replicas, others) = cluster.placement(&PlacementKey::block(&cid));
	cluster.stop(replicas[0]).await;
	let reader = others[0];
	let fetched = cluster.node(reader).get_block(cid).await.unwrap();
	assert_eq!(fetched.bytes, bytes);
	assert_ne!(fetched.served_by, cluster.peer(replicas[0]));

	// A write to the same replicas still reaches a quorum (2 of 3)...
	let again = cluster.node(reader).put_signed(bytes.clone()).await.unwrap();
	assert_eq!(again.stored_on.len(), 2);
	assert_eq!(again.failed.len(), 1);
	// ...but not with two of them down.
	cluster.stop(replicas[1]).await;
	match cluster.node(reader).put_signed(bytes).await {
		Err(NodeError::NotEnoughReplicas { acked: 1, needed: 2, .. }) => {},
		other => panic!("{other:?}"),
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_corrupted_copy_is_detected_skipped_reported_and_repaired() {
	let cluster = Cluster::start(4).await;
	let bytes = sample(200_000, 3);
	let cid = cluster.node(1).put_signed(bytes.clone()).await.unwrap().cid;
	let (replicas, others) = cluster.placement(&PlacementKey::block(&cid));
	// The closest replica, asked first, has its copy damaged on disk.
	let damaged = replicas[0];
	let path = cluster.node(damaged).local_block_path(&cid);
	let mut bad = bytes.clone();
	bad[1000] ^= 0xff;
	std::fs::write(&path, &bad).unwrap();

	let reader = others[0];
	let fetched = cluster.node(reader).get_block(cid).await.unwrap();
	assert_eq!(fetched.bytes, bytes);
	assert_ne!(fetched.served_by, cluster.peer(damaged));
	assert_eq!(fetched.corrupt.len(), 1, "{fetched:?}");
	assert_eq!(fetched.corrupt[0].peer, cluster.peer(damaged));
	// The damaged replica was given a good copy again.
	assert_eq!(std::fs::read(&path).unwrap(), bytes);
	let again = cluster.node(reader).get_block(cid).await.unwrap();
	assert_eq!(again.served_by, cluster.peer(damaged));
	assert!(again.corrupt.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_readers_on_the_list_get_the_envelope_and_only_managers_change_the_list() {
	let cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let item = parties.item;
	// Alice (manager) makes Bob a reader.
	let acl = cluster
		.node(0)
		.change_acl(change(item, 0, AclOp::AddReader(parties.bob.public()), &parties.alice))
		.await
		.unwrap();
	assert_eq!(acl.version, 1);
	assert_eq!(acl.readers, vec![parties.bob.public()]);

	let plaintext = sample(2_500_000, 4);
	let bob_key = parties.bob_rsa.public_key().clone();
	let version =
		put_version(&cluster, 0, &parties, plaintext.clone(), vec![bob_key.clone()]).await;
	// Bob reads it on C.
	let read = read_version(&cluster, 2, &parties, version, &parties.bob, &parties.bob_rsa).await;
	assert_eq!(read.unwrap(), plaintext);

	// Charlie, not on the list, gets no envelope (so no key).
	let refused = cluster
		.node(2)
		.get_envelope(read_request(item, version.1, &parties.charlie))
		.await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
	// Charlie claiming to be Bob: the signature does not verify.
	let mut forged = read_request(item, version.1, &parties.charlie);
	forged.signer = parties.bob.public();
	let refused = cluster.node(2).get_envelope(forged).await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
	// Bob's request replayed to the same replica is refused.
	let request = read_request(item, version.1, &parties.bob);
	cluster.node(3).get_envelope(request.clone()).await.unwrap();
	let replayed = cluster.node(3).get_envelope(request).await;
	assert!(is_refused(&replayed, Refusal::Replayed), "{replayed:?}");

	// Charlie cannot add himself, nor can Bob (readers do not manage).
	for signer in [&parties.charlie, &parties.bob] {
		let refused = cluster
			.node(1)
			.change_acl(change(item, 1, AclOp::AddReader(parties.charlie.public()), signer))
			.await;
		assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
	}
	// Bob cannot publish an envelope either.
	let stored = cluster
		.node(1)
		.put_document(std::io::Cursor::new(vec![1, 2, 3]), vec![bob_key], &uploader())
		.await
		.unwrap();
	let publish = Action::WriteEnvelope { item, envelope: stored.key_envelope };
	let refused = cluster
		.node(1)
		.publish_envelope(SignedAction::sign(publish, &parties.bob, &GENESIS))
		.await;
	assert!(matches!(refused, Err(NodeError::NotEnoughReplicas { acked: 0, .. })), "{refused:?}");

	let acl = cluster.node(3).acl(item).await.unwrap();
	assert_eq!((acl.version, acl.readers), (1, vec![parties.bob.public()]));
	let refused = cluster
		.node(2)
		.get_envelope(read_request(item, version.1, &parties.charlie))
		.await;
	assert!(is_refused(&refused, Refusal::Unauthorized));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acl_change_without_a_quorum_has_no_effect() {
	let mut cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let item = parties.item;
	cluster
		.node(0)
		.change_acl(change(item, 0, AclOp::AddReader(parties.bob.public()), &parties.alice))
		.await
		.unwrap();
	// A version sealed for Bob and Charlie, so that only the list decides who gets it.
	let keys = vec![parties.bob_rsa.public_key().clone(), parties.charlie_rsa.public_key().clone()];
	// Replicas refuse an envelope sealed for a key not on the list.
	let stored = cluster
		.node(0)
		.put_document(std::io::Cursor::new(sample(1000, 5)), keys.clone(), &uploader())
		.await
		.unwrap();
	let publish = Action::WriteEnvelope { item, envelope: stored.key_envelope };
	let refused = cluster
		.node(0)
		.publish_envelope(SignedAction::sign(publish, &parties.alice, &GENESIS))
		.await;
	assert!(matches!(refused, Err(NodeError::NotEnoughReplicas { acked: 0, .. })), "{refused:?}");

	let (replicas, others) = cluster.placement(&PlacementKey::item(&item));
	cluster.stop(replicas[0]).await;
	cluster.stop(replicas[1]).await;
	let survivor = replicas[2];
	let coordinator = others[0];
	let attempt = cluster
		.node(coordinator)
		.change_acl(change(item, 1, AclOp::AddReader(parties.charlie.public()), &parties.alice))
		.await;
	match attempt {
		Err(NodeError::NoQuorum { accepted: 1, needed: 2, .. }) => {},
		other => panic!("{other:?}"),
	}
	// The replica that prepared it still reads by the old list; its word alone is not
	// what a client signs its next change against.
	let acl = cluster.node(survivor).local_acl(item).unwrap();
	assert_eq!((acl.version, acl.readers.clone()), (1, vec![parties.bob.public()]));
	let alone = cluster.node(coordinator).acl(item).await;
	assert!(matches!(alone, Err(NodeError::Unavailable { .. })), "{alone:?}");
	let node = cluster.node(survivor);
	let err = node.get_envelope(read_request(item, Cid::of(b"any"), &parties.charlie)).await;
	assert!(is_refused(&err, Refusal::Unauthorized), "{err:?}");

	// With the replicas back, the change goes through (the aborted one does not block it).
	cluster.restart(replicas[0]).await;
	cluster.restart(replicas[1]).await;
	let acl = cluster
		.node(coordinator)
		.change_acl(change(item, 1, AclOp::AddReader(parties.charlie.public()), &parties.alice))
		.await
		.unwrap();
	assert_eq!(acl.version, 2);
	assert!(acl.is_reader(&parties.charlie.public()));
	// A change against a version that is no longer current is refused everywhere.
	let stale = cluster
		.node(coordinator)
		.change_acl(change(item, 1, AclOp::RemoveReader(parties.bob.public()), &parties.alice))
		.await;
	assert!(matches!(stale, Err(NodeError::NoQuorum { accepted: 0, .. })), "{stale:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_removed_reader_cannot_decrypt_the_next_version() {
	let cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let item = parties.item;
	let alice = &parties.alice;
	cluster
		.node(0)
		.change_acl(change(item, 0, AclOp::AddReader(parties.bob.public()), alice))
		.await
		.unwrap();
	let acl = cluster
		.node(0)
		.change_acl(change(item, 1, AclOp::AddReader(parties.charlie.public()), alice))
		.await
		.unwrap();
	let first = sample(100_000, 6);
	let keys = sealing_keys(&acl, cluster.ledger.as_ref()).unwrap();
	let v1 = put_version(&cluster, 0, &parties, first.clone(), keys).await;
	let charlie_read =
		read_version(&cluster, 3, &parties, v1, &parties.charlie, &parties.charlie_rsa).await;
	assert_eq!(charlie_read.unwrap(), first);

	// Charlie is removed; the next version is sealed for the new list.
	let acl = cluster
		.node(1)
		.change_acl(change(item, 2, AclOp::RemoveReader(parties.charlie.public()), alice))
		.await
		.unwrap();
	assert_eq!(acl.readers, vec![parties.bob.public()]);
	let keys = sealing_keys(&acl, cluster.ledger.as_ref()).unwrap();
	assert_eq!(keys.len(), 1);
	let second = sample(100_000, 7);
	let v2 = put_version(&cluster, 1, &parties, second.clone(), keys).await;

	// Bob reads it; Charlie gets no envelope...
	let bob_read = read_version(&cluster, 2, &parties, v2, &parties.bob, &parties.bob_rsa).await;
	assert_eq!(bob_read.unwrap(), second);
	let refused = cluster.node(3).get_envelope(read_request(item, v2.1, &parties.charlie)).await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
	// ...and even with the envelope's bytes in hand (from Bob), his key opens nothing.
	let envelope = cluster
		.node(2)
		.get_envelope(read_request(item, v2.1, &parties.bob))
		.await
		.unwrap();
	assert!(matches!(envelope.open(&parties.charlie_rsa), Err(CryptoError::NotARecipient { .. })));
	let opened = cluster.node(2).open_document(&v2.0, &envelope, &parties.charlie_rsa);
	assert!(opened.is_err());
	// The old version's envelope is not accepted as the new version's.
	let old = cluster
		.node(3)
		.get_envelope(read_request(item, v1.1, &parties.bob))
		.await
		.unwrap();
	assert!(cluster.node(2).open_document(&v2.0, &old, &parties.bob_rsa).is_err());
	// Publishing a next version still sealed for Charlie is refused by the replicas.
	let both = vec![parties.bob_rsa.public_key().clone(), parties.charlie_rsa.public_key().clone()];
	let stored = cluster
		.node(1)
		.put_document(std::io::Cursor::new(sample(10, 8)), both, &uploader())
		.await
		.unwrap();
	let publish = Action::WriteEnvelope { item, envelope: stored.key_envelope };
	let refused = cluster
		.node(1)
		.publish_envelope(SignedAction::sign(publish, alice, &GENESIS))
		.await;
	assert!(matches!(refused, Err(NodeError::NotEnoughReplicas { acked: 0, .. })), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_node_keeps_its_blocks_envelopes_and_lists() {
	let mut cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let item = parties.item;
	cluster
		.node(0)
		.change_acl(change(item, 0, AclOp::AddReader(parties.bob.public()), &parties.alice))
		.await
		.unwrap();
	let plaintext = sample(10_000, 9);
	let version = put_version(
		&cluster,
		0,
		&parties,
		plaintext.clone(),
		vec![parties.bob_rsa.public_key().clone()],
	)
	.await;
	let block = sample(70_000, 10);
	let cid = cluster.node(0).put_signed(block.clone()).await.unwrap().cid;

	// Restart one replica of the item, then leave it the only one up.
	let (replicas, others) = cluster.placement(&PlacementKey::item(&item));
	let kept = replicas[0];
	cluster.stop(kept).await;
	cluster.restart(kept).await;
	let acl = cluster.node(kept).acl(item).await.unwrap();
	assert_eq!(acl.version, 1);
	cluster.stop(replicas[1]).await;
	cluster.stop(replicas[2]).await;
	let reader = others[0];
	let envelope = cluster
		.node(reader)
		.get_envelope(read_request(item, version.1, &parties.bob))
		.await
		.unwrap();
	assert_eq!(Cid::of(&envelope.to_bytes()), version.1);
	// Its list still refuses Charlie after the restart.
	let refused = cluster
		.node(reader)
		.get_envelope(read_request(item, version.1, &parties.charlie))
		.await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");

	// The restarted node's blocks are all there too.
	if cluster.placement(&PlacementKey::block(&cid)).0.contains(&kept) {
		let node = cluster.node(kept);
		assert_eq!(std::fs::read(node.local_block_path(&cid)).unwrap(), block);
	}
	let node = cluster.node(kept);
	assert!(
		node.local_block_path(&version.0).exists()
			|| !cluster.placement(&PlacementKey::block(&version.0)).0.contains(&kept)
	);
}

fn entries(writer: &mut FeedWriter, count: usize, start_ms: u64) -> Vec<dt_offchain::feed::Entry> {
	(0..count)
		.map(|i| {
			writer.next_entry(
				start_ms + i as u64,
				None,
				format!("reading {}", writer.next_sequence()).into_bytes(),
			)
		})
		.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn feed_entries_appended_on_a_arrive_live_and_in_order_on_d() {
	let cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let device = &parties.device;
	let mut writer = FeedWriter::new(FEED, None);
	// History before the subscription.
	let receipt = cluster
		.node(0)
		.append_feed(FEED, SignedBatch::sign(entries(&mut writer, 3, 1_000), device, &GENESIS))
		.await
		.unwrap();
	assert_eq!(receipt.head.sequence, 2);
	assert_eq!(receipt.stored_on.len(), 3);

	// D replays what it lacks of the history (nothing if it is itself a replica), then
	// follows live.
	let mut subscription = match cluster.node(3).subscribe_feed(FEED).await {
		Ok(subscription) => subscription,
		Err(error) => panic!("subscribing on D failed: {error}"),
	};
	let start = subscription.next_sequence();
	assert!(start <= 3);
	let reading = tokio::spawn(async move {
		let mut got = Vec::new();
		while got.len() < (103 - start) as usize {
			let entry = tokio::time::timeout(Duration::from_secs(30), subscription.recv())
				.await
				.expect("entries arrive")
				.expect("no gap");
			got.push(entry.entry);
		}
		got
	});
	let mut sent = Vec::new();
	for round in 0..20u64 {
		let batch = entries(&mut writer, 5, 2_000 + round * 10);
		sent.extend(batch.clone());
		cluster
			.node(0)
			.append_feed(FEED, SignedBatch::sign(batch, device, &GENESIS))
			.await
			.unwrap();
	}
	let got = reading.await.unwrap();
	assert_eq!(
		got.iter().map(|e| e.sequence).collect::<Vec<_>>(),
		(start..103).collect::<Vec<_>>()
	);
	assert_eq!(&got[(3 - start) as usize..], &sent[..]);

	// Wrong signer, replay, fork: refused or a no-op, on any node.
	let mut probe = writer.clone();
	let next = entries(&mut probe, 1, 9_000);
	let forged = cluster
		.node(1)
		.append_feed(FEED, SignedBatch::sign(next.clone(), &parties.alice, &GENESIS))
		.await;
	assert!(is_refused(&forged, Refusal::Invalid), "{forged:?}");
	let mut replay_writer = FeedWriter::new(FEED, None);
	let replay = SignedBatch::sign(entries(&mut replay_writer, 3, 1_000), device, &GENESIS);
	let head = cluster.node(2).append_feed(FEED, replay).await.unwrap().head;
	assert_eq!(head.sequence, 102);
	let mut fork_writer = FeedWriter::new(FEED, None);
	let fork = SignedBatch::sign(entries(&mut fork_writer, 3, 1_001), device, &GENESIS);
	let forked = cluster.node(2).append_feed(FEED, fork).await;
	assert!(is_refused(&forked, Refusal::Invalid), "{forked:?}");
	assert!(matches!(
		cluster.node(2).append_feed(99, SignedBatch::sign(next, device, &GENESIS)).await,
		Err(NodeError::UnknownFeed(99))
	));
	assert_eq!(cluster.node(1).feed_head(FEED).await.unwrap().unwrap().sequence, 102);
}

/// A block whose replicas (indices, closest first) satisfy `wanted`.
fn block_placed(cluster: &Cluster, wanted: impl Fn(&[usize]) -> bool) -> Vec<u8> {
	(0..=u8::MAX)
		.map(|seed| sample(20_000, seed))
		.find(|bytes| wanted(&cluster.placement(&PlacementKey::block(&Cid::of(bytes))).0))
		.expect("some seed places a block so")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partners_bootstrapped_from_one_partner_find_each_other() {
	let mut cluster = Cluster::start_from_first(4).await;
	let parties = parties(&cluster.ledger);
	// B, C and D introduce themselves to A; nobody told B, C or D where the others are.
	tokio::time::sleep(Duration::from_secs(2)).await;

	// Replicas A, C and D: B reaches the two it has only heard of through A.
	let bytes = block_placed(&cluster, |replicas| !replicas.contains(&1));
	let receipt = cluster.node(1).put_signed(bytes).await.unwrap();
	assert_eq!(receipt.stored_on.len(), 3, "{receipt:?}");
	assert!(receipt.failed.is_empty(), "{receipt:?}");
	for i in [0, 2, 3] {
		assert!(cluster.node(i).local_block_path(&receipt.cid).exists(), "not on node {i}");
	}

	// A feed appended on C reaches a subscriber on B.
	let mut subscription = cluster.node(1).subscribe_feed(FEED).await.unwrap();
	let mut writer = FeedWriter::new(FEED, None);
	let batch = entries(&mut writer, 3, 1_000);
	let receipt = cluster
		.node(2)
		.append_feed(FEED, SignedBatch::sign(batch.clone(), &parties.device, &GENESIS))
		.await
		.unwrap();
	assert_eq!(receipt.stored_on.len(), 3, "{receipt:?}");
	assert!(receipt.failed.is_empty(), "{receipt:?}");
	for sent in &batch {
		let got = tokio::time::timeout(Duration::from_secs(30), subscription.recv())
			.await
			.expect("entries arrive")
			.expect("no gap");
		assert_eq!(&got.entry, sent);
	}

	// Replicas A, B and C, written from C; read on D even once A, the only partner D was
	// told of, is gone: what D learned of B and C through A is kept.
	let bytes = block_placed(&cluster, |replicas| !replicas.contains(&3));
	let receipt = cluster.node(2).put_signed(bytes.clone()).await.unwrap();
	assert_eq!(receipt.stored_on.len(), 3, "{receipt:?}");
	assert!(receipt.failed.is_empty(), "{receipt:?}");
	cluster.stop(0).await;
	let fetched = cluster.node(3).get_block(receipt.cid).await.unwrap();
	assert_eq!(fetched.bytes, bytes);
	assert!([1, 2].contains(&cluster.index_of(fetched.served_by)), "{fetched:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_that_missed_batches_is_brought_up_to_date() {
	let mut cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let (replicas, others) = cluster.placement(&PlacementKey::feed(FEED));
	let mut writer = FeedWriter::new(FEED, None);
	cluster.stop(replicas[0]).await;
	for round in 0..3 {
		let batch =
			SignedBatch::sign(entries(&mut writer, 4, 100 * round), &parties.device, &GENESIS);
		assert_eq!(
			cluster.node(others[0]).append_feed(FEED, batch).await.unwrap().stored_on.len(),
			2
		);
	}
	cluster.restart(replicas[0]).await;
	let batch = SignedBatch::sign(entries(&mut writer, 4, 1_000), &parties.device, &GENESIS);
	let receipt = cluster.node(others[0]).append_feed(FEED, batch).await.unwrap();
	assert_eq!(receipt.stored_on.len(), 3, "{receipt:?}");
	assert_eq!(receipt.head.sequence, 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_outside_the_partner_set_is_refused() {
	let cluster = Cluster::start(4).await;
	// A fifth node that believes everyone, itself included, is a partner.
	let stranger_key = Keypair::generate_ed25519();
	let stranger_peer = stranger_key.public().to_peer_id();
	let mut everyone = cluster.partners.0.clone();
	everyone.push(stranger_peer);
	let dir = tempfile::tempdir().unwrap();
	let stranger = StoreNode::start(StoreConfig {
		listen: fresh_address(),
		keypair: stranger_key,
		data_dir: dir.path().to_owned(),
		k: K,
		bootstrap: (0..4).map(|i| (cluster.peer(i), cluster.addrs[i].clone())).collect(),
		directory: Arc::new(Partners(everyone)),
		policy: cluster.ledger.clone(),
		genesis: GENESIS,
		uploads: UploadLimits::default(),
	})
	.await
	.unwrap();
	for i in 0..4 {
		let refused = stranger.ping(cluster.peer(i)).await;
		assert!(matches!(refused, Err(NodeError::Unreachable { .. })), "{refused:?}");
	}
	// Its writes reach no partner.
	let bytes = sample(1000, 11);
	let cid = Cid::of(&bytes);
	assert!(stranger.put_signed(bytes).await.is_err());
	for i in 0..4 {
		assert!(!cluster.node(i).local_block_path(&cid).exists());
	}
	// And the partners do not talk to it.
	cluster.node(0).add_address(stranger_peer, stranger.listen_addr().clone());
	assert!(matches!(cluster.node(0).ping(stranger_peer).await, Err(NodeError::NotPartner { .. })));
	// Partners do talk to each other.
	cluster.node(0).ping(cluster.peer(1)).await.unwrap();
	stranger.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_that_missed_a_change_neither_blocks_readers_nor_later_changes() {
	let mut cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let item = parties.item;
	let alice = &parties.alice;
	let (replicas, others) = cluster.placement(&PlacementKey::item(&item));
	let coordinator = others[0];
	let node = |cluster: &Cluster| cluster.node(coordinator).clone();
	node(&cluster)
		.change_acl(change(item, 0, AclOp::AddReader(parties.bob.public()), alice))
		.await
		.unwrap();
	// The closest replica misses Charlie's addition and the envelope sealed for him.
	let stale = replicas[0];
	cluster.stop(stale).await;
	let acl = node(&cluster)
		.change_acl(change(item, 1, AclOp::AddReader(parties.charlie.public()), alice))
		.await
		.unwrap();
	assert_eq!(acl.version, 2);
	let keys = sealing_keys(&acl, cluster.ledger.as_ref()).unwrap();
	let plaintext = sample(5_000, 12);
	let version = put_version(&cluster, coordinator, &parties, plaintext.clone(), keys).await;
	cluster.restart(stale).await;

	// Charlie is refused by the stale replica (asked first) and served by the next.
	let read = read_version(
		&cluster,
		coordinator,
		&parties,
		version,
		&parties.charlie,
		&parties.charlie_rsa,
	)
	.await;
	assert_eq!(read.unwrap(), plaintext);
	// The next change: the stale replica refuses it (its list is behind), the other two
	// make the quorum.
	let acl = node(&cluster)
		.change_acl(change(item, 2, AclOp::RemoveReader(parties.bob.public()), alice))
		.await
		.unwrap();
	assert_eq!((acl.version, acl.readers), (3, vec![parties.charlie.public()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_feed_subscription_heals_after_every_replica_restarted() {
	let mut cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let (replicas, others) = cluster.placement(&PlacementKey::feed(FEED));
	let subscriber = others[0];
	let mut subscription = cluster.node(subscriber).subscribe_feed(FEED).await.unwrap();
	let mut writer = FeedWriter::new(FEED, None);
	let mut append = |cluster: &Cluster, at: usize, start: u64| {
		let batch = SignedBatch::sign(entries(&mut writer, 2, start), &parties.device, &GENESIS);
		let node = cluster.node(at).clone();
		async move { node.append_feed(FEED, batch).await.unwrap() }
	};
	append(&cluster, replicas[0], 10).await;
	for expected in 0..2 {
		let entry = tokio::time::timeout(Duration::from_secs(10), subscription.recv()).await;
		assert_eq!(entry.unwrap().unwrap().entry.sequence, expected);
	}
	// Every replica forgets its subscribers.
	for &replica in &replicas {
		cluster.stop(replica).await;
		cluster.restart(replica).await;
	}
	append(&cluster, replicas[1], 20).await;
	append(&cluster, replicas[2], 30).await;
	for expected in 2..6 {
		// Within a renewal period or two, without a new subscribe call.
		let entry = tokio::time::timeout(Duration::from_secs(15), subscription.recv()).await;
		assert_eq!(entry.expect("delivered after the renewal").unwrap().entry.sequence, expected);
	}
}

const CHILD_ENV: &str = "DT_STORE_NODE_CHILD";

/// A store node in a child process (this test binary, running [`store_node_child`]),
/// SIGKILLed when dropped.
struct ChildNode(std::process::Child);

impl Drop for ChildNode {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

fn spawn_child(
	key: &Keypair,
	dir: &std::path::Path,
	listen: &Multiaddr,
	partners: &[PeerId],
	bootstrap: &[(PeerId, Multiaddr)],
) -> ChildNode {
	use std::io::{BufRead, BufReader};
	let spec = [
		hex::encode(key.to_protobuf_encoding().unwrap()),
		dir.display().to_string(),
		listen.to_string(),
		partners.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(","),
		bootstrap.iter().map(|(p, a)| format!("{p}={a}")).collect::<Vec<_>>().join(","),
	]
	.join(";");
	let mut child = std::process::Command::new(std::env::current_exe().unwrap())
		.args(["--exact", "store_node_child", "--ignored", "--nocapture", "--test-threads", "1"])
		.env(CHILD_ENV, spec)
		.stdout(std::process::Stdio::piped())
		.stderr(std::process::Stdio::null())
		.spawn()
		.unwrap();
	let stdout = child.stdout.take().unwrap();
	let mut lines = BufReader::new(stdout).lines();
	loop {
		match lines.next() {
			// libtest prints the test's name without a newline before the test's output.
			Some(Ok(line)) if line.ends_with("store node ready") => break,
			Some(Ok(_)) => continue,
			other => panic!("the child store node did not start: {other:?}"),
		}
	}
	// Keep reading so the child never blocks on a full pipe.
	std::thread::spawn(move || for _ in lines {});
	ChildNode(child)
}

/// The child of the test below; does nothing when run on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_store_node_killed_with_sigkill_keeps_what_it_acknowledged"]
async fn store_node_child() {
	let Ok(spec) = std::env::var(CHILD_ENV) else { return };
	let parts: Vec<&str> = spec.split(';').collect();
	let keypair = Keypair::from_protobuf_encoding(&hex::decode(parts[0]).unwrap()).unwrap();
	let partners = parts[3].split(',').map(|p| p.parse().unwrap()).collect();
	let bootstrap = parts[4]
		.split(',')
		.filter(|entry| !entry.is_empty())
		.map(|entry| {
			let (peer, address) = entry.split_once('=').unwrap();
			(peer.parse().unwrap(), address.parse().unwrap())
		})
		.collect();
	let ledger = Arc::new(Ledger::with_members());
	parties(&ledger);
	let _node = StoreNode::start(StoreConfig {
		listen: parts[2].parse().unwrap(),
		keypair,
		data_dir: parts[1].into(),
		k: K,
		bootstrap,
		directory: Arc::new(Partners(partners)),
		policy: ledger,
		genesis: GENESIS,
		uploads: UploadLimits::default(),
	})
	.await
	.unwrap();
	println!("store node ready");
	loop {
		tokio::time::sleep(Duration::from_secs(3600)).await;
	}
}

/// A partner node process killed with SIGKILL right after acknowledging keeps its blocks,
/// key envelopes and reader lists: started again on the same directory, it serves them as
/// the only replica of the item still up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_node_killed_with_sigkill_keeps_what_it_acknowledged() {
	let ledger = Arc::new(Ledger::with_members());
	let parties = parties(&ledger);
	let item = parties.item;
	// Four identities, the fourth (the child process) a replica of the item.
	let keys: Vec<Keypair> = loop {
		let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate_ed25519()).collect();
		let peers: Vec<PeerId> = keys.iter().map(|k| k.public().to_peer_id()).collect();
		if dt_offchain::network::replicas(&PlacementKey::item(&item), &peers, K).contains(&peers[3])
		{
			break keys;
		}
	};
	let peers: Vec<PeerId> = keys.iter().map(|k| k.public().to_peer_id()).collect();
	let partners = Arc::new(Partners(peers.clone()));
	let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
	let addrs: Vec<Multiaddr> = (0..4).map(|_| fresh_address()).collect();
	let mut nodes = Vec::new();
	for i in 0..3 {
		let node = StoreNode::start(StoreConfig {
			listen: addrs[i].clone(),
			keypair: keys[i].clone(),
			data_dir: dirs[i].path().to_owned(),
			k: K,
			bootstrap: (0..4).filter(|j| *j != i).map(|j| (peers[j], addrs[j].clone())).collect(),
			directory: partners.clone(),
			policy: ledger.clone(),
			genesis: GENESIS,
			uploads: UploadLimits::default(),
		})
		.await
		.unwrap();
		nodes.push(Some(node));
	}
	let bootstrap: Vec<(PeerId, Multiaddr)> =
		(0..3).map(|j| (peers[j], addrs[j].clone())).collect();
	let child = spawn_child(&keys[3], dirs[3].path(), &addrs[3], &peers, &bootstrap);

	let replicas = dt_offchain::network::replicas(&PlacementKey::item(&item), &peers, K);
	let reader = (0..3).find(|i| !replicas.contains(&peers[*i])).unwrap();
	let node = nodes[reader].clone().unwrap();
	node.change_acl(change(item, 0, AclOp::AddReader(parties.bob.public()), &parties.alice))
		.await
		.unwrap();
	let stored = node
		.put_document(
			std::io::Cursor::new(sample(3_000, 13)),
			vec![parties.bob_rsa.public_key().clone()],
			&uploader(),
		)
		.await
		.unwrap();
	let publish = Action::WriteEnvelope { item, envelope: stored.key_envelope };
	let receipt = node
		.publish_envelope(SignedAction::sign(publish, &parties.alice, &GENESIS))
		.await
		.unwrap();
	assert!(receipt.stored_on.contains(&peers[3]), "{receipt:?}");
	// A block the child acknowledged.
	let (block, cid) = (0u8..)
		.map(|seed| sample(10_000, seed))
		.map(|bytes| {
			let cid = Cid::of(&bytes);
			(bytes, cid)
		})
		.find(|(_, cid)| {
			dt_offchain::network::replicas(&PlacementKey::block(cid), &peers, K).contains(&peers[3])
		})
		.unwrap();
	let receipt = node.put_signed(block.clone()).await.unwrap();
	assert!(receipt.stored_on.contains(&peers[3]), "{receipt:?}");

	// SIGKILL, then the same directory in a new process.
	drop(child);
	let _child = spawn_child(&keys[3], dirs[3].path(), &addrs[3], &peers, &bootstrap);
	for replica in replicas.iter().filter(|p| **p != peers[3]) {
		let i = peers.iter().position(|p| p == replica).unwrap();
		nodes[i].take().unwrap().shutdown().await.unwrap();
	}
	let envelope = node
		.get_envelope(read_request(item, stored.key_envelope, &parties.bob))
		.await
		.unwrap();
	assert_eq!(Cid::of(&envelope.to_bytes()), stored.key_envelope);
	let refused = node
		.get_envelope(read_request(item, stored.key_envelope, &parties.charlie))
		.await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
	// One replica up: its list serves its readers, but is no quorum to sign changes by.
	assert!(matches!(node.acl(item).await, Err(NodeError::Unavailable { .. })));
	let on_disk = dirs[3]
		.path()
		.join("blocks/blocks")
		.join(format!("{:02x}", cid.digest()[0]))
		.join(cid.to_string());
	assert_eq!(std::fs::read(on_disk).unwrap(), block);
}

/// Outsiders, non-members and signatures for another chain put nothing; a member puts up
/// to its organisation's quota on each replica, other organisations unaffected; what the
/// chain does not refer to is collected after the grace period, what it refers to stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocks_are_put_only_by_members_within_their_quota_and_collected_unless_referenced() {
	// Three partners: every block lives on all three, so each replica sees every put.
	let limits = UploadLimits { quota_bytes: 1_000_000, grace_ms: 60_000 };
	let cluster = Cluster::start_with(3, limits).await;
	let eve = account("//Eve");
	let bytes = sample(600_000, 21);

	let by_outsider = cluster
		.node(0)
		.put_block(put_request(&bytes, &eve, &GENESIS), bytes.clone())
		.await;
	assert!(is_refused(&by_outsider, Refusal::Unauthorized), "{by_outsider:?}");
	let test_chain = put_request(&bytes, &uploader(), &[6; 32]);
	let refused = cluster.node(0).put_block(test_chain, bytes.clone()).await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
	let other_block = put_request(&sample(10, 1), &uploader(), &GENESIS);
	let refused = cluster.node(0).put_block(other_block, bytes.clone()).await;
	assert!(is_refused(&refused, Refusal::Invalid), "{refused:?}");
	for i in 0..3 {
		assert!(!cluster.node(i).local_blocks().has(&Cid::of(&bytes)).unwrap());
	}

	// Alice's organisation: 600 kB fit, the same block again costs nothing, 600 kB more
	// do not; Bob's organisation still puts.
	let referenced = cluster.node(0).put_signed(bytes.clone()).await.unwrap().cid;
	cluster.node(1).put_signed(bytes.clone()).await.unwrap();
	let more = sample(600_000, 22);
	let over = cluster.node(0).put_signed(more.clone()).await;
	assert!(is_refused(&over, Refusal::QuotaExceeded), "{over:?}");
	for i in 0..3 {
		assert_eq!(cluster.node(i).uploads().used(1), 600_000);
		assert!(!cluster.node(i).local_blocks().has(&Cid::of(&more)).unwrap());
	}
	let bob = account("//Bob");
	let unreferenced = cluster
		.node(2)
		.put_block(put_request(&more, &bob, &GENESIS), more.clone())
		.await
		.unwrap()
		.cid;

	// Collection: within the grace period nothing goes; after it, the block the chain
	// refers to stays (and is no longer charged), the other is removed.
	let now = dt_offchain::network::auth::now_ms();
	for i in 0..3 {
		let node = cluster.node(i);
		let early = node.uploads().collect(node.local_blocks(), |_| false, now).unwrap();
		assert_eq!(early.collected, 0);
		let late = node
			.uploads()
			.collect(node.local_blocks(), |cid| *cid == referenced, now + 60_001)
			.unwrap();
		assert_eq!((late.released, late.collected), (1, 1), "node {i}");
		assert!(node.local_blocks().has(&referenced).unwrap());
		assert!(!node.local_blocks().has(&unreferenced).unwrap());
		assert_eq!(node.uploads().used(1), 0);
	}
	// Alice's organisation has room again.
	cluster.node(0).put_signed(more).await.unwrap();
}

/// A feed closed on chain, or whose owner is no longer a member, takes no appends through
/// any node, though its history is still read; a batch signed for another chain is
/// refused by the replicas.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_feed_or_a_removed_device_can_no_longer_append() {
	let cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let device = &parties.device;
	let mut writer = FeedWriter::new(FEED, None);
	let batch = SignedBatch::sign(entries(&mut writer, 3, 1_000), device, &GENESIS);
	cluster.node(0).append_feed(FEED, batch).await.unwrap();

	let test_chain = SignedBatch::sign(entries(&mut writer.clone(), 1, 2_000), device, &[6; 32]);
	let refused = cluster.node(1).append_feed(FEED, test_chain).await;
	assert!(is_refused(&refused, Refusal::Invalid), "{refused:?}");

	// The device is removed from the consortium.
	cluster.ledger.members.lock().unwrap().remove(&device.public());
	let next = SignedBatch::sign(entries(&mut writer.clone(), 1, 2_000), device, &GENESIS);
	let refused = cluster.node(2).append_feed(FEED, next.clone()).await;
	assert!(matches!(refused, Err(NodeError::FeedClosed(FEED))), "{refused:?}");
	// Back as a member, but its feed was closed (its sensor replaced).
	cluster.ledger.members.lock().unwrap().insert(device.public(), 1);
	cluster.ledger.closed.lock().unwrap().insert(FEED);
	let refused = cluster.node(3).append_feed(FEED, next).await;
	assert!(matches!(refused, Err(NodeError::FeedClosed(FEED))), "{refused:?}");
	// Its history is still there for anyone following it.
	for i in 0..4 {
		cluster.node(i).sync_feed(FEED).await.unwrap();
		assert_eq!(cluster.node(i).local_feeds().head(FEED).unwrap().unwrap().sequence, 2);
	}
}

/// One replica claiming a reader list ahead of the others (hostile, or restored from
/// elsewhere) is not believed: the list a client signs its next change against is the one
/// k+1 replicas agree on, and that change goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_list_version_from_one_replica_alone_is_not_used() {
	let mut cluster = Cluster::start(4).await;
	let parties = parties(&cluster.ledger);
	let item = parties.item;
	let bob = AclOp::AddReader(parties.bob.public());
	cluster.node(0).change_acl(change(item, 0, bob, &parties.alice)).await.unwrap();

	let (replicas, others) = cluster.placement(&PlacementKey::item(&item));
	let liar = replicas[0];
	cluster.stop(liar).await;
	let forged = dt_offchain::network::acl::ItemState {
		acl: dt_offchain::network::Acl { version: 41, readers: vec![parties.charlie.public()] },
		..Default::default()
	};
	let path = cluster.dirs[liar].path().join("acl").join(hex::encode(item.0));
	std::fs::write(path, codec::Encode::encode(&forged)).unwrap();
	cluster.restart(liar).await;

	let acl = cluster.node(others[0]).acl(item).await.unwrap();
	assert_eq!((acl.version, acl.readers), (1, vec![parties.bob.public()]));
	let charlie = AclOp::AddReader(parties.charlie.public());
	let changed = cluster
		.node(others[0])
		.change_acl(change(item, acl.version, charlie, &parties.alice))
		.await
		.unwrap();
	assert_eq!(changed.version, 2);
	// A change signed for another chain changes nothing.
	let dave = AclOp::AddReader(parties.device.public());
	let test_chain = SignedAction::sign(
		Action::ChangeAcl(AclChange { item, base_version: 2, op: dave }),
		&parties.alice,
		&[6; 32],
	);
	let refused = cluster.node(others[0]).change_acl(test_chain).await;
	assert!(is_refused(&refused, Refusal::Unauthorized), "{refused:?}");
}

/// A partner that opens many streams at once on one connection, each with a large request:
/// the node takes at most `MAX_STREAMS_PER_CONNECTION` at a time (each held until it is
/// answered) and drops the others at once, so what one connection makes it buffer stays
/// within `MAX_BUFFERED_BYTES_PER_CONNECTION`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partner_cannot_make_a_node_buffer_unbounded_requests_on_one_connection() {
	use dt_offchain::network::protocol::{
		Request as StoreRequest, StoreCodec, MAX_BUFFERED_BYTES_PER_CONNECTION, MAX_MESSAGE_BYTES,
		MAX_STREAMS_PER_CONNECTION, PROTOCOL,
	};
	use futures::StreamExt;
	use libp2p::{
		request_response::{self, ProtocolSupport},
		swarm::SwarmEvent,
	};
	assert!(MAX_BUFFERED_BYTES_PER_CONNECTION <= 512 << 20);
	assert!(MAX_MESSAGE_BYTES >= (8 << 20) + 1024, "a full feed batch still fits");

	let mut cluster = Cluster::new(2);
	let victim = cluster.launch(0, fresh_address(), Vec::new()).await;
	cluster.addrs.push(victim.listen_addr().clone());
	// The second partner, hostile: its own swarm, as many streams as it likes.
	let mut attacker = libp2p::SwarmBuilder::with_existing_identity(cluster.keys[1].clone())
		.with_tokio()
		.with_tcp(
			libp2p::tcp::Config::default(),
			libp2p::noise::Config::new,
			libp2p::yamux::Config::default,
		)
		.unwrap()
		.with_behaviour(|_| {
			request_response::Behaviour::with_codec(
				StoreCodec,
				[(PROTOCOL, ProtocolSupport::Outbound)],
				request_response::Config::default()
					.with_max_concurrent_streams(10_000)
					.with_request_timeout(Duration::from_secs(120)),
			)
		})
		.unwrap()
		.with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(60)))
		.build();
	let target = cluster.peer(0);
	let address = victim.listen_addr().clone().with(libp2p::multiaddr::Protocol::P2p(target));
	// The node admits partners once it has read the partner list (within seconds of start).
	let deadline = std::time::Instant::now() + Duration::from_secs(30);
	'connected: loop {
		attacker.dial(address.clone()).unwrap();
		loop {
			let event = tokio::time::timeout(Duration::from_secs(10), attacker.select_next_some())
				.await
				.expect("the dial ends in time");
			match event {
				SwarmEvent::ConnectionEstablished { .. } => break 'connected,
				SwarmEvent::OutgoingConnectionError { .. }
				| SwarmEvent::ConnectionClosed { .. } => {
					assert!(
						std::time::Instant::now() < deadline,
						"the node never admitted its partner"
					);
					tokio::time::sleep(Duration::from_millis(500)).await;
					break;
				},
				_ => {},
			}
		}
	}
	let attempts = 3 * MAX_STREAMS_PER_CONNECTION;
	let bytes = sample(2 << 20, 30);
	let request =
		StoreRequest::PutBlock { request: put_request(&bytes, &account("//Eve"), &GENESIS), bytes };
	for _ in 0..attempts {
		attacker.behaviour_mut().send_request(&target, request.clone());
	}
	let (mut answered, mut dropped) = (0, 0);
	while answered + dropped < attempts {
		let event = tokio::time::timeout(Duration::from_secs(120), attacker.select_next_some())
			.await
			.expect("every request is answered or fails in time");
		match event {
			SwarmEvent::Behaviour(request_response::Event::Message {
				message: request_response::Message::Response { .. },
				..
			}) => answered += 1,
			SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => dropped += 1,
			_ => {},
		}
	}
	assert!(dropped > 0, "all {attempts} streams were taken at once ({answered} answered)");
	assert!(answered > 0, "the node still answers within its bound");
	// The node serves its partners as before.
	assert!(victim.local_blocks().iter().next().is_none(), "nothing was stored for Eve");
	victim.shutdown().await.unwrap();
}
