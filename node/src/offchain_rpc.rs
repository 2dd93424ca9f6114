//! The node's embedded off-chain store over JSON-RPC: the `store_*` methods (content-addressed
//! blocks: encrypted document chunks, manifests and key envelopes) and the `feed_*` methods
//! (signed sensor feeds), served from [`dt_offchain`]'s `BlockStore` and `FeedStore` opened
//! under `<base-path>/offchain/`.
//!
//! With the store's network (`--store-listen`, see [`crate::offchain_network`]) blocks are
//! written to their 2k+1 replicas among the partners' nodes and read from any of them,
//! verified; feed batches go to the feed's replicas, reads first bring this node's copy of
//! the feed up to date, and subscriptions follow entries appended on any node. Without it
//! this node holds the only copy. Documents are encrypted by the client
//! (`dt_offchain::documents`), so nodes only ever see ciphertext.
//!
//! A feed's owner and status are read from the chain (`FeedsApi_feed` at the best block);
//! appends to unknown, closed or replaced feeds, and to feeds whose owner is no longer a
//! member of the consortium, are refused before the store sees them (and again by every
//! replica). Entries are signed for this chain: their signatures cover its genesis hash.
//!
//! Blocks are put only under a member's signed request (`Action::PutBlock`, naming the
//! block, signed for this chain), charged to the member's organisation until the chain
//! refers to them, within a quota per organisation on each node, and collected after a
//! grace period if it never does (`dt_offchain::uploads`, `crate::uploads`).
//!
//! With the network, the `store_*` methods also reach the items' reader lists and key
//! envelopes (k-rAC, see `dt_offchain::network::acl`): requests signed by a ledger account,
//! checked here (signature, age, first use) and again by every replica of the item.
//!
//! The writing methods (`store_putBlock`, `store_changeAcl`, `store_putEnvelope`,
//! `feed_append`) are unsafe RPC methods: a node serves them only where its operator allows
//! unsafe methods (`--rpc-methods`; by default on a localhost RPC port only).

use codec::DecodeAll;
use dt_offchain::{
	block_store::{BlockStore, BlockStoreError, MAX_BLOCK_SIZE},
	content_id::Cid,
	crypto::Envelope,
	feed::{
		Appended, EntryView, FeedError, FeedKey, FeedStore, SignedBatch, StoreError, StoredEntry,
		Subscription, SubscriptionError, MAX_BATCH_BYTES, MAX_RANGE_ENTRIES,
	},
	network::{
		auth::{now_ms, ReplayGuard},
		node::FeedSubscription,
		AccessPolicy, Acl, Action, AuthError, ItemId, NodeError, Refusal, SignedAction,
		StoreHandle,
	},
	uploads::{UploadError, UploadLimits, Uploads},
	GenesisHash,
};
use dt_primitives::access::Confidentiality;
use dt_primitives::feed::{Checkpoint, FeedId};
use dt_runtime::{opaque::Block, AccountId, BlockNumber};
use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
	Extensions, PendingSubscriptionSink, SubscriptionMessage,
};
use pallet_dt_access::runtime_api::AccessApi;
use pallet_dt_consortium::runtime_api::ConsortiumApi;
use pallet_dt_documents::DocumentId;
use pallet_dt_feeds::{runtime_api::FeedsApi, FeedStatus};
use serde::{Deserialize, Serialize};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::sr25519;
use std::{path::Path, sync::Arc, time::Duration};

/// JSON-RPC error codes of the `store_*` and `feed_*` methods.
pub mod error_code {
	/// A parameter is not valid hex (with or without `0x`).
	pub const INVALID_HEX: i32 = 7101;
	/// The content id is not a base32 CIDv1 with a SHA-256 multihash.
	pub const INVALID_CID: i32 = 7102;
	/// The block is larger than `MAX_BLOCK_SIZE` (4 MiB).
	pub const BLOCK_TOO_LARGE: i32 = 7103;
	/// The store does not hold a block with this content id.
	pub const BLOCK_NOT_FOUND: i32 = 7104;
	/// The stored copy of the block does not match its content id.
	pub const BLOCK_CORRUPTED: i32 = 7105;
	/// The store failed to read or write its files.
	pub const STORE_FAILED: i32 = 7106;
	/// The signer's organisation has as many bytes of blocks that nothing on chain refers
	/// to yet as its quota allows on this node (or on the block's replicas): register what
	/// was uploaded, or wait until unreferenced blocks are collected.
	pub const QUOTA_EXCEEDED: i32 = 7107;

	/// No feed with this id on chain (at the best block).
	pub const UNKNOWN_FEED: i32 = 7201;
	/// The feed is closed on chain: it takes no more entries.
	pub const FEED_CLOSED: i32 = 7202;
	/// The batch is not hex or does not decode as one SCALE `SignedBatch`.
	pub const INVALID_BATCH: i32 = 7203;
	/// The feed's validation refused the batch; `data.reason` names the rule
	/// (`Gap`, `Fork`, `WrongSigner`, `BadSignature`, ...).
	pub const BATCH_REFUSED: i32 = 7204;
	/// The chain's state could not be read.
	pub const STATE_UNAVAILABLE: i32 = 7205;
	/// The feed's owner is no longer a member of the consortium: its device takes no more
	/// entries.
	pub const OWNER_NOT_MEMBER: i32 = 7206;
	/// The feed is above Public, and the batch holds an entry in plaintext (no key epoch):
	/// its readings must be encrypted for their readers.
	pub const PLAINTEXT_REFUSED: i32 = 7207;
	/// The feed is above Public: reading it needs a request signed (`signedRead`) by an
	/// account cleared for its level on its twin, or by its owner, and none was given or the
	/// signer is not cleared; `data.level` is the feed's level.
	pub const READ_NOT_ALLOWED: i32 = 7208;

