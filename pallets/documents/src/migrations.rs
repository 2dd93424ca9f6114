//! Storage migrations of the documents pallet, one module per storage version they lead to.
//!
//! Each is a [`VersionedMigration`]: it runs only when it finds the storage version it
//! migrates from, and sets the next one, so a migration left in the runtime's list runs once.
//! Each also has checks to run before and after it (`pre_upgrade` / `post_upgrade` with the
//! `try-runtime` feature; [`v1::snapshot`] and [`v1::verify`] without it, for tests on a state
//! with real data).

use frame_support::migrations::VersionedMigration;

/// Storage version 1: every twin's [`TwinDocumentCount`](crate::TwinDocumentCount) is
/// recounted from [`TwinDocuments`](crate::TwinDocuments), which the limit on documents per
/// twin is checked against. It changes no document, version or annotation.
///
/// It is the fixture of the runtime upgrade tests (`dt-runtime`'s `upgrade-fixture` feature
/// builds the pallet at this version); a runtime that adopts it lists [`v1::MigrateToV1`].
pub mod v1 {
	use crate::{Config, Documents, Pallet, TwinDocumentCount, TwinDocuments, Versions};
	use alloc::{collections::BTreeMap, vec::Vec};
	use codec::{Decode, Encode};
	use dt_primitives::access::TwinId;
	use frame_support::{
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use sp_runtime::Saturating;

	/// The migration, run once from storage version 0.
	pub type MigrateToV1<T> = super::VersionedMigration<
		0,
		1,
		RecountTwinDocuments<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	/// The unversioned migration [`MigrateToV1`] wraps.
	pub struct RecountTwinDocuments<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for RecountTwinDocuments<T> {
		fn on_runtime_upgrade() -> Weight {
			let counted = counted_documents::<T>();
			let stored: BTreeMap<TwinId, u32> = TwinDocumentCount::<T>::iter().collect();
			// One read per document entry (the counts add up to them) and per stored count.
			let entries: u64 = counted.values().map(|count| u64::from(*count)).sum();
			let reads = entries.saturating_add(stored.len() as u64);
			let mut writes = 0u64;
			// Counts of twins that no longer have a document entry go too.
			for twin in stored.keys().filter(|twin| !counted.contains_key(twin)) {
				TwinDocumentCount::<T>::remove(twin);
				writes.saturating_inc();
			}
			for (twin, count) in &counted {
				if stored.get(twin) != Some(count) {
					TwinDocumentCount::<T>::insert(twin, count);
					writes.saturating_inc();
				}
			}
			log::info!(
				target: crate::LOG_TARGET,
				"recounted the documents of every twin ({reads} entries read, {writes} counts written)"
			);
			T::DbWeight::get().reads_writes(reads, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok(snapshot::<T>().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = Snapshot::decode(&mut &state[..])
				.map_err(|_| sp_runtime::TryRuntimeError::Other("undecodable snapshot"))?;
			verify::<T>(&before).map_err(sp_runtime::TryRuntimeError::Other)
		}
	}

	/// Every twin's documents, counted from their entries in [`TwinDocuments`].
	fn counted_documents<T: Config>() -> BTreeMap<TwinId, u32> {
		let mut counts = BTreeMap::<TwinId, u32>::new();
		for (twin, _) in TwinDocuments::<T>::iter_keys() {
			counts.entry(twin).or_default().saturating_inc();
		}
		counts
	}

	/// What the migration must keep: every document and version, by encoding.
	#[derive(Encode, Decode, PartialEq, Eq, Debug)]
	pub struct Snapshot {
		/// Each document's id and encoded record.
		pub documents: Vec<(u64, Vec<u8>)>,
		/// Each version's document, number and encoded record.
		pub versions: Vec<(u64, u32, Vec<u8>)>,
	}

	/// The state [`verify`] compares with after the migration.
	pub fn snapshot<T: Config>() -> Snapshot {
		let mut documents: Vec<_> =
			Documents::<T>::iter().map(|(id, document)| (id, document.encode())).collect();
		documents.sort();
		let mut versions: Vec<_> = Versions::<T>::iter()
			.map(|(id, number, version)| (id, number, version.encode()))
			.collect();
		versions.sort();
		Snapshot { documents, versions }
	}

	/// Checks the state after the migration: documents and versions as in `before`, every
	/// twin's count equal to its document entries, storage version 1.
	pub fn verify<T: Config>(before: &Snapshot) -> Result<(), &'static str> {
		use frame_support::traits::GetStorageVersion;
		if &snapshot::<T>() != before {
			return Err("documents or versions changed");
		}
		let stored: BTreeMap<TwinId, u32> = TwinDocumentCount::<T>::iter().collect();
		if stored != counted_documents::<T>() {
			return Err("a twin's document count differs from its documents");
		}
		if Pallet::<T>::on_chain_storage_version() != 1 {
			return Err("the storage version is not 1");
		}
		Ok(())
	}
}
