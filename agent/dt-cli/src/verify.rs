//! `dt verify`: re-checks what the off-chain store holds for a twin against what the chain
//! anchors. Documents are not decrypted; the entries of an encrypted feed are opened with
//! the party's key (`--as`) where it was sealed for the party.
//!
//! - Every document version: its manifest, key envelope and chunks are fetched and hashed
//!   here (the node is not trusted to have checked them); the manifest must decode, name
//!   the chain's key envelope and list chunks that are all present and intact.
//! - Every annotation, stored as a document of its own, likewise (its manifest names its
//!   own key envelope).
//! - With the store's network, key envelopes live behind the documents' reader lists and
//!   are served to readers only: one not served as a block is not counted as missing.
//! - Every feed's log is read from its first entry: each entry must be signed by the
//!   feed's owner (its batch's signature and its place in the batch), carry the previous
//!   entry's hash, and at each checkpoint anchored on chain hash to the anchored entry hash
//!   (with the anchored timestamp); the log must end where a signed batch ends. Nodes
//!   serve a feed above Public only to a party cleared for it: with `--as`, reads are
//!   signed by that party; a feed the party may not read (or any such feed without `--as`)
//!   is reported as not verified, never as verified.

use crate::feed_read::FeedReadError;
use crate::{
	chain,
	feed_reader::{FeedReader, Party},
	feeds, Output, Unsuccessful,
};
use anyhow::Result;
use dt_client::Client;
use dt_offchain::{
	content_id::{verify as verify_block, Cid},
	documents::{Manifest, MANIFEST_MAGIC},
};
use dt_primitives::{access::TwinId, content_id::ContentId};
use dt_runtime::{AccountId, BlockNumber};
use jsonrpsee::rpc_params;
use pallet_dt_documents::{DocumentHistory, DocumentRecord};
use pallet_dt_feeds::CheckpointRecord;
use serde_json::{json, Value};

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
	/// What could not be checked, and why.
	unverified: Vec<String>,
}

impl Report {
	fn mismatch(&mut self, item: impl Into<String>, problem: impl Into<String>) {
		self.mismatches.push(Mismatch { item: item.into(), problem: problem.into() });
	}
}

