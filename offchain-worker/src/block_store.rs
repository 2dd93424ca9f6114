//! The persistent, content-addressed store of blocks (sealed chunks, manifests, key
//! envelopes) on a node's disk.
//!
//! A block is stored under its [`Cid`] and checked against it whenever it is read, so a
//! file damaged on disk is reported ([`BlockStoreError::Corrupted`]) instead of being
//! served; the replica then [quarantines](BlockStore::quarantine) or
//! [removes](BlockStore::remove) it and fetches a good copy from another replica.
//!
//! # Layout
//!
//! ```text
//! <root>/LOCK                      held (flock) while a process has the store open
//! <root>/blocks/<xx>/<cid>         one file per block; xx = first digest byte in hex
//! <root>/tmp/                      blocks being written; emptied at open
//! <root>/quarantine/<cid>.<n>      corrupted blocks moved aside for inspection
//! ```
//!
//! `<cid>` is the base32 text form (`bafkrei…`). The 256 shard directories keep every
//! directory small (a million blocks is about 4000 files per directory).
//!
//! # Durability: what an acknowledged write guarantees
//!
//! [`BlockStore::put`] writes the block to a new file in `tmp/`, fsyncs it, renames it into
//! its shard directory and fsyncs that directory; it returns `Ok` (the write is
//! *acknowledged*) only after all of this. An acknowledged block therefore survives the
//! process being killed (`kill -9`), an operating system crash and a power loss, provided
//! the filesystem and the disk honour `fsync` (ext4, XFS, btrfs on a disk without a lying
//! write cache). A `put` interrupted before it returns leaves either nothing or the whole
//! block, never part of it under its id: the rename is atomic, and leftover temporary
//! files are deleted by the next [`BlockStore::open`]. [`BlockStore::remove`] is durable
//! when it returns too. Whatever is found on disk is verified on every read, so even a
//! disk that breaks these promises cannot make the store serve wrong bytes.

use std::{
	fs::{self, File, OpenOptions},
	io::{self, Read, Write},
	path::{Path, PathBuf},
	sync::atomic::{AtomicU64, Ordering},
};

use crate::content_id::{verify, Cid};

/// Largest block accepted: a sealed chunk is 1 MiB and 16 bytes; a manifest listing the
/// chunks of a 100 GiB document is under 4 MiB. Bounds what a hostile peer can make a
/// replica write, and what a read holds in memory.
pub const MAX_BLOCK_SIZE: usize = 4 << 20;

const LOCK_FILE: &str = "LOCK";
const BLOCKS_DIR: &str = "blocks";
const TMP_DIR: &str = "tmp";
const QUARANTINE_DIR: &str = "quarantine";

/// Why a block store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlockStoreError {
	/// A filesystem operation failed.
	#[error("cannot {action} {path}: {source}")]
	Io {
		/// What was being done.
		action: &'static str,
		/// The file or directory concerned.
		path: PathBuf,
		/// The operating system's error.
		#[source]
		source: io::Error,
	},
	/// Another process has this store open (two writers would delete each other's temporary
	/// files at open).
	#[error("the block store at {path} is in use by another process")]
	Locked {
		/// The store's directory.
		path: PathBuf,
	},
	/// The file stored for a block does not hash to its id.
	#[error(
		"block {cid} is corrupted on disk ({path}); quarantine or remove it and fetch it again"
	)]
	Corrupted {
		/// The block's id.
		cid: Cid,
		/// Its file.
		path: PathBuf,
	},
	/// A block larger than [`MAX_BLOCK_SIZE`].
	#[error("a block of {len} bytes exceeds the limit of {max} bytes")]
	TooLarge {
		/// Its length.
		len: u64,
		/// [`MAX_BLOCK_SIZE`].
		max: usize,
	},
}

fn io_error<'a>(
	action: &'static str,
	path: &'a Path,
) -> impl FnOnce(io::Error) -> BlockStoreError + 'a {
	move |source| BlockStoreError::Io { action, path: path.to_owned(), source }
}

