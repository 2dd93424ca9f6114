//! The store node: starting it, and the operations `dt-node` (and tests) call on it.
//!
//! # What "acknowledged" means
//!
//! A write (a block, a key envelope, a feed batch) is sent to the 2k+1 replicas of its key
//! at once. A replica answers `Ok` only after the write is durable on its disk (see
//! [`crate::block_store`] and [`crate::feed`] for what that guarantees: it survives
//! `kill -9` and power loss on a disk that honours flushes). The operation returns when
//! every replica has answered or failed (a stopped one fails at once, a hung one after the
//! request timeout), with `Ok` if at least k+1 ([`quorum`]) acknowledged; the receipt
//! names them. So an
//! acknowledged write survives the loss of any k replicas, and is readable as long as one
//! replica that acknowledged it is up. If fewer than k+1 acknowledged, the operation fails
//! ([`NodeError::NotEnoughReplicas`]); the replicas that did store it keep it (blocks are
//! content-addressed and feed batches identical on re-send, so retrying is safe).

use std::{io::Read, path::PathBuf, sync::Arc, time::Duration};

use dt_primitives::feed::{Checkpoint, FeedId};
use futures::{future::join_all, StreamExt};
use libp2p::{identity, kad, request_response::ResponseChannel, Multiaddr, PeerId};
use sp_core::{sr25519, Pair as _};
use tokio::{
	sync::{mpsc, oneshot},
	task::JoinHandle,
};

use super::{
	acl::Acl,
	auth::{now_ms, Action, SignedAction},
	behaviour::{self, Command, Server},
	error::ReplicaFailure,
	partners::{AccessPolicy, PartnerDirectory},
	placement::{quorum, replicas, PlacementKey},
	protocol::{Refusal, Request, Response},
	replica::{Handled, Replica},
	ItemId, NodeError,
};
use crate::{
	block_store::BlockStoreError,
	content_id::{verify, Cid},
	crypto::{Envelope, ReaderPrivateKey, ReaderPublicKey},
	documents::{self, DocumentReader, Manifest, StoredDocument},
	feed::{SignedBatch, Subscription},
	uploads::UploadLimits,
	GenesisHash,
};

/// How many blocks of a document are replicated at once.
const PARALLEL_BLOCKS: usize = 8;

/// How a store node starts.
pub struct StoreConfig {
	/// Where it listens, e.g. `/ip4/0.0.0.0/tcp/30444` (port 0: any free port).
	pub listen: Multiaddr,
	/// Its identity; in `dt-node`, the chain's node key, so both have one PeerId.
	pub keypair: identity::Keypair,
	/// Where its stores live; a restart from the same directory keeps everything.
	pub data_dir: PathBuf,
	/// How many replica failures items survive: each is stored on 2k+1 partners.
	pub k: usize,
	/// Addresses of partner nodes to start from.
	pub bootstrap: Vec<(PeerId, Multiaddr)>,
	/// Who the partners are.
	pub directory: Arc<dyn PartnerDirectory>,
	/// What the ledger allows.
	pub policy: Arc<dyn AccessPolicy>,
	/// The chain's genesis hash: the signatures the node accepts (requests, feed batches)
	/// are made for this chain.
	pub genesis: GenesisHash,
	/// The quota per organisation of blocks not yet referenced on chain, and how long they
	/// are kept ([`crate::uploads`]).
	pub uploads: UploadLimits,
}

/// Which replicas acknowledged a write.
#[derive(Clone, Debug)]
pub struct PutReceipt {
	/// What was written.
	pub cid: Cid,
	/// The replicas that stored it durably.
	pub stored_on: Vec<PeerId>,
	/// The replicas that did not, and why.
	pub failed: Vec<ReplicaFailure>,
}

/// A block fetched from the network, verified against its id.
#[derive(Clone, Debug)]
pub struct FetchedBlock {
	/// The bytes.
	pub bytes: Vec<u8>,
	/// The replica whose copy was used.
	pub served_by: PeerId,
	/// Replicas whose copy was damaged (they quarantine it and were sent a good copy).
	pub corrupt: Vec<ReplicaFailure>,
}

/// How often a live feed subscription renews its registration with the replicas (and
/// fetches what pushes missed); well within their lease,
/// [`SUBSCRIPTION_LEASE_MS`](super::replica::SUBSCRIPTION_LEASE_MS).
pub const SUBSCRIPTION_RENEWAL: Duration = Duration::from_secs(5);

/// A live subscription to a feed: the [`Subscription`] to this node's copy of the log
/// (use it through `Deref`: `recv`, `next_sequence`), kept fed by the replicas while it
/// lives. Dropping it stops the renewals; the replicas forget it when its lease ends.
pub struct FeedSubscription {
	subscription: Subscription,
	renewal: AbortOnDrop,
}

impl FeedSubscription {
	/// The stream of entries, ending when the log closes; renewals stop with it.
	pub fn into_stream(
		self,
	) -> impl futures::Stream<Item = Result<crate::feed::StoredEntry, crate::feed::SubscriptionError>>
	{
		let Self { subscription, renewal } = self;
		subscription.into_stream().map(move |item| {
			let _ = &renewal;
			item
		})
	}
}

/// Aborts a background task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
	fn drop(&mut self) {
		self.0.abort();
	}
}

impl std::ops::Deref for FeedSubscription {
	type Target = Subscription;

	fn deref(&self) -> &Subscription {
		&self.subscription
	}
}

impl std::ops::DerefMut for FeedSubscription {
	fn deref_mut(&mut self) -> &mut Subscription {
		&mut self.subscription
	}
}

/// Which replicas stored a feed batch.
#[derive(Clone, Debug)]
pub struct FeedReceipt {
	/// The feed's head after the batch.
	pub head: Checkpoint,
	/// The replicas that stored it durably.
	pub stored_on: Vec<PeerId>,
	/// The replicas that did not, and why.
	pub failed: Vec<ReplicaFailure>,
}

