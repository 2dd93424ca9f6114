//! The device side of a feed: numbering and chaining the next entries.

use dt_primitives::feed::{Checkpoint, EntryHash, FeedId};

use super::entry::{Entry, FIRST_SEQUENCE, GENESIS_PREVIOUS};

/// Builds a feed's next entries, each linked to the one before. It holds no key: the device
/// signs what it built with [`super::SignedEntry::sign`] or [`super::SignedBatch::sign`].
///
/// It does not check timestamps: a clock that went back is the replicas' to refuse, and the
/// device should rather learn that than have its readings silently adjusted.
#[derive(Clone, Debug)]
pub struct FeedWriter {
	feed: FeedId,
	next_sequence: u64,
	previous: EntryHash,
}

impl FeedWriter {
	/// Continues `feed` after `head`, the latest entry a replica acknowledged, or starts it
	/// when `head` is `None`.
	pub fn new(feed: FeedId, head: Option<&Checkpoint>) -> Self {
		match head {
			None => Self { feed, next_sequence: FIRST_SEQUENCE, previous: GENESIS_PREVIOUS },
			Some(head) => Self {
				feed,
				next_sequence: head.sequence.saturating_add(1),
				previous: head.entry_hash,
			},
		}
	}

	/// The sequence number the next entry gets.
	pub fn next_sequence(&self) -> u64 {
		self.next_sequence
	}

	/// Builds the next entry and moves past it.
	pub fn next_entry(&mut self, timestamp: u64, epoch: Option<u32>, payload: Vec<u8>) -> Entry {
		let entry = Entry {
			feed: self.feed,
			sequence: self.next_sequence,
			timestamp,
			previous: self.previous,
			epoch,
			payload,
		};
		self.previous = entry.hash();
		self.next_sequence = self.next_sequence.saturating_add(1);
		entry
	}
}
