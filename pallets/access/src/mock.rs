//! A test runtime with a stub consortium of five organisations and a stub specification tree.

use crate::{self as pallet_dt_access};
use dt_primitives::{
	access::{ConsortiumMember, ConsortiumMembership, ElementId, MembershipId, TwinId},
	OrganisationId,
};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Access: pallet_dt_access,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// The organisations of the stub consortium, ids 0..=4.
pub const MANUFACTURER_ORG: OrganisationId = 0;
pub const OWNER_ORG: OrganisationId = 1;
pub const MAINTAINER_ORG: OrganisationId = 2;
pub const AUDITOR_ORG: OrganisationId = 3;
/// An organisation with no member account.
pub const INSURER_ORG: OrganisationId = 4;
/// No organisation has this id.
pub const UNKNOWN_ORG: OrganisationId = 9;

/// Accounts of the consortium.
pub const OWNER: u64 = 1;
pub const MANUFACTURER: u64 = 2;
pub const MAINTAINER: u64 = 3;
pub const AUDITOR: u64 = 4;
/// The device agent of the plant, an account of the owner's organisation.
pub const DEVICE: u64 = 5;
pub const OWNER_COLLEAGUE: u64 = 11;
pub const MANUFACTURER_COLLEAGUE: u64 = 12;
/// An account of no organisation.
pub const OUTSIDER: u64 = 99;

/// The twin most tests use, created by [`OWNER`].
pub const TWIN: TwinId = 7;
/// A twin that does not exist.
pub const UNKNOWN_TWIN: TwinId = 8;

pub const MAX_GRANTS: u32 = 8;
pub const MAX_ROLES_PER_GRANTEE: u32 = 3;
pub const MAX_PERMISSIONS: u32 = 12;
pub const MAX_CUSTOM_ROLES: u32 = 3;
pub const MAX_ROLE_NAME: u32 = 16;

parameter_types! {
	/// The accounts of the stub consortium, their organisations and memberships.
	pub static ConsortiumMembers: Vec<(u64, OrganisationId, MembershipId)> = vec![
		(OWNER, OWNER_ORG, 0),
		(OWNER_COLLEAGUE, OWNER_ORG, 1),
		(DEVICE, OWNER_ORG, 2),
		(MANUFACTURER, MANUFACTURER_ORG, 3),
		(MANUFACTURER_COLLEAGUE, MANUFACTURER_ORG, 4),
		(MAINTAINER, MAINTAINER_ORG, 5),
		(AUDITOR, AUDITOR_ORG, 6),
	];
	/// The membership the next account to join gets.
	pub static NextMembership: MembershipId = 7;
	/// Organisations governance removed.
	pub static RemovedOrganisations: Vec<OrganisationId> = vec![];
}

/// Adds `who` to `organisation` in the stub consortium, with a new membership.
pub fn join_consortium(who: u64, organisation: OrganisationId) {
	let membership = NextMembership::get();
	NextMembership::set(membership + 1);
	ConsortiumMembers::mutate(|members| members.push((who, organisation, membership)));
}

/// Removes `who` from the stub consortium.
pub fn leave_consortium(who: u64) {
	ConsortiumMembers::mutate(|members| members.retain(|(account, _, _)| *account != who));
}

/// Removes `organisation` and its accounts from the stub consortium.
pub fn remove_organisation(organisation: OrganisationId) {
	ConsortiumMembers::mutate(|members| members.retain(|(_, of, _)| *of != organisation));
	RemovedOrganisations::mutate(|removed| removed.push(organisation));
}

pub struct StubConsortium;
impl ConsortiumMembership<u64> for StubConsortium {
	fn member(who: &u64) -> Option<ConsortiumMember> {
		ConsortiumMembers::get().iter().find(|(account, _, _)| account == who).map(
			|(_, organisation, membership)| ConsortiumMember {
				organisation: *organisation,
				membership: *membership,
			},
		)
	}

	fn organisation_exists(organisation: OrganisationId) -> bool {
		organisation <= INSURER_ORG && !RemovedOrganisations::get().contains(&organisation)
	}
}

/// The specification of every twin: a bottling plant with two lines.
///
/// ```text
/// plant
/// ├── line-1
/// │   ├── filler
/// │   │   └── fill-sensor
/// │   └── capper
/// └── line-2
/// ```
const PARENTS: [(&str, &str); 5] = [
	("line-1", "plant"),
	("filler", "line-1"),
	("fill-sensor", "filler"),
	("capper", "line-1"),
	("line-2", "plant"),
];

/// The ancestors of `id` in the stub specification, as the specification pallet resolves
/// them for a write.
pub fn ancestors_of(id: &str) -> Vec<ElementId> {
	let parent_of = |child: &str| PARENTS.iter().find(|(c, _)| *c == child).map(|(_, p)| *p);
	let mut ancestors = Vec::new();
	let mut current = parent_of(id);
	while let Some(parent) = current {
		ancestors.push(element(parent));
		current = parent_of(parent);
	}
	ancestors
}

/// Element ids of the stub specification.
pub fn element(id: &str) -> ElementId {
	id.as_bytes().to_vec().try_into().unwrap()
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for StubConsortium {
	fn make_member(who: &u64) -> OrganisationId {
		Self::organisation_of(who).unwrap_or_else(|| {
			join_consortium(*who, INSURER_ORG);
			INSURER_ORG
		})
	}
}

impl pallet_dt_access::Config for Test {
	type Consortium = StubConsortium;
	type MaxGrantsPerTwin = ConstU32<MAX_GRANTS>;
	type MaxRolesPerGrantee = ConstU32<MAX_ROLES_PER_GRANTEE>;
	type MaxPermissionsPerRole = ConstU32<MAX_PERMISSIONS>;
	type MaxCustomRolesPerTwin = ConstU32<MAX_CUSTOM_ROLES>;
	type MaxRoleNameLength = ConstU32<MAX_ROLE_NAME>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = StubConsortium;
}

/// Externalities at block 1, with no twin.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Externalities at block 1 with [`TWIN`], created by [`OWNER`], and no event yet.
pub fn new_twin_ext() -> sp_io::TestExternalities {
	let mut ext = new_test_ext();
	ext.execute_with(|| {
		<Access as dt_primitives::access::Authorize<u64>>::twin_created(TWIN, &OWNER);
		System::reset_events();
	});
	ext
}

/// The events of this pallet deposited so far, oldest first.
pub fn access_events() -> Vec<pallet_dt_access::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Access(event) => Some(event),
			_ => None,
		})
		.collect()
}
