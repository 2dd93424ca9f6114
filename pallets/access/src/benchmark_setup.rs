//! Worst-case access control for benchmarks: this pallet's own and those of the pallets
//! that ask it for decisions.

use crate::{Config, Grant, Grants, ManagedTwins, Pallet, PermissionsOf, RoleNameOf};
use alloc::vec::Vec;
use dt_primitives::access::{
	Confidentiality, ConsortiumMembership, ElementId, Grantee, Permission, Role, TwinId,
	MAX_ELEMENT_ID_LEN,
};
use frame_support::traits::Get;

/// `count` specification writes scoped to subtrees nobody has (distinct per `seed`), with
/// the longest element ids, so that checking one compares the most bytes.
pub fn scoped_writes_elsewhere(seed: u32, count: u32) -> Vec<Permission> {
	(0..count)
		.map(|index| {
			let mut id = alloc::vec![b'e'; MAX_ELEMENT_ID_LEN as usize];
			id[..4].copy_from_slice(&seed.to_le_bytes());
			id[4..8].copy_from_slice(&index.to_le_bytes());
			Permission::WriteSpecification(Some(
				ElementId::try_from(id).expect("the longest id fits"),
			))
		})
		.collect()
}

/// Grants `roles` on `twin` to `grantee` by writing storage, keeping the twin's counts; an
/// account's grant is bound to its current membership.
pub fn give<T: Config>(
	twin: TwinId,
	grantee: &Grantee<T::AccountId>,
	roles: impl IntoIterator<Item = Role>,
) {
	let mut access = ManagedTwins::<T>::get(twin).expect("the twin has access control");
	let membership = match grantee {
		Grantee::Account(who) => {
			Some(T::Consortium::member(who).expect("grantees are members").membership)
		},
		Grantee::Organisation(_) => None,
	};
	let mut grant = Grants::<T>::get(twin, grantee).unwrap_or_else(|| {
		access.grant_count += 1;
		Grant { roles: Default::default(), membership }
	});
	for role in roles {
		if grant.roles.try_insert(role).expect("room for the role") {
			let holders = access.holders_of(&role) + 1;
			access.role_holders.try_insert(role, holders).expect("only defined roles");
		}
	}
	Grants::<T>::insert(twin, grantee, grant);
	ManagedTwins::<T>::insert(twin, access);
}

/// Makes `who` (a member of the consortium) the costliest caller of a specification change
/// on `twin` that holds `roles` roles (at least one, at most [`Pallet::max_roles_held`]: the
/// account's own first, then its organisation's), each with the most permissions, all of
/// them specification writes scoped to subtrees elsewhere, except in the role checked last,
/// which may also write at `scope` and below, read everything, declare programs, add
/// external sources and manage access. Every authorization of such a change then goes
/// through every permission of every role.
pub fn writer_with_roles<T: Config>(
	twin: TwinId,
	who: &T::AccountId,
	scope: &ElementId,
	roles: u32,
) {
	let organisation =
		T::Consortium::organisation_of(who).expect("the writer is a member of the consortium");
	let per_grantee = T::MaxRolesPerGrantee::get();
	let mut access = ManagedTwins::<T>::get(twin).expect("the twin has access control");
	let room = T::MaxCustomRolesPerTwin::get().saturating_sub(access.custom_role_count);
	let count = roles.min(Pallet::<T>::max_roles_held()).min(room).max(1);
	let per_role = T::MaxPermissionsPerRole::get();
	let mut roles = Vec::new();
	for index in 0..count {
		let last = index + 1 == count;
		let mut permissions = if last {
			let mut granting = alloc::vec![
				Permission::Read(Confidentiality::Secret),
				Permission::WriteSpecification(Some(scope.clone())),
				Permission::DeclarePrograms,
				Permission::AddExternalSources,
				Permission::ManageAccess,
			];
			let filler = per_role.saturating_sub(granting.len() as u32);
			granting.extend(scoped_writes_elsewhere(10_000 + index, filler));
			granting
		} else {
			scoped_writes_elsewhere(10_000 + index, per_role)
		};
		permissions.sort();
		let mut name = alloc::format!("costliest-{index}").into_bytes();
		name.truncate(T::MaxRoleNameLength::get() as usize);
		let name: RoleNameOf<T> = name.try_into().expect("truncated to the longest name");
		let id = Pallet::<T>::do_create_custom_role(
			twin,
			&mut access,
			name,
			PermissionsOf::<T>::truncate_from(permissions),
		)
		.expect("room for the role");
		roles.push(Role::Custom(id));
	}
	ManagedTwins::<T>::insert(twin, access);
	// Roles are checked in order, so the granting one, created last, is checked last.
	let (own, organisations) = roles.split_at((per_grantee as usize).min(roles.len()));
	give::<T>(twin, &Grantee::Account(who.clone()), own.iter().copied());
	if !organisations.is_empty() {
		give::<T>(twin, &Grantee::Organisation(organisation), organisations.iter().copied());
	}
}
