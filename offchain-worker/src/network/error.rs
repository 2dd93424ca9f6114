//! What can go wrong in the networked store.

use dt_primitives::feed::FeedId;
use libp2p::PeerId;

use super::{acl::AclError, protocol::Refusal};
use crate::{
	block_store::BlockStoreError, content_id::Cid, documents::DocumentError,
	feed::StoreError as FeedStoreError, uploads::UploadError,
};

/// One replica's failure within an operation that tried several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaFailure {
	/// The replica.
	pub peer: PeerId,
	/// What went wrong there.
	pub reason: String,
}

/// An error of a [`StoreHandle`](super::StoreHandle) operation.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
	/// The local block store failed.
	#[error(transparent)]
	Blocks(#[from] BlockStoreError),
	/// The local feed store failed, or refused a batch.
	#[error(transparent)]
	Feeds(#[from] FeedStoreError),
	/// The local access-list store failed, or a list operation is impossible.
	#[error(transparent)]
	Acl(#[from] AclError),
	/// The charges of blocks not yet referenced on chain failed, or refused a block.
	#[error(transparent)]
	Upload(#[from] UploadError),
	/// Encrypting, storing or reading a document failed.
	#[error(transparent)]
	Document(#[from] DocumentError),
	/// The network could not be set up (listen address, transport).
	#[error("cannot start the store's network: {0}")]
	Transport(String),
	/// A peer could not be reached, or the request failed on the way.
	#[error("partner {peer} is unreachable: {reason}")]
	Unreachable {
		/// The peer.
		peer: PeerId,
		/// What failed.
		reason: String,
	},
	/// The peer is not a partner node; nothing is sent to it.
	#[error("{peer} is not a partner node")]
	NotPartner {
		/// The peer.
		peer: PeerId,
	},
	/// A partner refused the request.
	#[error("partner {peer} refused: {message}")]
	Refused {
		/// The partner.
		peer: PeerId,
		/// Why.
		reason: Refusal,
		/// Its explanation.
		message: String,
	},
	/// A partner answered with something that does not answer the request.
	#[error("partner {peer} answered {request} with an unexpected response")]
	UnexpectedResponse {
		/// The partner.
		peer: PeerId,
		/// The request's kind.
		request: &'static str,
	},
	/// Fewer replicas than the quorum stored a write.
	#[error(
		"{what}: {acked} of the replicas acknowledged, {needed} needed; failures: {failures:?}"
	)]
	NotEnoughReplicas {
		/// What was written.
		what: String,
		/// How many acknowledged.
		acked: usize,
		/// The quorum.
		needed: usize,
		/// Why the others did not.
		failures: Vec<ReplicaFailure>,
	},
	/// No replica served a verified copy.
	#[error("no replica served {what}; tried: {tried:?}")]
	Unavailable {
		/// What was asked for.
		what: String,
		/// Each replica tried and why it failed.
		tried: Vec<ReplicaFailure>,
	},
	/// An access-list change was not prepared by a quorum of the item's replicas, so it was
	/// aborted and changed nothing.
	#[error(
		"the change was prepared by {accepted} replicas, {needed} needed; aborted: {refusals:?}"
	)]
	NoQuorum {
		/// How many prepared it.
		accepted: usize,
		/// The quorum.
		needed: usize,
		/// Why the others did not.
		refusals: Vec<ReplicaFailure>,
	},
	/// The ledger knows no such feed.
	#[error("the ledger has no feed {0}")]
	UnknownFeed(FeedId),
	/// The feed takes no more entries: closed or replaced on chain, or its owner is no
	/// longer a member of the consortium.
	#[error(
		"feed {0} takes no more entries: it is closed or replaced on chain, or its owner is no \
		 longer a member of the consortium"
	)]
	FeedClosed(FeedId),
	/// A signed request for another purpose was given.
	#[error("the signed request is not {expected}")]
	WrongAction {
		/// What was expected.
		expected: &'static str,
	},
	/// The envelope to publish is not in this node's store (it was written elsewhere).
	#[error("key envelope {0} is not in this node's store")]
	NoSuchEnvelope(Cid),
	/// The node is shut down.
	#[error("the store node is shut down")]
	ShutDown,
}
