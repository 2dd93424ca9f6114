//! The agent's persistent buffer of one sensor's readings: every reading is written here
//! before anything is sent, and leaves only once the node acknowledged the feed entry made
//! from it.
//!
//! # Files
//!
//! One directory per sensor under `<data-dir>/sensors/`, named by the hex of the sensor's
//! element id:
//!
//! - `readings.log`: a header (`DTRB`, version 1, the index of its first reading, u64 LE),
//!   then one record per reading: body length (u32 LE), XXH64 of the body (u64 LE), body
//!   (timestamp in ms, u64 LE, then the payload). Appended only; records are numbered by
//!   their position, from the header's first index on.
//! - `state.json`: the sensor, its feed, and how far the node acknowledged: `acked` readings
//!   (indices below it) are stored on the node, the last of them is `head`. Written to a
//!   temporary file, fsynced and renamed over the old one, so it is always whole.
//!
//! # Entries
//!
//! Reading `i` becomes the feed entry with sequence number `base + i`, linked to the entry
//! before it; `base` is fixed when the buffer is bound to its feed. The buffer builds the
//! entries of its unacknowledged readings on demand ([`SensorBuffer::unsent_entries`]),
//! handing each payload to a sealer first (the feed's epoch key, for a feed above Public).
//! The node acknowledges entries, not readings: [`SensorBuffer::acknowledge`] takes the
//! entries that reached it (those the agent sent, or after a restart those the node serves,
//! signed by the device) and checks that they carry exactly the buffer's readings before
//! letting the readings go.
//!
//! # Durability
//!
//! Readings are appended with `write` and fsynced by [`SensorBuffer::sync`] (the agent calls
//! it every flush interval); only fsynced readings are sent. A crash (of the agent or the
//! machine) can therefore lose only readings taken since the last sync, which were never
//! sent, so the store and the buffer never disagree. A torn record at the end of the log is
//! cut off when the buffer is opened. Acknowledged readings are dropped from memory at once
//! and from the file when it is compacted (rewritten without them, then renamed over it).

use dt_offchain::feed::{Entry, EntryHash, GENESIS_PREVIOUS};
use dt_primitives::feed::{Checkpoint, FeedId, ValueRange};
use serde::{Deserialize, Serialize};
use sp_crypto_hashing::twox_64;
use std::{
	collections::VecDeque,
	fs::{self, File, OpenOptions},
	io::{Read, Write},
	path::{Path, PathBuf},
};

use crate::device::SensorInfo;

const MAGIC: &[u8; 4] = b"DTRB";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 8;
/// Length and checksum before each record's body.
const RECORD_PREFIX: usize = 4 + 8;
/// Largest record body: a timestamp and the largest payload a feed entry may carry.
const MAX_BODY: usize = 8 + dt_offchain::feed::MAX_PAYLOAD;
/// Acknowledged readings kept in the file before it is rewritten without them.
const COMPACT_AFTER: u64 = 4096;

/// Why the buffer cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
	/// A file of the buffer could not be read or written.
	#[error("{action} {path}: {source}")]
	Io {
		action: &'static str,
		path: PathBuf,
		#[source]
		source: std::io::Error,
	},
	/// A file of the buffer does not hold what the agent wrote.
	#[error("{path} is damaged: {reason}; move it away to start the sensor afresh")]
	Corrupt { path: PathBuf, reason: String },
	/// The store holds a different entry than this buffer made for the same sequence number.
	#[error(
		"feed {feed}: the node's entry {sequence} differs from this agent's; another process \
		 writes the feed with the same key"
	)]
	Fork { feed: FeedId, sequence: u64 },
	/// The store lacks entries it acknowledged before.
	#[error(
		"feed {feed}: the node's log ends before entry {acknowledged}, which it acknowledged; \
		 the node lost data"
	)]
	StoreBehind { feed: FeedId, acknowledged: u64 },
	/// The entries given as acknowledged do not carry this buffer's readings.
	#[error(
		"feed {feed}: entry {sequence} does not carry reading {sequence} of this agent's \
		 buffer ({reason}); another process writes the feed with the same key"
	)]
	NotOurs { feed: FeedId, sequence: u64, reason: &'static str },
	/// The store holds entries this buffer never made.
	#[error(
		"feed {feed}: the node has entry {store}, but this agent made entries only up to \
		 {ours:?}; another process writes the feed with the same key"
	)]
	StoreAhead { feed: FeedId, store: u64, ours: Option<u64> },
	/// The buffer is already bound to a feed, or has acknowledged readings without one.
	#[error("the buffer of {element} is bound to feed {feed:?} already")]
	AlreadyBound { element: String, feed: Option<FeedId> },
}

