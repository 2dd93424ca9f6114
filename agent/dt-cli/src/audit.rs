//! `dt audit`: the full change trail of a twin, read from the chain's finalized blocks.
//!
//! The runtime keeps no per-twin index of past events, so the trail is the events of every
//! finalized block since the twin's creation that name the twin: two reads per block, fine
//! for a test or demonstration chain; a long-lived chain wants an indexer.

use crate::{chain, ledger, Output};
use anyhow::{anyhow, Context, Result};
use dt_primitives::access::TwinId;
use serde_json::json;

/// Progress is reported on standard error every this many blocks.
const PROGRESS_EVERY: u32 = 500;

/// The twin's changes from block `from` (default: its creation) to the finalized head.
pub async fn audit_command(node: &str, twin: TwinId, from: Option<u32>) -> Result<Output> {
	let client = chain::connect(node).await?;
	let info = chain::twin(&client, twin).await?;
	let head = client.finalized_head().await?;
	let last = client.header(Some(head)).await?.number;
	let first = from.unwrap_or(info.created_at).max(info.created_at);
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
			ledger::updates_in_block(&client, number, hash, twin).await.with_context(|| {
				format!(
				"cannot read the events of block #{number}: a node keeps the state of its recent \
				 blocks only (256 by default): audit against an archive node (dt-node \
				 --state-pruning archive), or only the recent blocks with --from BLOCK"
			)
			})?;
		updates.extend(found);
	}
	let mut text =
		format!("twin {twin}: {} changes in blocks {first}..={last} (finalized)\n", updates.len());
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
			"changes": updates.iter().map(ledger::Update::json).collect::<Vec<_>>(),
		}),
	})
}