/// The shared state behind a [`StoreHandle`] and the swarm task's server.
pub(crate) struct Core {
	local: PeerId,
	k: usize,
	replica: Arc<Replica>,
	directory: Arc<dyn PartnerDirectory>,
	policy: Arc<dyn AccessPolicy>,
	commands: mpsc::UnboundedSender<Command>,
}

/// A running store node. Cheap to clone; [`StoreHandle::shutdown`] stops it.
#[derive(Clone)]
pub struct StoreHandle {
	core: Arc<Core>,
	task: Arc<tokio::sync::Mutex<Option<JoinHandle<()>>>>,
	listen_addr: Multiaddr,
}

/// Starts store nodes.
pub struct StoreNode;

impl StoreNode {
	/// Opens the stores in `config.data_dir`, starts listening and returns the handle.
	/// Must be called within a tokio runtime.
	pub async fn start(config: StoreConfig) -> Result<StoreHandle, NodeError> {
		let local = config.keypair.public().to_peer_id();
		let data_dir = config.data_dir.clone();
		let policy = config.policy.clone();
		let (genesis, limits) = (config.genesis, config.uploads);
		let replica =
			tokio::task::spawn_blocking(move || Replica::open(&data_dir, genesis, limits, policy))
				.await
				.map_err(|error| NodeError::Transport(error.to_string()))??;
		let mut swarm = behaviour::build_swarm(config.keypair, config.listen.clone())?;
		let listen_addr = behaviour::first_listen_addr(&mut swarm).await?;
		let (commands, receiver) = mpsc::unbounded_channel();
		let core = Arc::new(Core {
			local,
			k: config.k,
			replica: Arc::new(replica),
			directory: config.directory.clone(),
			policy: config.policy,
			commands,
		});
		let server: Arc<dyn Server> = core.clone();
		let task = tokio::spawn(behaviour::run(
			swarm,
			receiver,
			server,
			config.directory,
			config.bootstrap,
		));
		log::info!(target: "dt-offchain", "store node {local} listening on {listen_addr}");
		Ok(StoreHandle { core, task: Arc::new(tokio::sync::Mutex::new(Some(task))), listen_addr })
	}
}

impl Server for Core {
	fn serve(self: Arc<Self>, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
		tokio::spawn(async move {
			let response = if !self.directory.is_partner(&peer) {
				Response::refused(Refusal::NotPartner, format!("{peer} is not a partner node"))
			} else if let Request::FeedNotify { feed, batch } = request {
				self.receive_notification(peer, feed, batch).await
			} else {
				self.handle_locally(peer, request).await
			};
			let _ = self.commands.send(Command::Respond { channel, response });
		});
	}
}

impl Core {
	/// Runs `request` on this node's replica and carries out what it asks of the network.
	async fn handle_locally(self: &Arc<Self>, from: PeerId, request: Request) -> Response {
		let replica = self.replica.clone();
		let handled = tokio::task::spawn_blocking(move || replica.handle(from, request)).await;
		let Handled { response, provide, notify } = match handled {
			Ok(handled) => handled,
			Err(error) => return Response::refused(Refusal::Internal, error),
		};
		if let Some(key) = provide {
			let _ = self.commands.send(Command::Provide(kad::RecordKey::new(&key.as_bytes())));
		}
		if let Some((feed, batch, subscribers)) = notify {
			for subscriber in subscribers.into_iter().filter(|peer| *peer != self.local) {
				let core = self.clone();
				let batch = batch.clone();
				tokio::spawn(async move {
					let request = Request::FeedNotify { feed, batch };
					if let Err(error) = core.send(subscriber, request).await {
						log::debug!(target: "dt-offchain", "feed {feed} push to {subscriber}: {error}");
					}
				});
			}
		}
		response
	}

	/// Sends `request` to `peer` over the network.
	async fn send(&self, peer: PeerId, request: Request) -> Result<Response, NodeError> {
		if !self.directory.is_partner(&peer) {
			return Err(NodeError::NotPartner { peer });
		}
		let (reply, answer) = oneshot::channel();
		self.commands
			.send(Command::Request { peer, request, reply })
			.map_err(|_| NodeError::ShutDown)?;
		// The swarm answers every request (its own timeout, a dial failure); this bounds a
		// wait on a dial that never reports.
		match tokio::time::timeout(behaviour::REQUEST_TIMEOUT * 2, answer).await {
			Ok(answer) => answer.map_err(|_| NodeError::ShutDown)?,
			Err(_) => Err(NodeError::Unreachable { peer, reason: "no answer in time".into() }),
		}
	}

	/// `request` to `peer`, this node included, with a refusal turned into an error.
	async fn call(self: &Arc<Self>, peer: PeerId, request: Request) -> Result<Response, NodeError> {
		let response = if peer == self.local {
			self.handle_locally(peer, request).await
		} else {
			self.send(peer, request).await?
		};
		match response {
			Response::Refused { reason, message } => {
				Err(NodeError::Refused { peer, reason, message })
			},
			response => Ok(response),
		}
	}

	fn replicas(&self, key: &PlacementKey) -> Vec<PeerId> {
		replicas(key, &self.directory.partners(), self.k)
	}

	async fn find_providers(&self, key: &PlacementKey) -> Vec<PeerId> {
		let (reply, answer) = oneshot::channel();
		let key = kad::RecordKey::new(&key.as_bytes());
		if self.commands.send(Command::FindProviders { key, reply }).is_err() {
			return Vec::new();
		}
		tokio::time::timeout(Duration::from_secs(15), answer)
			.await
			.ok()
			.and_then(Result::ok)
			.unwrap_or_default()
	}

	/// Sends `request` to every replica of `key` and waits for all answers.
	async fn to_replicas(
		self: &Arc<Self>,
		key: &PlacementKey,
		request: Request,
	) -> Vec<(PeerId, Result<Response, NodeError>)> {
		let targets = self.replicas(key);
		let answers = join_all(targets.iter().map(|peer| self.call(*peer, request.clone()))).await;
		targets.into_iter().zip(answers).collect()
	}

