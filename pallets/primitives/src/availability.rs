//! Which partner nodes hold the off-chain items the chain refers to.
//!
//! A partner node that fetched an item from the off-chain store, checked it against what the
//! chain records (the content id of a document version or annotation, the anchored
//! checkpoints of a feed) and keeps it, says so on chain with an [`Attestation`] signed by
//! its node key: the same ed25519 key whose peer id the consortium registered. The node and
//! the runtime build the signed bytes with [`Attestation::signing_payload`], so they cannot
//! disagree on them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{
	document::{AnnotationIndex, DocumentId, VersionNumber},
	feed::FeedId,
};

/// What a signed attestation is over, before its encoding.
pub const ATTESTATION_DOMAIN: &[u8] = b"dt-ledger/availability/v1";

/// An item of the off-chain store that the chain refers to.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub enum StoredItem {
	/// A version of a document: its encrypted content and its key envelope.
	#[serde(rename_all = "camelCase")]
	DocumentVersion {
		/// The document.
		document: DocumentId,
		/// The version.
		version: VersionNumber,
	},
	/// An annotation of a document version.
	#[serde(rename_all = "camelCase")]
	Annotation {
		/// The document.
		document: DocumentId,
		/// The annotated version.
		version: VersionNumber,
		/// The annotation.
		annotation: AnnotationIndex,
	},
	/// A sensor feed's log, up to its anchored checkpoints.
	Feed(FeedId),
}

/// A partner node's statement that it holds `items`, checked against the chain, as of block
/// `at`.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Attestation<PeerId, Items, BlockNumber> {
	/// The node's peer id, as the consortium registered it.
	pub node: PeerId,
	/// The items it holds.
	pub items: Items,
	/// The block the node had seen when it signed; the chain accepts the attestation for a
	/// limited number of blocks after it.
	pub at: BlockNumber,
}

impl<PeerId: Encode, Items: Encode, BlockNumber: Encode> Attestation<PeerId, Items, BlockNumber> {
	/// The bytes the node signs: `ATTESTATION_DOMAIN || SCALE(genesis hash, attestation)`;
	/// the genesis hash keeps an attestation from being replayed on another chain.
	pub fn signing_payload(&self, genesis_hash: &[u8; 32]) -> alloc::vec::Vec<u8> {
		let mut payload = ATTESTATION_DOMAIN.to_vec();
		(genesis_hash, self).encode_to(&mut payload);
		payload
	}
}

/// The multihash prefix of a peer id that embeds an ed25519 public key: identity hash
/// (0x00) of 36 bytes (0x24), then the key's protobuf encoding: key type Ed25519 (0x08
/// 0x01) and 32 bytes of key data (0x12 0x20).
const ED25519_PEER_ID_PREFIX: [u8; 6] = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

/// The ed25519 public key a libp2p peer id embeds, or `None` when the peer id is of another
/// kind (then the node cannot sign attestations the chain can check).
pub fn ed25519_key_of_peer_id(peer_id: &[u8]) -> Option<[u8; 32]> {
	let key = peer_id.strip_prefix(&ED25519_PEER_ID_PREFIX[..])?;
	key.try_into().ok()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_key_is_read_from_an_ed25519_peer_id() {
		let key = [7u8; 32];
		let mut peer_id = ED25519_PEER_ID_PREFIX.to_vec();
		peer_id.extend_from_slice(&key);
		assert_eq!(ed25519_key_of_peer_id(&peer_id), Some(key));
	}

	#[test]
	fn other_peer_ids_have_no_key() {
		let mut sha256_peer_id = vec![0x12, 0x20];
		sha256_peer_id.extend_from_slice(&[1u8; 32]);
		assert_eq!(ed25519_key_of_peer_id(&sha256_peer_id), None);
		let mut short = ED25519_PEER_ID_PREFIX.to_vec();
		short.extend_from_slice(&[1u8; 31]);
		assert_eq!(ed25519_key_of_peer_id(&short), None);
		let mut long = ED25519_PEER_ID_PREFIX.to_vec();
		long.extend_from_slice(&[1u8; 33]);
		assert_eq!(ed25519_key_of_peer_id(&long), None);
	}

	#[test]
	fn the_payload_binds_the_chain() {
		let attestation =
			Attestation { node: vec![1u8], items: vec![StoredItem::Feed(3)], at: 9u32 };
		assert_ne!(attestation.signing_payload(&[0; 32]), attestation.signing_payload(&[1; 32]));
		assert!(attestation.signing_payload(&[0; 32]).starts_with(ATTESTATION_DOMAIN));
	}
}