/// A sensor replacement the agent has yet to send to the chain, kept with the new sensor's
/// buffer so it survives a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReplacement {
	/// The old sensor's element id.
	pub old_element: String,
	/// The new sensor's AML element.
	pub fragment: String,
	/// The new sensor's serial number.
	pub serial: String,
}

/// What `state.json` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferState {
	/// The sensor's element id.
	pub element: String,
	/// The station it belongs to.
	pub station: String,
	/// The unit of its readings.
	pub unit: String,
	/// The range its readings are expected in.
	pub expected_range: Option<ValueRange>,
	/// The feed its readings go to, once known.
	pub feed: Option<FeedId>,
	/// The sequence number of reading 0 in the feed.
	pub base: u64,
	/// Readings the node acknowledged: every index below it.
	pub acked: u64,
	/// The last acknowledged entry (or, for a feed bound with entries, the node's last).
	pub head: Option<Checkpoint>,
	/// The highest key epoch this buffer's feed entries were sealed under, or claimed for;
	/// the next epoch is claimed above it.
	#[serde(default)]
	pub last_epoch: Option<u32>,
	/// The replacement that brought this sensor, until the chain has it.
	pub replaces: Option<PendingReplacement>,
	/// The sensor is gone: no new readings; its buffer ends once everything is acknowledged.
	pub retired: bool,
}

struct Record {
	timestamp: u64,
	payload: Vec<u8>,
}

/// The buffer of one sensor.
pub struct SensorBuffer {
	dir: PathBuf,
	log: File,
	state: BufferState,
	/// The index of the log file's first record.
	file_first: u64,
	/// The index of `records[0]`.
	first: u64,
	records: VecDeque<Record>,
	/// Readings with an index below it are fsynced.
	durable: u64,
}

impl SensorBuffer {
	/// The directory of `element`'s buffer under `root`.
	pub fn dir_of(root: &Path, element: &str) -> PathBuf {
		root.join("sensors").join(hex::encode(element))
	}

	/// The directories of every buffer under `root`.
	pub fn existing(root: &Path) -> Result<Vec<PathBuf>, BufferError> {
		let sensors = root.join("sensors");
		let entries = match fs::read_dir(&sensors) {
			Ok(entries) => entries,
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
			Err(source) => {
				return Err(BufferError::Io { action: "cannot list", path: sensors, source })
			},
		};
		let mut dirs = Vec::new();
		for entry in entries {
			let entry = entry.map_err(|source| io("cannot list", &sensors, source))?.path();
			if entry.join("state.json").is_file() {
				dirs.push(entry);
			}
		}
		dirs.sort();
		Ok(dirs)
	}

	/// Creates the buffer of a new sensor under `root`, or opens it if it exists.
	pub fn create(
		root: &Path,
		sensor: &SensorInfo,
		replaces: Option<PendingReplacement>,
	) -> Result<SensorBuffer, BufferError> {
		let dir = Self::dir_of(root, &sensor.element);
		if dir.join("state.json").is_file() {
			return Self::open(&dir);
		}
		fs::create_dir_all(&dir).map_err(|source| io("cannot create", &dir, source))?;
		let state = BufferState {
			element: sensor.element.clone(),
			station: sensor.station.clone(),
			unit: sensor.unit.clone(),
			expected_range: sensor.expected_range,
			feed: None,
			base: 0,
			acked: 0,
			head: None,
			last_epoch: None,
			replaces,
			retired: false,
		};
		let log_path = dir.join("readings.log");
		write_durably(&log_path, &header(0))?;
		write_state(&dir, &state)?;
		sync_dir(dir.parent().unwrap_or(&dir))?;
		Self::open(&dir)
	}

