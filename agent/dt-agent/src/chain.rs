//! What the agent reads from and sends to its node for feeds: the off-chain store's
//! `feed_append` / `feed_latest` / `feed_range` (reads signed by the device), the chain's `FeedsApi` and `TwinSpecApi`, and one
//! transaction at a time for the device account.

use dt_client::{from_hex, hex_string, Client, ClientError, Finalized};
use dt_offchain::{
	feed::{view::EntryView, Entry, FeedKey, SignedBatch},
	network::{Action, SignedAction},
	GenesisHash,
};
use dt_primitives::{
	access::{ElementId, TwinId},
	feed::{Checkpoint, FeedId},
};
use dt_runtime::{AccountId, BlockNumber, RuntimeCall};
use jsonrpsee::rpc_params;
use pallet_dt_feeds::FeedRecord;
use pallet_dt_twin_spec::ElementRecord;
use serde::Deserialize;
use sp_core::{crypto::Pair as _, sr25519};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// A feed as the chain reports it.
pub type ChainFeed = FeedRecord<AccountId, BlockNumber>;

/// Elements read per `TwinSpecApi_elements` call when counting a subtree.
const ELEMENTS_PER_PAGE: u32 = 256;
/// Entries asked for per `feed_range` call: a batch of the largest size fits in a few pages.
const RANGE_PAGE: u32 = 1024;

/// Signs and submits the device account's transactions one at a time.
///
/// The program loop, the checkpoints and sensor replacements all sign as the same account,
/// and a nonce is read from the node when a transaction is signed: two transactions signed
/// at once would get the same nonce and one would be dropped.
#[derive(Clone)]
pub struct Submitter {
	key: sr25519::Pair,
	turn: Arc<Mutex<()>>,
}

/// The right to submit, held while a decision depends on the chain not changing under it.
pub struct Turn<'a>(#[allow(dead_code)] MutexGuard<'a, ()>);

impl Submitter {
	/// Submits as `key`.
	pub fn new(key: sr25519::Pair) -> Submitter {
		Submitter { key, turn: Arc::new(Mutex::new(())) }
	}

	/// The device account.
	pub fn account(&self) -> AccountId {
		self.key.public().into()
	}

	/// The device key.
	pub fn key(&self) -> &sr25519::Pair {
		&self.key
	}

	/// Waits for the turn to submit.
	pub async fn turn(&self) -> Turn<'_> {
		Turn(self.turn.lock().await)
	}

	/// Submits `call` and waits for its block to be finalized.
	pub async fn submit(
		&self,
		client: &Client,
		call: RuntimeCall,
	) -> Result<Finalized, ClientError> {
		let turn = self.turn().await;
		self.submit_in_turn(&turn, client, call).await
	}

	/// Submits `call` while holding the turn.
	pub async fn submit_in_turn(
		&self,
		_turn: &Turn<'_>,
		client: &Client,
		call: RuntimeCall,
	) -> Result<Finalized, ClientError> {
		client.submit(&self.key, call).await
	}
}

#[derive(Deserialize)]
struct HeadView {
	sequence: u64,
	hash: String,
	timestamp: u64,
}

/// The last entry of a feed's log on the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEnd {
	pub head: Checkpoint,
	/// The key epoch its payload is sealed under (`None`: plaintext).
	pub epoch: Option<u32>,
}

#[derive(Deserialize)]
struct LatestView {
	#[serde(flatten)]
	head: HeadView,
	epoch: Option<u32>,
}

/// Signs the agent's reads of its own feeds: the node serves the entries of a feed above
/// Public only to a signed read of a cleared member or of the feed's owner.
#[derive(Clone)]
pub struct FeedReads {
	key: sr25519::Pair,
	genesis: GenesisHash,
}

impl FeedReads {
	/// Reads signed by `key` for the chain `genesis`.
	pub fn new(key: sr25519::Pair, genesis: GenesisHash) -> Self {
		FeedReads { key, genesis }
	}

	/// A fresh signed read of `feed` (each is taken once), as the node's `signedRead`.
	fn signed(&self, feed: FeedId) -> String {
		let request = SignedAction::sign(Action::ReadFeed { feed }, &self.key, &self.genesis);
		hex_string(&codec::Encode::encode(&request))
	}

	/// The chain the reads (and the device's feed entries) are signed for.
	pub fn genesis(&self) -> &GenesisHash {
		&self.genesis
	}

	/// Whose signatures the feed's entries carry: the device's own, on this chain.
	pub fn own_entries(&self) -> FeedKey {
		FeedKey { owner: self.key.public(), genesis: self.genesis }
	}
}

