//! The connection to a node: requests, signed extrinsics, events and runtime API reads.

use crate::{
	error::ClientError,
	events::FinalizedEvents,
	runtime_version::ChainRuntime,
	submission::{refusal_parts, refusal_reason},
};
use codec::{Decode, Encode};
use dt_runtime::{AccountId, Nonce, RuntimeCall, RuntimeEvent, SignedPayload, UncheckedExtrinsic};
use frame_system::{EventRecord, Phase};
use jsonrpsee::{
	core::{
		client::{ClientT, Subscription, SubscriptionClientT},
		params::ArrayParams,
	},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_io::hashing::{blake2_256, twox_128};
use sp_runtime::{
	generic::Header as GenericHeader, traits::BlakeTwo256, DispatchError, MultiSignature,
};
use std::time::Duration;

/// A block header of the chain.
pub type Header = GenericHeader<u32, BlakeTwo256>;

/// How long a request may take before the client gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to one dt-node.
pub struct Client {
	rpc: WsClient,
}

/// What a transaction commits to besides its call and nonce: the chain (its genesis) and the
/// runtime version it was built for, so no other chain or runtime executes it.
#[derive(Clone, Copy, Debug)]
pub struct SigningContext {
	/// The chain's genesis hash (also the immortal era's block).
	pub genesis: H256,
	/// The runtime's spec version.
	pub spec_version: u32,
	/// The runtime's transaction version.
	pub transaction_version: u32,
}

impl SigningContext {
	/// `call` signed by `signer` as its transaction number `nonce`, valid for ever.
	pub fn sign(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		nonce: Nonce,
	) -> UncheckedExtrinsic {
		let extension = dt_runtime::tx_extension(nonce);
		let implicit =
			dt_runtime::tx_implicit(self.spec_version, self.transaction_version, self.genesis);
		let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		UncheckedExtrinsic::new_signed(
			call,
			AccountId::from(signer.public()).into(),
			MultiSignature::Sr25519(signature),
			extension,
		)
	}
}

/// A transaction in a finalized block.
#[derive(Debug)]
pub struct Finalized {
	/// The block it is in.
	pub block: H256,
	/// The events it emitted, in order.
	pub events: Vec<RuntimeEvent>,
	/// Why the runtime refused it, if it did (it still paid for its place in the block).
	pub dispatch_error: Option<DispatchError>,
}

impl Finalized {
	/// `Ok` if the call succeeded, else the runtime's reason.
	pub fn result(&self) -> Result<(), DispatchError> {
		self.dispatch_error.map_or(Ok(()), Err)
	}
}

impl Client {
	/// Connects to a node's WebSocket RPC, e.g. `ws://127.0.0.1:9944`, and checks that the
	/// chain runs a runtime this client was built for ([`ChainRuntime::ensure_supported`]).
	pub async fn connect(url: &str) -> Result<Client, ClientError> {
		let rpc = WsClientBuilder::default()
			.request_timeout(REQUEST_TIMEOUT)
			.build(url)
			.await
			.map_err(|e| ClientError::Connect { url: url.to_owned(), reason: e.to_string() })?;
		let client = Client { rpc };
		client.runtime_version(None).await?.ensure_supported()?;
		Ok(client)
	}

	/// The version of the runtime in a block's state (the best block's for `None`): the one
	/// that runs the blocks after it.
	pub async fn runtime_version(&self, at: Option<H256>) -> Result<ChainRuntime, ClientError> {
		let version: Value = self.request("state_getRuntimeVersion", rpc_params![at]).await?;
		ChainRuntime::from_json(&version)
	}

	/// A JSON-RPC request, its answer deserialized.
	pub async fn request<T: serde::de::DeserializeOwned>(
		&self,
		method: &'static str,
		params: ArrayParams,
	) -> Result<T, ClientError> {
		self.rpc.request(method, params).await.map_err(|e| ClientError::rpc(method, e))
	}

	/// A JSON-RPC subscription.
	pub async fn subscribe(
		&self,
		method: &'static str,
		params: ArrayParams,
		unsubscribe: &'static str,
	) -> Result<Subscription<Value>, ClientError> {
		self.rpc
			.subscribe(method, params, unsubscribe)
			.await
			.map_err(|e| ClientError::rpc(method, e))
	}

	/// A block's header (the best block's for `None`).
	pub async fn header(&self, block: Option<H256>) -> Result<Header, ClientError> {
		self.request("chain_getHeader", rpc_params![block]).await
	}

	/// The hash of the block with this number, if the node has it.
	pub async fn block_hash(&self, number: u32) -> Result<Option<H256>, ClientError> {
		self.request("chain_getBlockHash", rpc_params![number]).await
	}

	/// The latest finalized block.
	pub async fn finalized_head(&self) -> Result<H256, ClientError> {
		self.request("chain_getFinalizedHead", rpc_params![]).await
	}

	/// The number of the latest finalized block.
	pub async fn finalized_number(&self) -> Result<u32, ClientError> {
		Ok(self.header(Some(self.finalized_head().await?)).await?.number)
	}

	/// The events of a block, with the phase each was emitted in.
	pub async fn event_records(
		&self,
		block: H256,
	) -> Result<Vec<EventRecord<RuntimeEvent, H256>>, ClientError> {
		// `System::Events` is private to frame-system; its key is the usual prefix pair.
		let key = [twox_128(b"System"), twox_128(b"Events")].concat();
		Ok(self.storage(&key, Some(block)).await?.unwrap_or_default())
	}

	/// The value under a storage key at a block (the best one for `None`), decoded.
	pub async fn storage<T: Decode>(
		&self,
		key: &[u8],
		at: Option<H256>,
	) -> Result<Option<T>, ClientError> {
		let value: Option<String> =
			self.request("state_getStorage", rpc_params![hex_string(key), at]).await?;
		value
			.map(|value| {
				T::decode(&mut &from_hex(&value, "storage value")?[..])
					.map_err(|e| ClientError::decode("storage value", e))
			})
			.transpose()
	}

	/// Every storage key under `prefix` at a block (the best one for `None`), a page of
	/// requests at a time.
	pub async fn storage_keys(
		&self,
		prefix: &[u8],
		at: Option<H256>,
	) -> Result<Vec<Vec<u8>>, ClientError> {
		const PAGE: u32 = 1000;
		let mut keys = Vec::new();
		loop {
			let start = keys.last().map(|key: &Vec<u8>| hex_string(key));
			let page: Vec<String> = self
				.request("state_getKeysPaged", rpc_params![hex_string(prefix), PAGE, start, at])
				.await?;
			let last_page = page.len() < PAGE as usize;
			for key in page {
				keys.push(from_hex(&key, "storage key")?);
			}
			if last_page {
				return Ok(keys);
			}
		}
	}

	/// The events of a block.
	pub async fn events(&self, block: H256) -> Result<Vec<RuntimeEvent>, ClientError> {
		Ok(self
			.event_records(block)
			.await?
			.into_iter()
			.map(|record| record.event)
			.collect())
	}

	/// Follows finalized blocks from the next one on, each with its events.
	pub async fn finalized_events(&self) -> Result<FinalizedEvents<'_>, ClientError> {
		FinalizedEvents::start(self).await
	}

	/// Calls `method` of a runtime API (e.g. `ProgramsApi_call`) with SCALE-encoded `args`
	/// at a block (the best one for `None`) and decodes the answer.
	pub async fn runtime_api<R: Decode>(
		&self,
		method: &str,
		args: impl Encode,
		at: Option<H256>,
	) -> Result<R, ClientError> {
		let answer: String = self
			.request("state_call", rpc_params![method, hex_string(&args.encode()), at])
			.await?;
		R::decode(&mut &from_hex(&answer, "runtime API answer")?[..])
			.map_err(|e| ClientError::decode("runtime API answer", e))
	}

	/// The nonce `who`'s next transaction needs (counting those waiting in the pool).
	pub async fn next_nonce(&self, who: &AccountId) -> Result<Nonce, ClientError> {
		self.request("system_accountNextIndex", rpc_params![who.to_string()]).await
	}

	/// Signs `call` as `signer` with the right nonce, genesis and runtime version.
	pub async fn sign(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let nonce = self.next_nonce(&signer.public().into()).await?;
		Ok(self.signing_context().await?.sign(signer, call, nonce))
	}

	/// What the node's chain makes every transaction commit to besides its call and nonce.
	/// Asked once, it signs any number of transactions without further requests. The runtime
	/// version is read each time, so signing follows runtime upgrades, and checked, so an
	/// upgrade that changed the calls is reported as such.
	pub async fn signing_context(&self) -> Result<SigningContext, ClientError> {
		let genesis = self.block_hash(0).await?.ok_or(ClientError::Rpc {
			method: "chain_getBlockHash",
			reason: "no genesis".into(),
		})?;
		let runtime = self.runtime_version(None).await?;
		runtime.ensure_supported()?;
		Ok(SigningContext {
			genesis,
			spec_version: runtime.spec_version,
			transaction_version: runtime.transaction_version,
		})
	}

	/// Hands a signed extrinsic to the node's pool without waiting for it: the answer is
	/// its hash once the pool has accepted it, or the pool's refusal.
	pub async fn submit_only(&self, extrinsic: &[u8]) -> Result<H256, ClientError> {
		self.rpc
			.request("author_submitExtrinsic", rpc_params![hex_string(extrinsic)])
			.await
			.map_err(|e| match e {
				jsonrpsee::core::ClientError::Call(refusal) => {
					let (code, message, data) = refusal_parts(&refusal);
					ClientError::Refused(refusal_reason(code, message, data.as_deref()))
				},
				other => {
					ClientError::Rpc { method: "author_submitExtrinsic", reason: other.to_string() }
				},
			})
	}

	/// Signs and submits `call` as `signer` and waits until its block is finalized (see
	/// [`Client::submit_signed`] for what it does when the pool lets the transaction go).
	pub async fn submit(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<Finalized, ClientError> {
		let extrinsic = self.sign(signer, call).await?.encode();
		self.submit_signed(&extrinsic).await
	}

	/// The connection itself, for the modules that speak to it directly.
	pub(crate) fn rpc(&self) -> &WsClient {
		&self.rpc
	}

	/// Where in `block` the extrinsic with this hash is, if it is there.
	pub(crate) async fn extrinsic_index(
		&self,
		block: H256,
		extrinsic: H256,
	) -> Result<Option<usize>, ClientError> {
		let body: Value = self.request("chain_getBlock", rpc_params![block]).await?;
		Ok(body["block"]["extrinsics"]
			.as_array()
			.into_iter()
			.flatten()
			.position(|encoded| {
				encoded
					.as_str()
					.and_then(|hex| from_hex(hex, "extrinsic").ok())
					.is_some_and(|bytes| H256::from(blake2_256(&bytes)) == extrinsic)
			}))
	}

	/// What the extrinsic with this hash did in `block`.
	pub(crate) async fn outcome(
		&self,
		block: H256,
		extrinsic: H256,
	) -> Result<Finalized, ClientError> {
		let index = self
			.extrinsic_index(block, extrinsic)
			.await?
			.ok_or_else(|| ClientError::decode("block", "the extrinsic is not in its block"))?;
		let events: Vec<RuntimeEvent> = self
			.event_records(block)
			.await?
			.into_iter()
			.filter(|record| record.phase == Phase::ApplyExtrinsic(index as u32))
			.map(|record| record.event)
			.collect();
		let dispatch_error = events.iter().find_map(|event| match event {
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => Some(*dispatch_error),
			_ => None,
		});
		Ok(Finalized { block, events, dispatch_error })
	}
}

/// `bytes` as the node's RPC methods take them: `0x` and lowercase hex.
pub fn hex_string(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// The bytes of a hex string the node answered (with or without `0x`); `what` names it in
/// the error.
pub fn from_hex(text: &str, what: &'static str) -> Result<Vec<u8>, ClientError> {
	hex::decode(text.trim_start_matches("0x")).map_err(|e| ClientError::decode(what, e))
}