	/// Not a usable request: the item id is not 32 bytes, the signed request does not
	/// decode as one SCALE `SignedAction` or asks for another action than the method, or
	/// the envelope's bytes do not hash to the content id the request names.
	pub const INVALID_REQUEST: i32 = 7301;
	/// The signature does not verify (for this chain: requests signed for another chain's
	/// genesis are refused), or the ledger (for a put, a change or a publication) or the
	/// item's reader list (for a read) does not allow the signer.
	pub const NOT_ALLOWED: i32 = 7302;
	/// Fewer than k+1 replicas of the item prepared the change: it was aborted and changed
	/// nothing; `data` is `{ accepted, needed }`.
	pub const NO_QUORUM: i32 = 7303;
	/// The signed request was signed too long ago (or ahead), or was already used;
	/// `data.reason` is `Stale` or `Replayed`. Sign a new one.
	pub const STALE_OR_REPLAYED: i32 = 7304;
	/// The change does not fit the list: it applies to another version, another change is
	/// pending, or the reader to add is already on it (to remove, not on it).
	pub const LIST_CONFLICT: i32 = 7305;
	/// This node has not opened the store's network (`--store-listen`): reader lists and
	/// key envelopes live on the partners' replicas only.
	pub const NO_STORE_NETWORK: i32 = 7306;
	/// The replicas refused the envelope: it is malformed, or sealed for a key of no reader
	/// on the item's committed list.
	pub const ENVELOPE_REFUSED: i32 = 7307;
	/// No replica of the item served the envelope (none holds it, or none answered).
	pub const ENVELOPE_UNAVAILABLE: i32 = 7308;
}

/// The node's off-chain stores: one directory each, each locked by this process; either
/// this node's alone, or its replica of the store shared among the partners.
pub enum OffchainStores {
	/// This node's own copy, not replicated.
	Local { blocks: BlockStore, feeds: FeedStore, uploads: Uploads },
	/// This node's replica in the partners' store network.
	Network(StoreHandle),
}

impl OffchainStores {
	/// Opens (creating them if needed) `<root>/blocks`, `<root>/feeds` and
	/// `<root>/uploads` (the charges of blocks not yet referenced on chain, within
	/// `limits`).
	pub fn open(root: &Path, limits: UploadLimits) -> Result<Self, String> {
		let blocks_root = root.join("blocks");
		let feeds_root = root.join("feeds");
		let blocks = BlockStore::open(&blocks_root)
			.map_err(|e| format!("cannot open the off-chain block store: {e}"))?;
		let feeds = FeedStore::open(&feeds_root)
			.map_err(|e| format!("cannot open the off-chain feed store: {e}"))?;
		let uploads = Uploads::open(root.join("uploads"), limits)
			.map_err(|e| format!("cannot open the off-chain store's upload records: {e}"))?;
		log::info!(
			"📦 Off-chain store: blocks in {}, feeds in {}",
			blocks_root.display(),
			feeds_root.display()
		);
		Ok(Self::Local { blocks, feeds, uploads })
	}

	/// The blocks put on this node that the chain does not refer to yet.
	pub fn uploads(&self) -> &Uploads {
		match self {
			Self::Local { uploads, .. } => uploads,
			Self::Network(network) => network.uploads(),
		}
	}

	/// This node's blocks.
	pub fn blocks(&self) -> &BlockStore {
		match self {
			Self::Local { blocks, .. } => blocks,
			Self::Network(network) => network.local_blocks(),
		}
	}

	/// This node's feed logs.
	pub fn feeds(&self) -> &FeedStore {
		match self {
			Self::Local { feeds, .. } => feeds,
			Self::Network(network) => network.local_feeds(),
		}
	}

	pub(crate) fn network(&self) -> Option<&StoreHandle> {
		match self {
			Self::Local { .. } => None,
			Self::Network(network) => Some(network),
		}
	}
}

/// A checkpoint as JSON: the sequence number, hash (`0x` hex) and timestamp of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadView {
	pub sequence: u64,
	pub hash: String,
	pub timestamp: u64,
}

impl From<Checkpoint> for HeadView {
	fn from(checkpoint: Checkpoint) -> Self {
		HeadView {
			sequence: checkpoint.sequence,
			hash: hex0x(&checkpoint.entry_hash),
			timestamp: checkpoint.timestamp,
		}
	}
}

/// What `feed_append` returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendResult {
	/// The log's head after the append: what the owner may anchor on chain.
	pub head: HeadView,
	/// How many new entries were stored (0 for a re-send).
	pub stored: u64,
	/// Every entry was already stored, identical: nothing changed.
	pub already_stored: bool,
}

/// The subscriber fell behind: entries `[resumeFrom, liveFrom)` were dropped. Sent as the
/// subscription's last item, after which the node closes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LagView {
	pub resume_from: u64,
	pub live_from: u64,
	pub message: String,
}

/// An item of `feed_subscribe`: an entry, or (last) a lag notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FeedItem {
	Entry(EntryView),
	Lagged { lagged: LagView },
}

/// An item's reader list as JSON: its version and its readers' accounts (SS58, as every
/// account in the node's RPC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclView {
	/// 0 before the first change, then one more per committed change.
	pub version: u64,
	/// The readers, SS58.
	pub readers: Vec<String>,
}

impl From<Acl> for AclView {
	fn from(acl: Acl) -> Self {
		AclView {
			version: acl.version,
			readers: acl
				.readers
				.into_iter()
				.map(|reader| AccountId::from(reader).to_string())
				.collect(),
		}
	}
}

/// A replica that did not store a write, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissedView {
	/// Its peer id.
	pub peer: String,
	pub reason: String,
}

/// What `store_putEnvelope` returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeReceipt {
	/// The envelope's content id (text).
	pub cid: String,
	/// The peer ids of the item's replicas that stored it durably (at least k+1).
	pub stored_on: Vec<String>,
	/// The item's other replicas.
	pub missed: Vec<MissedView>,
}

/// Most bytes of a SCALE `SignedAction`: a change that sets a whole list of readers at
/// once (a feed epoch's) takes 32 bytes a reader, and a list holds at most 1024.
const MAX_SIGNED_ACTION_BYTES: usize = 40 * 1024;

