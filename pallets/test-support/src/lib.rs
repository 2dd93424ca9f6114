//! What the mock runtimes of the dt-ledger pallets share.
//!
//! The pallets that protect twin data run the real access pallet in their mocks, and the
//! access pallet asks the consortium who belongs to which organisation. [`FixedConsortium`]
//! answers from a table each mock declares ([`Members`]), plus the accounts the benchmarks
//! make members on the way.

use core::marker::PhantomData;
use dt_primitives::{
	access::{ConsortiumMember, ConsortiumMembership},
	OrganisationId,
};
use std::cell::RefCell;

/// The members of a mock's consortium.
pub trait Members {
	/// Each member account with its organisation.
	const MEMBERS: &'static [(u64, OrganisationId)];
	/// Organisations `0..ORGANISATIONS` exist.
	const ORGANISATIONS: OrganisationId;
}

std::thread_local! {
	/// Accounts the benchmarks made members (of organisation 0). Tests run one per thread,
	/// so each starts without any.
	static BENCHMARK_MEMBERS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// A consortium fixed by the mock's [`Members`].
pub struct FixedConsortium<M>(PhantomData<M>);

impl<M: Members> ConsortiumMembership<u64> for FixedConsortium<M> {
	/// Members never leave this consortium, so each keeps one membership: its account id.
	fn member(who: &u64) -> Option<ConsortiumMember> {
		let organisation = if BENCHMARK_MEMBERS.with(|members| members.borrow().contains(who)) {
			0
		} else {
			M::MEMBERS
				.iter()
				.find(|(member, _)| member == who)
				.map(|(_, organisation)| *organisation)?
		};
		Some(ConsortiumMember { organisation, membership: *who })
	}

	fn organisation_exists(organisation: OrganisationId) -> bool {
		organisation < M::ORGANISATIONS
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<M: Members> pallet_dt_access::BenchmarkHelper<u64> for FixedConsortium<M> {
	fn make_member(who: &u64) -> OrganisationId {
		BENCHMARK_MEMBERS.with(|members| members.borrow_mut().push(*who));
		0
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	struct Two;
	impl Members for Two {
		const MEMBERS: &'static [(u64, OrganisationId)] = &[(1, 0), (2, 1)];
		const ORGANISATIONS: OrganisationId = 2;
	}
	type Consortium = FixedConsortium<Two>;

	#[test]
	fn answers_from_the_table() {
		assert_eq!(Consortium::organisation_of(&2), Some(1));
		assert_eq!(Consortium::organisation_of(&3), None);
		assert!(Consortium::organisation_exists(1));
		assert!(!Consortium::organisation_exists(2));
	}

	#[cfg(feature = "runtime-benchmarks")]
	#[test]
	fn benchmark_members_join_organisation_zero() {
		use pallet_dt_access::BenchmarkHelper;
		assert_eq!(Consortium::make_member(&7), 0);
		assert_eq!(Consortium::organisation_of(&7), Some(0));
	}
}

pub use pallet_dt_access;

/// The access pallet as every mock configures it: the real pallet, small bounds and the
/// mock's consortium.
///
/// `impl_access_config!(Test, FixedConsortium)`
#[macro_export]
macro_rules! impl_access_config {
	($runtime:ty, $consortium:ty) => {
		impl $crate::pallet_dt_access::Config for $runtime {
			type Consortium = $consortium;
			type MaxGrantsPerTwin = frame_support::traits::ConstU32<16>;
			type MaxRolesPerGrantee = frame_support::traits::ConstU32<4>;
			type MaxPermissionsPerRole = frame_support::traits::ConstU32<16>;
			type MaxCustomRolesPerTwin = frame_support::traits::ConstU32<4>;
			type MaxRoleNameLength = frame_support::traits::ConstU32<32>;
			type WeightInfo = ();
			#[cfg(feature = "runtime-benchmarks")]
			type BenchmarkHelper = $consortium;
		}
	};
}