	/// Opens an existing buffer, cutting off a torn last record.
	pub fn open(dir: &Path) -> Result<SensorBuffer, BufferError> {
		let state_path = dir.join("state.json");
		let text =
			fs::read(&state_path).map_err(|source| io("cannot read", &state_path, source))?;
		let state: BufferState = serde_json::from_slice(&text).map_err(|e| {
			BufferError::Corrupt { path: state_path.clone(), reason: e.to_string() }
		})?;
		let log_path = dir.join("readings.log");
		let mut bytes = Vec::new();
		File::open(&log_path)
			.and_then(|mut file| file.read_to_end(&mut bytes))
			.map_err(|source| io("cannot read", &log_path, source))?;
		let corrupt = |reason: String| BufferError::Corrupt { path: log_path.clone(), reason };
		if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC || bytes[4] != VERSION {
			return Err(corrupt("no readings-log header".into()));
		}
		let file_first = u64::from_le_bytes(bytes[5..HEADER_LEN].try_into().expect("8 bytes"));
		let (records, valid_len) = parse_records(&bytes[HEADER_LEN..]);
		let valid_len = HEADER_LEN + valid_len;
		let log = OpenOptions::new()
			.append(true)
			.open(&log_path)
			.map_err(|source| io("cannot open", &log_path, source))?;
		if valid_len < bytes.len() {
			log::warn!(
				"{}: cut off {} bytes of a reading written when the agent stopped",
				log_path.display(),
				bytes.len() - valid_len
			);
			log.set_len(valid_len as u64)
				.and_then(|()| log.sync_data())
				.map_err(|source| io("cannot truncate", &log_path, source))?;
		}
		let end = file_first + records.len() as u64;
		if state.acked < file_first || state.acked > end {
			return Err(corrupt(format!(
				"it holds readings {file_first}..{end}, but {} are acknowledged",
				state.acked
			)));
		}
		let mut records: VecDeque<Record> = records.into();
		records.drain(..(state.acked - file_first) as usize);
		Ok(SensorBuffer {
			dir: dir.to_owned(),
			log,
			first: state.acked,
			state,
			file_first,
			records,
			durable: end,
		})
	}

	/// The buffer's state.
	pub fn state(&self) -> &BufferState {
		&self.state
	}

	/// The sensor's element id.
	pub fn element(&self) -> &str {
		&self.state.element
	}

	/// The index the next reading gets.
	pub fn next_index(&self) -> u64 {
		self.first + self.records.len() as u64
	}

	/// Durable readings not acknowledged yet: what can be sent now.
	pub fn sendable(&self) -> u64 {
		self.durable.saturating_sub(self.state.acked)
	}

	/// Readings taken and not acknowledged yet.
	pub fn unacknowledged(&self) -> u64 {
		self.next_index() - self.state.acked
	}

	/// Appends a reading (not yet durable: see [`Self::sync`]).
	pub fn push(&mut self, timestamp: u64, payload: Vec<u8>) -> Result<u64, BufferError> {
		let mut body = Vec::with_capacity(8 + payload.len());
		body.extend_from_slice(&timestamp.to_le_bytes());
		body.extend_from_slice(&payload);
		let mut record = Vec::with_capacity(RECORD_PREFIX + body.len());
		record.extend_from_slice(&(body.len() as u32).to_le_bytes());
		record.extend_from_slice(&twox_64(&body));
		record.extend_from_slice(&body);
		let path = self.dir.join("readings.log");
		self.log
			.write_all(&record)
			.map_err(|source| io("cannot append to", &path, source))?;
		let index = self.next_index();
		self.records.push_back(Record { timestamp, payload });
		Ok(index)
	}

	/// Makes every reading appended so far durable.
	pub fn sync(&mut self) -> Result<(), BufferError> {
		if self.durable < self.next_index() {
			self.log
				.sync_data()
				.map_err(|source| io("cannot sync", &self.dir.join("readings.log"), source))?;
			self.durable = self.next_index();
		}
		Ok(())
	}

	/// Binds the buffer to `feed`, whose log on the node ends with `store_head` (`None`:
	/// empty): reading 0 becomes the entry after it.
	pub fn bind(
		&mut self,
		feed: FeedId,
		store_head: Option<Checkpoint>,
	) -> Result<(), BufferError> {
		if self.state.feed.is_some() || self.state.acked > 0 {
			return Err(BufferError::AlreadyBound {
				element: self.state.element.clone(),
				feed: self.state.feed,
			});
		}
		self.state.feed = Some(feed);
		self.state.base = store_head.map_or(0, |head| head.sequence + 1);
		self.state.head = store_head;
		self.state.replaces = None;
		write_state(&self.dir, &self.state)
	}

