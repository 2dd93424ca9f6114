//! Following finalized blocks with their events.
//!
//! The node notifies only the newest finalized head, and GRANDPA often finalizes several
//! blocks at once; the agent must still see every block's events exactly once and in order,
//! so the blocks between two notifications are fetched by number.

use crate::{client::Header, error::ClientError, ChainRuntime, Client};
use dt_runtime::RuntimeEvent;
use jsonrpsee::{core::client::Subscription, rpc_params};
use serde_json::Value;
use sp_core::H256;

/// Finalized blocks, each with its events, in order and without gaps.
pub struct FinalizedEvents<'a> {
	client: &'a Client,
	heads: Subscription<Value>,
	/// The number of the last block handed out.
	last: u32,
	/// Blocks finalized but not handed out yet.
	ready: std::collections::VecDeque<u32>,
}

/// One finalized block and its events.
#[derive(Debug)]
pub struct FinalizedBlock {
	pub number: u32,
	pub hash: H256,
	pub events: Vec<RuntimeEvent>,
	/// The runtime the chain runs from the next block on, when this block upgraded it
	/// (already checked to be one this client supports).
	pub runtime_upgrade: Option<ChainRuntime>,
}

impl<'a> FinalizedEvents<'a> {
	pub(crate) async fn start(client: &'a Client) -> Result<FinalizedEvents<'a>, ClientError> {
		let heads = client
			.subscribe(
				"chain_subscribeFinalizedHeads",
				rpc_params![],
				"chain_unsubscribeFinalizedHeads",
			)
			.await?;
		let last = client.finalized_number().await?;
		Ok(FinalizedEvents { client, heads, last, ready: Default::default() })
	}

	/// The next finalized block after the last one handed out, waiting for it.
	pub async fn next(&mut self) -> Result<FinalizedBlock, ClientError> {
		while self.ready.is_empty() {
			let head = self
				.heads
				.next()
				.await
				.ok_or_else(|| ClientError::Rpc {
					method: "chain_subscribeFinalizedHeads",
					reason: "closed".into(),
				})?
				.map_err(|e| ClientError::Rpc {
					method: "chain_subscribeFinalizedHeads",
					reason: e.to_string(),
				})?;
			let header: Header = serde_json::from_value(head)
				.map_err(|e| ClientError::decode("finalized header", e))?;
			self.ready.extend(self.last.saturating_add(1)..=header.number);
			self.last = self.last.max(header.number);
		}
		let number = self.ready.pop_front().expect("not empty");
		let hash = self.client.block_hash(number).await?.ok_or_else(|| ClientError::Rpc {
			method: "chain_getBlockHash",
			reason: format!("finalized block #{number} unknown"),
		})?;
		let events = self.client.events(hash).await?;
		// A new runtime writes the following blocks' events: if it is one whose types this
		// client does not have, stop here rather than misread them.
		let upgraded = events.iter().any(|event| {
			matches!(event, RuntimeEvent::System(frame_system::Event::CodeUpdated { .. }))
		});
		let runtime_upgrade = if upgraded {
			let runtime = self.client.runtime_version(Some(hash)).await?;
			runtime.ensure_supported()?;
			Some(runtime)
		} else {
			None
		};
		Ok(FinalizedBlock { number, hash, events, runtime_upgrade })
	}
}
