//! The records the access pallet stores, and the default role map of a new twin.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use dt_primitives::access::{Confidentiality, CustomRoleId, MembershipId, Permission, Role};
use frame_support::{
	pallet_prelude::{BoundedVec, Get},
	BoundedBTreeMap, BoundedBTreeSet, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

/// The permissions of one role: sorted, without duplicates.
pub type PermissionsOf<T> = BoundedVec<Permission, <T as Config>::MaxPermissionsPerRole>;

/// The roles granted to one grantee on one twin.
pub type GrantedRolesOf<T> = BoundedBTreeSet<Role, <T as Config>::MaxRolesPerGrantee>;

/// The roles one grantee holds on one twin, and what they are bound to.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Grant<T: Config> {
	/// The roles, never empty.
	pub roles: GrantedRolesOf<T>,
	/// For a grant to an account, the membership the account had when it was made: the
	/// grant counts only while the account keeps that membership, so it is dead for good
	/// once the account leaves the consortium, even if it is added again later. `None` for
	/// a grant to an organisation, which counts while the organisation exists (organisation
	/// ids are never reused).
	pub membership: Option<MembershipId>,
}

/// The name of a custom role, UTF-8.
pub type RoleNameOf<T> = BoundedVec<u8, <T as Config>::MaxRoleNameLength>;

/// The most roles one twin can define: the built-in ones and `MaxCustomRolesPerTwin`.
pub struct MaxRolesPerTwin<T>(PhantomData<T>);

impl<T: Config> Get<u32> for MaxRolesPerTwin<T> {
	fn get() -> u32 {
		(Role::BUILT_IN.len() as u32).saturating_add(T::MaxCustomRolesPerTwin::get())
	}
}

/// What the pallet keeps about the access control of one twin, besides its roles and grants.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct TwinAccess<T: Config> {
	/// How many grantees (accounts and organisations) hold at least one role, those whose
	/// grants are dead (the account left the consortium) included.
	pub grant_count: u32,
	/// How many custom roles the twin defines.
	pub custom_role_count: u32,
	/// The id the next custom role will get. Ids are never reused.
	pub next_custom_role: CustomRoleId,
	/// The roles whose permissions include [`Permission::ManageAccess`]. Kept with every
	/// change of a role's permissions, so that checking an access manager or the no-lockout
	/// rule never reads permission sets.
	pub manager_roles: BoundedBTreeSet<Role, MaxRolesPerTwin<T>>,
	/// How many grantees hold each role, dead grants included; roles nobody holds are
	/// absent.
	pub role_holders: BoundedBTreeMap<Role, u32, MaxRolesPerTwin<T>>,
}

impl<T: Config> TwinAccess<T> {
	/// How many grantees hold `role`.
	pub fn holders_of(&self, role: &Role) -> u32 {
		self.role_holders.get(role).copied().unwrap_or_default()
	}

	/// Whether `roles` include one with `ManageAccess`.
	pub fn manages(&self, roles: &GrantedRolesOf<T>) -> bool {
		roles.iter().any(|role| self.manager_roles.contains(role))
	}

	/// Whether some grantee holds a role with `ManageAccess`, counting dead grants: when
	/// this is false there is certainly no access manager; when true, there is one only if
	/// such a grant can still act.
	pub fn has_access_manager(&self) -> bool {
		self.manager_roles.iter().any(|role| self.holders_of(role) > 0)
	}
}

/// The permissions a built-in role has on a new twin (none for a custom role), sorted.
///
/// Owner and maintainer may write, everyone else may read; see the table in the crate
/// documentation.
pub fn default_permissions(role: Role) -> Vec<Permission> {
	use Confidentiality::*;
	use Permission::*;
	let mut permissions = match role {
		Role::Owner => alloc::vec![
			Read(Secret),
			WriteSpecification(None),
			AddDocuments,
			VersionDocuments,
			AnnotateDocuments,
			RegisterFeeds,
			AppendToFeeds,
			CallPrograms(None),
			AddExternalSources,
			ManageAccess,
			DeclarePrograms,
		],
		Role::Maintainer => alloc::vec![
			Read(Confidential),
			WriteSpecification(None),
			AddDocuments,
			VersionDocuments,
			AnnotateDocuments,
			RegisterFeeds,
			CallPrograms(None),
			AddExternalSources,
		],
		// The manufacturer knows the machine's safe envelope: it declares the programs and
		// their bounds, which the maintainer who operates the plant cannot change.
		Role::Manufacturer => alloc::vec![Read(Confidential), AnnotateDocuments, DeclarePrograms],
		Role::Auditor => alloc::vec![Read(Confidential), AnnotateDocuments],
		Role::Device => alloc::vec![Read(Internal), RegisterFeeds, AppendToFeeds, RunPrograms],
		Role::Custom(_) => Vec::new(),
	};
	permissions.sort();
	permissions
}

/// The largest default permission set: `MaxPermissionsPerRole` must hold at least this many.
pub fn largest_default_permission_set() -> u32 {
	Role::BUILT_IN
		.iter()
		.map(|role| default_permissions(*role).len() as u32)
		.max()
		.unwrap_or(0)
}