	/// Records that this sensor replaced `pending.old_element`, unless the buffer is bound to
	/// a feed already.
	pub fn expect_replacement(&mut self, pending: PendingReplacement) -> Result<(), BufferError> {
		if self.state.feed.is_some() {
			return Err(BufferError::AlreadyBound {
				element: self.state.element.clone(),
				feed: self.state.feed,
			});
		}
		self.state.replaces = Some(pending);
		write_state(&self.dir, &self.state)
	}

	/// Marks the sensor as gone: it takes no more readings.
	pub fn retire(&mut self) -> Result<(), BufferError> {
		self.state.retired = true;
		write_state(&self.dir, &self.state)
	}

	/// Records that the feed's entries are sealed under `epoch` from now on.
	pub fn record_epoch(&mut self, epoch: u32) -> Result<(), BufferError> {
		if self.state.last_epoch.is_some_and(|last| last >= epoch) {
			return Ok(());
		}
		self.state.last_epoch = Some(epoch);
		write_state(&self.dir, &self.state)
	}

	/// The sequence number of the first unacknowledged reading's entry.
	pub fn next_unacknowledged(&self) -> u64 {
		self.state.base + self.state.acked
	}

	/// The feed entries of up to `max` durable, unacknowledged readings, oldest first,
	/// linked from the acknowledged head; `seal` turns each reading's sequence number and
	/// payload into the entry's epoch and payload. Empty while the buffer has no feed.
	pub fn unsent_entries<E>(
		&self,
		max: usize,
		mut seal: impl FnMut(u64, &[u8]) -> Result<(Option<u32>, Vec<u8>), E>,
	) -> Result<Vec<Entry>, E> {
		let Some(feed) = self.state.feed else { return Ok(Vec::new()) };
		let durable = self.durable.saturating_sub(self.state.acked) as usize;
		let mut previous = self.head_hash();
		let mut sequence = self.next_unacknowledged();
		let mut entries = Vec::new();
		for record in self.records.iter().take(durable.min(max)) {
			let (epoch, payload) = seal(sequence, &record.payload)?;
			let entry =
				Entry { feed, sequence, timestamp: record.timestamp, previous, epoch, payload };
			previous = entry.hash();
			sequence += 1;
			entries.push(entry);
		}
		Ok(entries)
	}

	/// The plaintext feed entries of up to `max` durable, unacknowledged readings, linked
	/// from the acknowledged head: what a public feed stores.
	pub fn plaintext_entries(&self, max: usize) -> Vec<Entry> {
		let plain = |_, payload: &[u8]| Ok::<_, std::convert::Infallible>((None, payload.to_vec()));
		match self.unsent_entries(max, plain) {
			Ok(entries) => entries,
			Err(never) => match never {},
		}
	}

	/// The hash the first unacknowledged reading's entry links to.
	pub fn head_hash(&self) -> EntryHash {
		self.state.head.map_or(GENESIS_PREVIOUS, |head| head.entry_hash)
	}

	/// Records that the node stored every entry up to `head`. `entries` are the entries
	/// that reached the node from the first unacknowledged one on (as sent, or as the node
	/// serves them, signed by the device): the ones up to `head` must carry this buffer's
	/// readings, in order and linked, and the last of them be `head`.
	pub fn acknowledge(&mut self, head: Checkpoint, entries: &[Entry]) -> Result<(), BufferError> {
		let feed = self.state.feed.ok_or_else(|| BufferError::AlreadyBound {
			element: self.state.element.clone(),
			feed: None,
		})?;
		let next = self.next_unacknowledged();
		if head.sequence + 1 == next {
			return if self.state.head.map(|h| h.entry_hash) == Some(head.entry_hash) {
				Ok(())
			} else {
				Err(BufferError::Fork { feed, sequence: head.sequence })
			};
		}
		if head.sequence < next {
			return Err(BufferError::StoreBehind { feed, acknowledged: next - 1 });
		}
		let needed = head.sequence + 1 - next;
		let durable = self.durable - self.state.acked;
		if needed > durable || (entries.len() as u64) < needed {
			let ours = (self.state.base + self.durable).checked_sub(1);
			return Err(BufferError::StoreAhead { feed, store: head.sequence, ours });
		}
		let mut previous = self.head_hash();
		let readings = entries.iter().zip(&self.records).take(needed as usize);
		for (sequence, (entry, record)) in (next..).zip(readings) {
			let not_ours = |reason| BufferError::NotOurs { feed, sequence, reason };
			if entry.feed != feed || entry.sequence != sequence {
				return Err(not_ours("another feed or sequence number"));
			}
			if entry.previous != previous {
				return Err(not_ours("it does not link to the entry before"));
			}
			if entry.timestamp != record.timestamp {
				return Err(not_ours("another timestamp"));
			}
			if entry.epoch.is_none() && entry.payload != record.payload {
				return Err(not_ours("another payload"));
			}
			previous = entry.hash();
		}
		let last = &entries[needed as usize - 1];
		if last.sequence != head.sequence
			|| previous != head.entry_hash
			|| last.timestamp != head.timestamp
		{
			return Err(BufferError::Fork { feed, sequence: head.sequence });
		}
		self.state.acked += needed;
		self.state.head = Some(head);
		if let Some(epoch) = last.epoch {
			self.state.last_epoch = Some(self.state.last_epoch.map_or(epoch, |e| e.max(epoch)));
		}
		write_state(&self.dir, &self.state)?;
		self.records.drain(..needed as usize);
		self.first = self.state.acked;
		if self.state.acked - self.file_first >= COMPACT_AFTER {
			self.compact()?;
		}
		Ok(())
	}

