//! Weights of `pallet_dt_access`: PROVISIONAL, regenerate with scripts/benchmark-weights.sh.
//!
//! Written by hand before the pallet was in the runtime, of the magnitude of the consortium
//! pallet's measured calls of similar reads and writes. Storage sizes assume the runtime
//! bounds MaxRolesPerGrantee = 8, MaxPermissionsPerRole = 32, MaxCustomRolesPerTwin = 32,
//! MaxRoleNameLength = 64 and 32-byte account ids. Replace this file with the output of
//! `scripts/benchmark-weights.sh pallet_dt_access` once the runtime includes the pallet.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// Weight functions needed by `pallet_dt_access`.
pub trait WeightInfo {
	fn grant_role() -> Weight;
	fn revoke_role() -> Weight;
	fn set_role_permissions() -> Weight;
	fn create_custom_role() -> Weight;
	fn remove_custom_role() -> Weight;
}

/// Provisional weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Access::ManagedTwins` (r:1 w:1)
	/// Proof: `Access::ManagedTwins` (`max_values`: None, `max_size`: Some(544), added: 3019, mode: `MaxEncodedLen`)
	/// Storage: `Consortium::Members` (r:2 w:0)
	/// Proof: `Consortium::Members` (`max_values`: None, `max_size`: Some(1155), added: 3630, mode: `MaxEncodedLen`)
	/// Storage: `Access::Grants` (r:3 w:1)
	/// Proof: `Access::Grants` (`max_values`: None, `max_size`: Some(102), added: 2577, mode: `MaxEncodedLen`)
	/// Storage: `Access::RolePermissions` (r:1 w:0)
	/// Proof: `Access::RolePermissions` (`max_values`: None, `max_size`: Some(8346), added: 10821, mode: `MaxEncodedLen`)
	fn grant_role() -> Weight {
		// Proof size: estimated `28831` (provisional).
		Weight::from_parts(71_000_000, 28831)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Access::ManagedTwins` (r:1 w:1)
	/// Proof: `Access::ManagedTwins` (`max_values`: None, `max_size`: Some(544), added: 3019, mode: `MaxEncodedLen`)
	/// Storage: `Consortium::Members` (r:1 w:0)
	/// Proof: `Consortium::Members` (`max_values`: None, `max_size`: Some(1155), added: 3630, mode: `MaxEncodedLen`)
	/// Storage: `Access::Grants` (r:3 w:1)
	/// Proof: `Access::Grants` (`max_values`: None, `max_size`: Some(102), added: 2577, mode: `MaxEncodedLen`)
	fn revoke_role() -> Weight {
		// Proof size: estimated `14380` (provisional).
		Weight::from_parts(64_000_000, 14380)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Access::ManagedTwins` (r:1 w:1)
	/// Proof: `Access::ManagedTwins` (`max_values`: None, `max_size`: Some(544), added: 3019, mode: `MaxEncodedLen`)
	/// Storage: `Consortium::Members` (r:1 w:0)
	/// Proof: `Consortium::Members` (`max_values`: None, `max_size`: Some(1155), added: 3630, mode: `MaxEncodedLen`)
	/// Storage: `Access::Grants` (r:2 w:0)
	/// Proof: `Access::Grants` (`max_values`: None, `max_size`: Some(102), added: 2577, mode: `MaxEncodedLen`)
	/// Storage: `Access::RolePermissions` (r:1 w:1)
	/// Proof: `Access::RolePermissions` (`max_values`: None, `max_size`: Some(8346), added: 10821, mode: `MaxEncodedLen`)
	fn set_role_permissions() -> Weight {
		// Proof size: estimated `22624` (provisional).
		Weight::from_parts(93_000_000, 22624)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Access::ManagedTwins` (r:1 w:1)
	/// Proof: `Access::ManagedTwins` (`max_values`: None, `max_size`: Some(544), added: 3019, mode: `MaxEncodedLen`)
	/// Storage: `Consortium::Members` (r:1 w:0)
	/// Proof: `Consortium::Members` (`max_values`: None, `max_size`: Some(1155), added: 3630, mode: `MaxEncodedLen`)
	/// Storage: `Access::Grants` (r:2 w:0)
	/// Proof: `Access::Grants` (`max_values`: None, `max_size`: Some(102), added: 2577, mode: `MaxEncodedLen`)
	/// Storage: `Access::CustomRolesByName` (r:1 w:1)
	/// Proof: `Access::CustomRolesByName` (`max_values`: None, `max_size`: Some(97), added: 2572, mode: `MaxEncodedLen`)
	/// Storage: `Access::RolePermissions` (r:0 w:1)
	/// Proof: `Access::RolePermissions` (`max_values`: None, `max_size`: Some(8346), added: 10821, mode: `MaxEncodedLen`)
	/// Storage: `Access::CustomRoleNames` (r:0 w:1)
	/// Proof: `Access::CustomRoleNames` (`max_values`: None, `max_size`: Some(89), added: 2564, mode: `MaxEncodedLen`)
	fn create_custom_role() -> Weight {
		// Proof size: estimated `14375` (provisional).
		Weight::from_parts(88_000_000, 14375)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Access::ManagedTwins` (r:1 w:1)
	/// Proof: `Access::ManagedTwins` (`max_values`: None, `max_size`: Some(544), added: 3019, mode: `MaxEncodedLen`)
	/// Storage: `Consortium::Members` (r:1 w:0)
	/// Proof: `Consortium::Members` (`max_values`: None, `max_size`: Some(1155), added: 3630, mode: `MaxEncodedLen`)
	/// Storage: `Access::Grants` (r:2 w:0)
	/// Proof: `Access::Grants` (`max_values`: None, `max_size`: Some(102), added: 2577, mode: `MaxEncodedLen`)
	/// Storage: `Access::CustomRoleNames` (r:1 w:1)
	/// Proof: `Access::CustomRoleNames` (`max_values`: None, `max_size`: Some(89), added: 2564, mode: `MaxEncodedLen`)
	/// Storage: `Access::CustomRolesByName` (r:0 w:1)
	/// Proof: `Access::CustomRolesByName` (`max_values`: None, `max_size`: Some(97), added: 2572, mode: `MaxEncodedLen`)
	/// Storage: `Access::RolePermissions` (r:0 w:1)
	/// Proof: `Access::RolePermissions` (`max_values`: None, `max_size`: Some(8346), added: 10821, mode: `MaxEncodedLen`)
	fn remove_custom_role() -> Weight {
		// Proof size: estimated `14367` (provisional).
		Weight::from_parts(72_000_000, 14367)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

/// The same provisional weights with RocksDB weights, for mock runtimes and tests.
impl WeightInfo for () {
	fn grant_role() -> Weight {
		Weight::from_parts(71_000_000, 28831)
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn revoke_role() -> Weight {
		Weight::from_parts(64_000_000, 14380)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn set_role_permissions() -> Weight {
		Weight::from_parts(93_000_000, 22624)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn create_custom_role() -> Weight {
		Weight::from_parts(88_000_000, 14375)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn remove_custom_role() -> Weight {
		Weight::from_parts(72_000_000, 14367)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
}
