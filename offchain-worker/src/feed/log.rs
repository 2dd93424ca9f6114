//! One feed's persistent log: append-only segment files on disk, a small index in memory.
//!
//! The feed's directory holds segment files named after the sequence number of their first
//! entry (`00000000000000000000.seg`, …); each is a run of records (see [`super::record`]),
//! one per stored batch. A new segment starts once the current one would pass
//! [`FeedLogConfig::segment_bytes`], so old history sits in files that never change again
//! (ready to archive or copy) and the newest file is the only one a crash can leave torn.
//!
//! The index keeps one position per record, 32 bytes: a feed of single-entry appends
//! costs 32 bytes of memory per entry, one sent in batches of a thousand about 0.03 bytes
//! per entry. Lookups by sequence number or by time are binary searches over it (both are
//! non-decreasing along the log), followed by one read of the record from disk.
//!
//! Appends are serialised per feed by the tail lock and published under the index lock,
//! so readers see only whole, durable records and never wait for a disk flush.

use std::{
	fs::{self, File, OpenOptions},
	io::BufReader,
	os::unix::fs::FileExt,
	path::{Path, PathBuf},
	sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use codec::{DecodeAll, Encode};
use dt_primitives::feed::{Checkpoint, EntryHash, FeedId};
use tokio::sync::broadcast;

use super::{
	entry::{FeedKey, SignedBatch, StoredEntry},
	error::{CorruptReason, StoreError},
	record::{self, Next},
	subscription::Subscription,
	validation::{check_entries, check_successor, verify, FeedError, Verdict},
};

/// Most entries one range read returns; page on with the next sequence number. Bounds what
/// one request can make a replica read and hold.
pub const MAX_RANGE_ENTRIES: usize = 65_536;

/// Most bytes one range read returns, counting each entry as its payload in hex plus
/// [`RANGE_ENTRY_OVERHEAD`] (what its JSON form over RPC takes): an answer is a page of at
/// most about 4 MiB whatever the payloads, at least one entry. Page on with the sequence
/// number after the last entry returned.
pub const MAX_RANGE_BYTES: usize = 4 << 20;

/// What an entry costs in a range answer besides its payload: its hashes in hex, its
/// numbers, its proof (signer, signature and up to 13 sibling hashes, in hex) and the JSON
/// around them.
pub const RANGE_ENTRY_OVERHEAD: usize = 1280;

const SEGMENT_SUFFIX: &str = ".seg";

/// Tuning of a feed log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedLogConfig {
	/// A new segment file starts once the current one would grow past this many bytes. A
	/// single record larger than this still goes whole into its own segment.
	pub segment_bytes: u64,
	/// How many appended batches a subscriber may fall behind before it is told it lagged.
	pub subscription_buffer: usize,
}

impl Default for FeedLogConfig {
	fn default() -> Self {
		Self { segment_bytes: 64 * 1024 * 1024, subscription_buffer: 1024 }
	}
}

/// What opening a log had to repair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
	/// Bytes cut off the end of the newest segment: a record torn by a crash, never
	/// acknowledged.
	pub truncated_bytes: u64,
	/// What was wrong with the torn record, if there was one.
	pub torn: Option<CorruptReason>,
}

/// The outcome of an acknowledged append: the entries are durable on this replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
	/// `entries` new entries were stored; `head` is the log's new head.
	Stored { entries: usize, head: Checkpoint },
	/// Every entry was already stored, identical: nothing changed. `head` is the log's head.
	AlreadyStored { head: Checkpoint },
}

impl Appended {
	/// The log's head after the append: what the owner may anchor on chain.
	pub fn head(&self) -> Checkpoint {
		match self {
			Self::Stored { head, .. } | Self::AlreadyStored { head } => *head,
		}
	}
}

/// What a range read does with an entry.
enum Step {
	Skip,
	Keep,
	Stop,
}

/// Where one record is.
#[derive(Clone, Copy, Debug)]
struct RecordPos {
	/// The sequence number of the record's first entry new to the log. A batch re-sent
	/// over the log's head is stored whole, as its owner signed it, but its entries up to
	/// the head were stored before and are not read again from this record.
	first_sequence: u64,
	first_timestamp: u64,
	offset: u64,
	len: u32,
	segment: u32,
}

/// A segment file. Only the newest stays open (it is the one written); older ones are
/// opened for each read, so a long history costs no file descriptors.
struct Segment {
	path: PathBuf,
	file: Option<Arc<File>>,
}