#[rpc(server, namespace = "store")]
pub trait StoreApi {
	/// Stores `bytes` (hex, at most 4 MiB) for the member who signed `signedAction` (hex of
	/// a SCALE `SignedAction` with `Action::PutBlock` naming the block's content id, signed
	/// for this chain within the last 15 minutes), charged to its organisation until the
	/// chain refers to the block, and returns the content id (CIDv1, raw, SHA-256; base32
	/// text `bafkrei…`). Acknowledged only once durable on disk. Unsafe.
	#[method(name = "putBlock", with_extensions)]
	async fn put_block(&self, bytes: String, signed_action: String) -> RpcResult<String>;

	/// The block with content id `cid`, `0x` hex, verified against the id.
	#[method(name = "getBlock")]
	async fn get_block(&self, cid: String) -> RpcResult<String>;

	/// Whether the store holds a block with content id `cid` (not verified).
	#[method(name = "hasBlock")]
	async fn has_block(&self, cid: String) -> RpcResult<bool>;

	/// The item (`0x` hex of 32 bytes) of document `document`'s reader list and key
	/// envelopes. Computed from the id alone: an item naming no document on chain has no
	/// manager, so every change or publication for it is refused.
	#[method(name = "documentItem")]
	async fn document_item(&self, document: DocumentId) -> RpcResult<String>;

	/// The committed reader list of `item` (hex): the highest version that k+1 of its 2k+1
	/// replicas report identically (never one replica's word alone).
	#[method(name = "acl")]
	async fn acl(&self, item: String) -> RpcResult<AclView>;

	/// Changes a reader list as `signedAction` (hex of a SCALE `SignedAction` with
	/// `Action::ChangeAcl`, signed by a manager of the item) asks: prepared on the item's
	/// 2k+1 replicas, committed once k+1 prepared it. Returns the new list. Unsafe.
	#[method(name = "changeAcl", with_extensions)]
	async fn change_acl(&self, signed_action: String) -> RpcResult<AclView>;

	/// Publishes `envelope` (hex of a key envelope the client sealed for the readers of the
	/// item's committed list) under `signedAction` (`Action::WriteEnvelope` naming the
	/// envelope's content id, signed by a manager). Unsafe.
	#[method(name = "putEnvelope", with_extensions)]
	async fn put_envelope(
		&self,
		envelope: String,
		signed_action: String,
	) -> RpcResult<EnvelopeReceipt>;

	/// The key envelope `signedAction` (signed by a reader on the item's list) asks for,
	/// `0x` hex: the one `Action::ReadEnvelope` names (verified against its content id), or
	/// the item's newest for `Action::ReadLatestEnvelope` (a feed epoch's one envelope).
	#[method(name = "getEnvelope")]
	async fn get_envelope(&self, signed_action: String) -> RpcResult<String>;

	/// The item (`0x` hex of 32 bytes) of epoch `epoch` of feed `feed`: the readers its key
	/// was sealed for and its envelope. Computed from the ids alone.
	#[method(name = "feedEpochItem")]
	async fn feed_epoch_item(&self, feed: FeedId, epoch: u32) -> RpcResult<String>;
}

#[rpc(server, namespace = "feed")]
pub trait FeedApi {
	/// Validates `batch` (hex of a SCALE `SignedBatch`) against the feed's owner on chain and
	/// stores what is new, durably. The feed must be active and its owner a member of the
	/// consortium; the batch signed for this chain. Unsafe.
	#[method(name = "append", with_extensions)]
	async fn append(&self, feed: FeedId, batch: String) -> RpcResult<AppendResult>;

	/// The feed's latest entry, `null` while its log is empty.
	///
	/// A read of a feed above Public may be signed, `signedRead`: hex of a SCALE
	/// `SignedAction` with `Action::ReadFeed` naming the feed, signed for this chain within
	/// the last two minutes, used once; it is served only if the signer is a member cleared
	/// for the feed's level (or the feed's owner). Reads of public feeds need none.
	#[method(name = "latest")]
	async fn latest(
		&self,
		feed: FeedId,
		signed_read: Option<String>,
	) -> RpcResult<Option<EntryView>>;

	/// Entries with sequence numbers in `[from, to)`, at most `limit` (and at most 65536),
	/// in a page of at most about 4 MiB: fewer entries may come back than exist, read on
	/// from the last one's sequence number plus one.
	#[method(name = "range")]
	async fn range(
		&self,
		feed: FeedId,
		from: u64,
		to: u64,
		limit: Option<u32>,
		signed_read: Option<String>,
	) -> RpcResult<Vec<EntryView>>;

	/// Entries timestamped in `[fromMs, toMs)`, at most `limit` (and at most 65536), in a
	/// page of at most about 4 MiB.
	#[method(name = "rangeByTime")]
	async fn range_by_time(
		&self,
		feed: FeedId,
		from_ms: u64,
		to_ms: u64,
		limit: Option<u32>,
		signed_read: Option<String>,
	) -> RpcResult<Vec<EntryView>>;

	/// New entries of the feed, in order, from the log's length at subscription on.
	#[subscription(name = "subscribe" => "entry", unsubscribe = "unsubscribe", item = FeedItem)]
	async fn subscribe(&self, feed: FeedId, signed_read: Option<String>) -> SubscriptionResult;
}

/// How often, and how long apart at first, a block is offered again to replicas that missed
/// it; the wait doubles each time (about 8.5 minutes in all).
const REPLICATION_RETRIES: u32 = 9;
const FIRST_REPLICATION_RETRY: Duration = Duration::from_secs(1);

/// A write is acknowledged once a quorum of the block's replicas stored it; the replicas that
/// missed it (not yet connected, restarting) are offered it again in the background until
/// all have it, under the member's signed put (valid for 15 minutes, longer than the
/// retries). Storing a block a replica already holds changes nothing there.
async fn complete_replication(
	network: StoreHandle,
	request: SignedAction,
	bytes: Vec<u8>,
	mut missing: usize,
) {
	let cid = Cid::of(&bytes);
	let mut wait = FIRST_REPLICATION_RETRY;
	for _ in 0..REPLICATION_RETRIES {
		tokio::time::sleep(wait).await;
		match network.put_block(request.clone(), bytes.clone()).await {
			Ok(receipt) if receipt.failed.is_empty() => return,
			Ok(receipt) => missing = receipt.failed.len(),
			Err(e) => log::debug!(target: "dt-offchain", "block {cid}: {e}"),
		}
		wait *= 2;
	}
	log::warn!(target: "dt-offchain", "block {cid} is still missing on {missing} of its replicas");
}

