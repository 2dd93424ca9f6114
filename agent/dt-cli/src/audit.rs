//! `dt audit`: the full change trail of a twin, read from the chain's finalized blocks.
//!
//! The runtime keeps no per-twin index of past events, so the trail is the events of every
//! finalized block since the twin's creation that name the twin: two reads per block, fine
//! for a test or demonstration chain; a long-lived chain wants an indexer.

use crate::{chain, ledger, Output};
use anyhow::{anyhow, Result};
use dt_primitives::access::TwinId;
use serde_json::json;

/// Progress is reported on standard error every this many blocks.
const PROGRESS_EVERY: u32 = 500;

pub async fn audit_command(node: &str, twin: TwinId) -> Result<Output> {
	let client = chain::connect(node).await?;
	let info = chain::twin(&client, twin).await?;
	let head = client.finalized_head().await?;
	let last = client.header(Some(head)).await?.number;
	let first = info.created_at;
	let mut updates = Vec::new();
	for number in first..=last {
		if (number - first) % PROGRESS_EVERY == 0 && last - first >= PROGRESS_EVERY {
			eprintln!("audit of twin {twin}: block {number} of {last}");
		}
		let hash = client
			.block_hash(number)
			.await?
			.ok_or_else(|| anyhow!("the node does not have finalized block #{number}"))?;
		updates.extend(ledger::updates_in_block(&client, number, hash, twin).await?);
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