// What the module documentation promises about memory per record.
const _: () = assert!(std::mem::size_of::<RecordPos>() == 32);

/// What readers see: only whole, durable records.
#[derive(Default)]
struct Index {
	head: Option<Checkpoint>,
	records: Vec<RecordPos>,
	segments: Vec<Segment>,
}

impl Index {
	fn next_sequence(&self) -> u64 {
		self.head
			.map_or(super::entry::FIRST_SEQUENCE, |head| head.sequence.saturating_add(1))
	}

	/// The record holding entry `sequence`, if stored.
	fn record_containing(&self, sequence: u64) -> Option<usize> {
		if sequence >= self.next_sequence() || self.head.is_none() {
			return None;
		}
		self.records
			.partition_point(|record| record.first_sequence <= sequence)
			.checked_sub(1)
	}
}

/// The writer's state, behind the lock that serialises appends.
struct Tail {
	/// Valid bytes of the newest segment: where the next record goes.
	len: u64,
	/// Whether the feed's directory exists (it is made by the first append).
	dir_exists: bool,
	/// Directories whose new entries (the feed's directory, a new segment) must be made
	/// durable before the next acknowledgement.
	unsynced_dirs: Vec<PathBuf>,
	/// Set when a failed append could not be rolled back.
	poisoned: bool,
}

/// One feed's persistent log. Made by [`super::FeedStore`], which holds the directory lock.
pub struct FeedLog {
	feed: FeedId,
	dir: PathBuf,
	config: FeedLogConfig,
	tail: Mutex<Tail>,
	index: RwLock<Index>,
	events: broadcast::Sender<Arc<[StoredEntry]>>,
	recovery: Recovery,
}

impl std::fmt::Debug for FeedLog {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("FeedLog")
			.field("feed", &self.feed)
			.field("dir", &self.dir)
			.field("head", &self.head())
			.finish_non_exhaustive()
	}
}

impl FeedLog {
	/// Opens the log of `feed` in `dir`, re-reading every record: checksums, decoding and
	/// the hash chain are checked (signatures were checked before the records were written
	/// and are not checked again). A bad record at the end of the newest segment is a torn
	/// write and is cut off; one anywhere else is damage and an error.
	pub(crate) fn open(
		dir: PathBuf,
		feed: FeedId,
		config: FeedLogConfig,
	) -> Result<Self, StoreError> {
		let mut index = Index::default();
		let mut recovery = Recovery::default();
		let mut tail =
			Tail { len: 0, dir_exists: false, unsynced_dirs: Vec::new(), poisoned: false };
		match fs::read_dir(&dir) {
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => {},
			Err(error) => return Err(StoreError::io(&dir, error)),
			Ok(listing) => {
				tail.dir_exists = true;
				let mut segments = Vec::new();
				for item in listing {
					let item = item.map_err(|error| StoreError::io(&dir, error))?;
					if let Some(first) = segment_start(&item.file_name()) {
						segments.push((first, item.path()));
					}
				}
				segments.sort();
				let count = segments.len();
				for (position, (named, path)) in segments.into_iter().enumerate() {
					let expected = index.next_sequence();
					if named != expected {
						return Err(StoreError::Corrupt {
							path,
							offset: 0,
							reason: CorruptReason::SegmentStart { expected, named },
						});
					}
					let newest = position + 1 == count;
					let file = OpenOptions::new()
						.read(true)
						.write(true)
						.open(&path)
						.map_err(|error| StoreError::io(&path, error))?;
					let len = scan_segment(feed, &path, &file, newest, &mut index, &mut recovery)?;
					let file = newest.then(|| Arc::new(file));
					index.segments.push(Segment { path, file });
					tail.len = len;
				}
			},
		}
		let (events, _) = broadcast::channel(config.subscription_buffer.max(1));
		Ok(Self {
			feed,
			dir,
			config,
			tail: Mutex::new(tail),
			index: RwLock::new(index),
			events,
			recovery,
		})
	}

	/// The feed this log belongs to.
	pub fn feed(&self) -> FeedId {
		self.feed
	}

	/// What opening the log repaired.
	pub fn recovery(&self) -> &Recovery {
		&self.recovery
	}

	/// The latest stored entry's checkpoint, or `None` for an empty log.
	pub fn head(&self) -> Option<Checkpoint> {
		self.read_index().head
	}

	/// How many entries the log holds.
	pub fn len(&self) -> u64 {
		self.read_index().next_sequence()
	}

	/// Whether the log holds no entry.
	pub fn is_empty(&self) -> bool {
		self.head().is_none()
	}

