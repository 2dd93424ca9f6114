//! Access lists of items (k-rAC style) and how a replica keeps them.
//!
//! Each item (a document, across its versions) has a reader list with a version number,
//! kept by the item's 2k+1 replicas next to its key envelopes. A replica hands out an
//! envelope only to a reader on its *committed* list, in answer to a request the reader
//! signed.
//!
//! # Changing a list: prepare, then commit
//!
//! A change names the version it applies to (`base_version`) and is signed by a manager.
//! The node making it asks every replica to *prepare* it: a replica checks the signature,
//! the policy and the base version, and records the change as pending (durably) unless
//! another change is pending there. Only if a quorum (k+1, see
//! [`quorum`](super::placement::quorum)) prepared it does the node send *commit*, and each
//! replica then applies it: the list moves to `base_version + 1`. Otherwise the node sends
//! *abort* and the replicas drop it.
//!
//! A pending change has no effect on reads: envelopes are served by the committed list
//! only. It merely keeps the replica from preparing a competing change, until it is
//! committed, aborted, or its lease ([`PREPARE_LEASE_MS`]) runs out (the node that
//! prepared it crashed); so a change that did not reach a quorum changes nothing anywhere.
//!
//! Every replica accepts a signed request once, whatever its answer: a change refused (or
//! aborted) is signed again, with a fresh timestamp, to be retried.
//!
//! A replica that was down while a change committed keeps the older list and refuses the
//! next change (its base version is behind) until it is brought up to date; the other k+1
//! carry on.
//!
//! # Revocation
//!
//! Removing a reader stops the replicas handing it envelopes, but it may have kept the key
//! of versions it could read. So the next version is written under a new key, sealed only
//! for the readers of the new list ([`sealing_keys`]); replicas refuse to store an envelope
//! sealed for anyone not on their committed list.

use std::{
	collections::HashMap,
	fs::{self, File},
	io::{self, Write},
	path::{Path, PathBuf},
	sync::{Mutex, PoisonError},
};

use codec::{Decode, DecodeAll, Encode};
use sp_core::sr25519;

use super::{auth::SignedAction, partners::AccessPolicy, ItemId};
use crate::{content_id::Cid, crypto::ReaderPublicKey};

/// How long a prepared change holds a replica's list, in milliseconds.
pub const PREPARE_LEASE_MS: u64 = 30_000;

/// Most readers on one list (the envelope limit).
pub const MAX_READERS: usize = crate::crypto::MAX_RECIPIENTS;

/// One change of a reader list.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum AclOp {
	/// Add a reader.
	AddReader(sr25519::Public),
	/// Remove a reader.
	RemoveReader(sr25519::Public),
	/// Replace the whole list: how a feed epoch gets the readers its key is sealed for, in
	/// one change when it starts.
	ReplaceReaders(Vec<sr25519::Public>),
}

/// A change of `item`'s reader list from version `base_version` to the next.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AclChange {
	/// The item.
	pub item: ItemId,
	/// The version of the list the change applies to (0 for an item without a list yet).
	pub base_version: u64,
	/// What changes.
	pub op: AclOp,
}

/// An item's reader list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Acl {
	/// 0 before the first change, then one more for each committed change.
	pub version: u64,
	/// The readers, sorted, each once.
	pub readers: Vec<sr25519::Public>,
}

impl Acl {
	/// Whether `account` is a reader.
	pub fn is_reader(&self, account: &sr25519::Public) -> bool {
		self.readers.binary_search(account).is_ok()
	}

	/// The list after `op`, one version later.
	pub fn apply(&self, op: &AclOp) -> Result<Acl, AclError> {
		let mut readers = self.readers.clone();
		match op {
			AclOp::AddReader(reader) => match readers.binary_search(reader) {
				Ok(_) => return Err(AclError::AlreadyReader { reader: *reader }),
				Err(at) if readers.len() < MAX_READERS => readers.insert(at, *reader),
				Err(_) => return Err(AclError::TooManyReaders { max: MAX_READERS }),
			},
			AclOp::RemoveReader(reader) => match readers.binary_search(reader) {
				Ok(at) => {
					readers.remove(at);
				},
				Err(_) => return Err(AclError::NotReader { reader: *reader }),
			},
			AclOp::ReplaceReaders(new) => {
				let mut new = new.clone();
				new.sort_unstable();
				new.dedup();
				if new.len() > MAX_READERS {
					return Err(AclError::TooManyReaders { max: MAX_READERS });
				}
				if new == readers {
					return Err(AclError::Unchanged);
				}
				readers = new;
			},
		}
		Ok(Acl { version: self.version + 1, readers })
	}
}