/// A content-addressed block store in a directory. Share it between threads by reference
/// (or in an `Arc`): every method takes `&self`, and concurrent puts, even of the same
/// block, are safe.
#[derive(Debug)]
pub struct BlockStore {
	root: PathBuf,
	/// Holds the advisory lock for as long as the store is open.
	_lock: File,
	next_temp: AtomicU64,
}

impl BlockStore {
	/// Opens (creating if needed) the store in `root`, takes its lock and deletes the
	/// temporary files of writes that a crash interrupted.
	pub fn open(root: impl AsRef<Path>) -> Result<Self, BlockStoreError> {
		let root = root.as_ref().to_owned();
		fs::create_dir_all(&root).map_err(io_error("create", &root))?;
		let lock_path = root.join(LOCK_FILE);
		let lock = OpenOptions::new()
			.create(true)
			.truncate(false)
			.write(true)
			.open(&lock_path)
			.map_err(io_error("open", &lock_path))?;
		match lock.try_lock() {
			Ok(()) => {},
			Err(fs::TryLockError::WouldBlock) => {
				return Err(BlockStoreError::Locked { path: root })
			},
			Err(fs::TryLockError::Error(source)) => {
				return Err(BlockStoreError::Io { action: "lock", path: lock_path, source })
			},
		}
		let store = Self { root, _lock: lock, next_temp: AtomicU64::new(0) };
		store.create_layout()?;
		store.clean_temporary_files()?;
		Ok(store)
	}

	/// Creates the directories, all 256 shards included, and makes them durable once, so
	/// that a put never has to create (and fsync the parent of) a directory.
	fn create_layout(&self) -> Result<(), BlockStoreError> {
		let blocks = self.root.join(BLOCKS_DIR);
		for dir in [&blocks, &self.root.join(TMP_DIR), &self.root.join(QUARANTINE_DIR)] {
			fs::create_dir_all(dir).map_err(io_error("create", dir))?;
		}
		for shard in 0..=255u8 {
			let dir = blocks.join(format!("{shard:02x}"));
			fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
		}
		sync_dir(&blocks)?;
		sync_dir(&self.root)
	}

	fn clean_temporary_files(&self) -> Result<(), BlockStoreError> {
		let tmp = self.root.join(TMP_DIR);
		for entry in fs::read_dir(&tmp).map_err(io_error("list", &tmp))? {
			let path = entry.map_err(io_error("list", &tmp))?.path();
			fs::remove_file(&path).map_err(io_error("remove leftover", &path))?;
		}
		sync_dir(&tmp)
	}

	/// The directory the store lives in.
	pub fn root(&self) -> &Path {
		&self.root
	}

	/// The file that holds (or would hold) block `cid`.
	pub fn path_of(&self, cid: &Cid) -> PathBuf {
		self.shard_of(cid).join(cid.to_string())
	}

	fn shard_of(&self, cid: &Cid) -> PathBuf {
		self.root.join(BLOCKS_DIR).join(format!("{:02x}", cid.digest()[0]))
	}

	/// Stores `bytes` durably and returns their id; see the module documentation for what
	/// the returned `Ok` guarantees. Storing a block that is already present rewrites it
	/// only if the stored copy is damaged.
	pub fn put(&self, bytes: &[u8]) -> Result<Cid, BlockStoreError> {
		if bytes.len() > MAX_BLOCK_SIZE {
			return Err(BlockStoreError::TooLarge { len: bytes.len() as u64, max: MAX_BLOCK_SIZE });
		}
		let cid = Cid::of(bytes);
		let path = self.path_of(&cid);
		if matches!(self.get(&cid), Ok(Some(_))) {
			// Present and intact; its directory entry may come from a concurrent put that
			// has not synced it yet, so sync before acknowledging.
			sync_dir(&self.shard_of(&cid))?;
			return Ok(cid);
		}
		let temp = self.root.join(TMP_DIR).join(format!(
			"{cid}.{}.{}",
			std::process::id(),
			self.next_temp.fetch_add(1, Ordering::Relaxed)
		));
		let written = write_synced(&temp, bytes)
			.and_then(|()| fs::rename(&temp, &path).map_err(io_error("move into place", &path)));
		if let Err(error) = written {
			let _ = fs::remove_file(&temp);
			return Err(error);
		}
		sync_dir(&self.shard_of(&cid))?;
		Ok(cid)
	}