	/// Validates `batch` against the log and stores what is new, durably, before returning.
	/// `key` is the feed's owner as registered on chain, and the chain's genesis hash.
	///
	/// Blocking (it waits for the disk); from async code call it via `spawn_blocking`.
	pub fn append(
		&self,
		key: &FeedKey,
		batch: impl Into<SignedBatch>,
	) -> Result<Appended, StoreError> {
		// The costly checks (hashes, signature) need no lock, so appends to one feed from
		// several connections verify in parallel and queue only to write.
		let verified = verify(key, self.feed, batch.into()).map_err(|e| self.rejected(e))?;
		let mut tail = lock(&self.tail);
		if tail.poisoned {
			return Err(StoreError::Poisoned { feed: self.feed });
		}
		let head = self.head();
		let stored = match verified.overlap(head.as_ref()) {
			Some(sequence) => self.hash_at(sequence)?,
			None => None,
		};
		let (skip, new_head) = match verified.place(head.as_ref(), stored) {
			Err(reason) => return Err(self.rejected(reason)),
			Ok(Verdict::AlreadyStored) => {
				// A batch can only be already stored in a log that has a head.
				let head = head.ok_or_else(|| self.rejected(FeedError::EmptyBatch))?;
				return Ok(Appended::AlreadyStored { head });
			},
			Ok(Verdict::Append { skip, head }) => (skip, head),
		};
		let (batch, hashes) = verified.into_parts();
		// An overlapping re-send is stored whole, since the signature covers the whole
		// batch; its record is read from its first new entry on.
		let Some(first) = batch.entries.get(skip) else {
			return Err(self.rejected(FeedError::EmptyBatch));
		};
		let (first_sequence, first_timestamp) = (first.sequence, first.timestamp);
		let framed = record::frame(&batch.encode()).map_err(|_| {
			self.rejected(FeedError::BatchTooLarge {
				bytes: batch.encoded_size(),
				max: record::MAX_BODY,
			})
		})?;
		let (segment, offset) = self.write(&mut tail, first_sequence, &framed)?;

		let stored_entries = batch.entries.len() - skip;
		let mut appended = Some((batch, hashes, skip));
		// Built before taking the index lock, which readers wait for, when someone listens.
		let mut notice = (self.events.receiver_count() > 0).then(|| to_notice(&mut appended));
		let mut index = self.write_index();
		index.records.push(RecordPos {
			first_sequence,
			first_timestamp,
			offset,
			// `frame` bounds a record far below 4 GiB.
			len: u32::try_from(framed.len()).unwrap_or(u32::MAX),
			segment,
		});
		index.head = Some(new_head);
		// Sent under the index lock, so a subscriber gets exactly the entries after the head
		// it subscribed at; one that came after the count above is served here.
		if self.events.receiver_count() > 0 {
			let notice = notice.take().unwrap_or_else(|| to_notice(&mut appended));
			// Fails only when every subscriber has just gone, which is fine.
			let _ = self.events.send(notice);
		}
		drop(index);
		Ok(Appended::Stored { entries: stored_entries, head: new_head })
	}

	/// The latest entry, or `None` for an empty log.
	pub fn latest(&self) -> Result<Option<StoredEntry>, StoreError> {
		let Some(head) = self.head() else { return Ok(None) };
		Ok(self.range(head.sequence, head.sequence.saturating_add(1), 1)?.pop())
	}

	/// The entries with sequence numbers in `[from, to)`, at most `limit` of them (and at
	/// most [`MAX_RANGE_ENTRIES`]), in order.
	pub fn range(&self, from: u64, to: u64, limit: usize) -> Result<Vec<StoredEntry>, StoreError> {
		if from >= to {
			return Ok(Vec::new());
		}
		let Some(start) = self.read_index().record_containing(from) else {
			return Ok(Vec::new());
		};
		self.collect(start, limit, |entry| match entry.sequence {
			sequence if sequence < from => Step::Skip,
			sequence if sequence < to => Step::Keep,
			_ => Step::Stop,
		})
	}