/// A feed subscription: to this node's log alone, or following the feed's replicas too.
enum Following {
	Local(Subscription),
	Network(FeedSubscription),
}

impl Following {
	fn subscription(&mut self) -> &mut Subscription {
		match self {
			Following::Local(subscription) => subscription,
			Following::Network(followed) => followed,
		}
	}
}

/// Serves `store_*` and `feed_*`.
pub struct Offchain<C> {
	client: Arc<C>,
	stores: Arc<OffchainStores>,
	/// The chain's rules as the store asks them (who is a member of which organisation).
	policy: Arc<dyn AccessPolicy>,
	/// The chain's genesis hash: what requests and feed entries are signed for.
	genesis: GenesisHash,
	/// The signed requests this node took: a replay through this node is refused here,
	/// before any replica is asked.
	signed_requests: ReplayGuard,
}

impl<C: HeaderBackend<Block>> Offchain<C> {
	pub fn new(client: Arc<C>, stores: Arc<OffchainStores>, policy: Arc<dyn AccessPolicy>) -> Self {
		let genesis: GenesisHash = client.info().genesis_hash.into();
		Offchain { client, stores, policy, genesis, signed_requests: ReplayGuard::new(genesis) }
	}
}

impl<C> Offchain<C> {
	/// The store's network, or the error saying this node has none.
	fn store_network(&self) -> Result<&StoreHandle, ErrorObjectOwned> {
		self.stores.network().ok_or_else(|| {
			error(
				error_code::NO_STORE_NETWORK,
				"this node has no store network (start it with --store-listen): reader lists \
				 and key envelopes are kept by the partners' replicas",
			)
		})
	}

	/// Decodes `text` as a signed request for `expected` (as `is_expected` tells), then
	/// checks its signature (for this chain) and age and that this node has not taken it
	/// before.
	fn signed_request(
		&self,
		text: &str,
		expected: &str,
		is_expected: impl Fn(&Action) -> bool,
	) -> Result<SignedAction, ErrorObjectOwned> {
		let request = decode_signed_request(text, expected, is_expected)?;
		self.signed_requests.admit(&request, now_ms()).map_err(auth_error)?;
		Ok(request)
	}

	/// Decodes and checks `text` as a member's signed put of the block `bytes`: naming
	/// them, signed for this chain recently, by a member; returns the request and the
	/// member's organisation.
	fn signed_put(
		&self,
		text: &str,
		bytes: &[u8],
	) -> Result<(SignedAction, dt_primitives::OrganisationId), ErrorObjectOwned> {
		let request = decode_signed_request(text, "a block put (PutBlock)", |action| {
			matches!(action, Action::PutBlock { .. })
		})?;
		let Action::PutBlock { block } = &request.action else {
			return Err(error(error_code::INVALID_REQUEST, "not a block put"));
		};
		let actual = Cid::of(bytes);
		if actual != *block {
			return Err(error(
				error_code::INVALID_REQUEST,
				format!("the block's bytes hash to {actual}, the signed request puts {block}"),
			));
		}
		self.signed_requests.admit_put(&request, now_ms()).map_err(auth_error)?;
		let organisation = self.policy.organisation_of(&request.signer).ok_or_else(|| {
			error(
				error_code::NOT_ALLOWED,
				format!(
					"{} is no member of the consortium: only members' signed puts are stored",
					AccountId::from(request.signer)
				),
			)
		})?;
		Ok((request, organisation))
	}

	/// Brings this node's copy of `feed` up to date from its replicas. A feed no replica
	/// answers for is served from what this node has, with a warning in the log.
	async fn sync_feed(&self, feed: FeedId) {
		if let Some(network) = self.stores.network() {
			if let Err(e) = network.sync_feed(feed).await {
				log::warn!(target: "dt-offchain", "feed {feed}: serving this node's copy, its replicas did not answer: {e}");
			}
		}
	}
}

/// Decodes `text` as a signed request for `expected` (as `is_expected` tells).
fn decode_signed_request(
	text: &str,
	expected: &str,
	is_expected: impl Fn(&Action) -> bool,
) -> Result<SignedAction, ErrorObjectOwned> {
	let hex_len = text.strip_prefix("0x").unwrap_or(text).len();
	if hex_len / 2 > MAX_SIGNED_ACTION_BYTES {
		return Err(error(
			error_code::INVALID_REQUEST,
			format!("the signed request is longer than {MAX_SIGNED_ACTION_BYTES} bytes"),
		));
	}
	let bytes = unhex(text, "the signed request")?;
	let request = SignedAction::decode_all(&mut &bytes[..]).map_err(|e| {
		error(
			error_code::INVALID_REQUEST,
			format!("the signed request is not a SCALE SignedAction: {e}"),
		)
	})?;
	if !is_expected(&request.action) {
		return Err(error(
			error_code::INVALID_REQUEST,
			format!(
				"the signed request is {}, this method takes {expected}",
				action_name(&request.action)
			),
		));
	}
	Ok(request)
}

fn network_error(e: NodeError) -> ErrorObjectOwned {
	let code = match e {
		NodeError::Blocks(e) => return block_error(e),
		NodeError::Feeds(e) => return feed_error(e),
		NodeError::UnknownFeed(_) => error_code::UNKNOWN_FEED,
		NodeError::FeedClosed(_) => error_code::FEED_CLOSED,
		NodeError::Upload(UploadError::QuotaExceeded { .. })
		| NodeError::Refused { reason: Refusal::QuotaExceeded, .. } => error_code::QUOTA_EXCEEDED,
		NodeError::Refused { reason: Refusal::Unauthorized, .. } => error_code::NOT_ALLOWED,
		NodeError::Refused { reason: Refusal::Invalid | Refusal::FeedGap { .. }, .. } => {
			error_code::BATCH_REFUSED
		},
		NodeError::Refused { reason: Refusal::NotFound, .. } => error_code::BLOCK_NOT_FOUND,
		_ => error_code::STORE_FAILED,
	};
	error(code, e.to_string())
}

