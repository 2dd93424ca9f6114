//! The ledger updates that concern a twin, read block by block over RPC: what `dt watch`
//! does for each finalized block, and what `dt audit` falls back to against a node without
//! the twin index. How an event is told is `dt_client::ledger`'s, shared with the node's
//! index so both read the same.

use anyhow::{anyhow, Result};
use dt_client::Client;
use dt_primitives::access::TwinId;
use jsonrpsee::rpc_params;
use serde_json::Value;
use sp_core::H256;

pub use dt_client::ledger::{describe, BlockBody, Update};

/// The updates of `twin` in the block `number`/`hash`, in the order of its events.
pub async fn updates_in_block(
	client: &Client,
	number: u32,
	hash: H256,
	twin: TwinId,
) -> Result<Vec<Update>> {
	let records = client.event_records(hash).await?;
	if !records.iter().any(|record| describe(&record.event, twin).is_some()) {
		return Ok(Vec::new());
	}
	let body = fetch_body(client, hash).await?;
	Ok(dt_client::ledger::updates(records, twin, number, hash, &body))
}

/// The block's timestamp and the signer of each of its extrinsics.
async fn fetch_body(client: &Client, hash: H256) -> Result<BlockBody> {
	let block: Value = client.request("chain_getBlock", rpc_params![hash]).await?;
	let extrinsics = block["block"]["extrinsics"]
		.as_array()
		.ok_or_else(|| anyhow!("the node returned block {hash:?} without extrinsics"))?;
	let bytes: Vec<Vec<u8>> = extrinsics
		.iter()
		.map(|encoded| {
			encoded
				.as_str()
				.and_then(|text| hex::decode(text.trim_start_matches("0x")).ok())
				.unwrap_or_default()
		})
		.collect();
	Ok(BlockBody::from_extrinsics(bytes.iter().map(Vec::as_slice)))
}
