//! Where a version's key envelope lives: with the store's network, behind the document's
//! reader list on its replicas (published once the list names exactly the readers it is
//! sealed for, read with a signed request); without it, as an ordinary block.

use super::{
	access_list::{AccessList, AccessListError, ListChanges},
	store::{Store, StoreError},
};
use dt_offchain::content_id::Cid;
use dt_runtime::AccountId;
use pallet_dt_documents::DocumentId;
use sp_core::sr25519;
use std::collections::BTreeSet;

/// Why a version's envelope could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// The reader is not on the document's reader list.
	#[error("{0}")]
	NotAReader(String),
	#[error(transparent)]
	AccessList(#[from] AccessListError),
	#[error(transparent)]
	Store(#[from] StoreError),
}

/// How a publication went.
pub struct Published {
	/// The changes of the reader list.
	pub changes: ListChanges,
	/// The replicas that stored the envelope.
	pub stored_on: Vec<String>,
}

/// Why a publication stopped; what was already done is kept for the message.
pub struct PublishError {
	pub changes: ListChanges,
	/// Whether the list was in place and only the envelope failed.
	pub list_done: bool,
	pub error: AccessListError,
}

/// Whether envelopes live behind reader lists at the node of `store`.
pub async fn has_network(store: &Store) -> Result<bool, AccessListError> {
	AccessList::new(store.rpc(), store.url(), *store.genesis()).has_network().await
}

/// Brings `document`'s reader list to exactly `readers`, then publishes `envelope`,
/// signed by `signer` (a manager of the document's twin).
pub async fn publish(
	store: &Store,
	signer: &sr25519::Pair,
	document: DocumentId,
	readers: &BTreeSet<AccountId>,
	envelope: &[u8],
) -> Result<Published, PublishError> {
	let access = AccessList::new(store.rpc(), store.url(), *store.genesis());
	let mut changes = ListChanges::default();
	let item = match access.document_item(document).await {
		Ok(item) => item,
		Err(error) => return Err(PublishError { changes, list_done: false, error }),
	};
	if let Err(error) = access.set_readers(signer, item, readers, &mut changes).await {
		return Err(PublishError { changes, list_done: false, error });
	}
	match access.put_envelope(signer, item, envelope).await {
		Ok(receipt) => Ok(Published { changes, stored_on: receipt.stored_on }),
		Err(error) => Err(PublishError { changes, list_done: true, error }),
	}
}

/// Publishes an annotation's `envelope` behind `document`'s current list; `Ok(false)` when
/// the replicas will not take it from `signer` (not a manager, or a reader sealed for is
/// not on the list), so the caller keeps it as a block as without the network.
pub async fn publish_annotation(
	store: &Store,
	signer: &sr25519::Pair,
	document: DocumentId,
	envelope: &[u8],
) -> Result<bool, AccessListError> {
	let access = AccessList::new(store.rpc(), store.url(), *store.genesis());
	let item = access.document_item(document).await?;
	match access.put_envelope(signer, item, envelope).await {
		Ok(_) => Ok(true),
		Err(AccessListError::NotAllowed { .. }) => Ok(false),
		Err(AccessListError::Refused { code: ENVELOPE_REFUSED, .. }) => Ok(false),
		Err(error) => Err(error),
	}
}

const ENVELOPE_REFUSED: i32 = 7307;

/// The envelope `cid` of `document`, read as `signer`: from the document's replicas with a
/// signed request; as a block when the node has no store network, or when no replica holds
/// it as an envelope (one kept as a block: an annotation by a non-manager, or a version
/// written without the network).
pub async fn fetch(
	store: &Store,
	signer: &sr25519::Pair,
	document: DocumentId,
	cid: &Cid,
) -> Result<Vec<u8>, FetchError> {
	let access = AccessList::new(store.rpc(), store.url(), *store.genesis());
	let item = match access.document_item(document).await {
		Ok(item) => item,
		Err(AccessListError::NoNetwork { .. }) => return Ok(store.get(cid).await?),
		Err(error) => return Err(error.into()),
	};
	match access.get_envelope(signer, item, cid).await {
		Ok(bytes) => Ok(bytes),
		Err(AccessListError::NoNetwork { .. }) => Ok(store.get(cid).await?),
		Err(AccessListError::NotAllowed { message }) => Err(FetchError::NotAReader(message)),
		Err(unavailable @ AccessListError::Unavailable { .. }) => match store.get(cid).await {
			Ok(bytes) => Ok(bytes),
			Err(StoreError::Missing { .. }) => Err(unavailable.into()),
			Err(error) => Err(error.into()),
		},
		Err(error) => Err(error.into()),
	}
}
