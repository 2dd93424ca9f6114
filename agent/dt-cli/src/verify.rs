//! `dt verify`: re-checks what the off-chain store holds for a twin against what the chain
//! anchors, without decrypting anything.
//!
//! - Every document version: its manifest, key envelope and chunks are fetched and hashed
//!   here (the node is not trusted to have checked them); the manifest must decode, name
//!   the chain's key envelope and list chunks that are all present and intact.
//! - Every annotation, stored as a document of its own, likewise (its manifest names its
//!   own key envelope).
//! - With the store's network, key envelopes live behind the documents' reader lists and
//!   are served to readers only: one not served as a block is not counted as missing.
//! - Every feed's log is read from its first entry: each entry is hashed here, must carry
//!   the previous entry's hash, and at each checkpoint anchored on chain must hash to the
//!   anchored entry hash (with the anchored timestamp).

use crate::{chain, feeds, Output, Unsuccessful};
use anyhow::Result;
use dt_client::Client;
use dt_offchain::{
	content_id::{verify as verify_block, Cid},
	documents::{Manifest, MANIFEST_MAGIC},
	feed::{Entry, GENESIS_PREVIOUS},
};
use dt_primitives::{
	access::TwinId,
	content_id::ContentId,
	feed::{EntryHash, FeedId},
};
use dt_runtime::{AccountId, BlockNumber};
use jsonrpsee::rpc_params;
use pallet_dt_documents::{DocumentHistory, DocumentRecord};
use pallet_dt_feeds::CheckpointRecord;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Something the store does not hold as the chain says it should.
struct Mismatch {
	item: String,
	problem: String,
}

/// What was checked, for the report.
#[derive(Default)]
struct Report {
	checked: Vec<String>,
	mismatches: Vec<Mismatch>,
}

impl Report {
	fn mismatch(&mut self, item: impl Into<String>, problem: impl Into<String>) {
		self.mismatches.push(Mismatch { item: item.into(), problem: problem.into() });
	}
}

/// Verifies `twin`, reading the chain from `node` and the off-chain data from `store`.
pub async fn verify_command(
	node: &str,
	store: &feeds::StoreNode,
	twin: TwinId,
	json: bool,
) -> Result<Output> {
	let client = chain::connect(node).await?;
	chain::twin(&client, twin).await?;
	let store = store.connect(node).await?;
	let mut report = Report::default();
	let envelopes_behind_lists = has_store_network(&store).await;
	verify_documents(&client, &store, twin, envelopes_behind_lists, &mut report, json).await?;
	verify_feeds(&client, &store, twin, &mut report, json).await?;
	let mut text = String::new();
	for checked in &report.checked {
		text.push_str(&format!("ok        {checked}\n"));
	}
	for mismatch in &report.mismatches {
		text.push_str(&format!("MISMATCH  {}: {}\n", mismatch.item, mismatch.problem));
	}
	text.push_str(&if report.mismatches.is_empty() {
		format!("twin {twin}: everything in the store matches the chain")
	} else {
		format!(
			"twin {twin}: {} mismatches between the store and the chain",
			report.mismatches.len()
		)
	});
	let output = Output {
		text,
		json: json!({
			"twin": twin,
			"ok": report.mismatches.is_empty(),
			"checked": report.checked,
			"mismatches": report.mismatches.iter().map(|m| json!({ "item": m.item, "problem": m.problem })).collect::<Vec<Value>>(),
		}),
	};
	if report.mismatches.is_empty() {
		Ok(output)
	} else {
		Err(Unsuccessful(output).into())
	}
}

/// A block from the node's store, hashed here against its id.
async fn fetch(client: &Client, cid: &Cid) -> Result<Vec<u8>, String> {
	let hex: String = client
		.request("store_getBlock", rpc_params![cid.to_string()])
		.await
		.map_err(|error| {
			let reason = error.to_string();
			if reason.contains("7104") {
				MISSING.to_string()
			} else if reason.contains("7105") {
				"corrupted in the store (its bytes do not hash to its id)".to_string()
			} else {
				format!("cannot be read: {reason}")
			}
		})?;
	let bytes = hex::decode(hex.trim_start_matches("0x"))
		.map_err(|_| "served as something other than hex".to_string())?;
	verify_block(cid, &bytes).map_err(|e| format!("served with other content: {e}"))?;
	Ok(bytes)
}

