//! `dt watch`: the ledger updates of a twin as their blocks are finalized.

use crate::{chain, ledger, Output};
use anyhow::Result;
use dt_primitives::access::TwinId;
use serde_json::Value;
use std::io::Write;

pub async fn watch_command(
	node: &str,
	twin: TwinId,
	count: Option<u64>,
	json: bool,
) -> Result<Output> {
	let client = chain::connect(node).await?;
	chain::twin(&client, twin).await?;
	let mut blocks = client.finalized_events().await?;
	// On standard error, so that it never mixes with the updates.
	eprintln!("watching twin {twin} (Ctrl-C to stop)");
	let mut seen = 0u64;
	while count.is_none_or(|count| seen < count) {
		let block = blocks.next().await?;
		// Most blocks do not concern the twin: look at their events before reading more.
		if !block.events.iter().any(|event| ledger::describe(event, twin).is_some()) {
			continue;
		}
		let updates = ledger::updates_in_block(&client, block.number, block.hash, twin).await?;
		let mut stdout = std::io::stdout().lock();
		for update in updates {
			if count.is_some_and(|count| seen >= count) {
				break;
			}
			if json {
				writeln!(stdout, "{}", update.json())?;
			} else {
				writeln!(stdout, "{}", update.line())?;
			}
			seen += 1;
		}
		stdout.flush()?;
	}
	Ok(Output { text: String::new(), json: Value::Null })
}
