//! The off-chain store of a node over its `store_*` RPC: blocks put and fetched by content
//! id, every fetched block checked against its id here too, so a reader trusts no store.

use dt_offchain::content_id::{self, Cid};
use jsonrpsee::{
	core::{client::ClientT, ClientError as RpcError},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use std::time::Duration;

/// `store_*` error codes (docs/rpc.md).
const BLOCK_NOT_FOUND: i32 = 7104;
const BLOCK_CORRUPTED: i32 = 7105;

/// Room for the largest block (4 MiB) in hex and the JSON around it.
const MAX_MESSAGE_SIZE: u32 = 16 << 20;
/// A block is at most a few MiB; a node that takes longer is stuck.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Why the store did not give or take a block.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	#[error(
		"cannot connect to the off-chain store at {url}: {reason}\n(pass the address of a node \
		 holding the blocks with --store ws://HOST:PORT; by default the store of --node is used)"
	)]
	Connect { url: String, reason: String },
	#[error(
		"block {cid} is not in the off-chain store at {url}: it lives on the node it was \
		 uploaded to; pass that node with --store ws://HOST:PORT"
	)]
	Missing { cid: Cid, url: String },
	#[error(
		"block {cid} is corrupted in the off-chain store at {url}: the node's copy no longer \
		 matches its content id (ask the node's operator to restore it, or read from another \
		 node with --store)"
	)]
	Corrupted { cid: Cid, url: String },
	#[error(
		"the off-chain store at {url} answered block {cid} with bytes that hash to {actual}: \
		 its copy is damaged or was tampered with; nothing was used"
	)]
	Mismatch { cid: Cid, actual: Cid, url: String },
	#[error("the off-chain store at {url} stored a block under {returned}; its content id is {expected}")]
	WrongId { expected: Cid, returned: String, url: String },
	#[error("the off-chain store at {url} failed to {action}: {reason}")]
	Rpc { action: String, reason: String, url: String },
}

/// A connection to one node's off-chain store.
pub struct Store {
	rpc: WsClient,
	url: String,
}

impl Store {
	/// Connects to the node at `url` (ws://…).
	pub async fn connect(url: &str) -> Result<Store, StoreError> {
		let rpc = WsClientBuilder::default()
			.max_request_size(MAX_MESSAGE_SIZE)
			.max_response_size(MAX_MESSAGE_SIZE)
			.request_timeout(REQUEST_TIMEOUT)
			.build(url)
			.await
			.map_err(|e| StoreError::Connect { url: url.to_owned(), reason: e.to_string() })?;
		Ok(Store { rpc, url: url.to_owned() })
	}

	/// The node's address.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// The connection, for the node's other `store_*` methods.
	pub fn rpc(&self) -> &WsClient {
		&self.rpc
	}

	/// Stores `bytes` durably and returns their content id, checked against the node's.
	pub async fn put(&self, bytes: &[u8]) -> Result<Cid, StoreError> {
		let expected = Cid::of(bytes);
		let returned: String = self
			.rpc
			.request("store_putBlock", rpc_params![format!("0x{}", hex::encode(bytes))])
			.await
			.map_err(|e| self.rpc_error(format!("store block {expected}"), e))?;
		if returned != expected.to_string() {
			return Err(StoreError::WrongId { expected, returned, url: self.url.clone() });
		}
		Ok(expected)
	}

	/// Fetches block `cid`, verified against its id.
	pub async fn get(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
		let answer: String =
			self.rpc.request("store_getBlock", rpc_params![cid.to_string()]).await.map_err(
				|e| match &e {
					RpcError::Call(object) if object.code() == BLOCK_NOT_FOUND => {
						StoreError::Missing { cid: *cid, url: self.url.clone() }
					},
					RpcError::Call(object) if object.code() == BLOCK_CORRUPTED => {
						StoreError::Corrupted { cid: *cid, url: self.url.clone() }
					},
					_ => self.rpc_error(format!("fetch block {cid}"), e),
				},
			)?;
		let bytes = hex::decode(answer.trim_start_matches("0x")).map_err(|e| StoreError::Rpc {
			action: format!("fetch block {cid}"),
			reason: format!("the answer is not hex: {e}"),
			url: self.url.clone(),
		})?;
		content_id::verify(cid, &bytes).map_err(|_| StoreError::Mismatch {
			cid: *cid,
			actual: Cid::of(&bytes),
			url: self.url.clone(),
		})?;
		Ok(bytes)
	}

	fn rpc_error(&self, action: String, error: RpcError) -> StoreError {
		StoreError::Rpc { action, reason: error.to_string(), url: self.url.clone() }
	}
}