	/// The entries timestamped in `[from_ms, to_ms)`, at most `limit` of them (and at most
	/// [`MAX_RANGE_ENTRIES`]), in order.
	pub fn range_by_time(
		&self,
		from_ms: u64,
		to_ms: u64,
		limit: usize,
	) -> Result<Vec<StoredEntry>, StoreError> {
		if from_ms >= to_ms {
			return Ok(Vec::new());
		}
		// Timestamps never decrease, so only the record before the first one starting at or
		// after `from_ms` can hold earlier matches.
		let start = self
			.read_index()
			.records
			.partition_point(|record| record.first_timestamp < from_ms)
			.saturating_sub(1);
		self.collect(start, limit, |entry| match entry.timestamp {
			timestamp if timestamp < from_ms => Step::Skip,
			timestamp if timestamp < to_ms => Step::Keep,
			_ => Step::Stop,
		})
	}

	/// The stored batches as their owner signed them, starting with the one holding entry
	/// `from`, at most `max` of them: what another replica needs to check and store the log
	/// itself. (A batch re-sent after a partial overlap is stored without its stored
	/// prefix, and the signature still covers it.)
	pub fn signed_batches(&self, from: u64, max: usize) -> Result<Vec<SignedBatch>, StoreError> {
		let Some(start) = self.read_index().record_containing(from) else {
			return Ok(Vec::new());
		};
		let mut batches = Vec::new();
		let mut next = start;
		while batches.len() < max {
			match self.read_record(next)? {
				Some((batch, _)) => batches.push(batch),
				None => break,
			}
			next += 1;
		}
		Ok(batches)
	}

	/// The hash of the stored entry `sequence`, if stored.
	pub fn hash_at(&self, sequence: u64) -> Result<Option<EntryHash>, StoreError> {
		Ok(self
			.range(sequence, sequence.saturating_add(1), 1)?
			.pop()
			.map(|stored| stored.hash))
	}

	/// A live stream of the entries appended from now on, in order.
	/// [`Subscription::next_sequence`] says where it starts; read what came before with
	/// [`Self::range`].
	pub fn subscribe(&self) -> Subscription {
		// Under the index lock, which appends hold while they publish: nothing falls between
		// the head read here and the first entry received.
		let index = self.read_index();
		Subscription::new(self.events.subscribe(), index.next_sequence())
	}

	/// Collects, from record `start` on, the entries `step` keeps until it says stop, the
	/// log ends, `limit` (at most [`MAX_RANGE_ENTRIES`]) are found, or the next would take
	/// the answer past [`MAX_RANGE_BYTES`].
	fn collect(
		&self,
		start: usize,
		limit: usize,
		step: impl Fn(&super::Entry) -> Step,
	) -> Result<Vec<StoredEntry>, StoreError> {
		let limit = limit.min(MAX_RANGE_ENTRIES);
		let mut found = Vec::new();
		let mut bytes = 0usize;
		let mut next = start;
		while found.len() < limit {
			let Some((batch, first_new)) = self.read_record(next)? else { break };
			// The entries of this record to return, `[from, to)`: contiguous, since steps
			// skip only entries before those they keep.
			let mut kept: Option<(usize, usize)> = None;
			let mut stop = false;
			for (index, entry) in batch.entries.iter().enumerate() {
				if entry.sequence < first_new {
					continue;
				}
				match step(entry) {
					Step::Skip => continue,
					Step::Stop => stop = true,
					Step::Keep => {
						let cost = RANGE_ENTRY_OVERHEAD + 2 * entry.payload.len();
						let count = found.len() + kept.map_or(0, |(from, to)| to - from);
						if bytes + cost > MAX_RANGE_BYTES && count > 0 {
							stop = true;
						} else {
							bytes += cost;
							kept = Some((kept.map_or(index, |(from, _)| from), index + 1));
							stop = count + 1 == limit;
						}
					},
				}
				if stop {
					break;
				}
			}
			if let Some((from, to)) = kept {
				// Each entry's proof needs the hashes of its whole batch.
				let hashes: Vec<EntryHash> = batch.entries.iter().map(|e| e.hash()).collect();
				let mut entries = StoredEntry::with_hashes(batch, hashes, from);
				entries.truncate(to - from);
				found.extend(entries);
			}
			if stop {
				break;
			}
			next += 1;
		}
		Ok(found)
	}