	/// The block `cid`, checked against its id; `None` if the store does not have it.
	pub fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, BlockStoreError> {
		let path = self.path_of(cid);
		let mut file = match File::open(&path) {
			Ok(file) => file,
			Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(error) => return Err(io_error("open", &path)(error)),
		};
		let len = file.metadata().map_err(io_error("inspect", &path))?.len();
		if len > MAX_BLOCK_SIZE as u64 {
			return Err(BlockStoreError::Corrupted { cid: *cid, path });
		}
		let mut bytes = Vec::with_capacity(len as usize);
		// Read one byte past the expected length, so a file that grew is caught as well.
		(&mut file)
			.take(MAX_BLOCK_SIZE as u64 + 1)
			.read_to_end(&mut bytes)
			.map_err(io_error("read", &path))?;
		if verify(cid, &bytes).is_err() {
			return Err(BlockStoreError::Corrupted { cid: *cid, path });
		}
		Ok(Some(bytes))
	}

	/// Whether a file for `cid` is present (not read, so not verified: use [`Self::get`]).
	pub fn has(&self, cid: &Cid) -> Result<bool, BlockStoreError> {
		let path = self.path_of(cid);
		path.try_exists().map_err(io_error("inspect", &path))
	}

	/// Deletes block `cid` durably; `false` if it was not there.
	pub fn remove(&self, cid: &Cid) -> Result<bool, BlockStoreError> {
		let path = self.path_of(cid);
		match fs::remove_file(&path) {
			Ok(()) => {},
			Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
			Err(error) => return Err(io_error("remove", &path)(error)),
		}
		sync_dir(&self.shard_of(cid))?;
		Ok(true)
	}

	/// Moves block `cid` (typically a corrupted one) out of the store into `quarantine/`
	/// for inspection, so that the store no longer has it and it can be fetched again.
	/// Returns where it went, or `None` if it was not there.
	pub fn quarantine(&self, cid: &Cid) -> Result<Option<PathBuf>, BlockStoreError> {
		let path = self.path_of(cid);
		let target = self.root.join(QUARANTINE_DIR).join(format!(
			"{cid}.{}.{}",
			std::process::id(),
			self.next_temp.fetch_add(1, Ordering::Relaxed)
		));
		match fs::rename(&path, &target) {
			Ok(()) => {},
			Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(error) => return Err(io_error("quarantine", &path)(error)),
		}
		sync_dir(&self.root.join(QUARANTINE_DIR))?;
		sync_dir(&self.shard_of(cid))?;
		Ok(Some(target))
	}

	/// Whether a damaged copy of block `cid` was moved aside by [`Self::quarantine`].
	pub fn was_quarantined(&self, cid: &Cid) -> bool {
		let prefix = format!("{cid}.");
		fs::read_dir(self.root.join(QUARANTINE_DIR)).is_ok_and(|entries| {
			entries.filter_map(Result::ok).any(|entry| {
				entry.file_name().to_str().is_some_and(|name| name.starts_with(&prefix))
			})
		})
	}

	/// The ids of all stored blocks, shard by shard (not verified; files whose names are not
	/// ids are skipped). Blocks put or removed meanwhile may or may not be listed.
	pub fn iter(&self) -> Blocks {
		Blocks { blocks_dir: self.root.join(BLOCKS_DIR), next_shard: 0, current: None }
	}
}

