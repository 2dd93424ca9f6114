//! The twin index: the changes of every twin in the finalized blocks and the current elements
//! of every specification, kept by the node in an embedded SQLite database
//! (`<base-path>/chains/<chain id>/twin-index.sqlite`, see the `dt-twin-index` crate) and
//! served by the `index_*` RPC methods.
//!
//! Without it a client that wants a twin's history reads the events of every block since the
//! twin's creation, which a pruning node (the default keeps the state of 256 blocks) cannot
//! answer past its window. The index is derived data: deleting it makes the node rebuild it
//! from the chain at its next start, as far back as the node still has state.

pub mod follow;
pub mod rpc;

use dt_twin_index::{IndexError, IndexStore};
use std::{path::Path, sync::Arc};

pub(crate) const LOG_TARGET: &str = "dt-node";

/// The index's file in the chain's directory under the base path.
pub const FILE_NAME: &str = "twin-index.sqlite";

/// Opens the index at `path`. A file that cannot be read (damaged, or an index of another
/// chain) is moved aside to `<path>.unreadable-<unix seconds>` with its WAL files and the
/// index is rebuilt from the chain: it holds nothing the chain does not. `None` (and an
/// error in the log naming the file) only if even a new index cannot be created there.
pub fn open(path: &Path, genesis: [u8; 32]) -> Option<Arc<IndexStore>> {
	let first = match IndexStore::open(path, genesis) {
		Ok(store) => return Some(Arc::new(store)),
		Err(e) => e,
	};
	if matches!(first, IndexError::Unreadable { .. } | IndexError::OtherChain { .. })
		&& path.exists()
	{
		let seconds = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map(|elapsed| elapsed.as_secs())
			.unwrap_or(0);
		let aside = path.with_extension(format!("sqlite.unreadable-{seconds}"));
		let moved = std::fs::rename(path, &aside);
		for suffix in ["-wal", "-shm"] {
			let companion = format!("{}{suffix}", path.display());
			let _ = std::fs::rename(&companion, format!("{}{suffix}", aside.display()));
		}
		match moved {
			Ok(()) => {
				let why = match &first {
					IndexError::Unreadable { reason, .. } => reason.clone(),
					other => other.to_string(),
				};
				log::warn!(
					target: LOG_TARGET,
					"the twin index {} cannot be used ({why}): moved it aside to {} (delete that \
					 file when you no longer need it) and rebuilding the index from the chain",
					path.display(),
					aside.display()
				);
				match IndexStore::open(path, genesis) {
					Ok(store) => return Some(Arc::new(store)),
					Err(e) => {
						log::error!(target: LOG_TARGET, "{e}; the index_* RPC methods answer 7401")
					},
				}
			},
			Err(e) => log::error!(
				target: LOG_TARGET,
				"{first}; moving it aside to {} failed ({e}); the index_* RPC methods answer 7401",
				aside.display()
			),
		}
	} else {
		log::error!(target: LOG_TARGET, "{first}; the index_* RPC methods answer 7401");
	}
	None
}
