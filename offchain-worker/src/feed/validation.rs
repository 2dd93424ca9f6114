//! What a replica accepts: only the owner's next entries.
//!
//! Validation is pure and deterministic, so every replica given the same log and the same
//! batch decides the same way, and it comes in two steps:
//!
//! 1. [`verify`] needs no state: the batch is well formed (one feed, consecutive sequence
//!    numbers, each entry linking to the one before, timestamps not going back, payloads
//!    and batch within bounds) and signed by the feed's owner. It is the costly step (one
//!    hash per entry, one signature check) and can run outside any lock.
//! 2. [`VerifiedBatch::place`] compares the batch with the log's head: the next sequence
//!    number extends the log; anything at or below the head must be exactly what is stored
//!    (first write wins), else it is a fork.
//!
//! The checks run in that order, structure before signature before position, so someone
//! who is not the owner learns nothing about the log's state from the answer.

use dt_primitives::feed::{Checkpoint, EntryHash, FeedId};
use sp_core::{sr25519, Pair as _};

use super::entry::{
	batch_message, Entry, FeedKey, SignedBatch, GENESIS_PREVIOUS, MAX_BATCH_BYTES,
	MAX_BATCH_ENTRIES, MAX_PAYLOAD,
};
use codec::Encode;

/// Why a replica refuses a batch. Each names the offending entry by its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
	/// The batch has no entries.
	#[error("the batch has no entries; send at least one")]
	EmptyBatch,
	/// More entries than [`MAX_BATCH_ENTRIES`].
	#[error("the batch has {entries} entries, more than the {max} allowed; split it")]
	TooManyEntries { entries: usize, max: usize },
	/// The batch's encoding is longer than [`MAX_BATCH_BYTES`].
	#[error("the batch encodes to {bytes} bytes, more than the {max} allowed; split it")]
	BatchTooLarge { bytes: usize, max: usize },
	/// An entry's payload is longer than [`MAX_PAYLOAD`].
	#[error("entry {sequence} has a {size}-byte payload, more than the {max} allowed")]
	PayloadTooLarge { sequence: u64, size: usize, max: usize },
	/// An entry names another feed than the one it was sent to.
	#[error("entry {sequence} is for feed {got}, but was sent to feed {expected}")]
	WrongFeed { expected: FeedId, got: FeedId, sequence: u64 },
	/// The batch is signed by another key than the feed's owner.
	#[error(
		"signed by {got}, but feed {feed} is owned by {expected}; the device must sign with \
		 the account registered as the feed's owner"
	)]
	WrongSigner { feed: FeedId, expected: sr25519::Public, got: sr25519::Public },
	/// The signature does not verify with the owner's key over the batch's root: forged, or
	/// an entry was changed after signing.
	#[error(
		"the signature over entry {sequence} of feed {feed} does not verify with the owner's key"
	)]
	BadSignature { feed: FeedId, sequence: u64 },
	/// Entries are missing between the log (or the previous entry in the batch) and this one.
	#[error("expected entry {expected} next, got entry {got}; send the entries in between first")]
	Gap { expected: u64, got: u64 },
	/// A different entry is already stored with this sequence number. The fork is at this
	/// entry or before it; the stored history stands.
	#[error(
		"entry {sequence} differs from the stored entry with that sequence number; the first \
		 write wins and a feed's history cannot be rewritten"
	)]
	Fork { sequence: u64 },
	/// The entry's `previous` is not the hash of the entry before it (or not zero, for the
	/// first entry of a feed).
	#[error("entry {sequence} does not carry the hash of the entry before it")]
	BrokenLink { sequence: u64 },
	/// The entry is timestamped before the entry before it.
	#[error(
		"entry {sequence} is timestamped {timestamp} ms, before the previous entry's {previous} ms"
	)]
	TimestampWentBack { sequence: u64, previous: u64, timestamp: u64 },
	/// Sequence numbers end at `u64::MAX`.
	#[error("entry {sequence} has the largest sequence number; nothing can follow it")]
	SequenceOverflow { sequence: u64 },
}

