//! Reads of the consortium for nodes and clients, as a runtime API.

use alloc::vec::Vec;
use codec::Codec;
use dt_primitives::OrganisationId;

sp_api::decl_runtime_apis! {
	/// What a node or client needs to know about the consortium at a block.
	pub trait ConsortiumApi<AccountId: Codec> {
		/// The peer ids (binary multihash) of the partner nodes. A node talks only to them.
		fn partner_nodes() -> Vec<Vec<u8>>;

		/// The organisation `who` belongs to, if it is a member.
		fn organisation_of(who: AccountId) -> Option<OrganisationId>;

		/// The public encryption key (DER SubjectPublicKeyInfo) of `who`, if it is a member.
		fn encryption_key(who: AccountId) -> Option<Vec<u8>>;
	}
}