	/// Reads record number `position` back from disk, with the sequence number of its first
	/// entry new to the log; `None` past the last one.
	fn read_record(&self, position: usize) -> Result<Option<(SignedBatch, u64)>, StoreError> {
		let (record, path, file) = {
			let index = self.read_index();
			let Some(record) = index.records.get(position).copied() else { return Ok(None) };
			let Some(segment) = index.segments.get(record.segment as usize) else {
				return Ok(None);
			};
			(record, segment.path.clone(), segment.file.clone())
		};
		let file = match file {
			Some(file) => file,
			None => Arc::new(File::open(&path).map_err(|error| StoreError::io(&path, error))?),
		};
		let mut bytes = vec![0u8; record.len as usize];
		file.read_exact_at(&mut bytes, record.offset)
			.map_err(|error| StoreError::io(&path, error))?;
		let corrupt =
			|reason| StoreError::Corrupt { path: path.clone(), offset: record.offset, reason };
		let body = record::open(&bytes).map_err(corrupt)?;
		SignedBatch::decode_all(&mut &body[..])
			.map(|batch| Some((batch, record.first_sequence)))
			.map_err(|error| corrupt(CorruptReason::Undecodable(error.to_string())))
	}

	/// Writes one framed record durably at the end of the log and returns its segment and
	/// offset. On failure the log is as before, or poisoned when that cannot be ensured.
	fn write(
		&self,
		tail: &mut Tail,
		first_sequence: u64,
		framed: &[u8],
	) -> Result<(u32, u64), StoreError> {
		if !tail.dir_exists {
			fs::create_dir_all(&self.dir).map_err(|error| StoreError::io(&self.dir, error))?;
			tail.dir_exists = true;
			if let Some(parent) = self.dir.parent() {
				tail.unsynced_dirs.push(parent.to_path_buf());
			}
		}
		let has_segment = !self.read_index().segments.is_empty();
		let full = tail.len > 0
			&& tail.len.saturating_add(framed.len() as u64) > self.config.segment_bytes;
		if !has_segment || full {
			self.start_segment(tail, first_sequence)?;
		}
		// The new entries in directories must be durable before anything that depends on
		// them is acknowledged; a failure leaves them queued for the next attempt.
		while let Some(dir) = tail.unsynced_dirs.first() {
			sync_dir(dir)?;
			tail.unsynced_dirs.remove(0);
		}
		let (segment, path, file) = {
			let index = self.read_index();
			let position = index.segments.len().saturating_sub(1);
			let Some((path, Some(file))) =
				index.segments.get(position).map(|newest| (&newest.path, &newest.file))
			else {
				return Err(StoreError::io(&self.dir, std::io::Error::other("no open segment")));
			};
			(position, path.clone(), file.clone())
		};
		let offset = tail.len;
		let written = file.write_all_at(framed, offset).and_then(|()| file.sync_data());
		if let Err(error) = written {
			// Cut back to the last acknowledged byte, so that no half record sits before the
			// next one (opening would take it for a torn tail and drop what follows). After
			// a failed flush the kernel may have dropped the pages, but they are beyond
			// that byte, so cutting them off is exactly right.
			if let Err(rollback) = file.set_len(offset).and_then(|()| file.sync_all()) {
				log::error!(
					"feed {}: cannot roll back a failed append in {}: {rollback}; no more \
					 writes until restart",
					self.feed,
					path.display()
				);
				tail.poisoned = true;
			}
			return Err(StoreError::io(&path, error));
		}
		tail.len = offset.saturating_add(framed.len() as u64);
		Ok((u32::try_from(segment).unwrap_or(u32::MAX), offset))
	}

	/// Starts a new segment whose first entry is `first_sequence`.
	fn start_segment(&self, tail: &mut Tail, first_sequence: u64) -> Result<(), StoreError> {
		let path = self.dir.join(segment_name(first_sequence));
		let file = OpenOptions::new()
			.read(true)
			.write(true)
			.create_new(true)
			.open(&path)
			.map_err(|error| StoreError::io(&path, error))?;
		let mut index = self.write_index();
		if let Some(previous) = index.segments.last_mut() {
			previous.file = None;
		}
		index.segments.push(Segment { path, file: Some(Arc::new(file)) });
		tail.len = 0;
		tail.unsynced_dirs.push(self.dir.clone());
		Ok(())
	}

	fn rejected(&self, reason: FeedError) -> StoreError {
		StoreError::Rejected { feed: self.feed, reason }
	}

	fn read_index(&self) -> RwLockReadGuard<'_, Index> {
		// A panic elsewhere while holding the lock cannot leave the index half-updated
		// (pushes and assignments only), so a poisoned lock is still usable.
		self.index.read().unwrap_or_else(PoisonError::into_inner)
	}

	fn write_index(&self) -> RwLockWriteGuard<'_, Index> {
		self.index.write().unwrap_or_else(PoisonError::into_inner)
	}
}

