//! Following a node's best and finalized blocks for the transactions a run tracks.

use crate::Error;
use dt_client::{from_hex, Client};
use jsonrpsee::rpc_params;
use serde_json::Value;
use sp_core::H256;
use sp_crypto_hashing::blake2_256;
use sp_runtime::{generic::Header, traits::BlakeTwo256};
use std::{
	collections::{BTreeMap, HashMap, HashSet},
	sync::{Arc, Mutex},
	time::Instant,
};

/// When each tracked transaction reached a best block and finality on the watched node.
#[derive(Default)]
pub struct Sightings {
	/// Tracked transactions: their submission time.
	pub submitted: HashMap<H256, Instant>,
	pub in_best: HashMap<H256, Instant>,
	pub finalized: HashMap<H256, Instant>,
	/// Tracked transactions per finalized block, by block number.
	pub per_block: BTreeMap<u32, usize>,
	/// best - finalized, each time the finalized block moved.
	pub finality_lag: Vec<u32>,
}

pub type Shared = Arc<Mutex<Sightings>>;

/// Follows `client`'s best and finalized blocks and notes where the tracked transactions
/// appear, until the task is dropped.
async fn watch(client: Client, sightings: Shared) -> Result<(), Error> {
	let mut best = client
		.subscribe("chain_subscribeNewHeads", rpc_params![], "chain_unsubscribeNewHeads")
		.await?;
	let mut finalized = client
		.subscribe(
			"chain_subscribeFinalizedHeads",
			rpc_params![],
			"chain_unsubscribeFinalizedHeads",
		)
		.await?;
	// Blocks from before the run hold none of its transactions: the walk back stops there.
	let mut seen_best: HashSet<H256> = HashSet::from([client.header(None).await?.hash()]);
	let mut last_finalized = client.finalized_number().await?;
	let mut best_number = last_finalized;
	loop {
		tokio::select! {
			head = best.next() => {
				let head: Value = head.ok_or("the best-block subscription ended")??;
				let now = Instant::now();
				let mut hash = hash_of(&head)?;
				best_number = best_number.max(number_of(&head)?);
				// A block imported while the previous one was read has no notification of
				// its own: walk back to a block already read.
				for _ in 0..16 {
					if !seen_best.insert(hash) {
						break;
					}
					let (parent, extrinsics) = block(&client, hash).await?;
					let mut sightings = sightings.lock().unwrap();
					for extrinsic in extrinsics {
						if sightings.submitted.contains_key(&extrinsic) {
							sightings.in_best.entry(extrinsic).or_insert(now);
						}
					}
					if parent.is_zero() {
						break; // the genesis block
					}
					hash = parent;
				}
			},
			head = finalized.next() => {
				let head: Value = head.ok_or("the finalized-block subscription ended")??;
				let now = Instant::now();
				let number = number_of(&head)?;
				for n in last_finalized + 1..=number {
					let hash = client.block_hash(n).await?.ok_or("a finalized block has no hash")?;
					let (_, extrinsics) = block(&client, hash).await?;
					let mut sightings = sightings.lock().unwrap();
					let mut ours = 0;
					for extrinsic in extrinsics {
						if sightings.submitted.contains_key(&extrinsic) {
							sightings.finalized.entry(extrinsic).or_insert(now);
							sightings.in_best.entry(extrinsic).or_insert(now);
							ours += 1;
						}
					}
					if ours > 0 {
						sightings.per_block.insert(n, ours);
					}
				}
				last_finalized = last_finalized.max(number);
				sightings.lock().unwrap().finality_lag.push(best_number.saturating_sub(number));
			},
		}
	}
}

fn number_of(header: &Value) -> Result<u32, Error> {
	let text = header["number"].as_str().ok_or("a header without a number")?;
	Ok(u32::from_str_radix(text.trim_start_matches("0x"), 16)?)
}

/// A block's parent and the hashes of its extrinsics.
async fn block(client: &Client, hash: H256) -> Result<(H256, Vec<H256>), Error> {
	let body: Value = client.request("chain_getBlock", rpc_params![hash]).await?;
	let parent = serde_json::from_value(body["block"]["header"]["parentHash"].clone())?;
	let mut extrinsics = Vec::new();
	for encoded in body["block"]["extrinsics"].as_array().into_iter().flatten() {
		let bytes = from_hex(encoded.as_str().unwrap_or_default(), "extrinsic")?;
		extrinsics.push(H256::from(blake2_256(&bytes)));
	}
	Ok((parent, extrinsics))
}

/// The hash of a header as the subscriptions give it (they leave the hash out).
fn hash_of(header: &Value) -> Result<H256, Error> {
	let header: Header<u32, BlakeTwo256> = serde_json::from_value(header.clone())?;
	Ok(header.hash())
}

/// Starts watching `url`'s blocks; the sightings fill in as they come.
pub async fn start_watching(url: &str) -> Result<(Shared, tokio::task::JoinHandle<()>), Error> {
	let client = Client::connect(url).await?;
	let sightings = Shared::default();
	let watcher = {
		let sightings = sightings.clone();
		tokio::spawn(async move {
			if let Err(e) = watch(client, sightings).await {
				eprintln!("chain_bench: watching the blocks failed: {e}");
				std::process::exit(2);
			}
		})
	};
	Ok((sightings, watcher))
}
