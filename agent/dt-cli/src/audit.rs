//! `dt audit`: the full change trail of a twin, read from the chain's finalized blocks.
//!
//! The trail comes from the node's twin index (`index_twinTrail`, a page at a time), which
//! the node keeps from finalized blocks while it still has their state, so it is complete on
//! a pruning node too, as far back as the index is (`completeFrom`). Blocks finalized after
//! the index's last one are read block by block. Against a node without the index (an older
//! dt-node) the whole trail is read block by block: two reads per block, and only as far
//! back as the node keeps state.

use crate::{chain, ledger, Output};
use anyhow::{anyhow, bail, Context, Result};
use dt_client::{ledger::Update, Client, ClientError};
use dt_primitives::access::TwinId;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};

/// Progress is reported on standard error every this many blocks.
const PROGRESS_EVERY: u32 = 500;
/// Changes asked for per `index_twinTrail` page (the node's maximum).
const PAGE: u32 = 1000;
/// JSON-RPC: the node has no such method.
const METHOD_NOT_FOUND: i32 = -32601;
/// `index_*`: the node has no usable index (docs/rpc.md).
const INDEX_UNAVAILABLE: i32 = 7401;
/// `index_*`: the twin is not in the index (yet: created in a block not indexed so far).
const UNKNOWN_TWIN: i32 = 7403;

/// The twin's changes from block `from` (default: its creation) to the finalized head.
pub async fn audit_command(node: &str, twin: TwinId, from: Option<u32>) -> Result<Output> {
	let client = chain::connect(node).await?;
	let info = chain::twin(&client, twin).await?;
	let head = client.finalized_head().await?;
	let last = client.header(Some(head)).await?.number;
	let first = from.unwrap_or(info.created_at).max(info.created_at);
	let mut notes = Vec::new();
	let mut complete_from = None;
	let updates = match from_index(&client, twin, first, last).await? {
		Some(trail) => {
			if trail.complete_from > first {
				let note = format!(
					"this node's twin index is complete from block #{} only (the node no longer \
					 had the state of earlier blocks when it built its index): changes of twin \
					 {twin} in blocks #{first}..#{} may be missing; audit against an archive node \
					 (dt-node --state-pruning archive) for them",
					trail.complete_from,
					trail.complete_from - 1
				);
				eprintln!("note: {note}");
				notes.push(note);
			}
			complete_from = Some(trail.complete_from);
			let mut updates = trail.updates;
			// Blocks finalized after the index's last one: still recent, read directly.
			let unindexed = first.max(trail.indexed_to + 1);
			if unindexed <= last {
				updates.extend(per_block(&client, twin, unindexed, last).await?);
			}
			updates
		},
		None => {
			eprintln!(
				"the node has no twin index (index_twinTrail): reading blocks #{first}..#{last} one \
				 by one"
			);
			per_block(&client, twin, first, last).await?
		},
	};
	let mut text =
		format!("twin {twin}: {} changes in blocks {first}..={last} (finalized)\n", updates.len());
	for note in &notes {
		text.push_str(&format!("note: {note}\n"));
	}
	for update in &updates {
		text.push_str(&update.line());
		text.push('\n');
	}
	Ok(Output {
		text,
		json: json!({
			"twin": twin,
			"from_block": first,
			"to_block": last,
			"finalized_head": format!("{head:?}"),
			"complete_from": complete_from,
			"notes": notes,
			"changes": updates.iter().map(Update::json).collect::<Vec<_>>(),
		}),
	})
}

/// A trail as the node's index gave it.
struct IndexedTrail {
	updates: Vec<Update>,
	complete_from: u32,
	indexed_to: u32,
}

/// The twin's changes in blocks `first..=last` from the node's index, every page of them;
/// `None` if the node has no index.
async fn from_index(
	client: &Client,
	twin: TwinId,
	first: u32,
	last: u32,
) -> Result<Option<IndexedTrail>> {
	let mut updates = Vec::new();
	let mut cursor: Option<String> = None;
	let mut pages = 0u32;
	loop {
		let options =
			json!({ "fromBlock": first, "toBlock": last, "cursor": cursor, "limit": PAGE });
		let page: Value = match client.request("index_twinTrail", rpc_params![twin, options]).await
		{
			Ok(page) => page,
			Err(ClientError::Call { code: METHOD_NOT_FOUND | INDEX_UNAVAILABLE, .. }) => {
				return Ok(None)
			},
			Err(ClientError::Call { code: UNKNOWN_TWIN, .. }) => {
				// Created after the index's last block: every change is still to be read.
				let status: Value = client.request("index_status", rpc_params![]).await?;
				return Ok(Some(IndexedTrail {
					updates,
					complete_from: status["completeFrom"].as_u64().unwrap_or(0) as u32,
					indexed_to: status["indexedTo"].as_u64().unwrap_or(0) as u32,
				}));
			},
			Err(e) => return Err(e).context("cannot read the twin's trail from the node's index"),
		};
		for change in page["changes"]
			.as_array()
			.ok_or_else(|| anyhow!("index_twinTrail gave no changes"))?
		{
			updates.push(
				Update::from_json(change)
					.ok_or_else(|| anyhow!("index_twinTrail gave a malformed change: {change}"))?,
			);
		}
		pages += 1;
		cursor = page["nextCursor"].as_str().map(str::to_string);
		if cursor.is_none() {
			let number = |field: &str| {
				page[field]
					.as_u64()
					.map(|n| n as u32)
					.ok_or_else(|| anyhow!("index_twinTrail gave no {field}"))
			};
			let indexed_to = match page["indexedTo"].as_u64() {
				Some(n) => n as u32,
				// Still starting: the index has nothing yet.
				None => bail!("the node's twin index is still being built: try again in a moment"),
			};
			return Ok(Some(IndexedTrail {
				updates,
				complete_from: number("completeFrom")?,
				indexed_to: indexed_to.min(last),
			}));
		}
		if pages % 10 == 0 {
			eprintln!(
				"audit of twin {twin}: {} changes read (to block #{} of #{last})",
				updates.len(),
				updates.last().map_or(first, |update| update.block)
			);
		}
	}
}

/// The twin's changes in blocks `first..=last`, reading each block's events.
async fn per_block(client: &Client, twin: TwinId, first: u32, last: u32) -> Result<Vec<Update>> {
	let mut updates = Vec::new();
	for number in first..=last {
		if (number - first) % PROGRESS_EVERY == 0 && last - first >= PROGRESS_EVERY {
			eprintln!("audit of twin {twin}: block {number} of {last}");
		}
		let hash = client
			.block_hash(number)
			.await?
			.ok_or_else(|| anyhow!("the node does not have finalized block #{number}"))?;
		let found =
			ledger::updates_in_block(client, number, hash, twin).await.with_context(|| {
				format!(
					"cannot read the events of block #{number}: a node keeps the state of its \
					 recent blocks only (256 by default): audit against an archive node (dt-node \
					 --state-pruning archive), or only the recent blocks with --from BLOCK"
				)
			})?;
		updates.extend(found);
	}
	Ok(updates)
}
