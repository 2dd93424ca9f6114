//! Keeps this node's share of the off-chain store in step with the finalized chain, and says
//! so on chain.
//!
//! After each finalized block (one pass at a time, at most one every six seconds; blocks
//! finalized meanwhile are caught up by the next) the node lists every item the chain refers to: each document
//! version (content and key envelope), each annotation and each feed. For those whose
//! replicas include this node (placement by XOR distance, as the store places them) and
//! that the chain does not yet record this node to hold, it
//!
//! 1. fetches them from the other replicas into its own store, every block verified
//!    against its content id (a replica serving damaged bytes is logged and skipped, and
//!    the block read from another), a feed's log checked against every checkpoint its owner
//!    anchored (a feed without a checkpoint yet waits for its first);
//! 2. attests them on chain in batches: `availability.attestAvailability`, a general
//!    transaction authorized by this node's signature with its node key (the key of the
//!    peer id the consortium registered), so the chain shows which partners hold each item.
//!
//! An item that cannot be fetched or verified yet (its replicas unreachable, a feed not yet
//! at its latest checkpoint) is tried again after a finalized block, no sooner than
//! [`RETRY_AFTER`]. Nothing is kept in memory that a restart would need: what is held is on
//! disk and what is attested is on chain.

use crate::offchain_network::StoreChainApi;
use codec::Encode;
use dt_offchain::{
	content_id::Cid,
	documents::MANIFEST_MAGIC,
	network::{Keypair, PeerId, PlacementKey, StoreHandle},
};
use dt_primitives::{
	availability::{Attestation, StoredItem},
	feed::FeedId,
};
use dt_runtime::{opaque::Block, RuntimeCall};
use futures::StreamExt;
use pallet_dt_availability::runtime_api::AvailabilityApi;
use pallet_dt_documents::runtime_api::DocumentsApi;
use pallet_dt_feeds::runtime_api::FeedsApi;
use pallet_dt_twin_spec::runtime_api::TwinSpecApi;
use sc_client_api::{BlockchainEvents, FinalityNotification};
use sc_transaction_pool_api::{TransactionPool, TransactionSource};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::Block as BlockT;
use std::{
	collections::HashMap,
	sync::Arc,
	time::{Duration, Instant},
};

const LOG_TARGET: &str = "dt-availability";

/// How long an item that could not be fetched, or whose attestation has not reached the
/// chain, waits before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Shortest time between two passes: a pass reads every item the chain refers to, and
/// blocks are finalized every few seconds.
const MIN_PASS_INTERVAL: Duration = Duration::from_secs(6);

/// Most checkpoints read per runtime call while checking a feed.
const CHECKPOINT_PAGE: u32 = 256;

type Hash = <Block as BlockT>::Hash;

/// An item the chain refers to, with what it takes to fetch and check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Referenced {
	/// A document version: its manifest (and so its chunks) and its key envelope.
	Version { content: Cid, envelope: Cid },
	/// An annotation: its manifest and chunks.
	Annotation { content: Cid },
	/// A feed and the checkpoints its owner anchored.
	Feed { feed: FeedId },
}

impl Referenced {
	/// The key whose replicas keep the item.
	fn placement(&self) -> PlacementKey {
		match self {
			Self::Version { content, .. } | Self::Annotation { content } => {
				PlacementKey::block(content)
			},
			Self::Feed { feed } => PlacementKey::feed(*feed),
		}
	}
}

/// Why an item was not fetched or verified.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HoldError {
	#[error("the chain records a malformed content id: {0}")]
	BadContentId(String),
	#[error(transparent)]
	Store(#[from] dt_offchain::network::NodeError),
	#[error("its feed log cannot be read: {0}")]
	FeedLog(String),
	#[error("the chain cannot be read: {0}")]
	Chain(String),
	#[error("its owner anchored no checkpoint yet to check its log against")]
	NoCheckpointYet,
	#[error("its log has no entry {sequence} yet (anchored at checkpoint {index})")]
	FeedBehind { sequence: u64, index: u32 },
	#[error(
		"its entry {sequence} does not match checkpoint {index} anchored on chain: the log \
		 this node holds is not the one its owner anchored"
	)]
	FeedMismatch { sequence: u64, index: u32 },
}

/// The follower's state: the items tried recently, so each is tried at most once per
/// [`RETRY_AFTER`].
struct Follower<C, P> {
	client: Arc<C>,
	pool: Arc<P>,
	store: StoreHandle,
	keypair: Keypair,
	me: PeerId,
	genesis: [u8; 32],
	tried: HashMap<StoredItem, Instant>,
}

