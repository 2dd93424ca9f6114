//! Blocks put by members and not yet referenced on chain: each is charged to the
//! organisation of the member who signed its put, within a quota per organisation, and
//! collected after a grace period unless the chain comes to refer to it.
//!
//! Without this, anyone reaching a node's RPC (or a partner connection) could fill every
//! replica's disk. With it, what one organisation can make a node hold beyond what the
//! chain refers to is its quota, and only until the grace period ends.
//!
//! # The rules
//!
//! - A put is charged to an organisation: its block's bytes count against the
//!   organisation's quota ([`UploadLimits::quota_bytes`]) on this node while the block is
//!   *pending*. A put the quota cannot take is refused ([`UploadError::QuotaExceeded`]) and
//!   stores nothing.
//! - A block this node already holds (pending, or held because the chain refers to it) is
//!   not charged again: re-sending a block is free, and so is a block another organisation
//!   already put (it stays charged to the first).
//! - Once a document version, annotation, key envelope or feed on chain refers to a pending
//!   block (directly, or as a chunk of a manifest the chain refers to), the node
//!   [releases](Uploads::release) it: it is kept for good and no longer counts.
//! - A block still pending [`UploadLimits::grace_ms`] after its put is
//!   [collected](Uploads::collect): removed from the disk, and its charge with it.
//!
//! The quota counts per organisation the blocks it holds that are not yet referenced, on
//! each node separately. An upload is registered on chain once all its blocks are stored,
//! so the quota must exceed the largest document uploaded at once: the default (8 GiB)
//! takes a 1 GiB document (1024 sealed chunks of 1 MiB and a manifest) several times over.
//!
//! # On disk
//!
//! One small file per pending block, `<root>/<cid>` (its [`Pending`] record, SCALE),
//! written and fsynced before the block itself, so a crash leaves at most a record
//! without its block (collected in turn), never an uncharged block.

use std::{
	collections::HashMap,
	fs::{self, File},
	io::{self, Write},
	path::{Path, PathBuf},
	sync::{Mutex, MutexGuard, PoisonError},
	time::Duration,
};

use codec::{Decode, DecodeAll, Encode};
use dt_primitives::OrganisationId;

use crate::{
	block_store::{BlockStore, BlockStoreError},
	content_id::Cid,
};

/// The default quota of unreferenced bytes per organisation on one node: 8 GiB.
pub const DEFAULT_QUOTA_BYTES: u64 = 8 << 30;

/// The default time an unreferenced block is kept after its put: 24 hours.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// How much a node takes from each organisation, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadLimits {
	/// Most bytes of pending blocks charged to one organisation on this node.
	pub quota_bytes: u64,
	/// How long a pending block is kept, in milliseconds.
	pub grace_ms: u64,
}

impl Default for UploadLimits {
	fn default() -> Self {
		Self { quota_bytes: DEFAULT_QUOTA_BYTES, grace_ms: DEFAULT_GRACE.as_millis() as u64 }
	}
}

/// A block put and not yet referenced on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Pending {
	/// The organisation it is charged to.
	pub organisation: OrganisationId,
	/// Its size.
	pub bytes: u64,
	/// When it was put, in milliseconds since the Unix epoch.
	pub put_at_ms: u64,
}

/// Why a put was refused or the records failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
	/// The organisation's pending blocks would pass its quota.
	#[error(
		"organisation {organisation} holds {used} bytes of blocks on this node that nothing on \
		 chain refers to yet; {bytes} more would pass its quota of {quota} bytes: register \
		 what was uploaded on chain (or wait for unreferenced blocks to be collected) and retry"
	)]
	QuotaExceeded {
		/// The organisation.
		organisation: OrganisationId,
		/// Its pending bytes.
		used: u64,
		/// The block's size.
		bytes: u64,
		/// [`UploadLimits::quota_bytes`].
		quota: u64,
	},
	/// The block store failed or refused the block.
	#[error(transparent)]
	Blocks(#[from] BlockStoreError),
	/// A record could not be read or written.
	#[error("{path}: {source}")]
	Io {
		/// The file.
		path: PathBuf,
		/// The error.
		source: io::Error,
	},
	/// A record does not decode.
	#[error("{path} is damaged: {reason}")]
	Corrupt {
		/// The file.
		path: PathBuf,
		/// What is wrong.
		reason: String,
	},
}

/// What one [`Uploads::collect`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Collection {
	/// Pending blocks the chain now refers to: kept for good, no longer charged.
	pub released: usize,
	/// Unreferenced blocks past the grace period, removed.
	pub collected: usize,
	/// Their bytes.
	pub collected_bytes: u64,
}

#[derive(Default)]
struct State {
	pending: HashMap<Cid, Pending>,
	used: HashMap<OrganisationId, u64>,
}

