//! A document's reader list and key envelopes on the partners' store network (k-rAC), over
//! a node's `store_*` RPC: every change, publication and read is a request signed here by
//! the party's ledger account, checked by the item's replicas against the chain's RBAC.
//!
//! A node without the store's network answers `NoNetwork`; callers then keep envelopes as
//! ordinary blocks.

use codec::Encode;
use dt_offchain::{
	content_id::{self, Cid},
	network::{AclChange, AclOp, Action, ItemId, SignedAction},
	GenesisHash,
};
use dt_runtime::AccountId;
use jsonrpsee::{
	core::{client::ClientT, ClientError as RpcError},
	rpc_params,
	ws_client::WsClient,
};
use pallet_dt_documents::DocumentId;
use serde::Deserialize;
use sp_core::{crypto::Ss58Codec, sr25519};
use std::collections::BTreeSet;

/// `store_*` error codes for reader lists and envelopes (docs/rpc.md).
const NOT_ALLOWED: i32 = 7302;
const LIST_CONFLICT: i32 = 7305;
const NO_STORE_NETWORK: i32 = 7306;
const ENVELOPE_UNAVAILABLE: i32 = 7308;
/// JSON-RPC's code for a method the node does not serve.
const METHOD_NOT_FOUND: i32 = -32601;

/// How often a list change is signed again after another change got in first.
const CONFLICT_RETRIES: usize = 3;

/// Why a reader-list or envelope request did not go through.
#[derive(Debug, thiserror::Error)]
pub enum AccessListError {
	/// The node was started without `--store-listen` (or serves no reader lists).
	#[error("the node at {url} has no store network")]
	NoNetwork { url: String },
	/// The signer may not do this (a change or publication: not a manager of the twin; a
	/// read: not on the list).
	#[error("{message}")]
	NotAllowed { message: String },
	/// No replica of the item served the envelope.
	#[error("{message}")]
	Unavailable { message: String },
	/// Any other refusal, with the node's code and words.
	#[error("the node at {url} refused to {action} (error {code}): {message}")]
	Refused { action: String, code: i32, message: String, url: String },
	/// The call itself failed.
	#[error("the node at {url} failed to {action}: {reason}")]
	Rpc { action: String, reason: String, url: String },
}

/// One reader more or less on a list.
enum ReaderChange {
	Add(AccountId),
	Remove(AccountId),
}

/// A committed reader list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderList {
	pub version: u64,
	pub readers: BTreeSet<AccountId>,
}

#[derive(Deserialize)]
struct AclView {
	version: u64,
	readers: Vec<String>,
}

/// What `store_putEnvelope` answers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeReceipt {
	/// The peer ids of the replicas that stored the envelope.
	pub stored_on: Vec<String>,
}

/// The changes that brought a list to the wanted readers.
#[derive(Debug, Default)]
pub struct ListChanges {
	pub added: Vec<AccountId>,
	pub removed: Vec<AccountId>,
	/// The list's version afterwards.
	pub version: u64,
}

/// Reader lists and envelopes through one node.
pub struct AccessList<'a> {
	rpc: &'a WsClient,
	url: &'a str,
	/// The node's chain: what requests are signed for.
	genesis: GenesisHash,
}

impl<'a> AccessList<'a> {
	/// Through the node of `rpc`, at `url`, whose chain has the genesis hash `genesis`.
	pub fn new(rpc: &'a WsClient, url: &'a str, genesis: GenesisHash) -> Self {
		AccessList { rpc, url, genesis }
	}

	/// The item of `document`'s list and envelopes.
	pub async fn document_item(&self, document: DocumentId) -> Result<ItemId, AccessListError> {
		let action = format!("name the item of document {document}");
		let text: String = self
			.rpc
			.request("store_documentItem", rpc_params![document])
			.await
			.map_err(|e| self.error(&action, e))?;
		let bytes = hex::decode(text.trim_start_matches("0x"))
			.ok()
			.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
			.ok_or_else(|| self.bad_answer(&action, &text))?;
		Ok(ItemId(bytes))
	}