/// Whether the store's node has the store network (it answers `7306` to list reads if not).
async fn has_store_network(store: &Client) -> bool {
	let any_item = format!("0x{}", hex::encode([0u8; 32]));
	match store.request::<Value>("store_acl", rpc_params![any_item]).await {
		Ok(_) => true,
		Err(error) => {
			let reason = error.to_string();
			!(reason.contains("7306") || reason.contains("-32601"))
		},
	}
}

const MISSING: &str = "missing from the store";
/// How a node with the store's network says none of a block's replicas holds it.
const NO_REPLICA_SERVED: &str = "no replica served block";

fn cid_of(content_id: &ContentId) -> Result<Cid, String> {
	Cid::from_bytes(content_id).map_err(|e| format!("the chain's content id is not usable: {e}"))
}

async fn verify_documents(
	client: &Client,
	store: &Client,
	twin: TwinId,
	envelopes_behind_lists: bool,
	report: &mut Report,
	json: bool,
) -> Result<()> {
	let documents: Vec<DocumentRecord<AccountId, BlockNumber>> = client
		.runtime_api("DocumentsApi_documents_of_twin", (twin, None::<AccountId>), None)
		.await?;
	for document in documents {
		let history: Option<DocumentHistory<AccountId, BlockNumber>> = client
			.runtime_api(
				"DocumentsApi_document_with_history",
				(document.id, None::<AccountId>),
				None,
			)
			.await?;
		let Some(history) = history else { continue };
		for version in history.versions {
			let item = format!("document {} version {}", document.id, version.number);
			if !json {
				eprintln!("verifying {item}");
			}
			let before = report.mismatches.len();
			let blocks = verify_version(
				store,
				&item,
				&version.version.content_id,
				Some(&version.version.key_envelope),
				envelopes_behind_lists,
				report,
			)
			.await;
			for (index, annotation) in version.annotations.iter().enumerate() {
				let item = format!("{item} annotation {index}");
				verify_version(
					store,
					&item,
					&annotation.content_id,
					None,
					envelopes_behind_lists,
					report,
				)
				.await;
			}
			if report.mismatches.len() == before {
				report.checked.push(format!(
					"{item}: {blocks} blocks, {} annotations",
					version.annotations.len()
				));
			}
		}
	}
	Ok(())
}

/// Checks one version (or annotation: its manifest names its own key envelope, the chain
/// none); the number of blocks it consists of. An annotation stored as a single block
/// rather than as a document is that block alone.
async fn verify_version(
	client: &Client,
	item: &str,
	content_id: &ContentId,
	key_envelope: Option<&ContentId>,
	envelopes_behind_lists: bool,
	report: &mut Report,
) -> usize {
	let manifest_id = match cid_of(content_id) {
		Ok(cid) => cid,
		Err(problem) => {
			report.mismatch(item, problem);
			return 0;
		},
	};
	let manifest = match fetch(client, &manifest_id).await {
		Ok(bytes) if key_envelope.is_none() && !bytes.starts_with(&MANIFEST_MAGIC) => return 1,
		Ok(bytes) => match Manifest::from_bytes(&manifest_id, &bytes) {
			Ok(manifest) => manifest,
			Err(error) => {
				report.mismatch(format!("{item} manifest {manifest_id}"), error.to_string());
				return 1;
			},
		},
		Err(problem) => {
			report.mismatch(format!("{item} manifest {manifest_id}"), problem);
			return 1;
		},
	};
	match key_envelope.map(cid_of) {
		None => {},
		Some(Ok(envelope)) if envelope == *manifest.envelope() => {},
		Some(Ok(envelope)) => report.mismatch(
			item,
			format!(
				"the chain names key envelope {envelope}, the manifest {}",
				manifest.envelope()
			),
		),
		Some(Err(problem)) => report.mismatch(item, problem),
	}
	match fetch(client, manifest.envelope()).await {
		Ok(_) => {},
		// Kept by the reader list's replicas and served to its readers only.
		Err(problem)
			if envelopes_behind_lists
				&& (problem == MISSING || problem.contains(NO_REPLICA_SERVED)) => {},
		Err(problem) => {
			report.mismatch(format!("{item} key envelope {}", manifest.envelope()), problem)
		},
	}
	for (index, chunk) in manifest.chunks().iter().enumerate() {
		if let Err(problem) = fetch(client, chunk).await {
			report.mismatch(format!("{item} chunk {index} ({chunk})"), problem);
		}
	}
	2 + manifest.chunks().len()
}

