//! Releases and collects the blocks put on this node that the chain did not refer to yet
//! (`dt_offchain::uploads`), with or without the store's network.
//!
//! After a finalized block (at most one pass every [`MIN_PASS_INTERVAL`], and only while
//! blocks are pending) the node lists what the chain refers to at that block: every
//! document version's content and key envelope, every annotation's content, and the chunks
//! of each of those that is a manifest (read from this node, or from the manifest's
//! replicas; a manifest's chunk list never changes, so each is read once). A pending block
//! on that list is released: kept for good, no longer charged to its organisation. A
//! pending block not on it is removed once its grace period is over.
//!
//! Blocks referenced on chain are never collected: if a manifest the chain refers to cannot
//! be read (its replicas out of reach), the pass releases what it can and removes nothing.
//! A manifest that a quorum of its replicas say they do not hold (a content id registered
//! without its upload) lists no chunks, so it cannot stall collection.

use crate::{
	availability::{referenced_items, Referenced},
	offchain_network::StoreChainApi,
	offchain_rpc::OffchainStores,
};
use dt_offchain::{
	content_id::Cid,
	documents::{Manifest, MANIFEST_MAGIC},
	network::auth::now_ms,
};
use dt_runtime::opaque::Block;
use futures::StreamExt;
use sc_client_api::BlockchainEvents;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::Block as BlockT;
use std::{
	collections::{HashMap, HashSet},
	sync::Arc,
	time::{Duration, Instant},
};

const LOG_TARGET: &str = "dt-offchain";

/// Shortest time between two passes: a pass reads every item the chain refers to.
const MIN_PASS_INTERVAL: Duration = Duration::from_secs(6);

type Hash = <Block as BlockT>::Hash;

/// What the chain refers to at one block, as far as it could be read.
struct OnChain {
	blocks: HashSet<Cid>,
	/// Every manifest the chain refers to was read (or is known not to exist).
	complete: bool,
}

/// Follows the finalized chain and keeps the store's pending blocks in step with it; runs
/// for as long as the node does.
pub async fn follow<C>(client: Arc<C>, stores: Arc<OffchainStores>)
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: StoreChainApi,
{
	let mut chunks_of: HashMap<Cid, Vec<Cid>> = HashMap::new();
	let mut finalized = client.finality_notification_stream();
	while let Some(mut notification) = finalized.next().await {
		while let Some(Some(newer)) = futures::FutureExt::now_or_never(finalized.next()) {
			notification = newer;
		}
		let started = Instant::now();
		pass(&*client, &stores, notification.hash, &mut chunks_of).await;
		tokio::time::sleep(MIN_PASS_INTERVAL.saturating_sub(started.elapsed())).await;
	}
}

/// One pass at the finalized block `at`.
async fn pass<C>(
	client: &C,
	stores: &Arc<OffchainStores>,
	at: Hash,
	chunks_of: &mut HashMap<Cid, Vec<Cid>>,
) where
	C: ProvideRuntimeApi<Block>,
	C::Api: StoreChainApi,
{
	let pending: Vec<Cid> = stores.uploads().pending().into_iter().map(|(cid, _)| cid).collect();
	if pending.is_empty() {
		return;
	}
	let referenced = match referenced_blocks(client, stores, at, &pending, chunks_of).await {
		Ok(referenced) => referenced,
		Err(error) => {
			log::warn!(target: LOG_TARGET, "cannot list what the chain refers to: {error}");
			return;
		},
	};
	// Without the whole list nothing is old enough to go: only releases happen.
	let now = if referenced.complete { now_ms() } else { 0 };
	let stores = stores.clone();
	let outcome = tokio::task::spawn_blocking(move || {
		let blocks = &referenced.blocks;
		stores.uploads().collect(stores.blocks(), |cid| blocks.contains(cid), now)
	})
	.await;
	match outcome {
		Ok(Ok(collection)) => {
			if collection.released > 0 {
				log::debug!(
					target: LOG_TARGET,
					"{} uploaded block(s) are referenced on chain now",
					collection.released
				);
			}
			if collection.collected > 0 {
				log::info!(
					target: LOG_TARGET,
					"🧹 Removed {} uploaded block(s) ({} bytes) that nothing on chain refers to \
					 after the grace period",
					collection.collected,
					collection.collected_bytes
				);
			}
		},
		Ok(Err(error)) => log::warn!(target: LOG_TARGET, "collecting uploaded blocks: {error}"),
		Err(error) => log::warn!(target: LOG_TARGET, "collecting uploaded blocks: {error}"),
	}
}

/// The blocks the chain refers to at `at`; manifests are read only when a pending block is
/// not referenced directly.
async fn referenced_blocks<C>(
	client: &C,
	stores: &OffchainStores,
	at: Hash,
	pending: &[Cid],
	chunks_of: &mut HashMap<Cid, Vec<Cid>>,
) -> Result<OnChain, crate::availability::HoldError>
where
	C: ProvideRuntimeApi<Block>,
	C::Api: StoreChainApi,
{
	let mut blocks = HashSet::new();
	let mut contents = Vec::new();
	for (_, item) in referenced_items(client, at)? {
		match item {
			Referenced::Version { content, envelope } => {
				blocks.extend([content, envelope]);
				contents.push(content);
			},
			Referenced::Annotation { content } => {
				blocks.insert(content);
				contents.push(content);
			},
			Referenced::Feed { .. } => {},
		}
	}
	let mut complete = true;
	if pending.iter().all(|cid| blocks.contains(cid)) {
		return Ok(OnChain { blocks, complete });
	}
	for content in contents {
		if !chunks_of.contains_key(&content) {
			match chunks_listed_by(stores, content).await {
				Some(chunks) => {
					chunks_of.insert(content, chunks);
				},
				None => {
					complete = false;
					continue;
				},
			}
		}
		blocks.extend(chunks_of[&content].iter().copied());
	}
	Ok(OnChain { blocks, complete })
}

/// The chunks `content` lists if it is a manifest (none for a single-block content or one
/// known not to exist); `None` if it cannot be read now.
async fn chunks_listed_by(stores: &OffchainStores, content: Cid) -> Option<Vec<Cid>> {
	let bytes = match stores.network() {
		Some(network) => match network.find_block(content).await {
			Ok(found) => found,
			Err(error) => {
				log::debug!(target: LOG_TARGET, "manifest {content} out of reach: {error}");
				return None;
			},
		},
		// Without the network every block is here or nowhere.
		None => match stores.blocks().get(&content) {
			Ok(found) => found,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "manifest {content}: {error}");
				return None;
			},
		},
	};
	let Some(bytes) = bytes else { return Some(Vec::new()) };
	if !bytes.starts_with(&MANIFEST_MAGIC) {
		return Some(Vec::new());
	}
	match Manifest::from_bytes(&content, &bytes) {
		Ok(manifest) => Some(manifest.chunks().to_vec()),
		// Not a manifest after all: a block that is its own content.
		Err(_) => Some(Vec::new()),
	}
}
