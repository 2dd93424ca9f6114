//! The feed format: entries, their hashes, and the signed units a device sends.

use codec::{Decode, DecodeAll, Encode};
use dt_primitives::feed::{Checkpoint, EntryHash, FeedId};
use sp_core::{sr25519, Pair as _};
use sp_crypto_hashing::blake2_256;

use super::batch_tree::{BatchTree, EntryProof, ProofError, TreeHash};
use crate::GenesisHash;

/// The sequence number of a feed's first entry.
pub const FIRST_SEQUENCE: u64 = 0;

/// The `previous` hash of a feed's first entry, which has no predecessor.
pub const GENESIS_PREVIOUS: EntryHash = [0; 32];

/// Largest payload of one entry, in bytes. A sample is small; anything bigger belongs in a
/// document, and the bound keeps one hostile entry from costing a replica much.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// Most entries in one batch.
pub const MAX_BATCH_ENTRIES: usize = 8192;

/// Largest SCALE encoding of one [`SignedBatch`], in bytes: it is one record on disk and
/// one message on the network, so it must stay far below what either handles comfortably.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// What an owner's signature is over, before the chain's genesis hash and the batch's size
/// and root. The device account also signs transactions, and the chain signs long
/// transaction payloads by their BLAKE2-256 hash, so a bare 32-byte hash could be confused
/// with one; the prefix makes a feed signature useless for anything else, and the genesis
/// hash useless on any other chain (a test network's entries are refused on the production
/// one).
pub const SIGNING_DOMAIN: &[u8] = b"dt-ledger/feed-batch/v3";

/// Whose signatures a feed accepts, on which chain: the device account the chain
/// registered as the feed's owner, and that chain's genesis hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedKey {
	/// The feed's owner.
	pub owner: sr25519::Public,
	/// The chain the feed is registered on.
	pub genesis: GenesisHash,
}

/// One reading of a feed.
///
/// Its SCALE encoding, in this field order, is what [`Entry::hash`] hashes: feed (u64 LE),
/// sequence (u64 LE), timestamp (u64 LE), previous (32 bytes), epoch (`Option<u32>`: 0, or
/// 1 and u32 LE), payload (compact length, bytes).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Entry {
	/// The feed, as registered on chain.
	pub feed: FeedId,
	/// Position in the feed's log: [`FIRST_SEQUENCE`] for the first entry, then one more
	/// for each entry.
	pub sequence: u64,
	/// When the reading was taken, in milliseconds since the Unix epoch. Never less than the
	/// previous entry's (equal is fine: several samples may share a millisecond).
	pub timestamp: u64,
	/// The hash of the previous entry; [`GENESIS_PREVIOUS`] for the first.
	pub previous: EntryHash,
	/// `None` for a plaintext payload; `Some(e)` when the payload is AES-256-GCM output
	/// under the feed's key for epoch `e` (see the module documentation of [`super`]).
	pub epoch: Option<u32>,
	/// The reading, opaque to the store; at most [`MAX_PAYLOAD`] bytes.
	pub payload: Vec<u8>,
}

impl Entry {
	/// BLAKE2-256 of the entry's SCALE encoding: what the next entry links to and what a
	/// [`Checkpoint`] on chain records.
	pub fn hash(&self) -> EntryHash {
		self.using_encoded(blake2_256)
	}

	/// The checkpoint the owner would anchor for this entry.
	pub fn checkpoint(&self) -> Checkpoint {
		Checkpoint { sequence: self.sequence, entry_hash: self.hash(), timestamp: self.timestamp }
	}
}

/// The bytes an owner signs to vouch, on the chain `genesis`, for the batch of `leaves`
/// entries whose tree has the root `root` (see [`super::batch_tree`]):
/// [`SIGNING_DOMAIN`] `||` genesis hash `||` leaves (u32 LE) `||` root.
pub fn signing_message(genesis: &GenesisHash, leaves: u32, root: &TreeHash) -> Vec<u8> {
	let mut message = Vec::with_capacity(SIGNING_DOMAIN.len() + genesis.len() + 4 + root.len());
	message.extend_from_slice(SIGNING_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&leaves.to_le_bytes());
	message.extend_from_slice(root);
	message
}

/// The bytes an owner signs for the entries with these hashes, in batch order.
pub fn batch_message(genesis: &GenesisHash, hashes: &[EntryHash]) -> Vec<u8> {
	let tree = BatchTree::new(hashes);
	// A batch holds at most MAX_BATCH_ENTRIES (validation refuses more before hashing).
	signing_message(genesis, tree.leaves() as u32, &tree.root())
}