impl State {
	fn forget(&mut self, cid: &Cid) -> Option<Pending> {
		let pending = self.pending.remove(cid)?;
		if let Some(used) = self.used.get_mut(&pending.organisation) {
			*used = used.saturating_sub(pending.bytes);
			if *used == 0 {
				self.used.remove(&pending.organisation);
			}
		}
		Some(pending)
	}
}

/// The pending blocks of one node and their charges.
pub struct Uploads {
	root: PathBuf,
	limits: UploadLimits,
	state: Mutex<State>,
}

impl Uploads {
	/// Opens (creating it if needed) the records in `root`.
	pub fn open(root: impl Into<PathBuf>, limits: UploadLimits) -> Result<Self, UploadError> {
		let root = root.into();
		let io = |path: &Path| {
			let path = path.to_owned();
			move |source| UploadError::Io { path, source }
		};
		fs::create_dir_all(&root).map_err(io(&root))?;
		let mut state = State::default();
		for entry in fs::read_dir(&root).map_err(io(&root))? {
			let path = entry.map_err(io(&root))?.path();
			let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
			if name.starts_with('.') {
				// A record whose write a crash interrupted; its block was never written.
				fs::remove_file(&path).map_err(io(&path))?;
				continue;
			}
			let Ok(cid) = name.parse::<Cid>() else { continue };
			let bytes = fs::read(&path).map_err(io(&path))?;
			let pending = Pending::decode_all(&mut &bytes[..])
				.map_err(|error| UploadError::Corrupt { path, reason: error.to_string() })?;
			*state.used.entry(pending.organisation).or_default() += pending.bytes;
			state.pending.insert(cid, pending);
		}
		Ok(Self { root, limits, state: Mutex::new(state) })
	}