/// Starts following the chain; the future runs for as long as the node does.
pub async fn follow<C, P>(client: Arc<C>, pool: Arc<P>, store: StoreHandle, keypair: Keypair)
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: StoreChainApi,
	P: TransactionPool<Block = Block> + 'static,
{
	let genesis = client.info().genesis_hash.into();
	let me = store.peer_id();
	let mut follower = Follower {
		client: client.clone(),
		pool,
		store,
		keypair,
		me,
		genesis,
		tried: HashMap::new(),
	};
	let mut finalized = client.finality_notification_stream();
	while let Some(mut notification) = finalized.next().await {
		// Blocks finalized while the last pass ran: only the newest matters.
		while let Some(Some(newer)) = futures::FutureExt::now_or_never(finalized.next()) {
			notification = newer;
		}
		let started = Instant::now();
		follower.pass(&notification).await;
		tokio::time::sleep(MIN_PASS_INTERVAL.saturating_sub(started.elapsed())).await;
	}
}

impl<C, P> Follower<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StoreChainApi,
	P: TransactionPool<Block = Block> + 'static,
{
	/// One pass over the chain's items at the finalized block.
	async fn pass(&mut self, notification: &FinalityNotification<Block>) {
		let at = notification.hash;
		let number = notification.header.number;
		let items = match referenced_items(&*self.client, at) {
			Ok(items) => items,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "cannot list the chain's items at block {number}: {error}");
				return;
			},
		};
		let mut held = Vec::new();
		for (item, referenced) in items {
			if !self.store.replicas_of(&referenced.placement()).contains(&self.me) {
				continue;
			}
			if self.attested(at, &item) {
				self.tried.remove(&item);
				continue;
			}
			if self.tried.get(&item).is_some_and(|last| last.elapsed() < RETRY_AFTER) {
				continue;
			}
			self.tried.insert(item, Instant::now());
			match self.hold(at, &referenced).await {
				Ok(()) => {
					log::info!(target: LOG_TARGET, "📦 Holding {}, verified against the chain", describe(&item));
					held.push(item);
				},
				Err(error @ HoldError::NoCheckpointYet) => {
					log::debug!(target: LOG_TARGET, "not attesting {} yet: {error}", describe(&item))
				},
				Err(error) => {
					log::warn!(target: LOG_TARGET, "cannot hold {} yet: {error}", describe(&item))
				},
			}
		}
		for batch in held.chunks(max_items_per_attestation()) {
			self.attest(batch).await;
		}
	}

	/// Whether the chain records this node to hold `item` at `at`.
	fn attested(&self, at: Hash, item: &StoredItem) -> bool {
		let me = self.me.to_bytes();
		self.client
			.runtime_api()
			.holders(at, *item)
			.is_ok_and(|holders| holders.iter().any(|(node, _)| *node == me))
	}

	/// Fetches `referenced` into this node's store and checks it against the chain.
	async fn hold(&self, at: Hash, referenced: &Referenced) -> Result<(), HoldError> {
		match referenced {
			Referenced::Version { content, envelope } => {
				self.hold_content(*content).await?;
				self.pin_block(*envelope).await.map(|_| ())
			},
			Referenced::Annotation { content } => self.hold_content(*content).await,
			Referenced::Feed { feed } => {
				self.store.sync_feed(*feed).await?;
				self.check_feed(at, *feed)
			},
		}
	}

	/// The content `cid` in this node's store: a document's manifest and every chunk it
	/// lists, or a single block that is the whole content.
	async fn hold_content(&self, cid: Cid) -> Result<(), HoldError> {
		let bytes = self.pin_block(cid).await?;
		if bytes.starts_with(&MANIFEST_MAGIC) {
			self.store.fetch_document(cid).await?;
		}
		Ok(())
	}

	/// Block `cid` in this node's store, fetched (verified) from a replica if missing.
	async fn pin_block(&self, cid: Cid) -> Result<Vec<u8>, HoldError> {
		let blocks = self.store.local_blocks();
		if let Ok(Some(bytes)) = blocks.get(&cid) {
			return Ok(bytes);
		}
		let fetched = self.store.get_block(cid).await?;
		blocks
			.put(&fetched.bytes)
			.map_err(|error| HoldError::Store(dt_offchain::network::NodeError::Blocks(error)))?;
		Ok(fetched.bytes)
	}

	/// Checks this node's copy of `feed` against every checkpoint anchored on chain.
	fn check_feed(&self, at: Hash, feed: FeedId) -> Result<(), HoldError> {
		let log = self
			.store
			.local_feeds()
			.log(feed)
			.map_err(|error| HoldError::FeedLog(error.to_string()))?;
		let api = self.client.runtime_api();
		let mut from = 0;
		loop {
			let page = api
				.checkpoints(at, feed, from, CHECKPOINT_PAGE)
				.map_err(|error| HoldError::Chain(error.to_string()))?;
			for record in &page {
				let sequence = record.checkpoint.sequence;
				let hash = log
					.hash_at(sequence)
					.map_err(|error| HoldError::FeedLog(error.to_string()))?
					.ok_or(HoldError::FeedBehind { sequence, index: record.index })?;
				if hash != record.checkpoint.entry_hash {
					return Err(HoldError::FeedMismatch { sequence, index: record.index });
				}
			}
			match page.last() {
				Some(last) if page.len() == CHECKPOINT_PAGE as usize => from = last.index + 1,
				None if from == 0 => return Err(HoldError::NoCheckpointYet),
				_ => return Ok(()),
			}
		}
	}

	/// Submits an attestation of `items` to the transaction pool, as of the block finalized
	/// now (fetching may have taken longer than an attestation lives).
	async fn attest(&self, items: &[StoredItem]) {
		let info = self.client.info();
		let (at, number) = (info.finalized_hash, info.finalized_number);
		let attestation = Attestation {
			node: self.me.to_bytes().try_into().expect("a libp2p peer id fits the chain's bound"),
			items: items.to_vec().try_into().expect("batches are at most the chain's bound"),
			at: number,
		};
		let signature = match self.keypair.sign(&attestation.signing_payload(&self.genesis)) {
			Ok(bytes) => match <[u8; 64]>::try_from(bytes) {
				Ok(raw) => sp_core::ed25519::Signature::from_raw(raw),
				Err(_) => {
					log::error!(target: LOG_TARGET, "the node key is not ed25519: it cannot attest");
					return;
				},
			},
			Err(error) => {
				log::error!(target: LOG_TARGET, "cannot sign an attestation: {error}");
				return;
			},
		};
		let call = RuntimeCall::Availability(pallet_dt_availability::Call::attest_availability {
			attestation,
			signature,
		});
		let extrinsic = dt_runtime::UncheckedExtrinsic::new_transaction(
			call,
			dt_runtime::tx_extension(Default::default()),
		);
		let opaque =
			match sp_runtime::OpaqueExtrinsic::try_from_encoded_extrinsic(&extrinsic.encode()) {
				Ok(opaque) => opaque,
				Err(error) => {
					log::error!(target: LOG_TARGET, "cannot encode an attestation: {error}");
					return;
				},
			};
		match self.pool.submit_one(at, TransactionSource::Local, opaque.into()).await {
			Ok(_) => log::info!(
				target: LOG_TARGET,
				"📝 Attested on chain that this node holds {} item(s)",
				items.len()
			),
			Err(error) => {
				log::warn!(target: LOG_TARGET, "the attestation was not accepted: {error}")
			},
		}
	}
}

