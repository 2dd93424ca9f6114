//! Reads of the access control of twins for clients, as a runtime API.

use alloc::vec::Vec;
use codec::Codec;
use dt_primitives::access::{Confidentiality, CustomRoleId, Grantee, Permission, Role, TwinId};

sp_api::decl_runtime_apis! {
	/// What a client needs to know about who may do what on a twin at a block.
	pub trait AccessApi<AccountId: Codec> {
		/// The roles `who` holds on `twin`, granted to the account and to its organisation.
		/// Empty for an account outside the consortium or an unknown twin.
		fn roles_of(twin: TwinId, who: AccountId) -> Vec<Role>;

		/// The highest confidentiality level `who` may read on `twin`; `None` if it may read
		/// public data at most (members of the consortium always may).
		fn clearance(twin: TwinId, who: AccountId) -> Option<Confidentiality>;

		/// Every grantee of `twin` with its roles.
		fn grants(twin: TwinId) -> Vec<(Grantee<AccountId>, Vec<Role>)>;

		/// The permissions of `role` on `twin`, `None` if the role is not defined there.
		fn role_permissions(twin: TwinId, role: Role) -> Option<Vec<Permission>>;

		/// The custom roles of `twin` (`Role::Custom(id)`) with their UTF-8 names.
		fn custom_roles(twin: TwinId) -> Vec<(CustomRoleId, Vec<u8>)>;
	}
}