/// The public keys to seal the next version of an item for: those of the readers on
/// `acl` (a removed reader is no longer on it, so the new key never reaches it). Fails
/// naming the first reader without a registered key.
pub fn sealing_keys(
	acl: &Acl,
	policy: &dyn AccessPolicy,
) -> Result<Vec<ReaderPublicKey>, AclError> {
	acl.readers
		.iter()
		.map(|reader| policy.reader_key(reader).ok_or(AclError::NoReaderKey { reader: *reader }))
		.collect()
}

/// Why an access-list operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
	/// The reader to add is already on the list.
	#[error("{reader} is already a reader")]
	AlreadyReader {
		/// The reader.
		reader: sr25519::Public,
	},
	/// The reader to remove is not on the list.
	#[error("{reader} is not a reader")]
	NotReader {
		/// The reader.
		reader: sr25519::Public,
	},
	/// The list is full.
	#[error("a reader list holds at most {max} readers")]
	TooManyReaders {
		/// [`MAX_READERS`].
		max: usize,
	},
	/// The new list is the list as it is.
	#[error("the list already holds exactly these readers")]
	Unchanged,
	/// A reader has no RSA key registered on the ledger.
	#[error("reader {reader} has no registered RSA key to seal the document key for")]
	NoReaderKey {
		/// The reader.
		reader: sr25519::Public,
	},
	/// The change applies to another version than the replica's list.
	#[error("the change applies to version {base_version}, the list is at version {current}")]
	WrongVersion {
		/// The change's base version.
		base_version: u64,
		/// The replica's committed version.
		current: u64,
	},
	/// Another change is pending on this replica.
	#[error("another change of this list is pending until {until_ms} ms; retry after it")]
	Busy {
		/// When the pending change's lease ends.
		until_ms: u64,
	},
	/// A commit or abort for a change this replica has not prepared, and cannot apply.
	#[error("no such change is pending")]
	NotPrepared,
	/// The signed request is not an access-list change.
	#[error("the signed request is not an access-list change")]
	NotAChange,
	/// Reading or writing the item's state failed.
	#[error("{path}: {source}")]
	Io {
		/// The file.
		path: PathBuf,
		/// The error.
		source: io::Error,
	},
	/// The item's state file does not decode.
	#[error("{path} is damaged: {reason}")]
	Corrupt {
		/// The file.
		path: PathBuf,
		/// What is wrong.
		reason: String,
	},
}

/// A change prepared on this replica and not yet committed or aborted.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Prepared {
	/// The signed change.
	pub change: SignedAction,
	/// When the lease ends, in milliseconds since the Unix epoch.
	pub expires_ms: u64,
}

/// What a replica keeps for one item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct ItemState {
	/// The committed reader list: the only one reads go by.
	pub acl: Acl,
	/// A change waiting for commit or abort.
	pub prepared: Option<Prepared>,
	/// The key envelopes of the item's versions held here, oldest first.
	pub envelopes: Vec<Cid>,
}

/// The items' states on this replica, one file each: `<root>/<item in hex>`, replaced
/// atomically (write, fsync, rename, fsync the directory) at every change, so a change a
/// replica acknowledged survives a crash.
#[derive(Debug)]
pub struct AclStore {
	root: PathBuf,
	/// Serialises changes; states are small and read from disk each time.
	lock: Mutex<()>,
	cache: Mutex<HashMap<ItemId, ItemState>>,
}

impl AclStore {
	/// Opens (creating it if needed) the store in `root`.
	pub fn open(root: impl Into<PathBuf>) -> Result<Self, AclError> {
		let root = root.into();
		fs::create_dir_all(&root).map_err(|source| AclError::Io { path: root.clone(), source })?;
		Ok(Self { root, lock: Mutex::new(()), cache: Mutex::new(HashMap::new()) })
	}

	fn path(&self, item: &ItemId) -> PathBuf {
		self.root.join(hex::encode(item.0))
	}

