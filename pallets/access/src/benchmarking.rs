//! Benchmarks of `pallet-dt-access`, each measuring its call's worst case: a twin with every
//! custom role defined (or all but one), every role with the largest permission set, and
//! the signer and its organisation holding the most roles each.

use super::*;
use crate::{
	benchmark_setup::{self, scoped_writes_elsewhere},
	Pallet as Access,
};
use alloc::vec::Vec;
use dt_primitives::{
	access::{Authorize, Grantee, Permission, Role, TwinId},
	OrganisationId,
};
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::RawOrigin;

const TWIN: TwinId = 0;

/// An account of the consortium, with its organisation.
fn member<T: Config>(name: &'static str, index: u32) -> (T::AccountId, OrganisationId) {
	let who: T::AccountId = account(name, index, 0);
	let organisation = T::BenchmarkHelper::make_member(&who);
	(who, organisation)
}

/// The largest permission set, sorted: scoped specification writes with the longest element
/// ids (distinct per `seed`), and `ManageAccess` if `manage`.
fn largest_permissions<T: Config>(seed: u32, manage: bool) -> PermissionsOf<T> {
	let count = T::MaxPermissionsPerRole::get();
	let mut permissions = scoped_writes_elsewhere(seed, count.saturating_sub(u32::from(manage)));
	if manage {
		permissions.push(Permission::ManageAccess);
	}
	permissions.sort();
	permissions.try_into().expect("MaxPermissionsPerRole permissions fit")
}

/// `permissions` in reverse order, so that storing them sorts them.
fn reversed<T: Config>(permissions: PermissionsOf<T>) -> PermissionsOf<T> {
	let mut permissions = permissions.into_inner();
	permissions.reverse();
	PermissionsOf::<T>::truncate_from(permissions)
}

/// A role name of the greatest length, distinct per `seed`.
fn longest_name<T: Config>(seed: u32) -> RoleNameOf<T> {
	let mut name = alloc::format!("role-{seed}-").into_bytes();
	name.resize(T::MaxRoleNameLength::get() as usize, b'x');
	name.try_into().expect("the name has the greatest length")
}

/// Every role a twin with `custom` custom roles defines, in order.
fn all_roles(custom: u32) -> Vec<Role> {
	Role::BUILT_IN.into_iter().chain((0..custom).map(Role::Custom)).collect()
}

/// Grants `roles` to `grantee` on the benchmarks' twin by writing storage.
fn give<T: Config>(grantee: &Grantee<T::AccountId>, roles: impl IntoIterator<Item = Role>) {
	benchmark_setup::give::<T>(TWIN, grantee, roles);
}