	fn lock(&self) -> MutexGuard<'_, State> {
		self.state.lock().unwrap_or_else(PoisonError::into_inner)
	}

	/// The limits this node applies.
	pub fn limits(&self) -> UploadLimits {
		self.limits
	}

	/// The bytes of pending blocks charged to `organisation`.
	pub fn used(&self, organisation: OrganisationId) -> u64 {
		self.lock().used.get(&organisation).copied().unwrap_or(0)
	}

	/// Whether block `cid` is pending.
	pub fn is_pending(&self, cid: &Cid) -> bool {
		self.lock().pending.contains_key(cid)
	}

	/// Every pending block.
	pub fn pending(&self) -> Vec<(Cid, Pending)> {
		self.lock().pending.iter().map(|(cid, pending)| (*cid, *pending)).collect()
	}

	/// Stores `bytes` in `blocks`, charged to `organisation` unless this node holds the
	/// block already. Blocking.
	pub fn put(
		&self,
		blocks: &BlockStore,
		organisation: OrganisationId,
		bytes: &[u8],
		now_ms: u64,
	) -> Result<Cid, UploadError> {
		let cid = Cid::of(bytes);
		let charged = {
			let mut state = self.lock();
			if state.pending.contains_key(&cid) || blocks.has(&cid)? {
				false
			} else {
				self.charge_locked(&mut state, cid, organisation, bytes.len() as u64, now_ms)?;
				true
			}
		};
		// A held block is written again only if its copy is damaged.
		match blocks.put(bytes) {
			Ok(cid) => Ok(cid),
			Err(error) => {
				if charged {
					self.release(&cid)?;
				}
				Err(error.into())
			},
		}
	}

	/// Charges block `cid` of `bytes` bytes, already in this node's store, to
	/// `organisation` (a block written by this node for a member, such as a document it
	/// encrypted). Nothing changes if it is pending already.
	pub fn charge(
		&self,
		cid: Cid,
		organisation: OrganisationId,
		bytes: u64,
		now_ms: u64,
	) -> Result<(), UploadError> {
		let mut state = self.lock();
		if state.pending.contains_key(&cid) {
			return Ok(());
		}
		self.charge_locked(&mut state, cid, organisation, bytes, now_ms)
	}

	fn charge_locked(
		&self,
		state: &mut State,
		cid: Cid,
		organisation: OrganisationId,
		bytes: u64,
		now_ms: u64,
	) -> Result<(), UploadError> {
		let used = state.used.get(&organisation).copied().unwrap_or(0);
		let quota = self.limits.quota_bytes;
		if used.saturating_add(bytes) > quota {
			return Err(UploadError::QuotaExceeded { organisation, used, bytes, quota });
		}
		let pending = Pending { organisation, bytes, put_at_ms: now_ms };
		self.write(&cid, &pending)?;
		*state.used.entry(organisation).or_default() += bytes;
		state.pending.insert(cid, pending);
		Ok(())
	}

	/// Forgets the charge of block `cid` (the chain refers to it now, or its put failed);
	/// the block itself stays. Whether it was pending.
	pub fn release(&self, cid: &Cid) -> Result<bool, UploadError> {
		let mut state = self.lock();
		if state.forget(cid).is_none() {
			return Ok(false);
		}
		self.remove_record(cid)?;
		Ok(true)
	}

	/// Releases the pending blocks `is_referenced` says the chain refers to, and removes
	/// from `blocks` those past the grace period that it does not. Blocking.
	pub fn collect(
		&self,
		blocks: &BlockStore,
		is_referenced: impl Fn(&Cid) -> bool,
		now_ms: u64,
	) -> Result<Collection, UploadError> {
		let mut collection = Collection::default();
		for (cid, pending) in self.pending() {
			if is_referenced(&cid) {
				if self.release(&cid)? {
					collection.released += 1;
				}
				continue;
			}
			if now_ms.saturating_sub(pending.put_at_ms) < self.limits.grace_ms {
				continue;
			}
			let mut state = self.lock();
			if state.pending.get(&cid) != Some(&pending) {
				continue;
			}
			blocks.remove(&cid)?;
			state.forget(&cid);
			self.remove_record(&cid)?;
			collection.collected += 1;
			collection.collected_bytes += pending.bytes;
		}
		Ok(collection)
	}

	fn record_path(&self, cid: &Cid) -> PathBuf {
		self.root.join(cid.to_string())
	}

	fn write(&self, cid: &Cid, pending: &Pending) -> Result<(), UploadError> {
		let path = self.record_path(cid);
		let temp = self.root.join(format!(".{cid}.tmp"));
		let io = |path: &Path| {
			let path = path.to_owned();
			move |source| UploadError::Io { path, source }
		};
		let mut file = File::create(&temp).map_err(io(&temp))?;
		file.write_all(&pending.encode()).map_err(io(&temp))?;
		file.sync_all().map_err(io(&temp))?;
		fs::rename(&temp, &path).map_err(io(&path))?;
		File::open(&self.root).and_then(|dir| dir.sync_all()).map_err(io(&self.root))
	}

	fn remove_record(&self, cid: &Cid) -> Result<(), UploadError> {
		let path = self.record_path(cid);
		match fs::remove_file(&path) {
			Ok(()) => Ok(()),
			Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
			Err(source) => Err(UploadError::Io { path, source }),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const OWNER: OrganisationId = 1;
	const MAINTAINER: OrganisationId = 2;

	fn open(dir: &Path, quota_bytes: u64) -> (BlockStore, Uploads) {
		let blocks = BlockStore::open(dir.join("blocks")).unwrap();
		let uploads =
			Uploads::open(dir.join("uploads"), UploadLimits { quota_bytes, grace_ms: 1_000 })
				.unwrap();
		(blocks, uploads)
	}

	/// One organisation filling the node: refused at its quota, the others unaffected; a
	/// re-sent block is not charged twice.
	#[test]
	fn a_put_past_the_organisations_quota_is_refused_and_stores_nothing() {
		let dir = tempfile::tempdir().unwrap();
		let (blocks, uploads) = open(dir.path(), 100);
		uploads.put(&blocks, OWNER, &[1; 60], 0).unwrap();
		uploads.put(&blocks, OWNER, &[1; 60], 0).unwrap();
		assert_eq!(uploads.used(OWNER), 60);
		let refused = uploads.put(&blocks, OWNER, &[2; 60], 0);
		assert!(matches!(refused, Err(UploadError::QuotaExceeded { used: 60, .. })), "{refused:?}");
		assert!(!blocks.has(&Cid::of(&[2; 60])).unwrap());
		uploads.put(&blocks, MAINTAINER, &[2; 60], 0).unwrap();
		assert_eq!(uploads.used(MAINTAINER), 60);
	}

	/// Referenced blocks are released and stay; unreferenced ones go after the grace
	/// period, and their charge with them; the records survive a restart.
	#[test]
	fn unreferenced_blocks_are_collected_after_the_grace_period() {
		let dir = tempfile::tempdir().unwrap();
		let referenced = Cid::of(&[1; 10]);
		let unreferenced = Cid::of(&[2; 10]);
		{
			let (blocks, uploads) = open(dir.path(), 100);
			uploads.put(&blocks, OWNER, &[1; 10], 0).unwrap();
			uploads.put(&blocks, OWNER, &[2; 10], 0).unwrap();
			// Within the grace period nothing goes.
			let early = uploads.collect(&blocks, |_| false, 999).unwrap();
			assert_eq!(early, Collection::default());
		}
		let (blocks, uploads) = open(dir.path(), 100);
		assert_eq!(uploads.used(OWNER), 20);
		let collection = uploads.collect(&blocks, |cid| *cid == referenced, 1_000).unwrap();
		assert_eq!(collection, Collection { released: 1, collected: 1, collected_bytes: 10 });
		assert!(blocks.has(&referenced).unwrap());
		assert!(!blocks.has(&unreferenced).unwrap());
		assert_eq!(uploads.used(OWNER), 0);
		assert!(uploads.pending().is_empty());
		// A released block is held: putting it again charges nothing.
		uploads.put(&blocks, OWNER, &[1; 10], 2_000).unwrap();
		assert_eq!(uploads.used(OWNER), 0);
	}
}