	/// Brings the buffer in line with the node's log, whose last entry is `store_head`: what
	/// the node has beyond the acknowledged head (stored, but the answer was lost) counts as
	/// acknowledged, given the `entries` that reached it (see [`Self::acknowledge`]).
	pub fn reconcile(
		&mut self,
		store_head: Option<Checkpoint>,
		entries: &[Entry],
	) -> Result<(), BufferError> {
		let Some(feed) = self.state.feed else { return Ok(()) };
		match (store_head, self.state.head) {
			(None, None) => Ok(()),
			(None, Some(ours)) => {
				Err(BufferError::StoreBehind { feed, acknowledged: ours.sequence })
			},
			(Some(store), _) => self.acknowledge(store, entries),
		}
	}

	/// Rewrites the log without its acknowledged readings.
	fn compact(&mut self) -> Result<(), BufferError> {
		let path = self.dir.join("readings.log");
		let temporary = self.dir.join("readings.log.new");
		let mut bytes = header(self.first);
		for record in &self.records {
			let mut body = record.timestamp.to_le_bytes().to_vec();
			body.extend_from_slice(&record.payload);
			bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
			bytes.extend_from_slice(&twox_64(&body));
			bytes.extend_from_slice(&body);
		}
		write_durably(&temporary, &bytes)?;
		fs::rename(&temporary, &path).map_err(|source| io("cannot replace", &path, source))?;
		sync_dir(&self.dir)?;
		self.log = OpenOptions::new()
			.append(true)
			.open(&path)
			.map_err(|source| io("cannot open", &path, source))?;
		self.file_first = self.first;
		self.durable = self.next_index();
		Ok(())
	}