/// A twin created by its own account, with `custom` custom roles, every role with the
/// largest permission set including `ManageAccess`; the signer (whitelisted) holds the
/// first `MaxRolesPerGrantee` roles that are not `spare`, its organisation the next ones.
/// Returns the signer.
fn crowded_twin<T: Config>(custom: u32, spare: Option<Role>) -> T::AccountId {
	let (creator, _) = member::<T>("creator", 0);
	Access::<T>::twin_created(TWIN, &creator);
	let mut access = ManagedTwins::<T>::get(TWIN).expect("the twin was created");
	for (seed, role) in Role::BUILT_IN.into_iter().enumerate() {
		RolePermissions::<T>::insert(TWIN, role, largest_permissions::<T>(seed as u32, true));
		access.manager_roles.try_insert(role).expect("built-in roles fit");
	}
	for seed in 0..custom {
		Access::<T>::do_create_custom_role(
			TWIN,
			&mut access,
			longest_name::<T>(seed),
			reversed::<T>(largest_permissions::<T>(100 + seed, true)),
		)
		.expect("room for the custom role");
	}
	ManagedTwins::<T>::insert(TWIN, access);

	let caller: T::AccountId = whitelisted_caller();
	let organisation = T::BenchmarkHelper::make_member(&caller);
	let per_grantee = T::MaxRolesPerGrantee::get() as usize;
	let roles: Vec<Role> =
		all_roles(custom).into_iter().filter(|role| Some(*role) != spare).collect();
	give::<T>(&Grantee::Account(caller.clone()), roles.iter().copied().take(per_grantee));
	let organisation_roles: Vec<Role> =
		roles.iter().copied().skip(per_grantee).take(per_grantee).collect();
	if !organisation_roles.is_empty() {
		give::<T>(&Grantee::Organisation(organisation), organisation_roles);
	}
	caller
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Adding the last role a grantee can hold: the role with the largest permission set.
	#[benchmark]
	fn grant_role() {
		let custom = T::MaxCustomRolesPerTwin::get();
		let caller = crowded_twin::<T>(custom, None);
		let (grantee, _) = member::<T>("grantee", 0);
		let grantee = Grantee::Account(grantee);
		let roles = all_roles(custom);
		let role = *roles.last().expect("a twin has roles");
		let held = T::MaxRolesPerGrantee::get().saturating_sub(1) as usize;
		give::<T>(&grantee, roles.iter().copied().filter(|r| *r != role).take(held));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), TWIN, grantee.clone(), role);

		assert!(Grants::<T>::get(TWIN, &grantee).is_some_and(|roles| roles.contains(&role)));
		#[cfg(test)]
		Access::<T>::do_try_state().expect("the state stays consistent");
	}

	/// Revoking a manager role from a grantee holding the most roles.
	#[benchmark]
	fn revoke_role() {
		let custom = T::MaxCustomRolesPerTwin::get();
		let caller = crowded_twin::<T>(custom, None);
		let (grantee, _) = member::<T>("grantee", 0);
		let grantee = Grantee::Account(grantee);
		let roles = all_roles(custom);
		let role = *roles.last().expect("a twin has roles");
		let held = T::MaxRolesPerGrantee::get() as usize;
		give::<T>(&grantee, roles.iter().rev().copied().take(held));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), TWIN, grantee.clone(), role);

		assert!(!Grants::<T>::get(TWIN, &grantee).is_some_and(|roles| roles.contains(&role)));
		#[cfg(test)]
		Access::<T>::do_try_state().expect("the state stays consistent");
	}

	/// Replacing the largest permission set of a manager role with another largest set
	/// without `ManageAccess`, so the no-lockout check runs.
	#[benchmark]
	fn set_role_permissions() {
		let custom = T::MaxCustomRolesPerTwin::get();
		let caller = crowded_twin::<T>(custom, None);
		let role = *all_roles(custom).last().expect("a twin has roles");
		let permissions = reversed::<T>(largest_permissions::<T>(1000, false));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), TWIN, role, permissions);

		assert!(!ManagedTwins::<T>::get(TWIN)
			.is_some_and(|access| access.manager_roles.contains(&role)));
		#[cfg(test)]
		Access::<T>::do_try_state().expect("the state stays consistent");
	}

	/// Defining the last custom role there is room for, with the longest name and the
	/// largest permission set.
	#[benchmark]
	fn create_custom_role() {
		let custom = T::MaxCustomRolesPerTwin::get().saturating_sub(1);
		let caller = crowded_twin::<T>(custom, None);
		let name = longest_name::<T>(1000);
		let permissions = reversed::<T>(largest_permissions::<T>(1000, true));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), TWIN, name.clone(), permissions);

		assert_eq!(CustomRolesByName::<T>::get(TWIN, &name), Some(custom));
		#[cfg(test)]
		Access::<T>::do_try_state().expect("the state stays consistent");
	}

	/// Removing a custom role with the longest name and the largest permission set.
	#[benchmark]
	fn remove_custom_role() {
		let custom = T::MaxCustomRolesPerTwin::get();
		let removed = custom.saturating_sub(1);
		let caller = crowded_twin::<T>(custom, Some(Role::Custom(removed)));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), TWIN, removed);

		assert!(!CustomRoleNames::<T>::contains_key(TWIN, removed));
		#[cfg(test)]
		Access::<T>::do_try_state().expect("the state stays consistent");
	}

	impl_benchmark_test_suite!(Access, crate::mock::new_test_ext(), crate::mock::Test);
}