	/// A write to every replica of `key`, successful once a quorum acknowledged it.
	async fn replicated_write(
		self: &Arc<Self>,
		what: String,
		key: &PlacementKey,
		request: Request,
	) -> Result<(Vec<PeerId>, Vec<ReplicaFailure>), NodeError> {
		let mut stored_on = Vec::new();
		let mut failed = Vec::new();
		for (peer, answer) in self.to_replicas(key, request).await {
			match answer {
				Ok(_) => stored_on.push(peer),
				Err(error) => failed.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		let needed = quorum(self.k);
		if stored_on.len() < needed {
			return Err(NodeError::NotEnoughReplicas {
				what,
				acked: stored_on.len(),
				needed,
				failures: failed,
			});
		}
		Ok((stored_on, failed))
	}

	async fn put_block(
		self: &Arc<Self>,
		request: SignedAction,
		bytes: Vec<u8>,
	) -> Result<PutReceipt, NodeError> {
		let cid = Cid::of(&bytes);
		let key = PlacementKey::block(&cid);
		let what = format!("block {cid}");
		let mut stored_on = Vec::new();
		let mut refusals = Vec::new();
		for (peer, answer) in self.to_replicas(&key, Request::PutBlock { request, bytes }).await {
			match answer {
				Ok(_) => stored_on.push(peer),
				Err(error) => refusals.push((peer, error)),
			}
		}
		let needed = quorum(self.k);
		if stored_on.len() < needed {
			// Refused for the signer (no member, over quota, a bad request) by every replica:
			// that is the answer, not a lack of replicas.
			if stored_on.is_empty() {
				if let Some(refusal) = take_decisive_refusal(&mut refusals) {
					return Err(refusal);
				}
			}
			let failures = refusals
				.into_iter()
				.map(|(peer, error)| ReplicaFailure { peer, reason: error.to_string() })
				.collect();
			return Err(NodeError::NotEnoughReplicas {
				what,
				acked: stored_on.len(),
				needed,
				failures,
			});
		}
		let failed = refusals
			.into_iter()
			.map(|(peer, error)| ReplicaFailure { peer, reason: error.to_string() })
			.collect();
		Ok(PutReceipt { cid, stored_on, failed })
	}

	async fn get_block(self: &Arc<Self>, cid: Cid) -> Result<FetchedBlock, NodeError> {
		let key = PlacementKey::block(&cid);
		let mut candidates = Vec::new();
		// A copy on this node (a replica, or the writer) costs no network.
		if self.replica.blocks.has(&cid).unwrap_or(false) {
			candidates.push(self.local);
		}
		candidates.extend(self.replicas(&key));
		let mut outcome = fetch_verified(&cid, dedup(candidates.clone()), |peer| {
			let core = self.clone();
			async move { core.call(peer, Request::GetBlock(cid)).await }
		})
		.await;
		if let Err(NodeError::Unavailable { tried, .. }) = &outcome {
			// Copies elsewhere: the replicas' provider records (a partner list that changed).
			let others: Vec<PeerId> = self
				.find_providers(&key)
				.await
				.into_iter()
				.filter(|peer| !candidates.contains(peer))
				.collect();
			if !others.is_empty() {
				let earlier = tried.clone();
				outcome = fetch_verified(&cid, others, |peer| {
					let core = self.clone();
					async move { core.call(peer, Request::GetBlock(cid)).await }
				})
				.await
				.map_err(|error| match error {
					NodeError::Unavailable { what, mut tried } => {
						tried.splice(0..0, earlier);
						NodeError::Unavailable { what, tried }
					},
					error => error,
				});
			}
		}
		let fetched = outcome?;
		// Repair: the replicas with a damaged copy quarantined it; give them a good one.
		for damaged in &fetched.corrupt {
			if damaged.peer == fetched.served_by {
				continue;
			}
			if let Err(error) =
				self.call(damaged.peer, Request::RepairBlock(fetched.bytes.clone())).await
			{
				log::warn!(target: "dt-offchain", "cannot repair {cid} on {}: {error}", damaged.peer);
			}
		}
		Ok(fetched)
	}
}

fn dedup(peers: Vec<PeerId>) -> Vec<PeerId> {
	let mut seen = std::collections::HashSet::new();
	peers.into_iter().filter(|peer| seen.insert(*peer)).collect()
}

/// Asks `candidates` in order for block `cid` until one serves bytes that hash to it. A
/// copy that does not match, or that its replica found damaged, is logged and reported in
/// [`FetchedBlock::corrupt`]; the next replica is tried.
pub(crate) async fn fetch_verified<F, Fut>(
	cid: &Cid,
	candidates: Vec<PeerId>,
	fetch: F,
) -> Result<FetchedBlock, NodeError>
where
	F: Fn(PeerId) -> Fut,
	Fut: std::future::Future<Output = Result<Response, NodeError>>,
{
	let mut corrupt = Vec::new();
	let mut tried = Vec::new();
	for peer in candidates {
		match fetch(peer).await {
			Ok(Response::Block(bytes)) => match verify(cid, &bytes) {
				Ok(()) => return Ok(FetchedBlock { bytes, served_by: peer, corrupt }),
				Err(mismatch) => {
					log::warn!(target: "dt-offchain", "replica {peer} served a bad copy: {mismatch}");
					let failure = ReplicaFailure { peer, reason: mismatch.to_string() };
					corrupt.push(failure.clone());
					tried.push(failure);
				},
			},
			Ok(_) => tried.push(ReplicaFailure { peer, reason: "unexpected response".into() }),
			Err(error) => {
				let failure = ReplicaFailure { peer, reason: error.to_string() };
				if let NodeError::Refused { reason: Refusal::Corrupted, .. } = error {
					log::warn!(target: "dt-offchain", "replica {peer} holds a damaged copy of {cid}");
					corrupt.push(failure.clone());
				}
				tried.push(failure);
			},
		}
	}
	Err(NodeError::Unavailable { what: format!("block {cid}"), tried })
}

fn unexpected(peer: PeerId, request: &'static str) -> NodeError {
	NodeError::UnexpectedResponse { peer, request }
}

impl StoreHandle {
	/// This node's PeerId.
	pub fn peer_id(&self) -> PeerId {
		self.core.local
	}

	/// The address the node listens on (with the actual port).
	pub fn listen_addr(&self) -> &Multiaddr {
		&self.listen_addr
	}

	/// Tells the node where a partner can be reached.
	pub fn add_address(&self, peer: PeerId, address: Multiaddr) {
		let _ = self.core.commands.send(Command::AddAddress(peer, address));
	}

	/// The replicas of `key` by the current partner list, closest first.
	pub fn replicas_of(&self, key: &PlacementKey) -> Vec<PeerId> {
		self.core.replicas(key)
	}

	/// The partners whose Kademlia provider records say they hold `key`.
	pub async fn providers(&self, key: &PlacementKey) -> Vec<PeerId> {
		self.core.find_providers(key).await
	}

	/// Checks that partner `peer` answers (and accepts this node).
	pub async fn ping(&self, peer: PeerId) -> Result<(), NodeError> {
		match self.core.call(peer, Request::Ping).await? {
			Response::Ok => Ok(()),
			_ => Err(unexpected(peer, "ping")),
		}
	}

	/// Stores a block on its 2k+1 replicas for the member who signed `request`
	/// ([`Action::PutBlock`] naming the block), charged there to its organisation; see the
	/// module documentation for when it returns `Ok`. When every replica refuses it for the
	/// signer (no member, over its quota, signed for another chain), that is the error.
	pub async fn put_block(
		&self,
		request: SignedAction,
		bytes: Vec<u8>,
	) -> Result<PutReceipt, NodeError> {
		self.core.put_block(request, bytes).await
	}

	/// The chain whose signatures this node accepts.
	pub fn genesis(&self) -> GenesisHash {
		*self.core.replica.genesis()
	}

	/// The blocks put on this node that the chain does not refer to yet, charged to their
	/// organisations ([`crate::uploads`]); the node following the chain releases and
	/// collects them.
	pub fn uploads(&self) -> &crate::uploads::Uploads {
		&self.core.replica.uploads
	}

	/// Fetches block `cid` from a replica, verified against the id; damaged copies are
	/// skipped, reported and repaired.
	pub async fn get_block(&self, cid: Cid) -> Result<FetchedBlock, NodeError> {
		self.core.get_block(cid).await
	}

	/// Block `cid` from this node or its replicas, verified: `Ok(None)` only when a quorum
	/// (k+1) of its replicas answered that they do not hold it, so it is known to be absent,
	/// not merely out of reach.
	pub async fn find_block(&self, cid: Cid) -> Result<Option<Vec<u8>>, NodeError> {
		if let Ok(Some(bytes)) = self.core.replica.blocks.get(&cid) {
			return Ok(Some(bytes));
		}
		let mut absent = 0;
		let mut tried = Vec::new();
		for peer in self.core.replicas(&PlacementKey::block(&cid)) {
			match self.core.call(peer, Request::GetBlock(cid)).await {
				Ok(Response::Block(bytes)) if verify(&cid, &bytes).is_ok() => {
					return Ok(Some(bytes))
				},
				Err(NodeError::Refused { reason: Refusal::NotFound, .. }) => absent += 1,
				Ok(_) => tried.push(ReplicaFailure { peer, reason: "no good copy".into() }),
				Err(error) => tried.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		if absent >= quorum(self.core.k) {
			return Ok(None);
		}
		Err(NodeError::Unavailable { what: format!("block {cid}"), tried })
	}

	/// Where this node keeps block `cid` on disk (for operators and tests).
	pub fn local_block_path(&self, cid: &Cid) -> PathBuf {
		self.core.replica.blocks.path_of(cid)
	}

	/// Encrypts `plaintext` under a fresh key sealed for `readers` and replicates its
	/// chunks and manifest, in bounded memory whatever its size, each block put for the
	/// member `uploader` (who signs the puts; the blocks are charged to its organisation
	/// until the chain refers to them). The key envelope stays on this node until a manager
	/// publishes it with [`Self::publish_envelope`] (its id is only known now, and the
	/// publication is the manager's to sign). This node keeps a copy of every block.
	pub async fn put_document<R: Read + Send + 'static>(
		&self,
		plaintext: R,
		readers: Vec<ReaderPublicKey>,
		uploader: &sr25519::Pair,
	) -> Result<StoredDocument, NodeError> {
		let organisation =
			self.core.policy.organisation_of(&uploader.public()).ok_or_else(|| {
				NodeError::Refused {
					peer: self.core.local,
					reason: Refusal::Unauthorized,
					message: format!("{} is no member of the consortium", uploader.public()),
				}
			})?;
		let replica = self.core.replica.clone();
		let stored = tokio::task::spawn_blocking(move || {
			documents::put_document_with(&replica.blocks, &replica.envelopes, plaintext, &readers)
		})
		.await
		.map_err(|error| NodeError::Transport(error.to_string()))??;
		let manifest = self.read_local_manifest(stored.content_id).await?;
		let blocks: Vec<Cid> =
			manifest.chunks().iter().copied().chain([stored.content_id]).collect();
		self.replicate_local_blocks(blocks, organisation, uploader).await?;
		Ok(stored)
	}

	async fn read_local_manifest(&self, content_id: Cid) -> Result<Manifest, NodeError> {
		let replica = self.core.replica.clone();
		tokio::task::spawn_blocking(move || documents::read_manifest(&replica.blocks, &content_id))
			.await
			.map_err(|error| NodeError::Transport(error.to_string()))?
			.map_err(NodeError::from)
	}

	/// Copies blocks of this node's store to their replicas, a few at a time, put for
	/// `uploader`; this node's own copies are charged to its `organisation` too.
	async fn replicate_local_blocks(
		&self,
		blocks: Vec<Cid>,
		organisation: dt_primitives::OrganisationId,
		uploader: &sr25519::Pair,
	) -> Result<(), NodeError> {
		let genesis = self.genesis();
		let results: Vec<Result<PutReceipt, NodeError>> = futures::stream::iter(blocks)
			.map(|cid| {
				let core = self.core.clone();
				let request =
					SignedAction::sign(Action::PutBlock { block: cid }, uploader, &genesis);
				async move {
					let replica = core.replica.clone();
					let bytes = tokio::task::spawn_blocking(move || {
						let bytes = replica.blocks.get(&cid)?;
						if let Some(bytes) = &bytes {
							let charged = replica.uploads.charge(
								cid,
								organisation,
								bytes.len() as u64,
								now_ms(),
							);
							if let Err(error) = charged {
								let _ = replica.blocks.remove(&cid);
								return Err(NodeError::Upload(error));
							}
						}
						Ok::<_, NodeError>(bytes)
					})
					.await
					.map_err(|error| NodeError::Transport(error.to_string()))??
					.ok_or(NodeError::Blocks(BlockStoreError::Corrupted {
						cid,
						path: core.replica.blocks.path_of(&cid),
					}))?;
					core.put_block(request, bytes).await
				}
			})
			.buffer_unordered(PARALLEL_BLOCKS)
			.collect()
			.await;
		results.into_iter().try_for_each(|result| result.map(|_| ()))
	}

	/// Publishes to the item's replicas the key envelope a manager signed for
	/// ([`Action::WriteEnvelope`]); it must be in this node's store (written by
	/// [`Self::put_document`] here). Replicas refuse an envelope sealed for anyone not on the
	/// item's committed reader list.
	pub async fn publish_envelope(&self, request: SignedAction) -> Result<PutReceipt, NodeError> {
		let Action::WriteEnvelope { item, envelope } = request.action.clone() else {
			return Err(NodeError::WrongAction { expected: "an envelope publication" });
		};
		let replica = self.core.replica.clone();
		let bytes = tokio::task::spawn_blocking(move || replica.envelopes.get(&envelope))
			.await
			.map_err(|error| NodeError::Transport(error.to_string()))??
			.ok_or(NodeError::NoSuchEnvelope(envelope))?;
		let (stored_on, failed) = self
			.core
			.replicated_write(
				format!("envelope {envelope} of item {item}"),
				&PlacementKey::item(&item),
				Request::PutEnvelope { request, bytes },
			)
			.await?;
		Ok(PutReceipt { cid: envelope, stored_on, failed })
	}

	/// The key envelope a reader asked for with a signed [`Action::ReadEnvelope`] (verified
	/// against its id) or [`Action::ReadLatestEnvelope`] (the item's newest), from the first
	/// replica of the item that serves it.
	pub async fn get_envelope(&self, request: SignedAction) -> Result<Envelope, NodeError> {
		let (item, named) = match request.action.clone() {
			Action::ReadEnvelope { item, envelope } => (item, Some(envelope)),
			Action::ReadLatestEnvelope { item } => (item, None),
			_ => return Err(NodeError::WrongAction { expected: "an envelope read" }),
		};
		let mut tried = Vec::new();
		let mut refused = None;
		for peer in self.core.replicas(&PlacementKey::item(&item)) {
			match self.core.call(peer, Request::GetEnvelope(request.clone())).await {
				Ok(Response::Envelope(bytes)) => {
					let checked = named
						.map_or(Ok(()), |envelope| verify(&envelope, &bytes))
						.map_err(|error| error.to_string())
						.and_then(|()| Envelope::from_bytes(&bytes).map_err(|e| e.to_string()));
					match checked {
						Ok(parsed) => return Ok(parsed),
						Err(reason) => {
							log::warn!(target: "dt-offchain", "replica {peer} served a bad envelope: {reason}");
							tried.push(ReplicaFailure { peer, reason });
						},
					}
				},
				Ok(_) => tried.push(ReplicaFailure { peer, reason: "unexpected response".into() }),
				Err(error @ NodeError::Refused { reason: Refusal::Replayed, .. }) => {
					return Err(error)
				},
				// A replica that missed a change of the list may refuse a reader just added:
				// ask the others, and report the refusal only if none serves.
				Err(error @ NodeError::Refused { reason: Refusal::Unauthorized, .. }) => {
					tried.push(ReplicaFailure { peer, reason: error.to_string() });
					refused.get_or_insert(error);
				},
				Err(error) => tried.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		if let Some(refusal) = refused {
			return Err(refusal);
		}
		let what = match named {
			Some(envelope) => format!("envelope {envelope} of item {item}"),
			None => format!("the newest envelope of item {item}"),
		};
		Err(NodeError::Unavailable { what, tried })
	}

	/// Fetches every block of the document version `content_id` from the replicas into
	/// this node's store (verified), a chunk at a time, and returns its manifest.
	pub async fn fetch_document(&self, content_id: Cid) -> Result<Manifest, NodeError> {
		let manifest_bytes = self.pin(content_id).await?;
		let manifest = Manifest::from_bytes(&content_id, &manifest_bytes)?;
		let pinned: Vec<Result<(), NodeError>> = futures::stream::iter(manifest.chunks().to_vec())
			.map(|cid| async move { self.pin(cid).await.map(|_| ()) })
			.buffer_unordered(PARALLEL_BLOCKS)
			.collect()
			.await;
		pinned.into_iter().collect::<Result<(), _>>()?;
		Ok(manifest)
	}

	/// Block `cid` in this node's store, fetched if it is not there.
	async fn pin(&self, cid: Cid) -> Result<Vec<u8>, NodeError> {
		let replica = self.core.replica.clone();
		let local = tokio::task::spawn_blocking(move || replica.blocks.get(&cid)).await;
		if let Ok(Ok(Some(bytes))) = local {
			return Ok(bytes);
		}
		let fetched = self.core.get_block(cid).await?;
		let replica = self.core.replica.clone();
		let bytes = fetched.bytes;
		tokio::task::spawn_blocking(move || replica.blocks.put(&bytes).map(|_| bytes))
			.await
			.map_err(|error| NodeError::Transport(error.to_string()))?
			.map_err(NodeError::from)
	}

	/// Opens a document version fetched with [`Self::fetch_document`] with `envelope` (from
	/// [`Self::get_envelope`]) and the reader's private key. Reading is blocking.
	pub fn open_document(
		&self,
		content_id: &Cid,
		envelope: &Envelope,
		private_key: &ReaderPrivateKey,
	) -> Result<DocumentReader<'_>, NodeError> {
		Ok(documents::open_document_with(
			&self.core.replica.blocks,
			content_id,
			envelope,
			private_key,
		)?)
	}

	/// The reader list of `item` as a quorum (k+1) of its replicas report it: the highest
	/// version that k+1 replicas answer with, readers and all. One replica's answer alone is
	/// never used: a hostile or broken replica reporting a version ahead of the others
	/// would have every change signed against it refused, and one reporting other readers
	/// would have documents sealed for them.
	pub async fn acl(&self, item: ItemId) -> Result<Acl, NodeError> {
		let mut answers: Vec<(Acl, usize)> = Vec::new();
		let mut tried = Vec::new();
		for (peer, answer) in
			self.core.to_replicas(&PlacementKey::item(&item), Request::GetAcl(item)).await
		{
			match answer {
				Ok(Response::Acl(acl)) => {
					match answers.iter_mut().find(|(known, _)| *known == acl) {
						Some((_, count)) => *count += 1,
						None => answers.push((acl.clone(), 1)),
					}
					tried.push(ReplicaFailure { peer, reason: format!("version {}", acl.version) });
				},
				Ok(_) => tried.push(ReplicaFailure { peer, reason: "unexpected response".into() }),
				Err(error) => tried.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		let needed = quorum(self.core.k);
		answers
			.into_iter()
			.filter(|(_, count)| *count >= needed)
			.map(|(acl, _)| acl)
			.max_by_key(|acl| acl.version)
			.ok_or(NodeError::Unavailable {
				what: format!(
					"a reader list of item {item} that {needed} of its replicas agree on"
				),
				tried,
			})
	}

	/// This node's committed reader list of `item` (for operators and tests): one
	/// replica's view, which no client should sign a change against (see [`Self::acl`]).
	pub fn local_acl(&self, item: ItemId) -> Result<Acl, NodeError> {
		Ok(self.core.replica.acls.state(&item)?.acl)
	}

	/// Changes an item's reader list as a manager signed it ([`Action::ChangeAcl`]):
	/// prepare on the 2k+1 replicas, commit if a quorum prepared, abort otherwise (see
	/// [`super::acl`]). Returns the new list.
	pub async fn change_acl(&self, request: SignedAction) -> Result<Acl, NodeError> {
		let Action::ChangeAcl(change) = request.action.clone() else {
			return Err(NodeError::WrongAction { expected: "an access-list change" });
		};
		let key = PlacementKey::item(&change.item);
		let mut prepared = Vec::new();
		let mut refusals = Vec::new();
		for (peer, answer) in
			self.core.to_replicas(&key, Request::PrepareAcl(request.clone())).await
		{
			match answer {
				Ok(_) => prepared.push(peer),
				Err(error) => refusals.push((peer, error)),
			}
		}
		let needed = quorum(self.core.k);
		if prepared.len() < needed {
			join_all(
				prepared
					.iter()
					.map(|peer| self.core.call(*peer, Request::AbortAcl(request.clone()))),
			)
			.await;
			// Refused for the signer by every replica that answered: that is the answer, not
			// a lack of quorum.
			if prepared.is_empty() {
				let position = refusals.iter().position(|(_, error)| {
					matches!(error, NodeError::Refused { reason: Refusal::Unauthorized, .. })
				});
				if let Some(position) = position {
					return Err(refusals.swap_remove(position).1);
				}
			}
			let refusals = refusals
				.into_iter()
				.map(|(peer, error)| ReplicaFailure { peer, reason: error.to_string() })
				.collect();
			return Err(NodeError::NoQuorum { accepted: prepared.len(), needed, refusals });
		}
		let mut committed = None;
		for (peer, answer) in self.core.to_replicas(&key, Request::CommitAcl(request.clone())).await
		{
			match answer {
				Ok(Response::Acl(acl)) => committed = Some(acl),
				Ok(_) => {},
				Err(error) => {
					log::warn!(target: "dt-offchain", "replica {peer} did not commit: {error}")
				},
			}
		}
		committed.ok_or(NodeError::NotEnoughReplicas {
			what: format!("commit of a change of item {}", change.item),
			acked: 0,
			needed,
			failures: Vec::new(),
		})
	}

	/// Appends an owner-signed batch to `feed` on its replicas. Each replica validates it
	/// (the feed active and its owner a member, owner's signature for this chain, next
	/// entries only, first write wins); a replica that missed
	/// earlier batches is sent them first from one that has them.
	pub async fn append_feed(
		&self,
		feed: FeedId,
		batch: SignedBatch,
	) -> Result<FeedReceipt, NodeError> {
		if self.core.policy.feed_appender(feed).is_none() {
			if self.core.policy.feed_owner(feed).is_some() {
				return Err(NodeError::FeedClosed(feed));
			}
			return Err(NodeError::UnknownFeed(feed));
		}
		let key = PlacementKey::feed(feed);
		let request = Request::AppendFeed { feed, batch: batch.clone() };
		let mut stored_on = Vec::new();
		let mut head = None;
		let mut behind = Vec::new();
		let mut failed = Vec::new();
		for (peer, answer) in self.core.to_replicas(&key, request.clone()).await {
			match answer {
				Ok(Response::FeedHead(Some(at))) => {
					head = Some(at);
					stored_on.push(peer);
				},
				Ok(_) => failed.push(ReplicaFailure { peer, reason: "unexpected response".into() }),
				Err(NodeError::Refused { reason: Refusal::FeedGap { expected }, .. }) => {
					behind.push((peer, expected))
				},
				Err(error @ NodeError::Refused { reason: Refusal::Invalid, .. }) => {
					return Err(error)
				},
				Err(error) => failed.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		for (peer, expected) in behind {
			let source = stored_on.first().copied().unwrap_or(self.core.local);
			let outcome = match self.core.catch_up(feed, source, peer, expected, false).await {
				Ok(_) => self.core.call(peer, request.clone()).await,
				Err(error) => Err(error),
			};
			match outcome {
				Ok(Response::FeedHead(Some(at))) => {
					head = Some(at);
					stored_on.push(peer);
				},
				Ok(_) => failed.push(ReplicaFailure { peer, reason: "unexpected response".into() }),
				Err(error) => failed.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		let needed = quorum(self.core.k);
		match head {
			Some(head) if stored_on.len() >= needed => Ok(FeedReceipt { head, stored_on, failed }),
			_ => Err(NodeError::NotEnoughReplicas {
				what: format!("batch of feed {feed}"),
				acked: stored_on.len(),
				needed,
				failures: failed,
			}),
		}
	}

	/// The head of `feed`: the furthest among its replicas.
	pub async fn feed_head(&self, feed: FeedId) -> Result<Option<Checkpoint>, NodeError> {
		let mut head: Option<Checkpoint> = None;
		for (_, answer) in
			self.core.to_replicas(&PlacementKey::feed(feed), Request::FeedHead(feed)).await
		{
			if let Ok(Response::FeedHead(Some(at))) = answer {
				if head.is_none_or(|h| at.sequence > h.sequence) {
					head = Some(at);
				}
			}
		}
		Ok(head)
	}

	/// A live, in-order stream of `feed`'s entries, wherever they are appended: this node
	/// asks the feed's replicas to push it new batches, checks each (owner's signature,
	/// chain) into its own copy of the log, and the stream follows that copy. Entries the
	/// replicas held before are fetched first, so the stream starts at the log's beginning
	/// on a node that never followed the feed, and carries on where it was on one that did.
	///
	/// While the returned subscription lives, the node renews its registration with the
	/// replicas every [`SUBSCRIPTION_RENEWAL`] and fetches anything a push missed (a
	/// replica that restarted, a push that failed), so the stream heals itself.
	pub async fn subscribe_feed(&self, feed: FeedId) -> Result<FeedSubscription, NodeError> {
		if self.core.policy.feed_owner(feed).is_none() {
			return Err(NodeError::UnknownFeed(feed));
		}
		let replica = self.core.replica.clone();
		let subscription = tokio::task::spawn_blocking(move || replica.feeds.subscribe(feed))
			.await
			.map_err(|error| NodeError::Transport(error.to_string()))??;
		self.core.follow_feed(feed).await?;
		let core = Arc::downgrade(&self.core);
		let renewal = tokio::spawn(async move {
			let mut ticks = tokio::time::interval(SUBSCRIPTION_RENEWAL);
			ticks.tick().await;
			loop {
				ticks.tick().await;
				// A weak reference, so that a forgotten subscription never keeps a node
				// that shut down open.
				let Some(core) = core.upgrade() else { return };
				if let Err(error) = core.follow_feed(feed).await {
					log::debug!(target: "dt-offchain", "renewing the subscription to feed {feed}: {error}");
				}
			}
		});
		Ok(FeedSubscription { subscription, renewal: AbortOnDrop(renewal) })
	}

	/// Stops the node: the swarm closes its connections and the stores are closed, so a
	/// new node can start from the same directory. Waits for requests being served.
	pub async fn shutdown(self) -> Result<(), NodeError> {
		let _ = self.core.commands.send(Command::Shutdown);
		if let Some(task) = self.task.lock().await.take() {
			let _ = task.await;
		}
		// Requests still being served hold the stores (and their directory locks); give
		// them a moment to finish. Other clones of this handle keep the stores open until
		// they are dropped too.
		for _ in 0..500 {
			if Arc::strong_count(&self.core) == 1 && Arc::strong_count(&self.core.replica) == 1 {
				break;
			}
			tokio::time::sleep(Duration::from_millis(10)).await;
		}
		Ok(())
	}
}

impl Core {
	/// Registers this node with the replicas of `feed` for pushes, and fetches from one of
	/// them what this node's copy of the log lacks.
	async fn follow_feed(self: &Arc<Self>, feed: FeedId) -> Result<(), NodeError> {
		let mut registered = Vec::new();
		let mut failed = Vec::new();
		for (peer, answer) in
			self.to_replicas(&PlacementKey::feed(feed), Request::SubscribeFeed(feed)).await
		{
			match answer {
				Ok(_) => registered.push(peer),
				Err(error) => failed.push(ReplicaFailure { peer, reason: error.to_string() }),
			}
		}
		let Some(&source) = registered.iter().find(|peer| **peer != self.local) else {
			// This node is the only replica that answered: its log is the one to follow.
			if registered.is_empty() {
				return Err(NodeError::Unavailable { what: format!("feed {feed}"), tried: failed });
			}
			return Ok(());
		};
		let replica = self.replica.clone();
		let head = tokio::task::spawn_blocking(move || replica.feeds.head(feed))
			.await
			.map_err(|error| NodeError::Transport(error.to_string()))??;
		let from = head.map_or(0, |head| head.sequence + 1);
		self.catch_up(feed, source, self.local, from, true).await.map(|_| ())
	}

	/// A batch a replica pushed: checked into this node's copy of the log; if entries are
	/// missing before it, they are fetched from that replica first.
	async fn receive_notification(
		self: &Arc<Self>,
		from: PeerId,
		feed: FeedId,
		batch: SignedBatch,
	) -> Response {
		let request = Request::FeedNotify { feed, batch };
		match self.handle_locally(from, request.clone()).await {
			Response::Refused { reason: Refusal::FeedGap { expected }, .. } => {
				match self.catch_up(feed, from, self.local, expected, true).await {
					Ok(_) => self.handle_locally(from, request).await,
					Err(error) => Response::refused(Refusal::Internal, error),
				}
			},
			response => response,
		}
	}

	/// Copies `feed`'s batches from entry `from` on from `source` to `target` (this node
	/// or another), until `source` has no more. `as_notification` stores them as pushed
	/// batches (not pushed on to subscribers).
	async fn catch_up(
		self: &Arc<Self>,
		feed: FeedId,
		source: PeerId,
		target: PeerId,
		mut from: u64,
		as_notification: bool,
	) -> Result<Response, NodeError> {
		let mut last = Response::Ok;
		loop {
			let batches =
				match self.call(source, Request::FeedBatches { feed, from, max: 64 }).await? {
					Response::FeedBatches(batches) => batches,
					_ => return Err(unexpected(source, "feed batches")),
				};
			let Some(next) = batches.last().and_then(SignedBatch::last_sequence) else {
				return Ok(last);
			};
			for batch in batches {
				let request = if as_notification {
					Request::FeedNotify { feed, batch }
				} else {
					Request::AppendFeed { feed, batch }
				};
				last = self.call(target, request).await?;
			}
			if next < from {
				return Ok(last);
			}
			from = next + 1;
		}
	}
}

/// What a node's own RPC needs: this node's copies, and bringing a feed's copy up to date.
impl StoreHandle {
	/// This node's block store (the blocks it replicates or pinned).
	pub fn local_blocks(&self) -> &crate::block_store::BlockStore {
		&self.core.replica.blocks
	}

	/// This node's feed logs (those it replicates or follows).
	pub fn local_feeds(&self) -> &crate::feed::FeedStore {
		&self.core.replica.feeds
	}

	/// Brings this node's copy of `feed` up to what its replicas hold (fetching only what is
	/// missing, each batch checked as on append), so that reads served from
	/// [`Self::local_feeds`] see entries appended anywhere. Also registers this node for the
	/// feed's pushes for a while, so an immediate next read is already current.
	pub async fn sync_feed(&self, feed: FeedId) -> Result<(), NodeError> {
		if self.core.policy.feed_owner(feed).is_none() {
			return Err(NodeError::UnknownFeed(feed));
		}
		self.core.follow_feed(feed).await
	}

	/// Publishes key envelope `bytes`, sealed by the client itself, under the
	/// [`Action::WriteEnvelope`] a manager signed for it: the item's replicas each check the
	/// signer, that the bytes hash to the envelope's id and that every recipient is a reader
	/// on their committed list. Once a quorum stored it, this node keeps a copy too (as
	/// [`Self::put_document`] does for envelopes it seals).
	///
	/// When no replica stored it, their refusal is the answer (the signer is no manager, the
	/// envelope is sealed for someone off the list, the request was used before), not a
	/// lack of replicas.
	pub async fn publish_envelope_bytes(
		&self,
		request: SignedAction,
		bytes: Vec<u8>,
	) -> Result<PutReceipt, NodeError> {
		let Action::WriteEnvelope { item, envelope } = request.action.clone() else {
			return Err(NodeError::WrongAction { expected: "an envelope publication" });
		};
		let publication = Request::PutEnvelope { request, bytes: bytes.clone() };
		let mut stored_on = Vec::new();
		let mut refusals = Vec::new();
		for (peer, answer) in self.core.to_replicas(&PlacementKey::item(&item), publication).await {
			match answer {
				Ok(_) => stored_on.push(peer),
				Err(error) => refusals.push((peer, error)),
			}
		}
		let failures = |refusals: &[(PeerId, NodeError)]| -> Vec<ReplicaFailure> {
			refusals
				.iter()
				.map(|(peer, error)| ReplicaFailure { peer: *peer, reason: error.to_string() })
				.collect()
		};
		let needed = quorum(self.core.k);
		if stored_on.len() < needed {
			if stored_on.is_empty() {
				if let Some(refusal) = take_decisive_refusal(&mut refusals) {
					return Err(refusal);
				}
			}
			return Err(NodeError::NotEnoughReplicas {
				what: format!("envelope {envelope} of item {item}"),
				acked: stored_on.len(),
				needed,
				failures: failures(&refusals),
			});
		}
		let replica = self.core.replica.clone();
		let kept = tokio::task::spawn_blocking(move || replica.envelopes.put(&bytes)).await;
		if !matches!(kept, Ok(Ok(_))) {
			// The replicas hold it: a missing local copy costs a fetch, not the envelope.
			log::warn!(target: "dt-offchain", "envelope {envelope}: no local copy kept: {kept:?}");
		}
		Ok(PutReceipt { cid: envelope, stored_on, failed: failures(&refusals) })
	}
}

/// Among the refusals of every replica of an item, the one that decides for the request
/// whichever replica is asked: the signer not allowed, the request invalid or used before.
fn take_decisive_refusal(refusals: &mut Vec<(PeerId, NodeError)>) -> Option<NodeError> {
	for decisive in
		[Refusal::Unauthorized, Refusal::Invalid, Refusal::Replayed, Refusal::QuotaExceeded]
	{
		let position = refusals.iter().position(
			|(_, error)| matches!(error, NodeError::Refused { reason, .. } if *reason == decisive),
		);
		if let Some(position) = position {
			return Some(refusals.swap_remove(position).1);
		}
	}
	None
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A replica that serves bytes not matching the id (a hostile or broken partner, which
	/// the replica-side check of the integration tests cannot produce) is skipped, logged
	/// and reported; the next replica's good copy is used.
	#[tokio::test]
	async fn a_copy_that_does_not_match_its_id_is_skipped_and_reported() {
		let good = b"the block".to_vec();
		let cid = Cid::of(&good);
		let (liar, broken, honest) = (PeerId::random(), PeerId::random(), PeerId::random());
		let fetched = fetch_verified(&cid, vec![liar, broken, honest], |peer| {
			let good = good.clone();
			async move {
				if peer == liar {
					Ok(Response::Block(b"the blocK".to_vec()))
				} else if peer == broken {
					Err(NodeError::Refused {
						peer,
						reason: Refusal::Corrupted,
						message: "damaged".into(),
					})
				} else {
					Ok(Response::Block(good))
				}
			}
		})
		.await
		.unwrap();
		assert_eq!(fetched.bytes, good);
		assert_eq!(fetched.served_by, honest);
		let corrupt: Vec<PeerId> = fetched.corrupt.iter().map(|f| f.peer).collect();
		assert_eq!(corrupt, vec![liar, broken]);

		// Nobody honest: unavailable, every attempt named.
		let outcome = fetch_verified(&cid, vec![liar], |_| async {
			Ok(Response::Block(b"the blocK".to_vec()))
		})
		.await;
		match outcome {
			Err(NodeError::Unavailable { tried, .. }) => assert_eq!(tried[0].peer, liar),
			other => panic!("{other:?}"),
		}
	}
}