/// Iterator over the ids in a store; see [`BlockStore::iter`].
pub struct Blocks {
	blocks_dir: PathBuf,
	next_shard: u16,
	current: Option<(PathBuf, fs::ReadDir)>,
}

impl Iterator for Blocks {
	type Item = Result<Cid, BlockStoreError>;

	fn next(&mut self) -> Option<Self::Item> {
		loop {
			if let Some((dir, entries)) = &mut self.current {
				match entries.next() {
					Some(Ok(entry)) => {
						let name = entry.file_name();
						if let Some(cid) = name.to_str().and_then(|name| name.parse().ok()) {
							return Some(Ok(cid));
						}
						continue;
					},
					Some(Err(error)) => return Some(Err(io_error("list", dir)(error))),
					None => self.current = None,
				}
			}
			if self.next_shard > 255 {
				return None;
			}
			let dir = self.blocks_dir.join(format!("{:02x}", self.next_shard));
			self.next_shard += 1;
			match fs::read_dir(&dir) {
				Ok(entries) => self.current = Some((dir, entries)),
				Err(error) if error.kind() == io::ErrorKind::NotFound => {},
				Err(error) => return Some(Err(io_error("list", &dir)(error))),
			}
		}
	}
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BlockStoreError> {
	let mut file = File::create_new(path).map_err(io_error("create", path))?;
	file.write_all(bytes).map_err(io_error("write", path))?;
	file.sync_all().map_err(io_error("sync", path))
}

/// Fsyncs a directory, making the creation, renaming or removal of its entries durable.
fn sync_dir(dir: &Path) -> Result<(), BlockStoreError> {
	#[cfg(unix)]
	File::open(dir).and_then(|dir| dir.sync_all()).map_err(io_error("sync", dir))?;
	// Elsewhere directories cannot be opened as files; their entries are journaled with
	// the file itself (NTFS), which is the best std offers there.
	#[cfg(not(unix))]
	let _ = dir;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn store() -> (tempfile::TempDir, BlockStore) {
		let dir = tempfile::tempdir().unwrap();
		let store = BlockStore::open(dir.path()).unwrap();
		(dir, store)
	}

	#[test]
	fn put_get_has_remove() {
		let (_dir, store) = store();
		let cid = store.put(b"hello world").unwrap();
		assert_eq!(cid, Cid::of(b"hello world"));
		assert_eq!(cid.to_string(), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
		assert!(store.has(&cid).unwrap());
		assert_eq!(store.get(&cid).unwrap().as_deref(), Some(&b"hello world"[..]));
		// Putting it again is harmless.
		assert_eq!(store.put(b"hello world").unwrap(), cid);
		assert_eq!(store.iter().collect::<Result<Vec<_>, _>>().unwrap(), vec![cid]);

		assert!(store.remove(&cid).unwrap());
		assert!(!store.remove(&cid).unwrap());
		assert!(!store.has(&cid).unwrap());
		assert_eq!(store.get(&cid).unwrap(), None);
	}

	#[test]
	fn empty_and_maximal_blocks_and_nothing_larger() {
		let (_dir, store) = store();
		let empty = store.put(b"").unwrap();
		assert_eq!(store.get(&empty).unwrap(), Some(Vec::new()));
		let big = vec![7u8; MAX_BLOCK_SIZE];
		let cid = store.put(&big).unwrap();
		assert_eq!(store.get(&cid).unwrap().map(|b| b.len()), Some(MAX_BLOCK_SIZE));
		assert!(matches!(
			store.put(&vec![0u8; MAX_BLOCK_SIZE + 1]),
			Err(BlockStoreError::TooLarge { .. })
		));
	}

	#[test]
	fn a_corrupted_file_is_detected_quarantined_and_repaired() {
		let (_dir, store) = store();
		let cid = store.put(b"precious bytes").unwrap();
		let path = store.path_of(&cid);
		fs::write(&path, b"precious bytez").unwrap();
		match store.get(&cid) {
			Err(BlockStoreError::Corrupted { cid: bad, path: at }) => {
				assert_eq!(bad, cid);
				assert_eq!(at, path);
			},
			other => panic!("corruption not detected: {other:?}"),
		}
		// A file that grew, or was emptied, is caught too.
		fs::write(&path, b"precious bytes and more").unwrap();
		assert!(matches!(store.get(&cid), Err(BlockStoreError::Corrupted { .. })));
		fs::write(&path, b"").unwrap();
		assert!(matches!(store.get(&cid), Err(BlockStoreError::Corrupted { .. })));

		let moved = store.quarantine(&cid).unwrap().unwrap();
		assert!(moved.starts_with(store.root().join(QUARANTINE_DIR)));
		assert_eq!(store.get(&cid).unwrap(), None);
		assert_eq!(store.quarantine(&cid).unwrap(), None);
		// Fetched again from a replica.
		store.put(b"precious bytes").unwrap();
		assert_eq!(store.get(&cid).unwrap().as_deref(), Some(&b"precious bytes"[..]));

		// A put over a damaged copy repairs it.
		fs::write(&path, b"garbage").unwrap();
		store.put(b"precious bytes").unwrap();
		assert_eq!(store.get(&cid).unwrap().as_deref(), Some(&b"precious bytes"[..]));
	}

	#[test]
	fn blocks_survive_reopening() {
		let dir = tempfile::tempdir().unwrap();
		let cids: Vec<Cid> = {
			let store = BlockStore::open(dir.path()).unwrap();
			(0..50u32).map(|i| store.put(&i.to_le_bytes()).unwrap()).collect()
		};
		let store = BlockStore::open(dir.path()).unwrap();
		for (i, cid) in cids.iter().enumerate() {
			assert_eq!(store.get(cid).unwrap(), Some((i as u32).to_le_bytes().to_vec()));
		}
		let mut listed = store.iter().collect::<Result<Vec<_>, _>>().unwrap();
		listed.sort();
		let mut expected = cids;
		expected.sort();
		assert_eq!(listed, expected);
	}

	#[test]
	fn one_process_at_a_time() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlockStore::open(dir.path()).unwrap();
		assert!(matches!(BlockStore::open(dir.path()), Err(BlockStoreError::Locked { .. })));
		drop(store);
		BlockStore::open(dir.path()).unwrap();
	}

	#[test]
	fn leftovers_of_a_crash_are_cleaned_at_open() {
		let dir = tempfile::tempdir().unwrap();
		let cid = {
			let store = BlockStore::open(dir.path()).unwrap();
			store.put(b"kept").unwrap()
		};
		// What a write killed before its rename leaves behind: a partial temporary file.
		let leftover = dir.path().join(TMP_DIR).join(format!("{}.1.0", Cid::of(b"lost write")));
		fs::write(&leftover, b"lost wr").unwrap();
		// And a stray file in a shard that is not a block.
		fs::write(dir.path().join(BLOCKS_DIR).join("00").join("notes.txt"), b"hi").unwrap();

		let store = BlockStore::open(dir.path()).unwrap();
		assert!(!leftover.exists());
		assert_eq!(fs::read_dir(dir.path().join(TMP_DIR)).unwrap().count(), 0);
		assert_eq!(store.iter().collect::<Result<Vec<_>, _>>().unwrap(), vec![cid]);
		assert_eq!(store.get(&Cid::of(b"lost write")).unwrap(), None);
	}

	/// The content the crash test's child writes as its block number `i`: sizes from one
	/// byte to a full sealed chunk, so the kill can land in a long write.
	fn crash_block(i: u64) -> Vec<u8> {
		let len = [1, 1000, 100_000, 1 << 20][i as usize % 4];
		let mut block = vec![(i % 251) as u8; len];
		block[..1].copy_from_slice(&[i as u8]);
		block.extend_from_slice(&i.to_le_bytes());
		block
	}

	const CRASH_CHILD_DIR: &str = "DT_BLOCK_STORE_KILL_TEST_DIR";

	/// `kill -9` while putting loses no acknowledged block. The test re-runs its own binary
	/// as a child that puts blocks as fast as it can and prints each acknowledged one,
	/// kills it with SIGKILL mid-stream, then reopens the store and reads them all back.
	#[test]
	fn acknowledged_puts_survive_kill_9() {
		use std::{
			io::{BufRead, BufReader},
			process::{Command, Stdio},
		};
		let dir = tempfile::tempdir().unwrap();
		let mut child = Command::new(std::env::current_exe().unwrap())
			.args(["--exact", "block_store::tests::putting_child", "--ignored", "--nocapture"])
			.args(["--test-threads", "1"])
			.env(CRASH_CHILD_DIR, dir.path())
			.stdout(Stdio::piped())
			.stderr(Stdio::null())
			.spawn()
			.unwrap();
		let mut acknowledged = Vec::new();
		for line in BufReader::new(child.stdout.take().unwrap()).lines() {
			let line = line.unwrap();
			if let Some(ack) = line.strip_prefix("acked ") {
				let (i, cid) = ack.split_once(' ').unwrap();
				acknowledged.push((i.parse::<u64>().unwrap(), cid.parse::<Cid>().unwrap()));
				if acknowledged.len() == 200 {
					break;
				}
			}
		}
		// `Child::kill` is SIGKILL on Unix: no destructor runs, most likely mid-put.
		child.kill().unwrap();
		child.wait().unwrap();
		assert_eq!(acknowledged.len(), 200, "the child stopped early");

		let store = BlockStore::open(dir.path()).unwrap();
		for (i, cid) in &acknowledged {
			assert_eq!(store.get(cid).unwrap(), Some(crash_block(*i)), "block {i} lost");
		}
		// Whatever else is there (puts after the last ack we read) is whole too.
		for cid in store.iter() {
			store.get(&cid.unwrap()).unwrap().unwrap();
		}
		assert_eq!(fs::read_dir(dir.path().join(TMP_DIR)).unwrap().count(), 0);
	}

	/// The child of the test above; does nothing when run on its own.
	#[test]
	#[ignore = "run by acknowledged_puts_survive_kill_9"]
	fn putting_child() {
		let Some(dir) = std::env::var_os(CRASH_CHILD_DIR) else { return };
		let store = BlockStore::open(dir).unwrap();
		for i in 0u64.. {
			let cid = store.put(&crash_block(i)).unwrap();
			println!("acked {i} {cid}");
		}
	}

	#[test]
	fn concurrent_puts_of_the_same_and_different_content() {
		let (_dir, store) = store();
		let same = vec![42u8; 100_000];
		let cids: Vec<Vec<Cid>> = std::thread::scope(|scope| {
			let handles: Vec<_> = (0..8u8)
				.map(|thread| {
					let store = &store;
					let same = &same;
					scope.spawn(move || {
						(0..20u8)
							.flat_map(|i| {
								[store.put(same).unwrap(), store.put(&[thread, i]).unwrap()]
							})
							.collect()
					})
				})
				.collect();
			handles.into_iter().map(|handle| handle.join().unwrap()).collect()
		});
		let same_cid = Cid::of(&same);
		for (thread, cids) in cids.iter().enumerate() {
			for (i, pair) in cids.chunks(2).enumerate() {
				assert_eq!(pair[0], same_cid);
				assert_eq!(store.get(&pair[1]).unwrap(), Some(vec![thread as u8, i as u8]));
			}
		}
		assert_eq!(store.get(&same_cid).unwrap(), Some(same));
		assert_eq!(store.iter().count(), 1 + 8 * 20);
		assert_eq!(fs::read_dir(store.root().join(TMP_DIR)).unwrap().count(), 0);
	}
}
