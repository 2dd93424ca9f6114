//! The off-chain store of a node over its `store_*` RPC: blocks put and fetched by content
//! id, every fetched block checked against its id here too, so a reader trusts no store.
//! Every put is signed by the uploading party's account for the node's chain (its genesis
//! hash): nodes store blocks only for members, charged to their organisation.

use codec::Encode;
use dt_offchain::{
	content_id::{self, Cid},
	network::{Action, SignedAction},
	GenesisHash,
};
use jsonrpsee::{
	core::{client::ClientT, ClientError as RpcError},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use sp_core::sr25519;
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
	#[error("storing a block at {url} needs the uploading party's key to sign the put")]
	NoUploader { url: String },
}

/// A connection to one node's off-chain store.
pub struct Store {
	rpc: WsClient,
	url: String,
	/// The node's chain: what signed requests are signed for.
	genesis: GenesisHash,
	/// Who signs the puts.
	uploader: Option<sr25519::Pair>,
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
		let hash: String = rpc
			.request("chain_getBlockHash", rpc_params![0])
			.await
			.map_err(|e| StoreError::Connect { url: url.to_owned(), reason: e.to_string() })?;
		let genesis = hex::decode(hash.trim_start_matches("0x"))
			.ok()
			.and_then(|bytes| GenesisHash::try_from(bytes).ok())
			.ok_or_else(|| StoreError::Connect {
				url: url.to_owned(),
				reason: format!("its genesis hash {hash:?} is not 32 bytes of hex"),
			})?;
		Ok(Store { rpc, url: url.to_owned(), genesis, uploader: None })
	}

	/// This store, putting blocks as `uploader` (a member of the consortium; its
	/// organisation is charged for them until the chain refers to them).
	pub fn signing_as(mut self, uploader: &sr25519::Pair) -> Store {
		self.uploader = Some(uploader.clone());
		self
	}

	/// The genesis hash of the node's chain.
	pub fn genesis(&self) -> &GenesisHash {
		&self.genesis
	}

	/// The node's address.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// The connection, for the node's other `store_*` methods.
	pub fn rpc(&self) -> &WsClient {
		&self.rpc
	}

	/// Stores `bytes` durably, under a put signed by the uploader, and returns their content
	/// id, checked against the node's.
	pub async fn put(&self, bytes: &[u8]) -> Result<Cid, StoreError> {
		let expected = Cid::of(bytes);
		let uploader = self
			.uploader
			.as_ref()
			.ok_or_else(|| StoreError::NoUploader { url: self.url.clone() })?;
		let request =
			SignedAction::sign(Action::PutBlock { block: expected }, uploader, &self.genesis);
		let returned: String = self
			.rpc
			.request(
				"store_putBlock",
				rpc_params![
					dt_client::hex_string(&bytes),
					dt_client::hex_string(&request.encode())
				],
			)
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
