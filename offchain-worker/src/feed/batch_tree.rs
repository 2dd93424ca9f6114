//! The root a device signs for a batch, and the path that proves one entry is in it.
//!
//! A batch's entries are the leaves of a binary hash tree (the shape of RFC 6962's Merkle
//! tree): each level pairs neighbours left to right, and a level's last node, when it has
//! no neighbour, moves up unchanged. Leaves and inner nodes are hashed with different
//! prefixes, so no inner node can pass for an entry:
//!
//! ```text
//! leaf = BLAKE2-256(0x00 || entry hash)
//! node = BLAKE2-256(0x01 || left || right)
//! ```
//!
//! The owner signs the root once per batch (see [`super::signing_message`]); a reader of
//! one entry checks it with the entry, its index in the batch, the batch's size and the
//! siblings on the way up ([`EntryProof`]), at most [`MAX_PATH_LEN`] hashes, instead of
//! the whole batch.

use codec::{Decode, Encode};
use dt_primitives::feed::EntryHash;
use sp_core::{sr25519, Pair as _};
use sp_crypto_hashing::blake2_256;

use super::entry::{signing_message, FeedKey, MAX_BATCH_ENTRIES};

/// A node of a batch's tree.
pub type TreeHash = [u8; 32];

/// Most siblings on a path: the height of a tree of [`MAX_BATCH_ENTRIES`] leaves.
pub const MAX_PATH_LEN: usize = (usize::BITS - (MAX_BATCH_ENTRIES - 1).leading_zeros()) as usize;

const LEAF_PREFIX: u8 = 0;
const NODE_PREFIX: u8 = 1;

fn leaf(hash: &EntryHash) -> TreeHash {
	let mut input = [0u8; 33];
	input[0] = LEAF_PREFIX;
	input[1..].copy_from_slice(hash);
	blake2_256(&input)
}

fn node(left: &TreeHash, right: &TreeHash) -> TreeHash {
	let mut input = [0u8; 65];
	input[0] = NODE_PREFIX;
	input[1..33].copy_from_slice(left);
	input[33..].copy_from_slice(right);
	blake2_256(&input)
}

/// Every level of a batch's tree, leaves first: built once, it gives the root and any
/// entry's path.
#[derive(Clone, Debug)]
pub struct BatchTree {
	levels: Vec<Vec<TreeHash>>,
}

impl BatchTree {
	/// The tree over the entries with these hashes, in batch order. An empty batch has an
	/// empty tree, whose root is all zero (and which no replica accepts).
	pub fn new(hashes: &[EntryHash]) -> Self {
		let mut levels = vec![hashes.iter().map(leaf).collect::<Vec<_>>()];
		while let Some(below) = levels.last().filter(|level| level.len() > 1) {
			let above = below
				.chunks(2)
				.map(|pair| match pair {
					[left, right] => node(left, right),
					[alone] => *alone,
					_ => unreachable!("chunks(2) yields one or two"),
				})
				.collect();
			levels.push(above);
		}
		Self { levels }
	}

	/// The number of leaves.
	pub fn leaves(&self) -> usize {
		self.levels.first().map_or(0, Vec::len)
	}

	/// The root the owner signs.
	pub fn root(&self) -> TreeHash {
		self.levels.last().and_then(|top| top.first()).copied().unwrap_or_default()
	}

	/// The siblings on the way from leaf `index` to the root, lowest first; empty for an
	/// index outside the batch.
	pub fn path(&self, index: usize) -> Vec<TreeHash> {
		let mut path = Vec::new();
		let mut position = index;
		for level in &self.levels[..self.levels.len().saturating_sub(1)] {
			let sibling = position ^ 1;
			if let Some(hash) = level.get(sibling) {
				path.push(*hash);
			}
			position /= 2;
		}
		path
	}
}

/// The root of a tree of `leaves` leaves on which leaf `index`, the entry with hash
/// `hash`, has the siblings `path`; `None` when the path does not fit that shape.
pub fn root_from_path(
	hash: &EntryHash,
	index: usize,
	leaves: usize,
	path: &[TreeHash],
) -> Option<TreeHash> {
	if index >= leaves || leaves > MAX_BATCH_ENTRIES {
		return None;
	}
	let mut siblings = path.iter();
	let (mut position, mut width, mut current) = (index, leaves, leaf(hash));
	while width > 1 {
		if position % 2 == 1 {
			current = node(siblings.next()?, &current);
		} else if position + 1 < width {
			current = node(&current, siblings.next()?);
		}
		// Otherwise the node has no neighbour and moves up unchanged.
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none().then_some(current)
}

/// What makes one stored entry verifiable by itself: the owner's signature over its
/// batch's root, and the entry's place in that batch.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct EntryProof {
	/// Who signed the batch.
	pub signer: sr25519::Public,
	/// The signature over [`signing_message`] of the batch's size and root.
	pub signature: sr25519::Signature,
	/// How many entries the signed batch holds.
	pub leaves: u32,
	/// The entry's index in it.
	pub index: u32,
	/// The siblings on the way from the entry to the root, lowest first.
	pub path: Vec<TreeHash>,
}