	/// Whether the node has the store's network.
	pub async fn has_network(&self) -> Result<bool, AccessListError> {
		// Any item does: a node without the network says so before looking at it.
		match self.list(ItemId([0; 32])).await {
			Ok(_) => Ok(true),
			Err(AccessListError::NoNetwork { .. }) => Ok(false),
			Err(e @ AccessListError::Rpc { .. }) => Err(e),
			// The network answered, though not for this item: it is there.
			Err(_) => Ok(true),
		}
	}

	/// The committed list of `item`.
	pub async fn list(&self, item: ItemId) -> Result<ReaderList, AccessListError> {
		let action = "read the reader list";
		let view: AclView = self
			.rpc
			.request("store_acl", rpc_params![dt_client::hex_string(&item.0)])
			.await
			.map_err(|e| self.error(action, e))?;
		self.reader_list(action, view)
	}

	/// Brings `item`'s list to exactly `wanted`: adds who is missing, then removes who is no
	/// longer wanted, one signed change each. What was committed is in `done`, also when a
	/// change fails (the error names its reader).
	pub async fn set_readers(
		&self,
		signer: &sr25519::Pair,
		item: ItemId,
		wanted: &BTreeSet<AccountId>,
		done: &mut ListChanges,
	) -> Result<(), AccessListError> {
		let mut list = self.list(item).await?;
		let to_add: Vec<AccountId> = wanted.difference(&list.readers).cloned().collect();
		let to_remove: Vec<AccountId> = list.readers.difference(wanted).cloned().collect();
		done.version = list.version;
		for account in to_add {
			list = self.change(signer, item, list, ReaderChange::Add(account.clone())).await?;
			done.added.push(account);
			done.version = list.version;
		}
		for account in to_remove {
			list = self.change(signer, item, list, ReaderChange::Remove(account.clone())).await?;
			done.removed.push(account);
			done.version = list.version;
		}
		Ok(())
	}

	/// Applies `change` to `list`, signing it again on the list's newer version when another
	/// change got in first (unless that change already did the same).
	async fn change(
		&self,
		signer: &sr25519::Pair,
		item: ItemId,
		mut list: ReaderList,
		change: ReaderChange,
	) -> Result<ReaderList, AccessListError> {
		let (verb, account, op) = match change {
			ReaderChange::Add(who) => ("add", who.clone(), AclOp::AddReader(public(&who))),
			ReaderChange::Remove(who) => ("remove", who.clone(), AclOp::RemoveReader(public(&who))),
		};
		let action = format!(
			"{verb} reader {account} {} the list (version {})",
			if verb == "add" { "to" } else { "from" },
			list.version
		);
		let mut attempt = 0;
		loop {
			let change =
				Action::ChangeAcl(AclChange { item, base_version: list.version, op: op.clone() });
			let signed =
				dt_client::hex_string(&SignedAction::sign(change, signer, &self.genesis).encode());
			let result: Result<AclView, RpcError> =
				self.rpc.request("store_changeAcl", rpc_params![signed]).await;
			match result {
				Ok(view) => return self.reader_list(&action, view),
				Err(RpcError::Call(object))
					if object.code() == LIST_CONFLICT && attempt < CONFLICT_RETRIES =>
				{
					attempt += 1;
					list = self.list(item).await?;
					let adding = matches!(op, AclOp::AddReader(_));
					let already = list.readers.contains(&account) == adding;
					if already {
						return Ok(list);
					}
				},
				Err(e) => return Err(self.error(&action, e)),
			}
		}
	}

	/// Publishes `envelope` for `item` on its replicas, signed by a manager.
	pub async fn put_envelope(
		&self,
		signer: &sr25519::Pair,
		item: ItemId,
		envelope: &[u8],
	) -> Result<EnvelopeReceipt, AccessListError> {
		let cid = Cid::of(envelope);
		let action = format!("publish key envelope {cid}");
		let signed = dt_client::hex_string(
			&SignedAction::sign(
				Action::WriteEnvelope { item, envelope: cid },
				signer,
				&self.genesis,
			)
			.encode(),
		);
		self.rpc
			.request("store_putEnvelope", rpc_params![dt_client::hex_string(envelope), signed])
			.await
			.map_err(|e| self.error(&action, e))
	}