	/// Deletes the buffer of a sensor that is gone and whose readings are all acknowledged.
	pub fn remove(self) -> Result<(), BufferError> {
		fs::remove_dir_all(&self.dir).map_err(|source| io("cannot remove", &self.dir, source))
	}
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> BufferError {
	BufferError::Io { action, path: path.to_owned(), source }
}

fn header(first: u64) -> Vec<u8> {
	let mut header = MAGIC.to_vec();
	header.push(VERSION);
	header.extend_from_slice(&first.to_le_bytes());
	header
}

/// The whole records at the start of `bytes` and how many bytes they take.
fn parse_records(bytes: &[u8]) -> (Vec<Record>, usize) {
	let mut records = Vec::new();
	let mut at = 0;
	while let Some(prefix) = bytes.get(at..at + RECORD_PREFIX) {
		let len = u32::from_le_bytes(prefix[..4].try_into().expect("4 bytes")) as usize;
		let Some(body) = bytes.get(at + RECORD_PREFIX..at + RECORD_PREFIX + len) else { break };
		if len < 8 || len > MAX_BODY || twox_64(body)[..] != prefix[4..] {
			break;
		}
		records.push(Record {
			timestamp: u64::from_le_bytes(body[..8].try_into().expect("8 bytes")),
			payload: body[8..].to_vec(),
		});
		at += RECORD_PREFIX + len;
	}
	(records, at)
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), BufferError> {
	let mut file = File::create(path).map_err(|source| io("cannot create", path, source))?;
	file.write_all(bytes)
		.and_then(|()| file.sync_all())
		.map_err(|source| io("cannot write", path, source))
}

fn write_state(dir: &Path, state: &BufferState) -> Result<(), BufferError> {
	let path = dir.join("state.json");
	let temporary = dir.join("state.json.new");
	let text = serde_json::to_vec_pretty(state).expect("the state serializes");
	write_durably(&temporary, &text)?;
	fs::rename(&temporary, &path).map_err(|source| io("cannot replace", &path, source))?;
	sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), BufferError> {
	File::open(dir)
		.and_then(|dir| dir.sync_all())
		.map_err(|source| io("cannot sync", dir, source))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn sensor() -> SensorInfo {
		SensorInfo {
			station: "filler".into(),
			element: "fill-sensor".into(),
			unit: "mm".into(),
			expected_range: None,
		}
	}

	fn fill(buffer: &mut SensorBuffer, count: u64) {
		for i in 0..count {
			buffer.push(1_000 + i, format!("250.{}", i % 10).into_bytes()).unwrap();
		}
	}

	#[test]
	fn only_durable_readings_of_a_bound_buffer_are_sent() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		fill(&mut buffer, 3);
		assert!(buffer.plaintext_entries(10).is_empty(), "no feed yet");
		buffer.bind(7, None).unwrap();
		assert!(buffer.plaintext_entries(10).is_empty(), "not synced yet");
		buffer.sync().unwrap();
		let entries = buffer.plaintext_entries(10);
		assert_eq!(entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), [0, 1, 2]);
		assert_eq!(entries[0].previous, GENESIS_PREVIOUS);
		assert_eq!(entries[1].previous, entries[0].hash());
		assert!(entries.iter().all(|e| e.feed == 7));
		assert!(matches!(buffer.bind(8, None), Err(BufferError::AlreadyBound { .. })));
	}

	#[test]
	fn acknowledged_readings_leave_and_the_rest_survive_a_restart() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		let store_head = Checkpoint { sequence: 41, entry_hash: [9; 32], timestamp: 5 };
		buffer.bind(3, Some(store_head)).unwrap();
		fill(&mut buffer, 5);
		buffer.sync().unwrap();
		let sent = buffer.plaintext_entries(2);
		assert_eq!(sent[0].sequence, 42);
		assert_eq!(sent[0].previous, [9; 32]);
		buffer.acknowledge(sent[1].checkpoint(), &sent).unwrap();
		assert_eq!(buffer.unacknowledged(), 3);
		let expected = buffer.plaintext_entries(10);
		drop(buffer);

		let mut reopened =
			SensorBuffer::open(&SensorBuffer::dir_of(dir.path(), "fill-sensor")).unwrap();
		assert_eq!(reopened.plaintext_entries(10), expected, "the same entries, rebuilt");
		assert_eq!(expected[0].sequence, 44);
		// The node stored two more but its answer was lost: they count as acknowledged.
		reopened.reconcile(Some(expected[1].checkpoint()), &expected).unwrap();
		assert_eq!(reopened.plaintext_entries(10), expected[2..].to_vec());
		// Already acknowledged: nothing changes.
		reopened.reconcile(Some(expected[1].checkpoint()), &[]).unwrap();
		assert_eq!(reopened.unacknowledged(), 1);
	}

	#[test]
	fn a_store_that_disagrees_is_reported_not_papered_over() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		buffer.bind(1, None).unwrap();
		fill(&mut buffer, 3);
		buffer.sync().unwrap();
		let entries = buffer.plaintext_entries(3);
		let mut forged = entries[1].checkpoint();
		forged.entry_hash = [0xee; 32];
		assert!(matches!(
			buffer.reconcile(Some(forged), &entries),
			Err(BufferError::Fork { sequence: 1, .. })
		));
		let beyond = Checkpoint { sequence: 9, entry_hash: [1; 32], timestamp: 1 };
		assert!(matches!(
			buffer.reconcile(Some(beyond), &entries),
			Err(BufferError::StoreAhead { .. })
		));
		buffer.acknowledge(entries[2].checkpoint(), &entries).unwrap();
		assert!(matches!(buffer.reconcile(None, &[]), Err(BufferError::StoreBehind { .. })));
		assert!(matches!(
			buffer.reconcile(Some(entries[0].checkpoint()), &[]),
			Err(BufferError::StoreBehind { acknowledged: 2, .. })
		));
	}

	#[test]
	fn a_torn_last_record_is_cut_off() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		fill(&mut buffer, 4);
		buffer.sync().unwrap();
		drop(buffer);
		let path = SensorBuffer::dir_of(dir.path(), "fill-sensor").join("readings.log");
		let bytes = fs::read(&path).unwrap();
		fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
		let mut reopened = SensorBuffer::open(path.parent().unwrap()).unwrap();
		assert_eq!(reopened.next_index(), 3);
		reopened.push(2_000, b"251.0".to_vec()).unwrap();
		reopened.sync().unwrap();
		drop(reopened);
		let reopened = SensorBuffer::open(path.parent().unwrap()).unwrap();
		assert_eq!(reopened.next_index(), 4, "the log goes on after the cut");

		fs::write(&path, b"not a log").unwrap();
		assert!(matches!(
			SensorBuffer::open(path.parent().unwrap()),
			Err(BufferError::Corrupt { .. })
		));
	}

	#[test]
	fn compaction_keeps_exactly_the_unacknowledged_readings() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		buffer.bind(2, None).unwrap();
		fill(&mut buffer, COMPACT_AFTER + 10);
		buffer.sync().unwrap();
		let entries = buffer.plaintext_entries(usize::MAX);
		buffer
			.acknowledge(entries[COMPACT_AFTER as usize].checkpoint(), &entries)
			.unwrap();
		let path = SensorBuffer::dir_of(dir.path(), "fill-sensor");
		let size = fs::metadata(path.join("readings.log")).unwrap().len();
		assert!(size < 1_000, "rewritten without the acknowledged readings ({size} bytes)");
		fill(&mut buffer, 1);
		buffer.sync().unwrap();
		drop(buffer);
		let reopened = SensorBuffer::open(&path).unwrap();
		let rest = reopened.plaintext_entries(usize::MAX);
		assert_eq!(rest[..9], entries[COMPACT_AFTER as usize + 1..]);
		assert_eq!(rest.len(), 10);
	}

	#[test]
	fn sealed_entries_are_acknowledged_only_if_they_carry_the_readings() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		buffer.bind(4, None).unwrap();
		fill(&mut buffer, 4);
		buffer.sync().unwrap();
		// A stand-in for the epoch key: what matters is that the payload is not the reading.
		let seal = |sequence: u64, payload: &[u8]| {
			let mut sealed = payload.to_vec();
			sealed.push(sequence as u8);
			Ok::<_, ()>((Some(3), sealed))
		};
		let all = buffer.unsent_entries(10, seal).unwrap();
		assert_eq!(all.iter().map(|e| e.sequence).collect::<Vec<_>>(), [0, 1, 2, 3]);
		assert_eq!(all[2].previous, all[1].hash(), "linked over the sealed payloads");
		assert!(all.iter().all(|e| e.epoch == Some(3) && e.payload.len() == 6));
		let (first, rest) = (all[..2].to_vec(), all[2..].to_vec());

		// The node serves entries of another timestamp (a second writer with the same key).
		let mut other = first.clone();
		other[0].timestamp += 1;
		other[1].previous = other[0].hash();
		assert!(matches!(
			buffer.acknowledge(other[1].checkpoint(), &other),
			Err(BufferError::NotOurs { sequence: 0, .. })
		));
		// A head beyond the entries given cannot be acknowledged.
		assert!(matches!(
			buffer.acknowledge(rest[0].checkpoint(), &first),
			Err(BufferError::StoreAhead { .. })
		));
		assert_eq!(buffer.unacknowledged(), 4, "nothing acknowledged by the refusals");

		buffer.acknowledge(all[2].checkpoint(), &all).unwrap();
		assert_eq!(buffer.unacknowledged(), 1);
		assert_eq!(buffer.state().last_epoch, Some(3));
		assert_eq!(buffer.next_unacknowledged(), 3);
		assert_eq!(buffer.head_hash(), all[2].hash());
	}

	#[test]
	fn a_plaintext_entry_with_another_payload_is_not_ours() {
		let dir = tempfile::tempdir().unwrap();
		let mut buffer = SensorBuffer::create(dir.path(), &sensor(), None).unwrap();
		buffer.bind(5, None).unwrap();
		fill(&mut buffer, 1);
		buffer.sync().unwrap();
		let mut entries = buffer.plaintext_entries(1);
		entries[0].payload = b"999.9".to_vec();
		assert!(matches!(
			buffer.acknowledge(entries[0].checkpoint(), &entries),
			Err(BufferError::NotOurs { sequence: 0, .. })
		));
	}
}
