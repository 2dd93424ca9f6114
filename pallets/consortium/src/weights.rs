//! Weights of `pallet-dt-consortium`'s calls.
//!
//! Provisional: conservative estimates from the storage reads and writes each call makes,
//! until the frame-benchmarking benchmarks in `benchmarking.rs` (which run as tests today)
//! are measured against the wasm runtime and this file is generated from
//! `scripts/weight-template.hbs`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by `pallet-dt-consortium`.
pub trait WeightInfo {
	fn add_member() -> Weight;
	fn remove_member() -> Weight;
	fn set_admin() -> Weight;
	fn rotate_encryption_key() -> Weight;
	fn propose() -> Weight;
	fn vote() -> Weight;
	fn execute_proposal(m: u32) -> Weight;
	fn close_proposal() -> Weight;
}

/// Weights for `pallet-dt-consortium` measured on the reference machine.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_member() -> Weight {
		Weight::from_parts(40_000_000, 1_700)
			.saturating_add(T::DbWeight::get().reads(4))
			.saturating_add(T::DbWeight::get().writes(4))
	}
	fn remove_member() -> Weight {
		Weight::from_parts(30_000_000, 1_700)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(3))
	}
	fn set_admin() -> Weight {
		Weight::from_parts(30_000_000, 1_700)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(2))
	}
	fn rotate_encryption_key() -> Weight {
		Weight::from_parts(30_000_000, 1_700)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn propose() -> Weight {
		Weight::from_parts(45_000_000, 2_500)
			.saturating_add(T::DbWeight::get().reads(6))
			.saturating_add(T::DbWeight::get().writes(3))
	}
	fn vote() -> Weight {
		Weight::from_parts(30_000_000, 2_500)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn execute_proposal(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(Weight::from_parts(5_000_000, 2_600).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(8))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(m.into())))
			.saturating_add(T::DbWeight::get().writes(8))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(m.into())))
	}
	fn close_proposal() -> Weight {
		Weight::from_parts(30_000_000, 2_500)
			.saturating_add(T::DbWeight::get().reads(4))
			.saturating_add(T::DbWeight::get().writes(2))
	}
}

// For tests and mock runtimes.
impl WeightInfo for () {
	fn add_member() -> Weight {
		Weight::from_parts(40_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn remove_member() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
	fn set_admin() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(3, 2))
	}
	fn rotate_encryption_key() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn propose() -> Weight {
		Weight::from_parts(45_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(6, 3))
	}
	fn vote() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(2, 1))
	}
	fn execute_proposal(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(8, 8))
	}
	fn close_proposal() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(4, 2))
	}
}