/// A reader-list or envelope operation's error; `invalid` is the code of a request the
/// replicas found invalid (a change that does not fit the list, a foreign envelope).
fn acl_network_error(e: NodeError, invalid: i32) -> ErrorObjectOwned {
	let code = match &e {
		NodeError::NoQuorum { accepted, needed, .. } => {
			return ErrorObjectOwned::owned(
				error_code::NO_QUORUM,
				format!("no quorum, nothing changed: {e}"),
				Some(serde_json::json!({ "accepted": accepted, "needed": needed })),
			)
		},
		NodeError::Refused { reason: Refusal::Replayed, .. } => {
			return ErrorObjectOwned::owned(
				error_code::STALE_OR_REPLAYED,
				e.to_string(),
				Some(serde_json::json!({ "reason": "Replayed" })),
			)
		},
		NodeError::Refused { reason: Refusal::Unauthorized, .. } => error_code::NOT_ALLOWED,
		NodeError::Refused { reason: Refusal::Conflict, .. } => error_code::LIST_CONFLICT,
		NodeError::Refused { reason: Refusal::Invalid, .. } => invalid,
		NodeError::Unavailable { .. } => error_code::ENVELOPE_UNAVAILABLE,
		NodeError::WrongAction { .. } => error_code::INVALID_REQUEST,
		_ => error_code::STORE_FAILED,
	};
	error(code, e.to_string())
}

fn auth_error(e: AuthError) -> ErrorObjectOwned {
	let reason = match e {
		AuthError::Stale { .. } | AuthError::StalePut { .. } => "Stale",
		AuthError::Replayed => "Replayed",
		AuthError::BadSignature { .. } | AuthError::NotAllowed { .. } => {
			return error(error_code::NOT_ALLOWED, e.to_string())
		},
	};
	ErrorObjectOwned::owned(
		error_code::STALE_OR_REPLAYED,
		e.to_string(),
		Some(serde_json::json!({ "reason": reason })),
	)
}

fn action_name(action: &Action) -> &'static str {
	match action {
		Action::ReadEnvelope { .. } => "an envelope read (ReadEnvelope)",
		Action::WriteEnvelope { .. } => "an envelope publication (WriteEnvelope)",
		Action::ChangeAcl(_) => "a reader-list change (ChangeAcl)",
		Action::PutBlock { .. } => "a block put (PutBlock)",
		Action::ReadLatestEnvelope { .. } => "an envelope read (ReadLatestEnvelope)",
		Action::ReadFeed { .. } => "a feed read (ReadFeed)",
	}
}

fn item_id(text: &str) -> Result<ItemId, ErrorObjectOwned> {
	let bytes = unhex(text, "the item id")?;
	let raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
		error(
			error_code::INVALID_REQUEST,
			format!("an item id is 32 bytes, {text:?} has {}", bytes.len()),
		)
	})?;
	Ok(ItemId(raw))
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn unhex(text: &str, what: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
	hex::decode(text.strip_prefix("0x").unwrap_or(text))
		.map_err(|e| error(error_code::INVALID_HEX, format!("{what} is not hex: {e}")))
}

fn cid(text: &str) -> Result<Cid, ErrorObjectOwned> {
	text.parse::<Cid>().map_err(|e| error(error_code::INVALID_CID, e.to_string()))
}

fn upload_error(e: UploadError) -> ErrorObjectOwned {
	match e {
		UploadError::Blocks(e) => block_error(e),
		e @ UploadError::QuotaExceeded { .. } => error(error_code::QUOTA_EXCEEDED, e.to_string()),
		e => error(error_code::STORE_FAILED, e.to_string()),
	}
}

fn block_error(e: BlockStoreError) -> ErrorObjectOwned {
	let code = match e {
		BlockStoreError::TooLarge { .. } => error_code::BLOCK_TOO_LARGE,
		BlockStoreError::Corrupted { .. } => error_code::BLOCK_CORRUPTED,
		BlockStoreError::Io { .. } | BlockStoreError::Locked { .. } => error_code::STORE_FAILED,
	};
	error(code, e.to_string())
}

/// The name of the rule a refused batch broke, as `data.reason`.
fn reason_name(reason: &FeedError) -> &'static str {
	match reason {
		FeedError::EmptyBatch => "EmptyBatch",
		FeedError::TooManyEntries { .. } => "TooManyEntries",
		FeedError::BatchTooLarge { .. } => "BatchTooLarge",
		FeedError::PayloadTooLarge { .. } => "PayloadTooLarge",
		FeedError::WrongFeed { .. } => "WrongFeed",
		FeedError::WrongSigner { .. } => "WrongSigner",
		FeedError::BadSignature { .. } => "BadSignature",
		FeedError::Gap { .. } => "Gap",
		FeedError::Fork { .. } => "Fork",
		FeedError::BrokenLink { .. } => "BrokenLink",
		FeedError::TimestampWentBack { .. } => "TimestampWentBack",
		FeedError::SequenceOverflow { .. } => "SequenceOverflow",
	}
}

fn feed_error(e: StoreError) -> ErrorObjectOwned {
	match e {
		StoreError::Rejected { feed, reason } => {
			let name = reason_name(&reason);
			ErrorObjectOwned::owned(
				error_code::BATCH_REFUSED,
				format!("{name}: feed {feed} refused the batch: {reason}"),
				Some(serde_json::json!({ "reason": name })),
			)
		},
		other => error(error_code::STORE_FAILED, other.to_string()),
	}
}

fn join_error(e: tokio::task::JoinError) -> ErrorObjectOwned {
	error(error_code::STORE_FAILED, format!("the store's task failed: {e}"))
}

/// Runs a blocking store call off the async runtime.
async fn blocking<T: Send + 'static>(
	work: impl FnOnce() -> Result<T, ErrorObjectOwned> + Send + 'static,
) -> RpcResult<T> {
	tokio::task::spawn_blocking(work).await.map_err(join_error)?
}