/// What to do with a batch that passed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
	/// Store the batch's entries from index `skip` on: the first `skip` are already stored,
	/// identical (a re-send that overlaps the head). `head` is the log's head afterwards.
	Append { skip: usize, head: Checkpoint },
	/// Every entry is already stored, identical: a re-send, acknowledged without change.
	AlreadyStored,
}

/// A batch that is well formed and signed by the feed's owner; only its place in the log is
/// left to check. Made only by [`verify`].
#[derive(Clone, Debug)]
pub struct VerifiedBatch {
	batch: SignedBatch,
	/// The hash of each entry, in order.
	hashes: Vec<EntryHash>,
}

/// Checks everything about `batch` that does not depend on the log: it is well formed, for
/// `feed`, and signed by `key`'s owner (the device account the chain registered for the
/// feed) for `key`'s chain.
pub fn verify(key: &FeedKey, feed: FeedId, batch: SignedBatch) -> Result<VerifiedBatch, FeedError> {
	// Counting the encoding is cheap (no copy), hashing is not: bound the work first.
	let bytes = batch.encoded_size();
	if bytes > MAX_BATCH_BYTES {
		return Err(FeedError::BatchTooLarge { bytes, max: MAX_BATCH_BYTES });
	}
	let hashes = check_entries(feed, &batch.entries)?;
	let owner = &key.owner;
	if batch.signer != *owner {
		return Err(FeedError::WrongSigner { feed, expected: *owner, got: batch.signer });
	}
	// `check_entries` refused an empty batch, so the last exists.
	let Some(last) = batch.entries.last() else {
		return Err(FeedError::EmptyBatch);
	};
	if !sr25519::Pair::verify(&batch.signature, batch_message(&key.genesis, &hashes), owner) {
		return Err(FeedError::BadSignature { feed, sequence: last.sequence });
	}
	Ok(VerifiedBatch { batch, hashes })
}

/// Both steps at once: [`verify`], then [`VerifiedBatch::place`] against `head`, asking
/// `stored_hash` for the stored hash at [`VerifiedBatch::overlap`] if the batch reaches back
/// into the log.
pub fn validate(
	key: &FeedKey,
	feed: FeedId,
	head: Option<&Checkpoint>,
	batch: SignedBatch,
	stored_hash: impl FnOnce(u64) -> Option<EntryHash>,
) -> Result<Verdict, FeedError> {
	let verified = verify(key, feed, batch)?;
	let stored = verified.overlap(head).and_then(stored_hash);
	verified.place(head, stored)
}

impl VerifiedBatch {
	/// The batch.
	pub fn batch(&self) -> &SignedBatch {
		&self.batch
	}

	/// Each entry's hash, in order.
	pub fn hashes(&self) -> &[EntryHash] {
		&self.hashes
	}

	/// The batch and its entries' hashes.
	pub fn into_parts(self) -> (SignedBatch, Vec<EntryHash>) {
		(self.batch, self.hashes)
	}

	/// The first entry's sequence number. A verified batch is never empty.
	pub fn first_sequence(&self) -> u64 {
		self.batch.first_sequence().unwrap_or_default()
	}

	/// The last entry's sequence number.
	pub fn last_sequence(&self) -> u64 {
		self.batch.last_sequence().unwrap_or_default()
	}

	/// If the batch starts at or before `head`, the sequence number whose stored hash
	/// [`Self::place`] needs: the last one the batch and the log share. Comparing that one
	/// entry suffices, since its hash fixes every entry before it.
	pub fn overlap(&self, head: Option<&Checkpoint>) -> Option<u64> {
		let head = head?;
		(self.first_sequence() <= head.sequence).then(|| self.last_sequence().min(head.sequence))
	}