/// Every item the chain refers to at `at`.
pub(crate) fn referenced_items<C>(
	client: &C,
	at: Hash,
) -> Result<Vec<(StoredItem, Referenced)>, HoldError>
where
	C: ProvideRuntimeApi<Block>,
	C::Api: StoreChainApi,
{
	let api = client.runtime_api();
	let chain = |error: sp_api::ApiError| HoldError::Chain(error.to_string());
	let mut items = Vec::new();
	for (twin, _) in api.twins(at).map_err(chain)? {
		for document in api.documents_of_twin(at, twin, None).map_err(chain)? {
			let Some(history) = api.document_with_history(at, document.id, None).map_err(chain)?
			else {
				continue;
			};
			for version in history.versions {
				let content = content_id(&version.version.content_id)?;
				let envelope = content_id(&version.version.key_envelope)?;
				items.push((
					StoredItem::DocumentVersion { document: document.id, version: version.number },
					Referenced::Version { content, envelope },
				));
				for (annotation, record) in version.annotations.iter().enumerate() {
					items.push((
						StoredItem::Annotation {
							document: document.id,
							version: version.number,
							annotation: annotation as u32,
						},
						Referenced::Annotation { content: content_id(&record.content_id)? },
					));
				}
			}
		}
		for feed in api.feeds_of_twin(at, twin, None).map_err(chain)? {
			items.push((StoredItem::Feed(feed.id), Referenced::Feed { feed: feed.id }));
		}
	}
	Ok(items)
}

/// Most items the chain takes in one attestation.
fn max_items_per_attestation() -> usize {
	use sp_core::Get;
	let max: u32 =
		<dt_runtime::Runtime as pallet_dt_availability::Config>::MaxItemsPerAttestation::get();
	max as usize
}

fn content_id(bytes: &[u8]) -> Result<Cid, HoldError> {
	Cid::from_bytes(bytes).map_err(|error| HoldError::BadContentId(error.to_string()))
}

/// An item as an operator reads it in the log.
fn describe(item: &StoredItem) -> String {
	match item {
		StoredItem::DocumentVersion { document, version } => {
			format!("document {document} version {version}")
		},
		StoredItem::Annotation { document, version, annotation } => {
			format!("annotation {annotation} of document {document} version {version}")
		},
		StoredItem::Feed(feed) => format!("feed {feed}"),
	}
}