	/// The envelope `cid` of `item`, read as a reader on its list, checked against its id.
	pub async fn get_envelope(
		&self,
		signer: &sr25519::Pair,
		item: ItemId,
		cid: &Cid,
	) -> Result<Vec<u8>, AccessListError> {
		let action = format!("read key envelope {cid}");
		let signed = dt_client::hex_string(
			&SignedAction::sign(
				Action::ReadEnvelope { item, envelope: *cid },
				signer,
				&self.genesis,
			)
			.encode(),
		);
		let text: String = self
			.rpc
			.request("store_getEnvelope", rpc_params![signed])
			.await
			.map_err(|e| self.error(&action, e))?;
		let bytes = hex::decode(text.trim_start_matches("0x"))
			.map_err(|_| self.bad_answer(&action, &text))?;
		content_id::verify(cid, &bytes).map_err(|_| AccessListError::Refused {
			action: action.clone(),
			code: 0,
			message: format!("the node answered bytes that hash to {}", Cid::of(&bytes)),
			url: self.url.to_owned(),
		})?;
		Ok(bytes)
	}

	fn reader_list(&self, action: &str, view: AclView) -> Result<ReaderList, AccessListError> {
		let readers = view
			.readers
			.iter()
			.map(|text| AccountId::from_ss58check(text).map_err(|_| self.bad_answer(action, text)))
			.collect::<Result<_, _>>()?;
		Ok(ReaderList { version: view.version, readers })
	}

	fn bad_answer(&self, action: &str, answer: &str) -> AccessListError {
		AccessListError::Rpc {
			action: action.to_owned(),
			reason: format!("unexpected answer {answer:?}"),
			url: self.url.to_owned(),
		}
	}

	fn error(&self, action: &str, error: RpcError) -> AccessListError {
		match error {
			RpcError::Call(object) => {
				let message = object.message().to_owned();
				match object.code() {
					// A node (or proxy) that does not serve reader lists keeps envelopes as
					// blocks, like one without the network.
					NO_STORE_NETWORK | METHOD_NOT_FOUND => {
						AccessListError::NoNetwork { url: self.url.to_owned() }
					},
					NOT_ALLOWED => AccessListError::NotAllowed { message },
					ENVELOPE_UNAVAILABLE => AccessListError::Unavailable { message },
					code => AccessListError::Refused {
						action: action.to_owned(),
						code,
						message,
						url: self.url.to_owned(),
					},
				}
			},
			other => AccessListError::Rpc {
				action: action.to_owned(),
				reason: other.to_string(),
				url: self.url.to_owned(),
			},
		}
	}
}

/// The sr25519 key of a ledger account, as lists name readers.
fn public(account: &AccountId) -> sr25519::Public {
	sr25519::Public::from_raw(*AsRef::<[u8; 32]>::as_ref(account))
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	#[test]
	fn readers_are_named_by_their_account_key() {
		let pair = sr25519::Pair::from_string("//Charlie", None).unwrap();
		let account = AccountId::from(pair.public());
		assert_eq!(public(&account), pair.public());
	}

	#[test]
	fn signed_reads_name_the_item_and_envelope() {
		let pair = sr25519::Pair::from_string("//Dave", None).unwrap();
		let cid = Cid::of(b"envelope");
		let item = ItemId([7; 32]);
		let genesis = [3; 32];
		let signed =
			SignedAction::sign(Action::ReadEnvelope { item, envelope: cid }, &pair, &genesis);
		assert!(signed.verify_signature(&genesis).is_ok());
		assert!(signed.verify_signature(&[4; 32]).is_err());
		assert_eq!(signed.action.item(), Some(&item));
		let mut tampered = signed.clone();
		tampered.action = Action::ReadEnvelope { item: ItemId([8; 32]), envelope: cid };
		assert!(tampered.verify_signature(&genesis).is_err());
	}
}