/// The appended entries (of the batch, from index `skip` on) as subscribers get them;
/// empty if already taken.
fn to_notice(appended: &mut Option<(SignedBatch, Vec<EntryHash>, usize)>) -> Arc<[StoredEntry]> {
	match appended.take() {
		Some((batch, hashes, skip)) => StoredEntry::with_hashes(batch, hashes, skip).into(),
		None => Arc::new([]),
	}
}

fn lock(tail: &Mutex<Tail>) -> MutexGuard<'_, Tail> {
	tail.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads one segment, adding its records to `index`, and returns its valid length.
fn scan_segment(
	feed: FeedId,
	path: &Path,
	file: &File,
	newest: bool,
	index: &mut Index,
	recovery: &mut Recovery,
) -> Result<u64, StoreError> {
	let segment = u32::try_from(index.segments.len()).unwrap_or(u32::MAX);
	let mut reader = BufReader::with_capacity(1 << 20, file);
	let mut offset = 0u64;
	loop {
		let body = match record::read_next(&mut reader).map_err(|e| StoreError::io(path, e))? {
			Next::End => return Ok(offset),
			Next::Record(body) => body,
			Next::Bad(reason) if newest => {
				let file_len = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
				file.set_len(offset)
					.and_then(|()| file.sync_all())
					.map_err(|error| StoreError::io(path, error))?;
				log::warn!(
					"feed {feed}: cut {} bytes of a torn record off {} ({reason})",
					file_len.saturating_sub(offset),
					path.display()
				);
				recovery.truncated_bytes = file_len.saturating_sub(offset);
				recovery.torn = Some(reason);
				return Ok(offset);
			},
			Next::Bad(reason) => {
				return Err(StoreError::Corrupt { path: path.to_path_buf(), offset, reason });
			},
		};
		let corrupt = |reason| StoreError::Corrupt { path: path.to_path_buf(), offset, reason };
		let batch = SignedBatch::decode_all(&mut &body[..])
			.map_err(|error| corrupt(CorruptReason::Undecodable(error.to_string())))?;
		let hashes =
			check_entries(feed, &batch.entries).map_err(|e| corrupt(CorruptReason::Chain(e)))?;
		let first_new = first_new_entry(index.head.as_ref(), &batch.entries, &hashes)
			.map_err(|e| corrupt(CorruptReason::Chain(e)))?;
		let (Some(first), Some(last), Some(last_hash)) =
			(batch.entries.get(first_new), batch.entries.last(), hashes.last())
		else {
			return Err(corrupt(CorruptReason::Chain(FeedError::EmptyBatch)));
		};
		check_successor(index.head.as_ref(), first)
			.map_err(|e| corrupt(CorruptReason::Chain(e)))?;
		let len = record::HEADER_LEN + body.len();
		index.records.push(RecordPos {
			first_sequence: first.sequence,
			first_timestamp: first.timestamp,
			offset,
			len: u32::try_from(len).unwrap_or(u32::MAX),
			segment,
		});
		index.head = Some(Checkpoint {
			sequence: last.sequence,
			entry_hash: *last_hash,
			timestamp: last.timestamp,
		});
		offset = offset.saturating_add(len as u64);
	}
}

/// The index of the first entry of a stored batch that is new to a log whose head is
/// `head`: 0, unless the batch is a re-send stored whole over the head, whose entry at the
/// head must then be the stored one.
fn first_new_entry(
	head: Option<&Checkpoint>,
	entries: &[super::Entry],
	hashes: &[EntryHash],
) -> Result<usize, FeedError> {
	let (Some(head), Some(first)) = (head, entries.first()) else { return Ok(0) };
	if first.sequence > head.sequence {
		return Ok(0);
	}
	let at_head = usize::try_from(head.sequence - first.sequence).unwrap_or(usize::MAX);
	match hashes.get(at_head) {
		Some(hash) if *hash == head.entry_hash => Ok(at_head + 1),
		_ => Err(FeedError::Fork { sequence: head.sequence }),
	}
}

fn segment_name(first_sequence: u64) -> String {
	format!("{first_sequence:020}{SEGMENT_SUFFIX}")
}

/// The first sequence number of a segment file with this name, or `None` for any other
/// file.
fn segment_start(name: &std::ffi::OsStr) -> Option<u64> {
	let digits = name.to_str()?.strip_suffix(SEGMENT_SUFFIX)?;
	if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
		return None;
	}
	digits.parse().ok()
}

/// Makes a directory's entries (a new file, a new subdirectory) durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
	File::open(dir)
		.and_then(|handle| handle.sync_all())
		.map_err(|error| StoreError::io(dir, error))
}