/// The record of `feed` at block `at`: the feed must be registered (active or closed).
fn registered_feed<A>(
	api: &A,
	at: <Block as sp_runtime::traits::Block>::Hash,
	feed: FeedId,
) -> Result<pallet_dt_feeds::FeedRecord<AccountId, BlockNumber>, ErrorObjectOwned>
where
	A: FeedsApi<Block, AccountId, BlockNumber>,
{
	api.feed(at, feed)
		.map_err(|e| error(error_code::STATE_UNAVAILABLE, format!("cannot read feed {feed}: {e}")))?
		.ok_or_else(|| {
			error(error_code::UNKNOWN_FEED, format!("no feed {feed} is registered on chain"))
		})
}

fn limit_of(limit: Option<u32>) -> usize {
	limit.map_or(MAX_RANGE_ENTRIES, |limit| (limit as usize).min(MAX_RANGE_ENTRIES))
}

impl<C> Offchain<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: FeedsApi<Block, AccountId, BlockNumber>
		+ ConsortiumApi<Block, AccountId>
		+ AccessApi<Block, AccountId>,
{
	/// The owner of `feed` as registered on chain at the best block, with this chain's
	/// genesis hash, and the feed's level, if the feed is active and its owner a member of
	/// the consortium.
	fn active_owner(&self, feed: FeedId) -> Result<(FeedKey, Confidentiality), ErrorObjectOwned> {
		let at = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let record = registered_feed(&*api, at, feed)?;
		if let FeedStatus::Closed { at, replaced_by, .. } = record.status {
			let replaced =
				replaced_by.map_or_else(String::new, |next| format!(" (replaced by feed {next})"));
			return Err(error(
				error_code::FEED_CLOSED,
				format!(
					"feed {feed} was closed in block #{at}{replaced}; it takes no more entries"
				),
			));
		}
		let member = api.organisation_of(at, record.owner.clone()).map_err(|e| {
			error(error_code::STATE_UNAVAILABLE, format!("cannot read the consortium: {e}"))
		})?;
		if member.is_none() {
			return Err(error(
				error_code::OWNER_NOT_MEMBER,
				format!(
					"the owner of feed {feed}, {}, is no longer a member of the consortium; the \
					 feed takes no more entries",
					record.owner
				),
			));
		}
		let raw: [u8; 32] = record.owner.into();
		let key = FeedKey { owner: sr25519::Public::from_raw(raw), genesis: self.genesis };
		Ok((key, record.confidentiality))
	}

	/// Fails unless `feed` is registered on chain (active or closed) and, if it is above
	/// Public, `signed_read` is a fresh read of it signed by a member cleared for the feed's
	/// level on its twin, or by the feed's owner. Its payloads are sealed for their readers
	/// anyway; the refusal keeps timestamps, sizes and the rate of readings from everyone
	/// else who reaches this node's RPC.
	fn readable(&self, feed: FeedId, signed_read: Option<&str>) -> Result<(), ErrorObjectOwned> {
		let at = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let record = registered_feed(&*api, at, feed)?;
		let level = record.confidentiality;
		if level == Confidentiality::Public {
			return Ok(());
		}
		let refused = |message: String| {
			ErrorObjectOwned::owned(
				error_code::READ_NOT_ALLOWED,
				message,
				Some(serde_json::json!({ "level": format!("{level:?}") })),
			)
		};
		let Some(text) = signed_read else {
			return Err(refused(format!(
				"feed {feed} is {level:?}: read it with a request signed by an account cleared \
				 for that level on twin {} (signedRead, an Action::ReadFeed)",
				record.twin
			)));
		};
		let request = self.signed_request(
			text,
			"a feed read (ReadFeed)",
			|action| matches!(action, Action::ReadFeed { feed: named } if *named == feed),
		)?;
		let reader = AccountId::from(request.signer);
		// The device that writes the feed reads its own head back.
		if reader == record.owner {
			return Ok(());
		}
		let state = |e| error(error_code::STATE_UNAVAILABLE, format!("cannot read access: {e}"));
		let member = api.organisation_of(at, reader.clone()).map_err(state)?.is_some();
		let clearance = api.clearance(at, record.twin, reader.clone()).map_err(state)?;
		if !member || clearance.is_none_or(|cleared| cleared < level) {
			return Err(refused(format!(
				"{reader} is not cleared to read {level:?} data on twin {}, so not feed {feed}",
				record.twin
			)));
		}
		Ok(())
	}

	/// Entries of a registered `feed` that `read` picks from this node's copy, brought up to
	/// date from its replicas first, for a reader [`Self::readable`] admits.
	async fn read_entries(
		&self,
		feed: FeedId,
		signed_read: Option<String>,
		read: impl FnOnce(&FeedStore) -> Result<Vec<StoredEntry>, StoreError> + Send + 'static,
	) -> RpcResult<Vec<EntryView>> {
		self.readable(feed, signed_read.as_deref())?;
		self.sync_feed(feed).await;
		let stores = self.stores.clone();
		blocking(move || {
			read(stores.feeds())
				.map(|entries| entries.into_iter().map(Into::into).collect())
				.map_err(feed_error)
		})
		.await
	}
}

