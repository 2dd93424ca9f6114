//! The records the consortium pallet stores and the actions governance decides on.

use crate::Config;
use alloc::{string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dt_primitives::{
	access::{MembershipId, TwinId},
	encryption_key::{MAX_ENCRYPTION_KEY_LEN, MAX_KEY_PROOF_LEN},
	LifecycleRole, OrganisationId,
};
use frame_support::{
	pallet_prelude::{BoundedVec, ConstU32},
	CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::Bytes;

/// A DER `SubjectPublicKeyInfo` RSA key, validated when it was submitted.
pub type EncryptionKeyOf = BoundedVec<u8, ConstU32<MAX_ENCRYPTION_KEY_LEN>>;

/// A proof that an account holds an encryption key's private half: an RSA signature, as
/// long as the key's modulus.
pub type KeyProofOf = BoundedVec<u8, ConstU32<MAX_KEY_PROOF_LEN>>;

/// A libp2p peer id in its binary (multihash) form.
pub type PeerIdOf<T> = BoundedVec<u8, <T as Config>::MaxPeerIdLength>;

/// An organisation's name.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLength>;

/// An organisation of the consortium.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Organisation<T: Config> {
	/// Its name, UTF-8.
	pub name: NameOf<T>,
	/// The part it plays in the assets' life.
	pub role: LifecycleRole,
	/// How many accounts (admins included) it holds.
	pub member_count: u32,
	/// How many of those are admins; never zero.
	pub admin_count: u32,
}

/// What the chain knows about one account of the consortium.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Membership {
	/// The organisation the account belongs to.
	pub organisation: OrganisationId,
	/// This membership, new each time the account joins: what its grants on twins are
	/// bound to, so that none of them comes back if it is removed and added again.
	pub id: MembershipId,
	/// Whether it manages its organisation's members and votes for it.
	pub is_admin: bool,
	/// Its public encryption key.
	pub encryption_key: EncryptionKeyOf,
}

/// A change to the consortium that needs a majority of the organisations.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub enum Action<T: Config> {
	/// Admit a new organisation with its first admin account, that account's encryption key
	/// and its proof of holding the key (made by the admin, see
	/// [`crate::Pallet::key_proof_message`]).
	AddOrganisation {
		name: NameOf<T>,
		role: LifecycleRole,
		admin: T::AccountId,
		admin_encryption_key: EncryptionKeyOf,
		admin_key_proof: KeyProofOf,
	},
	/// Remove an organisation together with its accounts, validators and partner nodes.
	RemoveOrganisation { organisation: OrganisationId },
	/// Let a member account author and finalise blocks (it must have set session keys).
	AddValidator { validator: T::AccountId },
	/// Stop a validator.
	RemoveValidator { validator: T::AccountId },
	/// Allow a node, run by `organisation`, on the network.
	AddPartnerNode { organisation: OrganisationId, peer_id: PeerIdOf<T> },
	/// Disallow a node.
	RemovePartnerNode { peer_id: PeerIdOf<T> },
	/// Give a member a role that manages `twin`'s access, when no grantee that can still act
	/// manages it (its managers all left the consortium).
	AppointAccessManager { twin: TwinId, manager: T::AccountId },
	/// Authorize the runtime whose code hashes to `code_hash` (blake2-256 of the Wasm blob as
	/// it will be submitted), announced as `spec_version`. Executing it only authorizes: any
	/// account then submits the code once with `System::apply_authorized_upgrade`, which
	/// checks the hash, that the code is a runtime of this chain (same spec name) and that its
	/// spec version is above the running one.
	UpgradeRuntime { code_hash: T::Hash, spec_version: u32 },
}

/// An open governance proposal.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Proposal<T: Config> {
	/// What it would do.
	pub action: Action<T>,
	/// The admin who opened it.
	pub proposer: T::AccountId,
	/// The organisation of that admin, whose open proposals it counts among.
	pub organisation: OrganisationId,
	/// The last block in which it can be voted on and executed.
	pub expires_at: BlockNumberFor<T>,
	/// The organisations that approve.
	pub approvals: BoundedVec<OrganisationId, T::MaxOrganisations>,
	/// The organisations that reject.
	pub rejections: BoundedVec<OrganisationId, T::MaxOrganisations>,
}

/// Why a proposal was closed without effect.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum CloseReason {
	/// Its lifetime passed before it was executed.
	Expired,
	/// A strict majority of the organisations rejected it.
	Rejected,
}

/// A founding organisation in the chain specification.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[serde(bound(
	serialize = "AccountId: serde::Serialize",
	deserialize = "AccountId: serde::Deserialize<'de>"
))]
pub struct GenesisOrganisation<AccountId> {
	/// Its name.
	pub name: String,
	/// The part it plays in the assets' life.
	pub role: LifecycleRole,
	/// Admin accounts with their encryption keys (DER, hex); at least one.
	pub admins: Vec<(AccountId, Bytes)>,
	/// Further member accounts with their encryption keys.
	#[serde(default)]
	pub members: Vec<(AccountId, Bytes)>,
	/// The peer ids (binary multihash, hex) of the nodes it runs.
	#[serde(default)]
	pub partner_nodes: Vec<Bytes>,
}
