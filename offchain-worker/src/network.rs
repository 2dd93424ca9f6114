//! The store among the partner nodes: libp2p networking, replication of every item to
//! 2k+1 partners, verified reads from any replica, access lists changed by quorum, and
//! feeds appended anywhere and pushed live to their subscribers.
//!
//! Modules, one job each:
//!
//! - [`partners`]: what the store asks the ledger ([`PartnerDirectory`], [`AccessPolicy`]).
//! - [`placement`]: which 2k+1 partners hold a key, and the quorum among them.
//! - [`auth`]: requests signed with a ledger identity, and replay protection.
//! - [`acl`]: reader lists, their two-phase changes, and how a replica keeps them.
//! - [`items`]: the ids of the items with reader lists (documents, feed epochs).
//! - [`protocol`]: the messages between partners and their encoding.
//! - [`replica`]: what a replica does with one request (the rules, no networking).
//! - [`transport`]: TCP dialling from fresh ports.
//! - [`behaviour`]: the libp2p behaviours and swarm, and the task driving it.
//! - [`node`]: [`StoreNode::start`] and the operations of a running node, [`StoreHandle`].
//! - [`error`]: what can go wrong, [`NodeError`].

pub mod acl;
pub mod auth;
pub mod behaviour;
pub mod error;
pub mod items;
pub mod node;
pub mod partners;
pub mod placement;
pub mod protocol;
pub mod replica;
pub mod transport;

use core::fmt;

use codec::{Decode, Encode};

pub use acl::{sealing_keys, Acl, AclChange, AclError, AclOp};
pub use auth::{Action, AuthError, SignedAction};
pub use error::{NodeError, ReplicaFailure};
pub use items::{document_item, document_of_item, feed_epoch_item, feed_epoch_of_item};
pub use libp2p::{identity::Keypair, Multiaddr, PeerId};
pub use node::{
	FeedReceipt, FeedSubscription, FetchedBlock, PutReceipt, StoreConfig, StoreHandle, StoreNode,
	SUBSCRIPTION_RENEWAL,
};
pub use partners::{AccessPolicy, PartnerDirectory};
pub use placement::{quorum, replicas, replication_factor, PlacementKey};
pub use protocol::Refusal;

/// An item with a reader list: a document across its versions, or one epoch of an
/// encrypted feed; [`items`] derives it from the chain's ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Encode, Decode)]
pub struct ItemId(pub [u8; 32]);

impl ItemId {
	/// The item named by `name` (its BLAKE2-256).
	pub fn from_name(name: &[u8]) -> Self {
		Self(sp_crypto_hashing::blake2_256(name))
	}
}

impl fmt::Display for ItemId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&hex::encode(self.0))
	}
}

impl fmt::Debug for ItemId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "ItemId({self})")
	}
}