/// Verifies `twin`, reading the chain from `node` and the off-chain data from `store`;
/// feeds above Public as `party`, if given.
pub async fn verify_command(
	node: &str,
	store: &feeds::StoreNode,
	twin: TwinId,
	party: Option<&Party>,
	json: bool,
) -> Result<Output> {
	let client = chain::connect(node).await?;
	chain::twin(&client, twin).await?;
	let store = store.connect(node).await?;
	let mut report = Report::default();
	let envelopes_behind_lists = has_store_network(&store).await;
	verify_documents(&client, &store, twin, envelopes_behind_lists, &mut report, json).await?;
	verify_feeds(&client, &store, twin, party, &mut report, json).await?;
	let mut text = String::new();
	for checked in &report.checked {
		text.push_str(&format!("ok        {checked}\n"));
	}
	for mismatch in &report.mismatches {
		text.push_str(&format!("MISMATCH  {}: {}\n", mismatch.item, mismatch.problem));
	}
	for unverified in &report.unverified {
		text.push_str(&format!("NOT READ  {unverified}\n"));
	}
	text.push_str(&if report.mismatches.is_empty() && report.unverified.is_empty() {
		format!("twin {twin}: everything in the store matches the chain")
	} else if report.mismatches.is_empty() {
		format!(
			"twin {twin}: everything read matches the chain; {} not read",
			report.unverified.len()
		)
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
			"unverified": report.unverified,
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
		.map_err(|error| match error.code() {
			Some(BLOCK_NOT_FOUND) => MISSING.to_string(),
			Some(BLOCK_CORRUPTED) => {
				"corrupted in the store (its bytes do not hash to its id)".to_string()
			},
			_ => format!("cannot be read: {error}"),
		})?;
	let bytes = hex::decode(hex.trim_start_matches("0x"))
		.map_err(|_| "served as something other than hex".to_string())?;
	verify_block(cid, &bytes).map_err(|e| format!("served with other content: {e}"))?;
	Ok(bytes)
}

/// Whether the store's node has the store network (it answers `7306` to list reads if not).
async fn has_store_network(store: &Client) -> bool {
	let any_item = dt_client::hex_string(&[0u8; 32]);
	match store.request::<Value>("store_acl", rpc_params![any_item]).await {
		Ok(_) => true,
		Err(error) => !matches!(error.code(), Some(NO_STORE_NETWORK | METHOD_NOT_FOUND)),
	}
}

const MISSING: &str = "missing from the store";
/// The node's error codes (docs/rpc.md) this module tells apart.
const BLOCK_NOT_FOUND: i32 = 7104;
const BLOCK_CORRUPTED: i32 = 7105;
const NO_STORE_NETWORK: i32 = 7306;
/// JSON-RPC's "method not found": a node that has no store methods at all.
const METHOD_NOT_FOUND: i32 = -32601;
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
	party: Option<&Party>,
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
		let mut reader = match FeedReader::new(client, store, &feed, party, true).await {
			Ok(reader) => reader,
			Err(error) => match error.downcast_ref::<FeedReadError>() {
				Some(FeedReadError::NeedsParty { feed, level }) => {
					report.unverified.push(format!(
						"feed {feed}: {level} (verify as a party cleared for it with --as KEY)"
					));
					continue;
				},
				_ => return Err(error),
			},
		};
		let (entries, walked) = reader.walk().await;
		let checkpoints = reader.anchored();
		let before = report.mismatches.len();
		match walked {
			Err(error)
				if matches!(
					error.downcast_ref::<FeedReadError>(),
					Some(FeedReadError::NotCleared { .. })
				) =>
			{
				report.unverified.push(format!("feed {}: {error}", feed.id));
				continue;
			},
			Err(error) => {
				let problem = match error.downcast_ref::<FeedReadError>() {
					Some(FeedReadError::CheckpointMismatch { sequence, .. }) => checkpoints
						.iter()
						.find(|anchored| anchored.checkpoint.sequence == *sequence)
						.map_or_else(|| error.to_string(), checkpoint_mismatch),
					_ => error.to_string(),
				};
				report.mismatch(format!("feed {} entry {entries}", feed.id), problem);
			},
			// The whole log was read: every checkpoint must name an entry in it.
			Ok(()) => {
				for anchored in checkpoints.iter().filter(|c| c.checkpoint.sequence >= entries) {
					report.mismatch(
						format!("feed {} entry {}", feed.id, anchored.checkpoint.sequence),
						format!(
							"checkpoint {} anchored in block {} names this entry, but the store \
							 serves only {entries} entries",
							anchored.index, anchored.anchored_at
						),
					);
				}
			},
		}
		if !reader.unopened().is_empty() {
			report.unverified.push(format!(
				"feed {}: the entries of epochs {:?} were checked but not opened: their keys were \
				 not sealed for the party (it was not cleared when they began)",
				feed.id,
				reader.unopened()
			));
		}
		if report.mismatches.len() == before {
			report.checked.push(format!(
				"feed {}: {entries} entries signed by its owner and chained, {} checkpoints match",
				feed.id,
				checkpoints.len()
			));
		}
	}
	Ok(())
}

/// What is wrong when the entry a checkpoint names differs from it.
fn checkpoint_mismatch(anchored: &CheckpointRecord<BlockNumber>) -> String {
	format!(
		"checkpoint {} anchored in block {} says the entry hashes to 0x{} at {} ms; the entry the \
		 store serves differs",
		anchored.index,
		anchored.anchored_at,
		hex::encode(anchored.checkpoint.entry_hash),
		anchored.checkpoint.timestamp
	)
}