/// Consecutive entries of one feed with a single signature, over the root of a tree of
/// their hashes ([`super::batch_tree`]).
///
/// This is the unit a device sends, a replica stores as one record, and one replica passes
/// to another: each entry's link and sequence number are checked, the signature once; a
/// reader later checks any one entry with its [`EntryProof`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedBatch {
	/// The entries, in order of sequence number.
	pub entries: Vec<Entry>,
	/// Who signed. Validation needs only the owner's key from the chain; carrying the signer
	/// lets a replica tell a device configured with the wrong key from a forged signature.
	pub signer: sr25519::Public,
	/// The signer's signature over [`signing_message`] of the chain's genesis hash and the
	/// batch's size and root.
	pub signature: sr25519::Signature,
}

impl SignedBatch {
	/// Signs `entries` with the device key for the chain `genesis`. An empty batch gets a
	/// signature over an empty tree, which no replica accepts: it is refused as empty.
	pub fn sign(entries: Vec<Entry>, key: &sr25519::Pair, genesis: &GenesisHash) -> Self {
		let hashes: Vec<EntryHash> = entries.iter().map(Entry::hash).collect();
		let signature = key.sign(&batch_message(genesis, &hashes));
		Self { entries, signer: key.public(), signature }
	}

	/// The first entry's sequence number, if any.
	pub fn first_sequence(&self) -> Option<u64> {
		self.entries.first().map(|entry| entry.sequence)
	}

	/// The last entry's sequence number, if any.
	pub fn last_sequence(&self) -> Option<u64> {
		self.entries.last().map(|entry| entry.sequence)
	}

	/// Decodes a batch received from elsewhere: at most [`MAX_BATCH_BYTES`], and exactly one
	/// batch (trailing bytes are refused). Checking it is [`super::verify`]'s job.
	pub fn decode_bounded(bytes: &[u8]) -> Result<Self, codec::Error> {
		if bytes.len() > MAX_BATCH_BYTES {
			return Err("feed batch longer than MAX_BATCH_BYTES".into());
		}
		Self::decode_all(&mut &bytes[..])
	}
}

/// One entry with its own signature: a batch of one, for devices that send each sample as
/// it comes.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedEntry {
	/// The entry.
	pub entry: Entry,
	/// Who signed.
	pub signer: sr25519::Public,
	/// The signer's signature over [`signing_message`] of the chain's genesis hash and a
	/// tree of this one entry.
	pub signature: sr25519::Signature,
}

impl SignedEntry {
	/// Signs one entry with the device key for the chain `genesis`.
	pub fn sign(entry: Entry, key: &sr25519::Pair, genesis: &GenesisHash) -> Self {
		let signature = key.sign(&batch_message(genesis, &[entry.hash()]));
		Self { entry, signer: key.public(), signature }
	}
}

impl From<SignedEntry> for SignedBatch {
	/// The same signature serves: it is over the tree of the batch's one entry.
	fn from(signed: SignedEntry) -> Self {
		Self { entries: vec![signed.entry], signer: signed.signer, signature: signed.signature }
	}
}

/// An entry as a replica serves it: with its hash, so a reader can match it against an
/// anchored [`Checkpoint`] without hashing it again, and with the proof that the feed's
/// owner signed it, so a reader trusts no replica for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
	/// The entry.
	pub entry: Entry,
	/// Its hash.
	pub hash: EntryHash,
	/// The owner's signature over the entry's batch, and the entry's place in it.
	pub proof: EntryProof,
}

impl StoredEntry {
	/// Each entry of a signed batch, with its hash and proof.
	pub fn all_of(batch: SignedBatch) -> Vec<StoredEntry> {
		let hashes: Vec<EntryHash> = batch.entries.iter().map(Entry::hash).collect();
		Self::with_hashes(batch, hashes, 0)
	}

	/// The entries of a signed batch from index `from` on, given the hashes of all its
	/// entries.
	pub fn with_hashes(batch: SignedBatch, hashes: Vec<EntryHash>, from: usize) -> Vec<Self> {
		let tree = BatchTree::new(&hashes);
		let SignedBatch { entries, signer, signature } = batch;
		entries
			.into_iter()
			.zip(hashes)
			.enumerate()
			.skip(from)
			.map(|(index, (entry, hash))| StoredEntry {
				entry,
				hash,
				proof: EntryProof::new(&tree, index, signer, signature),
			})
			.collect()
	}

	/// Checks that the feed's owner (`key`) signed this entry for `key`'s chain, and that
	/// the hash served with it is its own.
	pub fn verify(&self, key: &FeedKey) -> Result<(), ProofError> {
		let hash = self.entry.hash();
		if hash != self.hash {
			return Err(ProofError::HashMismatch);
		}
		self.proof.verify(key, &hash)
	}
}
