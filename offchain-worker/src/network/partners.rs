//! What the network layer asks the chain: who the partners are, and who may do what.
//!
//! Both are traits so that the store does not depend on the runtime: `dt-node` implements
//! them from the chain's state (the consortium's partner nodes, the RBAC of each twin, the
//! readers' registered RSA keys, the feeds' device accounts); tests implement them with
//! fixed tables.

use dt_primitives::{feed::FeedId, OrganisationId};
use libp2p::PeerId;
use sp_core::sr25519;

use super::ItemId;
use crate::crypto::ReaderPublicKey;

/// The partner nodes of the consortium: the only peers this node talks to.
///
/// Connections from any other peer are closed as soon as they are established, dials to
/// them are refused, and their requests are answered with a refusal.
pub trait PartnerDirectory: Send + Sync + 'static {
	/// The peer ids of every partner node, this node's own included when it is one.
	fn partners(&self) -> Vec<PeerId>;

	/// Whether `peer` is a partner node.
	fn is_partner(&self, peer: &PeerId) -> bool {
		self.partners().contains(peer)
	}
}

/// The ledger's decisions about items and feeds, as its RBAC records them.
pub trait AccessPolicy: Send + Sync + 'static {
	/// Whether the ledger account `account` may manage `item`: change its reader list and
	/// publish the key envelope of a new version.
	fn may_manage(&self, account: &sr25519::Public, item: &ItemId) -> bool;

	/// The RSA public key the ledger account `account` registered for reading documents,
	/// if any. Envelopes are sealed for these keys only.
	fn reader_key(&self, account: &sr25519::Public) -> Option<ReaderPublicKey>;

	/// The device account that owns `feed` (the only key whose batches replicas accept), or
	/// `None` if the chain has no such feed. Closed feeds too: their history is still read
	/// and copied among replicas.
	fn feed_owner(&self, feed: FeedId) -> Option<sr25519::Public>;

	/// The device account that may append new entries to `feed` now: `None` unless the
	/// chain has the feed, it is active (not closed, nor replaced by another) and its owner
	/// is still a member of the consortium.
	fn feed_appender(&self, feed: FeedId) -> Option<sr25519::Public>;

	/// The organisation `account` is a member of, `None` for any other account. Only
	/// members put blocks, each charged to its organisation's quota
	/// ([`crate::uploads`]).
	fn organisation_of(&self, account: &sr25519::Public) -> Option<OrganisationId>;
}