	/// The state of `item` (the default, empty one if nothing was stored).
	pub fn state(&self, item: &ItemId) -> Result<ItemState, AclError> {
		if let Some(state) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(item) {
			return Ok(state.clone());
		}
		let path = self.path(item);
		let state = match fs::read(&path) {
			Ok(bytes) => ItemState::decode_all(&mut &bytes[..])
				.map_err(|error| AclError::Corrupt { path, reason: error.to_string() })?,
			Err(error) if error.kind() == io::ErrorKind::NotFound => ItemState::default(),
			Err(source) => return Err(AclError::Io { path, source }),
		};
		self.cache
			.lock()
			.unwrap_or_else(PoisonError::into_inner)
			.insert(*item, state.clone());
		Ok(state)
	}

	/// Applies `update` to the state of `item` and stores the result durably before
	/// returning it; if `update` fails, nothing changes.
	pub fn update<T>(
		&self,
		item: &ItemId,
		update: impl FnOnce(&mut ItemState) -> Result<T, AclError>,
	) -> Result<T, AclError> {
		let _serialised = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
		let mut state = self.state(item)?;
		let result = update(&mut state)?;
		self.write(item, &state)?;
		self.cache.lock().unwrap_or_else(PoisonError::into_inner).insert(*item, state);
		Ok(result)
	}

	fn write(&self, item: &ItemId, state: &ItemState) -> Result<(), AclError> {
		let path = self.path(item);
		let temp = self.root.join(format!(".{}.tmp", hex::encode(item.0)));
		let io = |path: &Path| {
			let path = path.to_owned();
			move |source| AclError::Io { path, source }
		};
		let mut file = File::create(&temp).map_err(io(&temp))?;
		file.write_all(&state.encode()).map_err(io(&temp))?;
		file.sync_all().map_err(io(&temp))?;
		fs::rename(&temp, &path).map_err(io(&path))?;
		File::open(&self.root).and_then(|dir| dir.sync_all()).map_err(io(&self.root))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair as _;

	fn account(seed: &str) -> sr25519::Public {
		sr25519::Pair::from_string(seed, None).unwrap().public()
	}

	#[test]
	fn changes_move_the_version_and_refuse_no_ops() {
		let (alice, bob) = (account("//Alice"), account("//Bob"));
		let acl = Acl::default().apply(&AclOp::AddReader(alice)).unwrap();
		let acl = acl.apply(&AclOp::AddReader(bob)).unwrap();
		assert_eq!(acl.version, 2);
		assert!(acl.is_reader(&alice) && acl.is_reader(&bob));
		assert!(matches!(acl.apply(&AclOp::AddReader(bob)), Err(AclError::AlreadyReader { .. })));
		let acl = acl.apply(&AclOp::RemoveReader(alice)).unwrap();
		assert!(!acl.is_reader(&alice));
		assert!(matches!(acl.apply(&AclOp::RemoveReader(alice)), Err(AclError::NotReader { .. })));

		let charlie = account("//Charlie");
		let replaced = acl.apply(&AclOp::ReplaceReaders(vec![charlie, alice, charlie])).unwrap();
		assert_eq!(replaced.version, 4);
		let mut both = vec![alice, charlie];
		both.sort();
		assert_eq!(replaced.readers, both, "sorted, each once");
		assert!(matches!(
			replaced.apply(&AclOp::ReplaceReaders(vec![charlie, alice])),
			Err(AclError::Unchanged)
		));
		let too_many = (0..=MAX_READERS as u64)
			.map(|i| sr25519::Public::from_raw(sp_crypto_hashing::blake2_256(&i.to_le_bytes())))
			.collect();
		assert!(matches!(
			acl.apply(&AclOp::ReplaceReaders(too_many)),
			Err(AclError::TooManyReaders { .. })
		));
	}

	#[test]
	fn states_survive_reopening_and_failed_updates_change_nothing() {
		let dir = tempfile::tempdir().unwrap();
		let item = ItemId([7; 32]);
		{
			let store = AclStore::open(dir.path()).unwrap();
			store
				.update(&item, |state| {
					state.acl = state.acl.apply(&AclOp::AddReader(account("//Alice")))?;
					Ok(())
				})
				.unwrap();
			let failed: Result<(), AclError> = store.update(&item, |state| {
				state.acl.version = 99;
				Err(AclError::NotPrepared)
			});
			assert!(failed.is_err());
		}
		let store = AclStore::open(dir.path()).unwrap();
		let state = store.state(&item).unwrap();
		assert_eq!(state.acl.version, 1);
		assert!(state.acl.is_reader(&account("//Alice")));
	}
}