/// Why an entry's proof does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
	/// The batch was signed by another account than the feed's owner.
	#[error("signed by {got}, but the feed is owned by {expected}")]
	WrongSigner { expected: sr25519::Public, got: sr25519::Public },
	/// The hash served with the entry is not the entry's.
	#[error("the hash served with it is not its hash")]
	HashMismatch,
	/// The path does not lead from the entry to a root (wrong length or index).
	#[error("its proof does not fit a batch of {leaves} entries at index {index}")]
	MalformedPath { leaves: u32, index: u32 },
	/// The owner's signature does not verify over the root the path leads to: the entry,
	/// or its proof, is not what the owner signed.
	#[error("the owner's signature does not cover it: the entry or its proof was altered")]
	BadSignature,
}

impl EntryProof {
	/// The proof for entry `index` of the batch whose tree is `tree`, signed by `signer`.
	pub fn new(
		tree: &BatchTree,
		index: usize,
		signer: sr25519::Public,
		signature: sr25519::Signature,
	) -> Self {
		Self {
			signer,
			signature,
			// A batch holds at most MAX_BATCH_ENTRIES, far below u32::MAX.
			leaves: tree.leaves() as u32,
			index: index as u32,
			path: tree.path(index),
		}
	}

	/// Checks that the entry with hash `hash` is in a batch that `key`'s owner signed for
	/// `key`'s chain.
	pub fn verify(&self, key: &FeedKey, hash: &EntryHash) -> Result<(), ProofError> {
		if self.signer != key.owner {
			return Err(ProofError::WrongSigner { expected: key.owner, got: self.signer });
		}
		let malformed = || ProofError::MalformedPath { leaves: self.leaves, index: self.index };
		if self.path.len() > MAX_PATH_LEN {
			return Err(malformed());
		}
		let root = root_from_path(hash, self.index as usize, self.leaves as usize, &self.path)
			.ok_or_else(malformed)?;
		let message = signing_message(&key.genesis, self.leaves, &root);
		if sr25519::Pair::verify(&self.signature, message, &key.owner) {
			Ok(())
		} else {
			Err(ProofError::BadSignature)
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hashes(count: usize) -> Vec<EntryHash> {
		(0..count).map(|i| blake2_256(&(i as u64).to_le_bytes())).collect()
	}

	/// RFC 6962's definition: split at the largest power of two below the size.
	fn reference_root(leaves: &[EntryHash]) -> TreeHash {
		match leaves {
			[] => [0; 32],
			[one] => leaf(one),
			_ => {
				let split = leaves.len().next_power_of_two() / 2;
				node(&reference_root(&leaves[..split]), &reference_root(&leaves[split..]))
			},
		}
	}

	#[test]
	fn the_root_is_rfc_6962_shaped_and_every_path_leads_to_it() {
		for count in (1..=70).chain([255, 256, 257, 1000, MAX_BATCH_ENTRIES]) {
			let hashes = hashes(count);
			let tree = BatchTree::new(&hashes);
			assert_eq!(tree.root(), reference_root(&hashes), "{count} leaves");
			for index in (0..count).step_by((count / 17).max(1)).chain([count - 1]) {
				let path = tree.path(index);
				assert!(path.len() <= MAX_PATH_LEN);
				assert_eq!(
					root_from_path(&hashes[index], index, count, &path),
					Some(tree.root()),
					"leaf {index} of {count}"
				);
			}
		}
		assert_eq!(MAX_PATH_LEN, 13);
	}

	#[test]
	fn a_path_proves_only_its_own_entry_at_its_own_place() {
		let hashes = hashes(11);
		let tree = BatchTree::new(&hashes);
		let path = tree.path(6);
		let root = Some(tree.root());
		assert_ne!(root_from_path(&hashes[5], 6, 11, &path), root, "another entry");
		assert_ne!(root_from_path(&hashes[6], 7, 11, &path), root, "another index");
		// Where no node moves up unchanged, the path alone does not fix the batch's size:
		// the signed message carries it.
		assert_eq!(root_from_path(&hashes[6], 6, 12, &path), root);
		assert_ne!(root_from_path(&hashes[10], 10, 12, &tree.path(10)), root, "another size");
		assert_eq!(root_from_path(&hashes[6], 6, 11, &path[..path.len() - 1]), None, "short");
		let mut long = path.clone();
		long.push([9; 32]);
		assert_eq!(root_from_path(&hashes[6], 6, 11, &long), None, "long");
		assert_eq!(root_from_path(&hashes[6], 11, 11, &path), None, "index past the end");
		// An inner node is no entry: without the leaf prefix, a one-entry "batch" whose
		// entry hash is a signed root would have that same root.
		let pair = BatchTree::new(&hashes[..2]).root();
		assert_ne!(root_from_path(&pair, 0, 1, &[]), Some(pair));
	}
}
