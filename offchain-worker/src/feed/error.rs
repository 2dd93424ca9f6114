//! What can go wrong storing and reading feeds.

use std::{io, path::PathBuf};

use dt_primitives::feed::FeedId;

use super::validation::FeedError;

/// An error of the feed store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// The batch was refused; nothing was stored.
	#[error("feed {feed} refused the batch: {reason}")]
	Rejected { feed: FeedId, reason: FeedError },
	/// Reading or writing a file failed. For an append, nothing was acknowledged; the log
	/// is as it was before (or [`StoreError::Poisoned`] from now on, if that could not be
	/// ensured).
	#[error("{path}: {source}")]
	Io { path: PathBuf, source: io::Error },
	/// A stored record is damaged somewhere a crash cannot have left it. The replica does not
	/// guess: restore the file (or the feed's directory) from another replica.
	#[error(
		"{path} is damaged at byte {offset}: {reason}; restore the feed's directory from \
		 another replica"
	)]
	Corrupt { path: PathBuf, offset: u64, reason: CorruptReason },
	/// A failed append could not be rolled back, so the log's end on disk is unknown; the
	/// feed takes no more writes until the store is opened again (which re-reads the log
	/// and cuts off any torn tail).
	#[error("feed {feed} takes no more writes after a failed write; restart the store")]
	Poisoned { feed: FeedId },
	/// Another process has the store open.
	#[error("{path} is locked: another process has this feed store open")]
	Locked { path: PathBuf },
}

impl StoreError {
	pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
		Self::Io { path: path.into(), source }
	}
}

/// How a stored record is damaged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CorruptReason {
	/// The file ends inside a record's header.
	#[error("the file ends inside a record header")]
	TruncatedHeader,
	/// The file ends inside a record's body.
	#[error("the file ends inside a record of {len} bytes")]
	TruncatedRecord { len: u32 },
	/// A record claims to be longer than any record can be.
	#[error("a record claims {len} bytes, more than a record can hold")]
	TooLong { len: u64 },
	/// A record's checksum does not match its contents.
	#[error("a record's checksum does not match its contents")]
	Checksum,
	/// A record with a good checksum does not decode as a batch.
	#[error("a record does not decode as a feed batch: {0}")]
	Undecodable(String),
	/// A record's entries do not continue the log.
	#[error("a record does not continue the feed's chain: {0}")]
	Chain(FeedError),
	/// A segment file's name does not match the entry it starts with.
	#[error("the segment should start at entry {expected}, its name says {named}")]
	SegmentStart { expected: u64, named: u64 },
}