	/// Where the batch goes in a log whose head is `head`. `stored` is the stored hash at
	/// [`Self::overlap`], when that is `Some`; an unknown stored hash counts as a mismatch,
	/// so a replica that cannot tell refuses rather than forks.
	pub fn place(
		&self,
		head: Option<&Checkpoint>,
		stored: Option<EntryHash>,
	) -> Result<Verdict, FeedError> {
		let first = self.first_sequence();
		if let Some(shared) = self.overlap(head) {
			// `shared` lies within the batch: first <= shared <= last.
			let index = usize::try_from(shared - first).unwrap_or(usize::MAX);
			let ours = self.hashes.get(index);
			if ours.is_none() || ours != stored.as_ref() {
				return Err(FeedError::Fork { sequence: shared });
			}
			if shared == self.last_sequence() {
				return Ok(Verdict::AlreadyStored);
			}
			return Ok(Verdict::Append { skip: index + 1, head: self.new_head() });
		}
		let entries = &self.batch.entries;
		if let Some(first_entry) = entries.first() {
			check_successor(head, first_entry)?;
		}
		Ok(Verdict::Append { skip: 0, head: self.new_head() })
	}

	/// The log's head once the batch is stored.
	fn new_head(&self) -> Checkpoint {
		match (self.batch.entries.last(), self.hashes.last()) {
			(Some(last), Some(hash)) => {
				Checkpoint { sequence: last.sequence, entry_hash: *hash, timestamp: last.timestamp }
			},
			// Unreachable for a verified batch; a harmless default rather than a panic.
			_ => Checkpoint { sequence: 0, entry_hash: GENESIS_PREVIOUS, timestamp: 0 },
		}
	}
}

/// Checks that `entries` form a well-formed piece of `feed`'s chain on their own, and
/// returns their hashes. Shared with the log, which re-checks its records when it opens.
pub(crate) fn check_entries(feed: FeedId, entries: &[Entry]) -> Result<Vec<EntryHash>, FeedError> {
	if entries.is_empty() {
		return Err(FeedError::EmptyBatch);
	}
	if entries.len() > MAX_BATCH_ENTRIES {
		return Err(FeedError::TooManyEntries { entries: entries.len(), max: MAX_BATCH_ENTRIES });
	}
	let mut hashes: Vec<EntryHash> = Vec::with_capacity(entries.len());
	let mut previous: Option<&Entry> = None;
	for entry in entries {
		if entry.feed != feed {
			return Err(FeedError::WrongFeed {
				expected: feed,
				got: entry.feed,
				sequence: entry.sequence,
			});
		}
		if entry.payload.len() > MAX_PAYLOAD {
			return Err(FeedError::PayloadTooLarge {
				sequence: entry.sequence,
				size: entry.payload.len(),
				max: MAX_PAYLOAD,
			});
		}
		if let (Some(before), Some(before_hash)) = (previous, hashes.last()) {
			follows(before, before_hash, entry)?;
		}
		hashes.push(entry.hash());
		previous = Some(entry);
	}
	Ok(hashes)
}

/// Checks that `first` may come right after the log's head (or start the log).
pub(crate) fn check_successor(head: Option<&Checkpoint>, first: &Entry) -> Result<(), FeedError> {
	match head {
		None => {
			if first.sequence != super::entry::FIRST_SEQUENCE {
				return Err(FeedError::Gap {
					expected: super::entry::FIRST_SEQUENCE,
					got: first.sequence,
				});
			}
			if first.previous != GENESIS_PREVIOUS {
				return Err(FeedError::BrokenLink { sequence: first.sequence });
			}
			Ok(())
		},
		Some(head) => {
			let expected = head
				.sequence
				.checked_add(1)
				.ok_or(FeedError::SequenceOverflow { sequence: head.sequence })?;
			if first.sequence != expected {
				return Err(FeedError::Gap { expected, got: first.sequence });
			}
			if first.previous != head.entry_hash {
				return Err(FeedError::BrokenLink { sequence: first.sequence });
			}
			if first.timestamp < head.timestamp {
				return Err(FeedError::TimestampWentBack {
					sequence: first.sequence,
					previous: head.timestamp,
					timestamp: first.timestamp,
				});
			}
			Ok(())
		},
	}
}

/// Checks that `entry` comes right after `before`, whose hash is `before_hash`.
fn follows(before: &Entry, before_hash: &EntryHash, entry: &Entry) -> Result<(), FeedError> {
	check_successor(
		Some(&Checkpoint {
			sequence: before.sequence,
			entry_hash: *before_hash,
			timestamp: before.timestamp,
		}),
		entry,
	)
}