#[async_trait]
impl<C> StoreApiServer for Offchain<C>
where
	C: Send + Sync + 'static,
{
	async fn put_block(
		&self,
		ext: &Extensions,
		bytes: String,
		signed_action: String,
	) -> RpcResult<String> {
		sc_rpc_api::check_if_safe(ext)?;
		// Check the length of the hex before decoding it.
		let hex_len = bytes.strip_prefix("0x").unwrap_or(&bytes).len();
		if hex_len / 2 > MAX_BLOCK_SIZE {
			return Err(error(
				error_code::BLOCK_TOO_LARGE,
				format!(
					"a block of {} bytes exceeds the limit of {MAX_BLOCK_SIZE} bytes",
					hex_len / 2
				),
			));
		}
		let bytes = unhex(&bytes, "the block")?;
		let (request, organisation) = self.signed_put(&signed_action, &bytes)?;
		if let Some(network) = self.stores.network() {
			let receipt =
				network.put_block(request.clone(), bytes.clone()).await.map_err(network_error)?;
			if !receipt.failed.is_empty() {
				let missing = receipt.failed.len();
				tokio::spawn(complete_replication(network.clone(), request, bytes, missing));
			}
			return Ok(receipt.cid.to_string());
		}
		let stores = self.stores.clone();
		blocking(move || {
			stores
				.uploads()
				.put(stores.blocks(), organisation, &bytes, now_ms())
				.map(|cid| cid.to_string())
				.map_err(upload_error)
		})
		.await
	}

	async fn get_block(&self, cid_text: String) -> RpcResult<String> {
		let cid = cid(&cid_text)?;
		let stores = self.stores.clone();
		let local = blocking(move || match stores.blocks().get(&cid) {
			Ok(found) => Ok(found),
			// A damaged local copy is quarantined by the store; a replica may have a good one.
			Err(BlockStoreError::Corrupted { .. }) if stores.network().is_some() => Ok(None),
			Err(e) => Err(block_error(e)),
		})
		.await?;
		match (local, self.stores.network()) {
			(Some(bytes), _) => Ok(hex0x(&bytes)),
			(None, Some(network)) => {
				let fetched = network.get_block(cid).await.map_err(network_error)?;
				Ok(hex0x(&fetched.bytes))
			},
			(None, None) => Err(error(
				error_code::BLOCK_NOT_FOUND,
				format!("block {cid} is not in this node's store"),
			)),
		}
	}

	async fn has_block(&self, cid_text: String) -> RpcResult<bool> {
		let cid = cid(&cid_text)?;
		let stores = self.stores.clone();
		if blocking(move || stores.blocks().has(&cid).map_err(block_error)).await? {
			return Ok(true);
		}
		match self.stores.network() {
			Some(network) => Ok(network.get_block(cid).await.is_ok()),
			None => Ok(false),
		}
	}
	async fn document_item(&self, document: DocumentId) -> RpcResult<String> {
		Ok(hex0x(&dt_offchain::network::document_item(document).0))
	}

	async fn acl(&self, item: String) -> RpcResult<AclView> {
		let item = item_id(&item)?;
		let network = self.store_network()?;
		let acl = network.acl(item).await.map_err(|e| match e {
			NodeError::Unavailable { .. } => error(error_code::STORE_FAILED, e.to_string()),
			e => acl_network_error(e, error_code::INVALID_REQUEST),
		})?;
		Ok(acl.into())
	}

	async fn change_acl(&self, ext: &Extensions, signed_action: String) -> RpcResult<AclView> {
		sc_rpc_api::check_if_safe(ext)?;
		let network = self.store_network()?;
		let request =
			self.signed_request(&signed_action, "a reader-list change (ChangeAcl)", |action| {
				matches!(action, Action::ChangeAcl(_))
			})?;
		let Action::ChangeAcl(change) = &request.action else {
			return Err(error(error_code::INVALID_REQUEST, "not a reader-list change"));
		};
		// What every replica would refuse is said plainly here; when no replica answers, the
		// change itself reports the lack of quorum.
		if let Ok(current) = network.acl(change.item).await {
			if change.base_version != current.version {
				return Err(error(
					error_code::LIST_CONFLICT,
					format!(
						"the change applies to version {} of the list of item {}, which is at \
						 version {}: sign a change of version {}",
						change.base_version, change.item, current.version, current.version
					),
				));
			}
			if let Err(e) = current.apply(&change.op) {
				return Err(error(
					error_code::LIST_CONFLICT,
					format!("item {}, version {}: {e}", change.item, current.version),
				));
			}
		}
		let acl = network
			.change_acl(request)
			.await
			.map_err(|e| acl_network_error(e, error_code::LIST_CONFLICT))?;
		Ok(acl.into())
	}

	async fn put_envelope(
		&self,
		ext: &Extensions,
		envelope: String,
		signed_action: String,
	) -> RpcResult<EnvelopeReceipt> {
		sc_rpc_api::check_if_safe(ext)?;
		let network = self.store_network()?;
		let hex_len = envelope.strip_prefix("0x").unwrap_or(&envelope).len();
		if hex_len / 2 > MAX_BLOCK_SIZE {
			return Err(error(
				error_code::BLOCK_TOO_LARGE,
				format!("an envelope of {} bytes exceeds {MAX_BLOCK_SIZE} bytes", hex_len / 2),
			));
		}
		let bytes = unhex(&envelope, "the envelope")?;
		let request = self.signed_request(
			&signed_action,
			"an envelope publication (WriteEnvelope)",
			|action| matches!(action, Action::WriteEnvelope { .. }),
		)?;
		let Action::WriteEnvelope { envelope: named, .. } = &request.action else {
			return Err(error(error_code::INVALID_REQUEST, "not an envelope publication"));
		};
		let actual = Cid::of(&bytes);
		if actual != *named {
			return Err(error(
				error_code::INVALID_REQUEST,
				format!(
					"the envelope's bytes hash to {actual}, the signed request publishes {named}"
				),
			));
		}
		if let Err(e) = Envelope::from_bytes(&bytes) {
			return Err(error(error_code::ENVELOPE_REFUSED, format!("envelope {named}: {e}")));
		}
		let receipt = network
			.publish_envelope_bytes(request, bytes)
			.await
			.map_err(|e| acl_network_error(e, error_code::ENVELOPE_REFUSED))?;
		Ok(EnvelopeReceipt {
			cid: receipt.cid.to_string(),
			stored_on: receipt.stored_on.iter().map(ToString::to_string).collect(),
			missed: receipt
				.failed
				.into_iter()
				.map(|failure| MissedView {
					peer: failure.peer.to_string(),
					reason: failure.reason,
				})
				.collect(),
		})
	}

	async fn get_envelope(&self, signed_action: String) -> RpcResult<String> {
		let network = self.store_network()?;
		let request = self.signed_request(
			&signed_action,
			"an envelope read (ReadEnvelope or ReadLatestEnvelope)",
			|action| {
				matches!(action, Action::ReadEnvelope { .. } | Action::ReadLatestEnvelope { .. })
			},
		)?;
		let envelope = network
			.get_envelope(request)
			.await
			.map_err(|e| acl_network_error(e, error_code::INVALID_REQUEST))?;
		Ok(hex0x(&envelope.to_bytes()))
	}

	async fn feed_epoch_item(&self, feed: FeedId, epoch: u32) -> RpcResult<String> {
		Ok(hex0x(&dt_offchain::network::feed_epoch_item(feed, epoch).0))
	}
}

