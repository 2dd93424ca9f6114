//! Where an item lives: the 2k+1 partners closest to its key, and the quorum among them.
//!
//! The distance is Kademlia's: the XOR of the SHA-256 of the peer id and the SHA-256 of
//! the key. Every node computes the same replica set from the same partner list, without
//! asking anyone, so a reader goes straight to the replicas; the Kademlia provider
//! records the replicas publish are the fallback for copies held elsewhere (a partner
//! list that changed since the item was written).

use libp2p::{kad::KBucketKey, PeerId};

use crate::content_id::Cid;
use dt_primitives::feed::FeedId;

use super::ItemId;

/// The key a block, an item's access list or a feed is placed by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlacementKey(Vec<u8>);

impl PlacementKey {
	/// The key of a block: its binary content id (also its Kademlia provider key).
	pub fn block(cid: &Cid) -> Self {
		Self(cid.as_bytes().to_vec())
	}

	/// The key of an item's access list and key envelopes.
	pub fn item(item: &ItemId) -> Self {
		let mut key = b"dt-item/".to_vec();
		key.extend_from_slice(&item.0);
		Self(key)
	}

	/// The key of a feed's log.
	pub fn feed(feed: FeedId) -> Self {
		let mut key = b"dt-feed/".to_vec();
		key.extend_from_slice(&feed.to_le_bytes());
		Self(key)
	}

	/// The bytes, as Kademlia's record key.
	pub fn as_bytes(&self) -> &[u8] {
		&self.0
	}
}

/// How many replicas hold each item when up to `k` may fail: 2k+1.
pub fn replication_factor(k: usize) -> usize {
	2 * k + 1
}

/// How many of the 2k+1 replicas must accept a write or an access-list change: k+1, a
/// majority.
///
/// Any two majorities of the same 2k+1 replicas share at least one replica, so two
/// conflicting changes of an access list (both made against the same version) cannot both
/// be accepted: the shared replica accepts only one of them. And with at most k replicas
/// down, k+1 are still up, so changes and writes go on through k failures.
pub fn quorum(k: usize) -> usize {
	k + 1
}

/// The replicas of `key` among `partners`: the `2k+1` closest by XOR distance, closest
/// first (all of them when there are fewer partners).
pub fn replicas(key: &PlacementKey, partners: &[PeerId], k: usize) -> Vec<PeerId> {
	let target = KBucketKey::new(key.as_bytes().to_vec());
	let mut ranked: Vec<(libp2p::kad::KBucketDistance, PeerId)> = partners
		.iter()
		.map(|peer| (KBucketKey::from(*peer).distance(&target), *peer))
		.collect();
	ranked.sort();
	ranked.dedup_by(|a, b| a.1 == b.1);
	ranked.into_iter().take(replication_factor(k)).map(|(_, peer)| peer).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_same_replicas_whatever_the_order_of_the_partner_list() {
		let partners: Vec<PeerId> = (0..6).map(|_| PeerId::random()).collect();
		let key = PlacementKey::block(&Cid::of(b"item"));
		let chosen = replicas(&key, &partners, 1);
		assert_eq!(chosen.len(), 3);
		let mut reversed = partners.clone();
		reversed.reverse();
		assert_eq!(replicas(&key, &reversed, 1), chosen);
		// k=2 takes five, the three closest first.
		assert_eq!(replicas(&key, &partners, 2)[..3], chosen[..]);
		// Fewer partners than 2k+1: all of them.
		assert_eq!(replicas(&key, &partners[..2], 1).len(), 2);
	}

	#[test]
	fn quorum_is_a_majority() {
		for k in 0..5 {
			assert!(2 * quorum(k) > replication_factor(k));
			assert!(replication_factor(k) - quorum(k) == k);
		}
	}
}