#[derive(Deserialize)]
struct AppendView {
	head: HeadView,
}

impl HeadView {
	fn checkpoint(&self) -> Result<Checkpoint, ClientError> {
		let bytes = from_hex(&self.hash, "feed head").ok();
		let entry_hash =
			bytes.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()).ok_or_else(|| {
				ClientError::Decode { what: "feed head", reason: format!("hash {}", self.hash) }
			})?;
		Ok(Checkpoint { sequence: self.sequence, entry_hash, timestamp: self.timestamp })
	}
}

/// The genesis hash of the node's chain: what feed entries are signed for (a batch signed
/// for another chain is refused).
pub async fn genesis(client: &Client) -> Result<dt_offchain::GenesisHash, ClientError> {
	let hash = client.block_hash(0).await?.ok_or(ClientError::Rpc {
		method: "chain_getBlockHash",
		reason: "the node has no genesis block".into(),
	})?;
	Ok(hash.into())
}

/// Appends `batch` to `feed` on the node; the node's head afterwards.
pub async fn append(
	client: &Client,
	feed: FeedId,
	batch: &SignedBatch,
) -> Result<Checkpoint, ClientError> {
	let hex_batch = hex_string(&codec::Encode::encode(batch));
	let answer: AppendView = client.request("feed_append", rpc_params![feed, hex_batch]).await?;
	answer.head.checkpoint()
}

/// The last entry of `feed` on the node, `None` while its log is empty.
pub async fn latest(
	client: &Client,
	feed: FeedId,
	reads: &FeedReads,
) -> Result<Option<LogEnd>, ClientError> {
	let answer: Option<LatestView> =
		client.request("feed_latest", rpc_params![feed, reads.signed(feed)]).await?;
	answer
		.map(|view| Ok(LogEnd { head: view.head.checkpoint()?, epoch: view.epoch }))
		.transpose()
}

/// The entries of `feed` with sequence numbers in `[from, to)` as the node serves them,
/// each checked to be signed by the device; fewer if the log ends before `to`.
pub async fn own_entries(
	client: &Client,
	feed: FeedId,
	from: u64,
	to: u64,
	reads: &FeedReads,
) -> Result<Vec<Entry>, ClientError> {
	let mut entries = Vec::new();
	let mut next = from;
	while next < to {
		let page: Vec<EntryView> = client
			.request("feed_range", rpc_params![feed, next, to, RANGE_PAGE, reads.signed(feed)])
			.await?;
		let Some(last) = page.last() else { break };
		next = last.sequence + 1;
		for view in page {
			let sequence = view.sequence;
			let bad = |reason: String| ClientError::Decode {
				what: "a feed entry",
				reason: format!("feed {feed}, entry {sequence}: {reason}"),
			};
			let stored = view.to_stored().map_err(bad)?;
			stored
				.verify(&reads.own_entries())
				.map_err(|e| bad(format!("not signed by this device ({e})")))?;
			entries.push(stored.entry);
		}
	}
	Ok(entries)
}

/// A feed on chain.
pub async fn feed(client: &Client, feed: FeedId) -> Result<Option<ChainFeed>, ClientError> {
	client.runtime_api("FeedsApi_feed", feed, None).await
}

/// The feeds of one element of the twin, closed ones included.
pub async fn feeds_of_element(
	client: &Client,
	twin: TwinId,
	element: &ElementId,
) -> Result<Vec<ChainFeed>, ClientError> {
	client
		.runtime_api("FeedsApi_feeds_of_element", (twin, element, None::<AccountId>), None)
		.await
}

/// How many elements `element` and its subtree hold, `None` if the twin has no such element.
pub async fn subtree_size(
	client: &Client,
	twin: TwinId,
	element: &ElementId,
) -> Result<Option<u32>, ClientError> {
	type Record = ElementRecord<AccountId, BlockNumber>;
	let root: Option<Record> =
		client.runtime_api("TwinSpecApi_element", (twin, element), None).await?;
	let Some(root) = root else { return Ok(None) };
	let mut size = 1u32;
	let mut after = element.clone();
	loop {
		let page: Vec<Record> = client
			.runtime_api(
				"TwinSpecApi_elements",
				(twin, Some(&after), ELEMENTS_PER_PAGE, None::<AccountId>),
				None,
			)
			.await?;
		let Some(last) = page.last() else { return Ok(Some(size)) };
		for record in &page {
			if record.node.depth <= root.node.depth {
				return Ok(Some(size));
			}
			size += 1;
		}
		after = last.id.clone();
	}
}
