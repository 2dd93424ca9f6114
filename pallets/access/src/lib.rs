//! # Access pallet
//!
//! Every twin on a dt-ledger chain has its own role-based access control, and this pallet
//! keeps it: a stored map from [`Role`] to [`Permission`]s per twin, and grants of roles to
//! single accounts or to whole organisations of the consortium ([`Grantee`]). The pallets
//! that hold a twin's data (specification, documents, feeds, program calls) never look at
//! roles: they ask one question through [`Authorize`], "may this account do this
//! [`Action`] on this twin?", and the off-chain store asks the same before it wraps an
//! item's key for a reader.
//!
//! ## Roles and the default map
//!
//! A twin has the five built-in lifecycle roles from its creation, and any number (up to
//! [`Config::MaxCustomRolesPerTwin`]) of custom roles its access managers define. When a
//! twin is created ([`Authorize::twin_created`]) the built-in roles get the default map
//! below, and the creator's account gets the Owner role. Owner and maintainer may write,
//! everyone else may read:
//!
//! | Role         | Default permissions                                                     |
//! |--------------|-------------------------------------------------------------------------|
//! | Owner        | `Read(Secret)`, `WriteSpecification(None)` (whole document), `AddDocuments`, `VersionDocuments`, `AnnotateDocuments`, `RegisterFeeds`, `AppendToFeeds`, `CallPrograms(None)` (all programs), `AddExternalSources`, `ManageAccess`, `DeclarePrograms` |
//! | Maintainer   | `Read(Confidential)`, `WriteSpecification(None)`, `AddDocuments`, `VersionDocuments`, `AnnotateDocuments`, `RegisterFeeds`, `CallPrograms(None)`, `AddExternalSources` |
//! | Manufacturer | `Read(Confidential)`, `AnnotateDocuments`, `DeclarePrograms`            |
//! | Auditor      | `Read(Confidential)`, `AnnotateDocuments`                               |
//! | Device       | `Read(Internal)`, `RegisterFeeds`, `AppendToFeeds`, `RunPrograms` (claim and report program calls) |
//!
//! `DeclarePrograms` (declaring a device program with its parameters and safety bounds,
//! changing or removing a declaration, and changing the AML that describes one) is kept
//! apart from operating the plant: the maintainer, who writes the specification and calls
//! programs, cannot widen the bounds it calls them within. The manufacturer, who knows the
//! machine's safe envelope, and the owner hold it.
//!
//! Access managers change every role's permissions afterwards, built-in ones included (an
//! owner can always grant itself anything). A specification write can be scoped to a
//! subtree: `WriteSpecification(Some(element))` allows changes at that element and at every
//! element below it, but not at its siblings or ancestors. The specification pallet names
//! the ancestors of the element it changes in the [`Action`], resolved once per call, so the
//! check reads nothing but the caller's roles, however many scoped permissions they hold.
//!
//! ## Who holds a role
//!
//! The roles of an account on a twin are those granted to the account itself and those
//! granted to its organisation ([`Config::Consortium`]): a grant to an organisation reaches
//! every member account, present and future. Only members of the consortium hold roles:
//! an account removed from the consortium loses the rights of its grants at once (its
//! transactions are refused anyway). [`Authorize::authorize`] allows an action when any
//! permission of any of these roles allows it.
//!
//! Revocation by leaving is final. A grant to an account is bound to the account's
//! membership of the consortium ([`ConsortiumMember::membership`]): once the account leaves
//! (it is removed, or its organisation is), the grant is dead, and it stays dead if any
//! organisation later adds the same account again. A grant to an organisation is dead once
//! the organisation is removed (organisation ids are never reused). Dead grants give no
//! rights, the runtime API shows none of them, and an access manager can revoke them to
//! free their slots; granting a role to an account that holds a dead grant replaces it.
//!
//! ## Confidentiality
//!
//! Data carries a [`Confidentiality`] level, `Public < Internal < Confidential < Secret`.
//! `Read(level)` allows reading data up to that level; [`Authorize::clearance`] gives the
//! highest level an account may read on a twin. Public data is readable by every member of
//! the consortium, with or without a role on the twin; no one outside the consortium reads
//! anything.
//!
//! ## No lockout
//!
//! A twin always keeps an access manager that can act: a grantee whose grant is live holding
//! a role whose permissions include `ManageAccess`. A revocation or a permission change that
//! would leave none is refused with [`Error::LastAccessManager`]. The twin's record keeps
//! the roles that have `ManageAccess` and how many grantees hold each role; when a change
//! takes `ManageAccess` from the signer itself, the twin's other grants are read (at most
//! [`Config::MaxGrantsPerTwin`]) to find a live manager, since dead grants still count in
//! the record.
//!
//! A twin can still lose its last manager when that manager leaves the consortium (the
//! access pallet is not told). The consortium's governance then appoints a new one by a
//! majority of the organisations ([`AccessManagerAppointment`], implemented here); it is
//! refused while a live manager exists.
//!
//! ## Calls
//!
//! Every call is signed by an access manager of the twin (an account holding `ManageAccess`
//! on it), and nothing changes when a call fails.
//!
//! - [`Pallet::grant_role`] grants a defined role to an account of the consortium or to an
//!   organisation of the consortium, within [`Config::MaxGrantsPerTwin`] grantees per twin
//!   and [`Config::MaxRolesPerGrantee`] roles per grantee.
//! - [`Pallet::revoke_role`] revokes a granted role (not the last access manager's).
//! - [`Pallet::set_role_permissions`] replaces a role's permission set (stored sorted,
//!   without duplicates; not taking `ManageAccess` from the last access manager).
//! - [`Pallet::create_custom_role`] defines a custom role with a name unique on the twin.
//! - [`Pallet::remove_custom_role`] removes a custom role nobody holds any more.
//!
//! Clients read roles, grants and clearances through the [`runtime_api::AccessApi`] runtime
//! API.
//!
//! [`Role`]: dt_primitives::access::Role
//! [`Permission`]: dt_primitives::access::Permission
//! [`Grantee`]: dt_primitives::access::Grantee
//! [`Action`]: dt_primitives::access::Action
//! [`Confidentiality`]: dt_primitives::access::Confidentiality
//! [`Authorize`]: dt_primitives::access::Authorize
//! [`Authorize::twin_created`]: dt_primitives::access::Authorize::twin_created
//! [`Authorize::authorize`]: dt_primitives::access::Authorize::authorize
//! [`Authorize::clearance`]: dt_primitives::access::Authorize::clearance
//! [`ConsortiumMember::membership`]: dt_primitives::access::ConsortiumMember::membership
//! [`AccessManagerAppointment`]: dt_primitives::access::AccessManagerAppointment

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_setup;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// What the benchmarks need from the runtime: making an account a member of the consortium,
/// which the access pallet cannot do itself.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` a member of an organisation of the consortium (founding one if needed)
	/// and returns that organisation. `who` can be any account the benchmarks choose.
	fn make_member(who: &AccountId) -> dt_primitives::OrganisationId;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{collections::BTreeSet, vec::Vec};
	use dt_primitives::access::{
		AccessDenied, AccessManagerAppointment, Action, AppointmentRefused, Authorize,
		Confidentiality, ConsortiumMembership, CustomRoleId, Grantee, Permission, Role, TwinId,
	};
	use frame_support::{pallet_prelude::*, BoundedBTreeMap, BoundedBTreeSet};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Saturating;

	/// The log target of this pallet.
	pub const LOG_TARGET: &str = "runtime::dt-access";

	/// The storage layout this code reads and writes. A change to it comes with a migration
	/// (`VersionedMigration`) from the previous version, listed in the runtime.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The consortium: which organisation an account belongs to, which organisations
		/// exist.
		type Consortium: ConsortiumMembership<Self::AccountId>;

		/// Most grantees (accounts and organisations) holding roles on one twin.
		#[pallet::constant]
		type MaxGrantsPerTwin: Get<u32>;

		/// Most roles one grantee can hold on one twin.
		#[pallet::constant]
		type MaxRolesPerGrantee: Get<u32>;

		/// Most permissions one role can have; at least the 11 of the default Owner role.
		#[pallet::constant]
		type MaxPermissionsPerRole: Get<u32>;

		/// Most custom roles one twin can define.
		#[pallet::constant]
		type MaxCustomRolesPerTwin: Get<u32>;

		/// Longest custom role name, in bytes.
		#[pallet::constant]
		type MaxRoleNameLength: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Makes accounts members of the consortium for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// The twins that have access control, with their grant and custom role counts, the roles
	/// that manage access and how many grantees hold each role. A twin is managed from its
	/// creation.
	#[pallet::storage]
	pub type ManagedTwins<T: Config> = StorageMap<_, Twox64Concat, TwinId, TwinAccess<T>>;

	/// The permissions of each role defined on a twin, built-in and custom: sorted, without
	/// duplicates. A role is defined on a twin exactly when it has an entry here.
	#[pallet::storage]
	pub type RolePermissions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TwinId, Twox64Concat, Role, PermissionsOf<T>>;

	/// The names of the custom roles of each twin.
	#[pallet::storage]
	pub type CustomRoleNames<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TwinId, Twox64Concat, CustomRoleId, RoleNameOf<T>>;

	/// The custom role of each name on a twin, so that names stay unique.
	#[pallet::storage]
	pub type CustomRolesByName<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TwinId, Blake2_128Concat, RoleNameOf<T>, CustomRoleId>;

	/// The roles each account or organisation holds on a twin, with the membership an
	/// account grant is bound to; absent when it holds none.
	#[pallet::storage]
	pub type Grants<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TwinId,
		Blake2_128Concat,
		Grantee<T::AccountId>,
		Grant<T>,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A new twin got its access control: the default role map, and the Owner role for
		/// its creator.
		AccessControlCreated { twin: TwinId, owner: T::AccountId },
		/// An access manager granted a role.
		RoleGranted { twin: TwinId, grantee: Grantee<T::AccountId>, role: Role, by: T::AccountId },
		/// An access manager revoked a role.
		RoleRevoked { twin: TwinId, grantee: Grantee<T::AccountId>, role: Role, by: T::AccountId },
		/// An access manager replaced the permissions of a role (sorted, without duplicates).
		RolePermissionsSet {
			twin: TwinId,
			role: Role,
			permissions: PermissionsOf<T>,
			by: T::AccountId,
		},
		/// An access manager defined a custom role, `Role::Custom(role)`.
		CustomRoleCreated {
			twin: TwinId,
			role: CustomRoleId,
			name: RoleNameOf<T>,
			by: T::AccountId,
		},
		/// An access manager removed a custom role nobody held.
		CustomRoleRemoved { twin: TwinId, role: CustomRoleId, by: T::AccountId },
		/// The consortium's governance gave `manager` a role with `ManageAccess` on a twin
		/// whose access managers had all left.
		AccessManagerAppointed { twin: TwinId, manager: T::AccountId, role: Role },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The twin does not exist (it has no access control).
		UnknownTwin,
		/// The signer holds no role with `ManageAccess` on the twin.
		NotAccessManager,
		/// The role is not defined on the twin.
		UnknownRole,
		/// No organisation of the consortium has this id.
		UnknownOrganisation,
		/// The account is not a member of the consortium.
		NotAConsortiumMember,
		/// The grantee already holds the role.
		RoleAlreadyGranted,
		/// The grantee does not hold the role.
		RoleNotGranted,
		/// The twin already has `MaxGrantsPerTwin` grantees.
		TooManyGrants,
		/// The grantee already holds `MaxRolesPerGrantee` roles on the twin.
		TooManyRoles,
		/// No grantee that can still act would hold a role with `ManageAccess` on the twin.
		LastAccessManager,
		/// The twin already defines `MaxCustomRolesPerTwin` custom roles.
		TooManyCustomRoles,
		/// The role name is empty.
		EmptyRoleName,
		/// The role name is not UTF-8.
		RoleNameNotUtf8,
		/// The twin already has a custom role of this name.
		RoleNameTaken,
		/// Some grantee still holds the custom role.
		RoleStillGranted,
		/// The custom role id counter of the twin reached its maximum.
		IdsExhausted,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxPermissionsPerRole::get() >= largest_default_permission_set(),
				"MaxPermissionsPerRole must hold the default Owner permissions"
			);
			assert!(T::MaxRolesPerGrantee::get() >= 1, "MaxRolesPerGrantee must be at least 1");
			assert!(T::MaxGrantsPerTwin::get() >= 1, "MaxGrantsPerTwin must be at least 1");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Grants `role` on `twin` to `grantee`: an account of the consortium (bound to its
		/// current membership), or an organisation of the consortium (then every member
		/// account holds the role).
		///
		/// The role must be defined on the twin and not yet held by the grantee. A dead grant
		/// of the account (made during an earlier membership) is replaced, not revived.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::grant_role())]
		pub fn grant_role(
			origin: OriginFor<T>,
			twin: TwinId,
			grantee: Grantee<T::AccountId>,
			role: Role,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut access = Self::ensure_access_manager(twin, &who)?;
			ensure!(RolePermissions::<T>::contains_key(twin, role), Error::<T>::UnknownRole);
			let membership = Self::valid_grantee_membership(&grantee)?;
			Self::do_grant(twin, &mut access, &grantee, membership, role)?;
			ManagedTwins::<T>::insert(twin, access);
			Self::deposit_event(Event::RoleGranted { twin, grantee, role, by: who });
			Ok(())
		}

		/// Revokes `role` on `twin` from `grantee`, whether its grant is live or dead.
		/// Refused if no grantee that can still act would hold a role with `ManageAccess`
		/// afterwards.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::revoke_role(T::MaxGrantsPerTwin::get()))]
		pub fn revoke_role(
			origin: OriginFor<T>,
			twin: TwinId,
			grantee: Grantee<T::AccountId>,
			role: Role,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut access = Self::ensure_access_manager(twin, &who)?;
			let mut grant = Grants::<T>::get(twin, &grantee).ok_or(Error::<T>::RoleNotGranted)?;
			ensure!(grant.roles.remove(&role), Error::<T>::RoleNotGranted);
			let holders = access.holders_of(&role).saturating_sub(1);
			if holders == 0 {
				access.role_holders.remove(&role);
			} else {
				access
					.role_holders
					.try_insert(role, holders)
					.map_err(|_| Error::<T>::TooManyRoles)?;
			}
			let remaining = (!grant.roles.is_empty()).then_some(&grant);
			let grants_read = if access.manager_roles.contains(&role) {
				Self::ensure_live_manager_remains(twin, &access, &who, Some((&grantee, remaining)))?
			} else {
				0
			};
			if grant.roles.is_empty() {
				Grants::<T>::remove(twin, &grantee);
				access.grant_count.saturating_dec();
			} else {
				Grants::<T>::insert(twin, &grantee, grant);
			}
			ManagedTwins::<T>::insert(twin, access);
			Self::deposit_event(Event::RoleRevoked { twin, grantee, role, by: who });
			Ok(Some(T::WeightInfo::revoke_role(grants_read)).into())
		}

		/// Replaces the permissions of `role` (built-in or custom) on `twin`. They are stored
		/// sorted and without duplicates. Refused if it would take `ManageAccess` from the
		/// last role that a grantee that can still act holds with it.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_role_permissions(T::MaxGrantsPerTwin::get()))]
		pub fn set_role_permissions(
			origin: OriginFor<T>,
			twin: TwinId,
			role: Role,
			permissions: PermissionsOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut access = Self::ensure_access_manager(twin, &who)?;
			ensure!(RolePermissions::<T>::contains_key(twin, role), Error::<T>::UnknownRole);
			let permissions = Self::normalised(permissions);
			let was_manager = access.manager_roles.contains(&role);
			let is_manager = permissions.contains(&Permission::ManageAccess);
			let mut grants_read = 0;
			if was_manager && !is_manager {
				access.manager_roles.remove(&role);
				grants_read = Self::ensure_live_manager_remains(twin, &access, &who, None)?;
			} else if is_manager && !was_manager {
				// The set holds only defined roles, so it cannot be full.
				access
					.manager_roles
					.try_insert(role)
					.map_err(|_| Error::<T>::TooManyCustomRoles)?;
			}
			if was_manager != is_manager {
				ManagedTwins::<T>::insert(twin, access);
			}
			RolePermissions::<T>::insert(twin, role, &permissions);
			Self::deposit_event(Event::RolePermissionsSet { twin, role, permissions, by: who });
			Ok(Some(T::WeightInfo::set_role_permissions(grants_read)).into())
		}

		/// Defines a custom role on `twin` with a name (UTF-8, not empty, unique on the twin)
		/// and its permissions. It gets the next custom role id of the twin.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::create_custom_role())]
		pub fn create_custom_role(
			origin: OriginFor<T>,
			twin: TwinId,
			name: RoleNameOf<T>,
			permissions: PermissionsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut access = Self::ensure_access_manager(twin, &who)?;
			ensure!(!name.is_empty(), Error::<T>::EmptyRoleName);
			ensure!(core::str::from_utf8(&name).is_ok(), Error::<T>::RoleNameNotUtf8);
			ensure!(!CustomRolesByName::<T>::contains_key(twin, &name), Error::<T>::RoleNameTaken);
			let role = Self::do_create_custom_role(twin, &mut access, name.clone(), permissions)?;
			ManagedTwins::<T>::insert(twin, access);
			Self::deposit_event(Event::CustomRoleCreated { twin, role, name, by: who });
			Ok(())
		}

		/// Removes the custom role `Role::Custom(role)` from `twin`. Its holders must have
		/// lost it first ([`Pallet::revoke_role`]).
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_custom_role())]
		pub fn remove_custom_role(
			origin: OriginFor<T>,
			twin: TwinId,
			role: CustomRoleId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut access = Self::ensure_access_manager(twin, &who)?;
			let name = CustomRoleNames::<T>::get(twin, role).ok_or(Error::<T>::UnknownRole)?;
			let custom = Role::Custom(role);
			ensure!(access.holders_of(&custom) == 0, Error::<T>::RoleStillGranted);
			CustomRoleNames::<T>::remove(twin, role);
			CustomRolesByName::<T>::remove(twin, &name);
			RolePermissions::<T>::remove(twin, custom);
			access.manager_roles.remove(&custom);
			access.custom_role_count.saturating_dec();
			ManagedTwins::<T>::insert(twin, access);
			Self::deposit_event(Event::CustomRoleRemoved { twin, role, by: who });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The roles `who` holds on `twin`: granted to the account and to its organisation.
		/// Empty for an account outside the consortium or an unknown twin.
		pub fn roles_of(twin: TwinId, who: &T::AccountId) -> Vec<Role> {
			Self::effective_roles(twin, who).into_iter().collect()
		}

		/// The highest confidentiality level `who` may read on `twin`
		/// ([`Authorize::clearance`]).
		pub fn clearance_of(twin: TwinId, who: &T::AccountId) -> Option<Confidentiality> {
			<Self as Authorize<T::AccountId>>::clearance(twin, who)
		}

		/// Every grantee of `twin` whose grant is live, with its roles, ordered by grantee.
		/// Dead grants (of accounts that left the consortium, of removed organisations) are
		/// left out: they give no rights.
		pub fn grants(twin: TwinId) -> Vec<(Grantee<T::AccountId>, Vec<Role>)> {
			let mut grants: Vec<_> = Grants::<T>::iter_prefix(twin)
				.filter(|(grantee, grant)| Self::is_live(grantee, grant))
				.map(|(grantee, grant)| (grantee, grant.roles.into_iter().collect()))
				.collect();
			grants.sort_by(|a, b| a.0.cmp(&b.0));
			grants
		}

		/// The permissions of `role` on `twin`, `None` if the role is not defined there.
		pub fn role_permissions(twin: TwinId, role: Role) -> Option<Vec<Permission>> {
			RolePermissions::<T>::get(twin, role).map(BoundedVec::into_inner)
		}

		/// The custom roles of `twin` with their names, ordered by id.
		pub fn custom_roles(twin: TwinId) -> Vec<(CustomRoleId, Vec<u8>)> {
			let mut roles: Vec<_> = CustomRoleNames::<T>::iter_prefix(twin)
				.map(|(role, name)| (role, name.into_inner()))
				.collect();
			roles.sort_by_key(|(role, _)| *role);
			roles
		}

		/// The most roles an account can hold on a twin: its own grant's and its
		/// organisation's.
		pub fn max_roles_held() -> u32 {
			T::MaxRolesPerGrantee::get().saturating_mul(2)
		}

		/// The roles of `who` on `twin`, granted to the account during its current membership
		/// and to its organisation, if it is a member of the consortium.
		fn effective_roles(twin: TwinId, who: &T::AccountId) -> BTreeSet<Role> {
			let Some(member) = T::Consortium::member(who) else {
				return BTreeSet::new();
			};
			let mut roles: BTreeSet<Role> = Grants::<T>::get(twin, Grantee::Account(who.clone()))
				.filter(|grant| grant.membership == Some(member.membership))
				.map(|grant| grant.roles.into_inner())
				.unwrap_or_default();
			if let Some(grant) = Grants::<T>::get(twin, Grantee::Organisation(member.organisation))
			{
				roles.extend(grant.roles);
			}
			roles
		}

		/// Whether a grant can still act: an account's while the account keeps the
		/// membership the grant was made in, an organisation's while it exists.
		pub(crate) fn is_live(grantee: &Grantee<T::AccountId>, grant: &Grant<T>) -> bool {
			match grantee {
				Grantee::Account(who) => {
					grant.membership.is_some()
						&& T::Consortium::member(who).map(|member| member.membership)
							== grant.membership
				},
				Grantee::Organisation(organisation) => {
					T::Consortium::organisation_exists(*organisation)
				},
			}
		}

		/// Finds a live grantee holding a role with `ManageAccess` on `twin`, with the twin's
		/// record `access` and `changed` (a grantee with its grant after the change, `None`
		/// if it is removed) as they will be stored. The signer is tried first, as it mostly
		/// stays a manager; the other grants are read only when it does not. Returns how
		/// many grants were read, or [`Error::LastAccessManager`] if none is left.
		fn ensure_live_manager_remains(
			twin: TwinId,
			access: &TwinAccess<T>,
			signer: &T::AccountId,
			changed: Option<(&Grantee<T::AccountId>, Option<&Grant<T>>)>,
		) -> Result<u32, Error<T>> {
			// Dead grants are counted too: when nobody holds a manager role, nobody can act.
			ensure!(access.has_access_manager(), Error::<T>::LastAccessManager);
			let after = |grantee: &Grantee<T::AccountId>, stored: Option<Grant<T>>| match changed {
				Some((changed, grant)) if changed == grantee => grant.cloned(),
				_ => stored,
			};
			let manages = |grantee: &Grantee<T::AccountId>, grant: &Grant<T>| {
				access.manages(&grant.roles) && Self::is_live(grantee, grant)
			};
			if let Some(member) = T::Consortium::member(signer) {
				for grantee in
					[Grantee::Account(signer.clone()), Grantee::Organisation(member.organisation)]
				{
					let grant = after(&grantee, Grants::<T>::get(twin, &grantee));
					if grant.is_some_and(|grant| manages(&grantee, &grant)) {
						return Ok(0);
					}
				}
			}
			let mut read = 0u32;
			for (grantee, stored) in Grants::<T>::iter_prefix(twin) {
				read.saturating_inc();
				if after(&grantee, Some(stored)).is_some_and(|grant| manages(&grantee, &grant)) {
					return Ok(read);
				}
			}
			Err(Error::<T>::LastAccessManager)
		}

		/// Whether a grantee that can still act holds a role with `ManageAccess` on `twin`,
		/// and how many grants were read to tell.
		fn has_live_access_manager(twin: TwinId, access: &TwinAccess<T>) -> (bool, u32) {
			if !access.has_access_manager() {
				return (false, 0);
			}
			let mut read = 0u32;
			for (grantee, grant) in Grants::<T>::iter_prefix(twin) {
				read.saturating_inc();
				if access.manages(&grant.roles) && Self::is_live(&grantee, &grant) {
					return (true, read);
				}
			}
			(false, read)
		}

		/// Gives `role` to `grantee` on `twin` (the role defined, the grantee checked, with
		/// `membership` the account's current one) and counts it in `access`, which the
		/// caller stores. A dead grant of the grantee is replaced.
		fn do_grant(
			twin: TwinId,
			access: &mut TwinAccess<T>,
			grantee: &Grantee<T::AccountId>,
			membership: Option<dt_primitives::access::MembershipId>,
			role: Role,
		) -> Result<(), Error<T>> {
			let mut roles = match Grants::<T>::get(twin, grantee) {
				None => {
					ensure!(
						access.grant_count < T::MaxGrantsPerTwin::get(),
						Error::<T>::TooManyGrants
					);
					access.grant_count.saturating_inc();
					GrantedRolesOf::<T>::default()
				},
				Some(grant) if Self::is_live(grantee, &grant) => grant.roles,
				Some(dead) => {
					// Its roles stop being counted: the grantee keeps its slot, nothing else.
					for role in dead.roles.iter() {
						let holders = access.holders_of(role).saturating_sub(1);
						if holders == 0 {
							access.role_holders.remove(role);
						} else if let Some(count) = access.role_holders.get_mut(role) {
							*count = holders;
						}
					}
					GrantedRolesOf::<T>::default()
				},
			};
			ensure!(!roles.contains(&role), Error::<T>::RoleAlreadyGranted);
			roles.try_insert(role).map_err(|_| Error::<T>::TooManyRoles)?;
			let holders = access.holders_of(&role).saturating_add(1);
			// Only defined roles are counted, so the map cannot be full.
			access
				.role_holders
				.try_insert(role, holders)
				.map_err(|_| Error::<T>::TooManyRoles)?;
			Grants::<T>::insert(twin, grantee, Grant { roles, membership });
			Ok(())
		}

		/// The twin's access record, if `who` is one of its access managers.
		fn ensure_access_manager(
			twin: TwinId,
			who: &T::AccountId,
		) -> Result<TwinAccess<T>, Error<T>> {
			let access = ManagedTwins::<T>::get(twin).ok_or(Error::<T>::UnknownTwin)?;
			ensure!(
				Self::effective_roles(twin, who)
					.iter()
					.any(|role| access.manager_roles.contains(role)),
				Error::<T>::NotAccessManager
			);
			Ok(access)
		}

		/// Checks the grantee is part of the consortium; returns the membership an account's
		/// grant is bound to (`None` for an organisation).
		fn valid_grantee_membership(
			grantee: &Grantee<T::AccountId>,
		) -> Result<Option<dt_primitives::access::MembershipId>, Error<T>> {
			match grantee {
				Grantee::Account(account) => T::Consortium::member(account)
					.map(|member| Some(member.membership))
					.ok_or(Error::<T>::NotAConsortiumMember),
				Grantee::Organisation(organisation) => {
					ensure!(
						T::Consortium::organisation_exists(*organisation),
						Error::<T>::UnknownOrganisation
					);
					Ok(None)
				},
			}
		}

		/// `permissions` sorted and without duplicates.
		fn normalised(permissions: PermissionsOf<T>) -> PermissionsOf<T> {
			let mut permissions = permissions.into_inner();
			permissions.sort();
			permissions.dedup();
			// No longer than before, so it fits.
			BoundedVec::truncate_from(permissions)
		}

		/// Stores a new custom role on `twin` and counts it in `access` (which the caller
		/// stores). The name must be checked and free.
		pub(crate) fn do_create_custom_role(
			twin: TwinId,
			access: &mut TwinAccess<T>,
			name: RoleNameOf<T>,
			permissions: PermissionsOf<T>,
		) -> Result<CustomRoleId, Error<T>> {
			ensure!(
				access.custom_role_count < T::MaxCustomRolesPerTwin::get(),
				Error::<T>::TooManyCustomRoles
			);
			let id = access.next_custom_role;
			access.next_custom_role = id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
			let role = Role::Custom(id);
			let permissions = Self::normalised(permissions);
			if permissions.contains(&Permission::ManageAccess) {
				access
					.manager_roles
					.try_insert(role)
					.map_err(|_| Error::<T>::TooManyCustomRoles)?;
			}
			access.custom_role_count.saturating_inc();
			RolePermissions::<T>::insert(twin, role, permissions);
			CustomRolesByName::<T>::insert(twin, &name, id);
			CustomRoleNames::<T>::insert(twin, id, name);
			Ok(id)
		}

		#[cfg(any(feature = "try-runtime", test))]
		pub(crate) fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			for (twin, access) in ManagedTwins::<T>::iter() {
				let mut holders = BTreeMap::<Role, u32>::new();
				let mut grant_count = 0u32;
				for (grantee, grant) in Grants::<T>::iter_prefix(twin) {
					ensure!(!grant.roles.is_empty(), "grantee without roles");
					ensure!(
						grant.membership.is_some() == matches!(grantee, Grantee::Account(_)),
						"account grant without membership, or organisation grant with one"
					);
					grant_count += 1;
					for role in grant.roles {
						*holders.entry(role).or_default() += 1;
					}
				}
				ensure!(grant_count == access.grant_count, "grant count out of sync");
				ensure!(grant_count <= T::MaxGrantsPerTwin::get(), "too many grants");
				ensure!(*access.role_holders == holders, "role holder counts out of sync");
				let mut manager_roles = BTreeSet::new();
				for (role, permissions) in RolePermissions::<T>::iter_prefix(twin) {
					ensure!(
						permissions.windows(2).all(|pair| pair[0] < pair[1]),
						"permissions not sorted or duplicated"
					);
					if permissions.contains(&Permission::ManageAccess) {
						manager_roles.insert(role);
					}
					if let Role::Custom(id) = role {
						ensure!(
							CustomRoleNames::<T>::contains_key(twin, id),
							"permissions of an unnamed custom role"
						);
					}
				}
				ensure!(manager_roles == *access.manager_roles, "manager roles out of sync");
				for role in holders.keys() {
					ensure!(
						RolePermissions::<T>::contains_key(twin, role),
						"granted role is not defined"
					);
				}
				for role in Role::BUILT_IN {
					ensure!(
						RolePermissions::<T>::contains_key(twin, role),
						"built-in role not defined"
					);
				}
				let mut custom_role_count = 0u32;
				for (id, name) in CustomRoleNames::<T>::iter_prefix(twin) {
					custom_role_count += 1;
					ensure!(id < access.next_custom_role, "custom role id not yet assigned");
					ensure!(
						CustomRolesByName::<T>::get(twin, &name) == Some(id),
						"custom role name index out of sync"
					);
					ensure!(
						RolePermissions::<T>::contains_key(twin, Role::Custom(id)),
						"custom role without permissions"
					);
				}
				ensure!(
					custom_role_count == access.custom_role_count,
					"custom role count out of sync"
				);
				ensure!(
					CustomRolesByName::<T>::iter_prefix(twin).count() as u32 == custom_role_count,
					"stale custom role names"
				);
				ensure!(access.has_access_manager(), "twin without access manager");
			}
			for twin in Grants::<T>::iter_keys().map(|(twin, _)| twin) {
				ensure!(ManagedTwins::<T>::contains_key(twin), "grant on an unmanaged twin");
			}
			for twin in RolePermissions::<T>::iter_keys().map(|(twin, _)| twin) {
				ensure!(ManagedTwins::<T>::contains_key(twin), "role of an unmanaged twin");
			}
			Ok(())
		}
	}

	impl<T: Config> Authorize<T::AccountId> for Pallet<T> {
		fn authorize(
			twin: TwinId,
			who: &T::AccountId,
			action: Action<'_>,
		) -> Result<(), AccessDenied> {
			let access = ManagedTwins::<T>::get(twin).ok_or(AccessDenied::UnknownTwin)?;
			if action == Action::Read(Confidentiality::Public)
				&& T::Consortium::organisation_of(who).is_some()
			{
				return Ok(());
			}
			let roles = Self::effective_roles(twin, who);
			// One read per role; a specification write comes with its ancestors resolved,
			// so no permission, scoped or not, reads anything more.
			let permitted = if action == Action::ManageAccess {
				roles.iter().any(|role| access.manager_roles.contains(role))
			} else {
				roles.into_iter().any(|role| {
					RolePermissions::<T>::get(twin, role).is_some_and(|permissions| {
						permissions.iter().any(|permission| permission.allows(&action))
					})
				})
			};
			if permitted {
				Ok(())
			} else {
				Err(AccessDenied::NotPermitted)
			}
		}

		fn clearance(twin: TwinId, who: &T::AccountId) -> Option<Confidentiality> {
			if !ManagedTwins::<T>::contains_key(twin) {
				return None;
			}
			Self::effective_roles(twin, who)
				.into_iter()
				.filter_map(|role| RolePermissions::<T>::get(twin, role))
				.flat_map(|permissions| permissions.into_inner())
				.filter_map(|permission| match permission {
					Permission::Read(level) => Some(level),
					_ => None,
				})
				.max()
		}

		fn roles_held(twin: TwinId, who: &T::AccountId) -> u32 {
			Self::effective_roles(twin, who).len() as u32
		}

		fn max_roles_held() -> u32 {
			Self::max_roles_held()
		}

		fn twin_created(twin: TwinId, creator: &T::AccountId) {
			if ManagedTwins::<T>::contains_key(twin) {
				log::warn!(target: LOG_TARGET, "twin {twin} already has access control; kept");
				return;
			}
			let mut manager_roles = BoundedBTreeSet::new();
			for role in Role::BUILT_IN {
				// `integrity_test` makes sure the largest default set fits.
				let permissions = PermissionsOf::<T>::truncate_from(default_permissions(role));
				if permissions.contains(&Permission::ManageAccess) {
					// Five built-in roles always fit.
					let _ = manager_roles.try_insert(role);
				}
				RolePermissions::<T>::insert(twin, role, permissions);
			}
			let mut owner_roles = GrantedRolesOf::<T>::new();
			let mut role_holders = BoundedBTreeMap::new();
			// `integrity_test` makes sure a grantee can hold a role.
			let granted = owner_roles.try_insert(Role::Owner).is_ok()
				&& role_holders.try_insert(Role::Owner, 1).is_ok();
			if granted {
				// A creator outside the consortium (it cannot sign) gets a dead grant.
				let membership = T::Consortium::member(creator).map(|member| member.membership);
				Grants::<T>::insert(
					twin,
					Grantee::Account(creator.clone()),
					Grant { roles: owner_roles, membership: membership.or(Some(u64::MAX)) },
				);
			}
			ManagedTwins::<T>::insert(
				twin,
				TwinAccess {
					grant_count: u32::from(granted),
					custom_role_count: 0,
					next_custom_role: 0,
					manager_roles,
					role_holders,
				},
			);
			Self::deposit_event(Event::AccessControlCreated { twin, owner: creator.clone() });
		}
	}

	impl<T: Config> AccessManagerAppointment<T::AccountId> for Pallet<T> {
		fn can_appoint(twin: TwinId, who: &T::AccountId) -> Result<(), AppointmentRefused> {
			Self::appointment(twin, who).map(|_| ())
		}

		fn appoint(twin: TwinId, who: &T::AccountId) -> Result<Role, AppointmentRefused> {
			let (mut access, membership, role) = Self::appointment(twin, who)?;
			let grantee = Grantee::Account(who.clone());
			Self::do_grant(twin, &mut access, &grantee, Some(membership), role)
				.map_err(|_| AppointmentRefused::NoRoomForGrant)?;
			ManagedTwins::<T>::insert(twin, access);
			Self::deposit_event(Event::AccessManagerAppointed { twin, manager: who.clone(), role });
			Ok(role)
		}

		fn appointment_weight() -> Weight {
			T::WeightInfo::appoint_access_manager(T::MaxGrantsPerTwin::get())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks an appointment of `who` as access manager of `twin`: the twin has no live
		/// manager, `who` is a member, and a manager role can be granted to it. Returns the
		/// twin's record, `who`'s membership and the role: Owner if it still has
		/// `ManageAccess`, else the first role that has it.
		fn appointment(
			twin: TwinId,
			who: &T::AccountId,
		) -> Result<(TwinAccess<T>, dt_primitives::access::MembershipId, Role), AppointmentRefused>
		{
			let access = ManagedTwins::<T>::get(twin).ok_or(AppointmentRefused::UnknownTwin)?;
			let member =
				T::Consortium::member(who).ok_or(AppointmentRefused::NotAConsortiumMember)?;
			ensure!(
				!Self::has_live_access_manager(twin, &access).0,
				AppointmentRefused::TwinStillManaged
			);
			let role = if access.manager_roles.contains(&Role::Owner) {
				Role::Owner
			} else {
				// A twin always has a manager role (with holders, now all dead).
				*access.manager_roles.first().ok_or(AppointmentRefused::TwinStillManaged)?
			};
			let grantee = Grantee::Account(who.clone());
			match Grants::<T>::get(twin, &grantee) {
				Some(grant) if Self::is_live(&grantee, &grant) => ensure!(
					(grant.roles.len() as u32) < T::MaxRolesPerGrantee::get(),
					AppointmentRefused::NoRoomForGrant
				),
				Some(_) => {},
				None => ensure!(
					access.grant_count < T::MaxGrantsPerTwin::get(),
					AppointmentRefused::NoRoomForGrant
				),
			}
			Ok((access, member.membership, role))
		}
	}
}
