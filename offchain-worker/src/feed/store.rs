//! The directory holding every feed's log on this replica.
//!
//! Layout: `<root>/LOCK`, held by the process that has the store open, and one directory
//! per feed, `<root>/<feed id in decimal>/`, holding that feed's segments. Logs are opened
//! on first use and stay open.

use std::{
	collections::HashMap,
	fs::{self, File, OpenOptions, TryLockError},
	path::PathBuf,
	sync::{Arc, Mutex, PoisonError},
};

use super::{
	entry::{FeedKey, SignedBatch, StoredEntry},
	error::StoreError,
	log::{Appended, FeedLog, FeedLogConfig},
	subscription::Subscription,
};
use dt_primitives::feed::{Checkpoint, FeedId};

/// Every feed's log on this replica.
#[derive(Debug)]
pub struct FeedStore {
	root: PathBuf,
	config: FeedLogConfig,
	logs: Mutex<HashMap<FeedId, Arc<FeedLog>>>,
	/// Held open for the store's lifetime: its lock keeps a second process from appending
	/// to (or cutting the "torn" tail of) logs this one is writing.
	_lock: File,
}

impl FeedStore {
	/// Opens (creating it if needed) the store in `root` with the default tuning.
	pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
		Self::open_with(root, FeedLogConfig::default())
	}

	/// Opens (creating it if needed) the store in `root`.
	pub fn open_with(root: impl Into<PathBuf>, config: FeedLogConfig) -> Result<Self, StoreError> {
		let root = root.into();
		fs::create_dir_all(&root).map_err(|error| StoreError::io(&root, error))?;
		let lock_path = root.join("LOCK");
		let lock = OpenOptions::new()
			.create(true)
			.truncate(false)
			.write(true)
			.open(&lock_path)
			.map_err(|error| StoreError::io(&lock_path, error))?;
		match lock.try_lock() {
			Ok(()) => {},
			Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { path: lock_path }),
			Err(TryLockError::Error(error)) => return Err(StoreError::io(&lock_path, error)),
		}
		Ok(Self { root, config, logs: Mutex::new(HashMap::new()), _lock: lock })
	}

	/// The log of `feed`, opened on first use. An unknown feed gets an empty log, whose
	/// directory the first append creates; the caller checks that the chain registered the
	/// feed, since every log held open costs memory.
	pub fn log(&self, feed: FeedId) -> Result<Arc<FeedLog>, StoreError> {
		// Opening re-reads the log and may cut a torn tail, so it happens under the map's
		// lock: two threads opening one feed at once must not both repair it.
		let mut logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
		if let Some(log) = logs.get(&feed) {
			return Ok(log.clone());
		}
		let log = Arc::new(FeedLog::open(self.feed_dir(feed), feed, self.config)?);
		logs.insert(feed, log.clone());
		Ok(log)
	}

	/// The log of `feed` if anything was ever stored for it. Reads go through here, so that
	/// asking about feeds that do not exist holds nothing open.
	fn stored_log(&self, feed: FeedId) -> Result<Option<Arc<FeedLog>>, StoreError> {
		let known = self.logs.lock().unwrap_or_else(PoisonError::into_inner).get(&feed).cloned();
		if let Some(log) = known {
			return Ok(Some(log));
		}
		if !self.feed_dir(feed).is_dir() {
			return Ok(None);
		}
		self.log(feed).map(Some)
	}

	/// The feeds with a stored log, in order of id.
	pub fn feeds(&self) -> Result<Vec<FeedId>, StoreError> {
		let listing =
			fs::read_dir(&self.root).map_err(|error| StoreError::io(&self.root, error))?;
		let mut feeds = Vec::new();
		for item in listing {
			let item = item.map_err(|error| StoreError::io(&self.root, error))?;
			let name = item.file_name();
			let Some(name) = name.to_str() else { continue };
			if let Ok(feed) = name.parse::<FeedId>() {
				if name == feed.to_string() && item.path().is_dir() {
					feeds.push(feed);
				}
			}
		}
		feeds.sort_unstable();
		Ok(feeds)
	}

	/// Validates `batch` for `feed`, signed by `key`'s owner (the device account the chain
	/// registered for it) for `key`'s chain, and stores what is new, durably, before
	/// returning. Blocking.
	pub fn append(
		&self,
		feed: FeedId,
		key: &FeedKey,
		batch: impl Into<SignedBatch>,
	) -> Result<Appended, StoreError> {
		self.log(feed)?.append(key, batch)
	}

	/// The head of `feed`'s log, or `None` while it is empty.
	pub fn head(&self, feed: FeedId) -> Result<Option<Checkpoint>, StoreError> {
		Ok(self.stored_log(feed)?.and_then(|log| log.head()))
	}

	/// The latest entry of `feed`.
	pub fn latest(&self, feed: FeedId) -> Result<Option<StoredEntry>, StoreError> {
		match self.stored_log(feed)? {
			Some(log) => log.latest(),
			None => Ok(None),
		}
	}

	/// Entries of `feed` with sequence numbers in `[from, to)`; see [`FeedLog::range`].
	pub fn range(
		&self,
		feed: FeedId,
		from: u64,
		to: u64,
		limit: usize,
	) -> Result<Vec<StoredEntry>, StoreError> {
		match self.stored_log(feed)? {
			Some(log) => log.range(from, to, limit),
			None => Ok(Vec::new()),
		}
	}

	/// Entries of `feed` timestamped in `[from_ms, to_ms)`; see [`FeedLog::range_by_time`].
	pub fn range_by_time(
		&self,
		feed: FeedId,
		from_ms: u64,
		to_ms: u64,
		limit: usize,
	) -> Result<Vec<StoredEntry>, StoreError> {
		match self.stored_log(feed)? {
			Some(log) => log.range_by_time(from_ms, to_ms, limit),
			None => Ok(Vec::new()),
		}
	}

	/// The stored batches of `feed` as their owner signed them, from the one holding entry
	/// `from` on, at most `max`; see [`FeedLog::signed_batches`].
	pub fn signed_batches(
		&self,
		feed: FeedId,
		from: u64,
		max: usize,
	) -> Result<Vec<SignedBatch>, StoreError> {
		match self.stored_log(feed)? {
			Some(log) => log.signed_batches(from, max),
			None => Ok(Vec::new()),
		}
	}

	/// A live stream of `feed`'s new entries; see [`FeedLog::subscribe`]. Opens the log,
	/// like an append: subscribe only to feeds the chain registered.
	pub fn subscribe(&self, feed: FeedId) -> Result<Subscription, StoreError> {
		Ok(self.log(feed)?.subscribe())
	}

	fn feed_dir(&self, feed: FeedId) -> PathBuf {
		self.root.join(feed.to_string())
	}
}