#[async_trait]
impl<C> FeedApiServer for Offchain<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: FeedsApi<Block, AccountId, BlockNumber>
		+ ConsortiumApi<Block, AccountId>
		+ AccessApi<Block, AccountId>,
{
	async fn append(
		&self,
		ext: &Extensions,
		feed: FeedId,
		batch: String,
	) -> RpcResult<AppendResult> {
		sc_rpc_api::check_if_safe(ext)?;
		let hex_len = batch.strip_prefix("0x").unwrap_or(&batch).len();
		if hex_len / 2 > MAX_BATCH_BYTES {
			return Err(error(
				error_code::INVALID_BATCH,
				format!("the batch is longer than {MAX_BATCH_BYTES} bytes; split it"),
			));
		}
		let bytes = unhex(&batch, "the batch")?;
		let batch = SignedBatch::decode_bounded(&bytes).map_err(|e| {
			error(error_code::INVALID_BATCH, format!("the batch is not a SCALE SignedBatch: {e}"))
		})?;
		let (owner, level) = self.active_owner(feed)?;
		if level > Confidentiality::Public {
			if let Some(plain) = batch.entries.iter().find(|entry| entry.epoch.is_none()) {
				return Err(error(
					error_code::PLAINTEXT_REFUSED,
					format!(
						"feed {feed} is {level:?}, and entry {} is in plaintext: encrypt its \
						 readings under a key epoch sealed for their readers",
						plain.sequence
					),
				));
			}
		}
		if let Some(network) = self.stores.network() {
			let before = network.feed_head(feed).await.map_err(network_error)?;
			let first_new = before.map_or(0, |head| head.sequence + 1);
			let last = batch.last_sequence().unwrap_or(0);
			let receipt = network.append_feed(feed, batch).await.map_err(network_error)?;
			let stored = (last + 1).saturating_sub(first_new);
			return Ok(AppendResult {
				head: receipt.head.into(),
				stored,
				already_stored: stored == 0,
			});
		}
		let stores = self.stores.clone();
		let appended =
			blocking(move || stores.feeds().append(feed, &owner, batch).map_err(feed_error))
				.await?;
		Ok(match appended {
			Appended::Stored { entries, head } => {
				AppendResult { head: head.into(), stored: entries as u64, already_stored: false }
			},
			Appended::AlreadyStored { head } => {
				AppendResult { head: head.into(), stored: 0, already_stored: true }
			},
		})
	}

	async fn latest(
		&self,
		feed: FeedId,
		signed_read: Option<String>,
	) -> RpcResult<Option<EntryView>> {
		self.readable(feed, signed_read.as_deref())?;
		self.sync_feed(feed).await;
		let stores = self.stores.clone();
		blocking(move || stores.feeds().latest(feed).map(|e| e.map(Into::into)).map_err(feed_error))
			.await
	}

	async fn range(
		&self,
		feed: FeedId,
		from: u64,
		to: u64,
		limit: Option<u32>,
		signed_read: Option<String>,
	) -> RpcResult<Vec<EntryView>> {
		let limit = limit_of(limit);
		self.read_entries(feed, signed_read, move |feeds| feeds.range(feed, from, to, limit))
			.await
	}

	async fn range_by_time(
		&self,
		feed: FeedId,
		from_ms: u64,
		to_ms: u64,
		limit: Option<u32>,
		signed_read: Option<String>,
	) -> RpcResult<Vec<EntryView>> {
		let limit = limit_of(limit);
		self.read_entries(feed, signed_read, move |feeds| {
			feeds.range_by_time(feed, from_ms, to_ms, limit)
		})
		.await
	}

	async fn subscribe(
		&self,
		pending: PendingSubscriptionSink,
		feed: FeedId,
		signed_read: Option<String>,
	) -> SubscriptionResult {
		if let Err(e) = self.readable(feed, signed_read.as_deref()) {
			pending.reject(e).await;
			return Ok(());
		}
		// With the network, the subscription also follows entries appended on other nodes;
		// it must live as long as the stream.
		let mut following = match self.stores.network() {
			Some(network) => match network.subscribe_feed(feed).await {
				Ok(followed) => Following::Network(followed),
				Err(e) => {
					pending.reject(network_error(e)).await;
					return Ok(());
				},
			},
			None => {
				let stores = self.stores.clone();
				match blocking(move || stores.feeds().subscribe(feed).map_err(feed_error)).await {
					Ok(subscription) => Following::Local(subscription),
					Err(e) => {
						pending.reject(e).await;
						return Ok(());
					},
				}
			},
		};
		let sink = pending.accept().await?;
		loop {
			let item = tokio::select! {
				_ = sink.closed() => return Ok(()),
				item = following.subscription().recv() => item,
			};
			match item {
				Ok(entry) => {
					let message = SubscriptionMessage::from_json(&FeedItem::Entry(entry.into()))?;
					if sink.send(message).await.is_err() {
						return Ok(());
					}
				},
				Err(lag @ SubscriptionError::Lagged { resume_from, live_from }) => {
					let notice = FeedItem::Lagged {
						lagged: LagView {
							resume_from,
							live_from,
							message: format!(
								"{lag}. This subscription is closed: read from entry \
								 {resume_from} with feed_range and subscribe again"
							),
						},
					};
					let _ = sink.send(SubscriptionMessage::from_json(&notice)?).await;
					return Ok(());
				},
				Err(SubscriptionError::Closed) => return Ok(()),
			}
		}
	}
}