async fn verify_feeds(
	client: &Client,
	store: &Client,
	twin: TwinId,
	report: &mut Report,
	json: bool,
) -> Result<()> {
	let feeds: Vec<feeds::Feed> = client
		.runtime_api("FeedsApi_feeds_of_twin", (twin, None::<AccountId>), None)
		.await?;
	for feed in feeds {
		if !json {
			eprintln!("verifying feed {}", feed.id);
		}
		let checkpoints = checkpoints(client, feed.id).await?;
		let before = report.mismatches.len();
		let entries = verify_log(store, feed.id, &checkpoints, report).await?;
		if report.mismatches.len() == before {
			report.checked.push(format!(
				"feed {}: {entries} entries chained, {} checkpoints match",
				feed.id,
				checkpoints.len()
			));
		}
	}
	Ok(())
}

/// Every checkpoint of a feed, by the sequence number it anchors.
async fn checkpoints(
	client: &Client,
	feed: FeedId,
) -> Result<BTreeMap<u64, CheckpointRecord<BlockNumber>>> {
	let mut all = BTreeMap::new();
	let mut from = 0u32;
	loop {
		let page: Vec<CheckpointRecord<BlockNumber>> = client
			.runtime_api(
				"FeedsApi_checkpoints",
				(feed, from, pallet_dt_feeds::MAX_CHECKPOINTS_PER_READ),
				None,
			)
			.await?;
		let Some(last) = page.last() else { return Ok(all) };
		from = last.index + 1;
		for record in page {
			all.insert(record.checkpoint.sequence, record);
		}
	}
}

fn hash_of(text: &str) -> Option<EntryHash> {
	hex::decode(text.trim_start_matches("0x")).ok()?.try_into().ok()
}

/// Walks the feed's log from entry 0; the number of entries read.
async fn verify_log(
	client: &Client,
	feed: FeedId,
	checkpoints: &BTreeMap<u64, CheckpointRecord<BlockNumber>>,
	report: &mut Report,
) -> Result<u64> {
	let item = |sequence: u64| format!("feed {feed} entry {sequence}");
	let mut previous: EntryHash = GENESIS_PREVIOUS;
	let mut next = 0u64;
	loop {
		let page = feeds::page(client, feed, next, u64::MAX).await?;
		if page.is_empty() {
			break;
		}
		for served in page {
			if served.sequence != next {
				report.mismatch(
					item(next),
					format!("the store skips to entry {}: the log has a gap", served.sequence),
				);
				return Ok(next);
			}
			let payload = hex::decode(served.payload.trim_start_matches("0x")).unwrap_or_default();
			let entry = Entry {
				feed: served.feed,
				sequence: served.sequence,
				timestamp: served.timestamp,
				previous: hash_of(&served.previous).unwrap_or([0xff; 32]),
				epoch: served.epoch,
				payload,
			};
			let hash = entry.hash();
			if served.feed != feed {
				report.mismatch(
					item(next),
					format!("the store serves an entry of feed {}", served.feed),
				);
			}
			if hash_of(&served.hash) != Some(hash) {
				report.mismatch(item(next), "the entry does not hash to the hash the store serves");
			}
			if entry.previous != previous {
				report.mismatch(
					item(next),
					"the hash chain is broken: the entry does not carry the previous entry's hash",
				);
			}
			if let Some(anchored) = checkpoints.get(&next) {
				if anchored.checkpoint.entry_hash != hash {
					report.mismatch(
						item(next),
						format!(
							"checkpoint {} anchored in block {} says the entry hashes to 0x{}; the \
							 store's entry hashes to 0x{}",
							anchored.index,
							anchored.anchored_at,
							hex::encode(anchored.checkpoint.entry_hash),
							hex::encode(hash)
						),
					);
				} else if anchored.checkpoint.timestamp != entry.timestamp {
					report.mismatch(
						item(next),
						format!(
							"checkpoint {} anchors timestamp {} ms; the store's entry has {} ms",
							anchored.index, anchored.checkpoint.timestamp, entry.timestamp
						),
					);
				}
			}
			previous = hash;
			next += 1;
		}
	}
	for (sequence, anchored) in checkpoints.range(next..) {
		report.mismatch(
			item(*sequence),
			format!(
				"checkpoint {} anchored in block {} names this entry, but the store holds only \
				 {next} entries",
				anchored.index, anchored.anchored_at
			),
		);
	}
	Ok(next)
}
