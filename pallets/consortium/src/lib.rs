//! # Consortium pallet
//!
//! The consortium is the known, registered set of parties that run a dt-ledger chain and
//! share Digital Twins on it: organisations (a manufacturer, an owner, a maintainer, an
//! auditor, ...), their member accounts, the validators that author and finalise blocks,
//! and the partner nodes allowed on the network. There is no sudo key and no trusted third
//! party: everything that changes the set of parties is decided by a strict majority of the
//! organisations.
//!
//! ## Parties and members
//!
//! Each organisation has a name, a [`LifecycleRole`] label, one or more admin accounts and
//! any number of member accounts (up to [`Config::MaxMembersPerOrganisation`]). Every
//! account registers a public encryption key: an RSA key of at least 3072 bits as DER
//! `SubjectPublicKeyInfo`, validated on submission
//! ([`dt_primitives::encryption_key::validate_rsa_public_key`]). Off-chain, every item's
//! symmetric key is wrapped with the keys of the accounts allowed to read it.
//!
//! A key is registered only with a proof that the account holds its private half: an
//! RSASSA-PKCS1-v1_5 (SHA-256) signature, made with the key, of the message
//! [`Pallet::key_proof_message`] (a fixed context, the chain's genesis hash and the account),
//! checked by [`dt_primitives::encryption_key::verify_key_proof`]. So no account can register
//! another party's key, and an admin cannot add a member under a key the member does not
//! hold: the member makes the proof and hands it to its admin with the public key. Keys in
//! the genesis configuration need no proof (they come from the founding partners' own
//! chain-specification file).
//!
//! Every time an account joins it gets a new [`MembershipId`]; the access pallet binds the
//! grants made to an account to its membership, so that an account that leaves (it is
//! removed, or its organisation is) and is later added again, by any organisation, gets
//! none of its former roles back.
//!
//! Onboarding is cheap: an organisation's admin adds and removes its own members with
//! [`Pallet::add_member`] and [`Pallet::remove_member`], with no vote. Members rotate their
//! own key with [`Pallet::rotate_encryption_key`]; admins grant or withdraw admin rights
//! within their organisation with [`Pallet::set_admin`].
//!
//! ## Governance
//!
//! Adding or removing an organisation, a validator or a partner node, and upgrading the
//! runtime, are [`Action`]s that an organisation's admin proposes ([`Pallet::propose`]); the
//! admins of the organisations vote ([`Pallet::vote`], one vote per organisation, the
//! proposer's organisation approves implicitly) and anyone in the consortium executes one
//! ([`Pallet::execute_proposal`]) once a strict majority of the *current* organisations
//! approves. Proposals expire after
//! [`Config::ProposalLifetime`] blocks; an expired or defeated proposal is removed with
//! [`Pallet::close_proposal`]. One organisation can have at most
//! [`Config::MaxOpenProposalsPerOrganisation`] proposals open at once, so none can take
//! every slot of [`Config::MaxOpenProposals`] from the others.
//!
//! Governance is also the way back to a twin whose access managers have all left the
//! consortium: [`Action::AppointAccessManager`] has the access pallet
//! ([`Config::AccessManagers`]) grant a member a role that manages the twin's access. It is
//! refused while any grantee that can still act manages the twin.
//!
//! ## Runtime upgrades
//!
//! The chain has no sudo key, so its runtime changes by the same vote:
//! [`Action::UpgradeRuntime`] names the hash of the new code and the spec version it
//! announces, which must be above the running runtime's. Executing the proposal only
//! authorizes that hash in `frame_system`; the multi-megabyte code is submitted once, by
//! anyone, with `System::apply_authorized_upgrade`, which refuses any other code, a code of
//! another chain (spec name) and a spec version that does not increase. Voters check the
//! announced version against the code they were sent (`dt consortium vote --code`).
//!
//! ## Gatekeeping
//!
//! - [`CheckMembership`] is a transaction extension that refuses, at transaction-pool
//!   validation and again at block execution, every signed transaction whose signer is not
//!   a member of a registered organisation. Removing a member or its organisation therefore
//!   takes its rights away in the very next block.
//! - The pallet is the session manager of `pallet-session`: validator changes decided by
//!   governance take effect at the next session rotation, on Aura and GRANDPA alike.
//! - Its offchain worker tells the node which peers are partner nodes
//!   ([`sp_io::offchain::set_authorized_nodes`]), so a node that is not registered gets no
//!   connection and no block from the consortium.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod extension;
mod membership;
pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use extension::CheckMembership;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use dt_primitives::{
		access::{AccessManagerAppointment, AppointmentRefused, MembershipId, Role, TwinId},
		encryption_key::{
			key_proof_message, validate_rsa_public_key, verify_key_proof, EncryptionKeyError,
			KeyProofError, MAX_KEY_PROOF_LEN,
		},
		LifecycleRole, OrganisationId, ProposalId,
	};
	use frame_support::{pallet_prelude::*, traits::Contains};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{Saturating, Zero};

	/// The log target of this pallet.
	pub const LOG_TARGET: &str = "runtime::dt-consortium";

	/// The storage layout this code reads and writes. A change to it comes with a migration
	/// (`VersionedMigration`) from the previous version, listed in the runtime.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Longest organisation name, in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;

		/// Most organisations the consortium can hold.
		#[pallet::constant]
		type MaxOrganisations: Get<u32>;

		/// Most accounts (admins included) one organisation can hold.
		#[pallet::constant]
		type MaxMembersPerOrganisation: Get<u32>;

		/// Most validators.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Most partner nodes, over all organisations.
		#[pallet::constant]
		type MaxPartnerNodes: Get<u32>;

		/// Longest encoded libp2p peer id, in bytes.
		#[pallet::constant]
		type MaxPeerIdLength: Get<u32>;

		/// Most proposals open at the same time.
		#[pallet::constant]
		type MaxOpenProposals: Get<u32>;

		/// Most proposals one organisation can have open at the same time, so that no
		/// organisation can take the slots of [`Config::MaxOpenProposals`] from the others.
		#[pallet::constant]
		type MaxOpenProposalsPerOrganisation: Get<u32>;

		/// Number of blocks after which a proposal can no longer be voted on or executed.
		#[pallet::constant]
		type ProposalLifetime: Get<BlockNumberFor<Self>>;

		/// Accounts that have registered session keys; only they can become validators, or
		/// block production would stall on a validator that cannot author.
		type HasSessionKeys: Contains<Self::AccountId>;

		/// The access control of twins, for appointing an access manager to a twin whose
		/// managers have all left.
		type AccessManagers: AccessManagerAppointment<Self::AccountId>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The organisations of the consortium.
	#[pallet::storage]
	pub type Organisations<T: Config> =
		CountedStorageMap<_, Twox64Concat, OrganisationId, Organisation<T>>;

	/// The id the next organisation will get. Ids are never reused.
	#[pallet::storage]
	pub type NextOrganisationId<T: Config> = StorageValue<_, OrganisationId, ValueQuery>;

	/// Every account of the consortium: its organisation, membership id, admin flag and
	/// encryption key.
	#[pallet::storage]
	pub type Members<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Membership>;

	/// The id the next membership will get. Ids are never reused, so grants made to an
	/// account during one membership never count for a later one.
	#[pallet::storage]
	pub type NextMembershipId<T: Config> = StorageValue<_, MembershipId, ValueQuery>;

	/// The accounts of each organisation, so that removing one reaches all of them.
	#[pallet::storage]
	pub type OrganisationMembers<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		OrganisationId,
		Blake2_128Concat,
		T::AccountId,
		(),
		OptionQuery,
	>;

	/// The accounts that author and finalise blocks, as decided by governance.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Whether [`Validators`] changed since the session manager last reported them.
	#[pallet::storage]
	pub type ValidatorsChanged<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// The nodes allowed on the network (by libp2p peer id) and the organisation running each.
	#[pallet::storage]
	pub type PartnerNodes<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, PeerIdOf<T>, OrganisationId>;

	/// Open governance proposals.
	#[pallet::storage]
	pub type Proposals<T: Config> = CountedStorageMap<_, Twox64Concat, ProposalId, Proposal<T>>;

	/// The id the next proposal will get. Ids are never reused.
	#[pallet::storage]
	pub type NextProposalId<T: Config> = StorageValue<_, ProposalId, ValueQuery>;

	/// How many open proposals each organisation opened; absent when none.
	#[pallet::storage]
	pub type OpenProposalsOf<T: Config> =
		StorageMap<_, Twox64Concat, OrganisationId, u32, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An admin added a member to its organisation.
		MemberAdded { organisation: OrganisationId, who: T::AccountId, by: T::AccountId },
		/// An admin removed a member from its organisation.
		MemberRemoved { organisation: OrganisationId, who: T::AccountId, by: T::AccountId },
		/// An admin granted or withdrew admin rights within its organisation.
		AdminRightsChanged {
			organisation: OrganisationId,
			who: T::AccountId,
			is_admin: bool,
			by: T::AccountId,
		},
		/// A member registered a new encryption key.
		EncryptionKeyRotated { who: T::AccountId },
		/// An admin opened a proposal; its own organisation approves it.
		ProposalCreated {
			proposal: ProposalId,
			organisation: OrganisationId,
			proposer: T::AccountId,
			action: Action<T>,
			expires_at: BlockNumberFor<T>,
		},
		/// An organisation voted on a proposal.
		Voted { proposal: ProposalId, organisation: OrganisationId, approve: bool },
		/// A proposal reached its majority and its action was carried out.
		ProposalExecuted { proposal: ProposalId, by: T::AccountId },
		/// An expired or defeated proposal was removed without effect.
		ProposalClosed { proposal: ProposalId, reason: CloseReason },
		/// Governance added an organisation with its first admin.
		OrganisationAdded { organisation: OrganisationId, admin: T::AccountId },
		/// Governance removed an organisation; its members, validators and nodes are gone.
		OrganisationRemoved { organisation: OrganisationId },
		/// Governance added a validator; it authors from the session after next.
		ValidatorAdded { validator: T::AccountId },
		/// Governance removed a validator; it stops authoring from the session after next.
		ValidatorRemoved { validator: T::AccountId },
		/// Governance allowed a node on the network.
		PartnerNodeAdded { organisation: OrganisationId, peer_id: PeerIdOf<T> },
		/// Governance removed a node from the network.
		PartnerNodeRemoved { organisation: OrganisationId, peer_id: PeerIdOf<T> },
		/// Governance appointed an access manager to a twin whose managers had all left.
		AccessManagerAppointed { twin: TwinId, manager: T::AccountId, role: Role },
		/// Governance authorized a runtime upgrade: the code with this hash can now be
		/// submitted with `System::apply_authorized_upgrade`.
		RuntimeUpgradeAuthorized { code_hash: T::Hash, spec_version: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The signer is not a member of any organisation.
		NotAMember,
		/// The signer is not an admin of its organisation.
		NotAnAdmin,
		/// The account is already a member of an organisation.
		AlreadyMember,
		/// The account is a member of another organisation than the admin's.
		MemberOfAnotherOrganisation,
		/// The organisation already holds `MaxMembersPerOrganisation` accounts.
		TooManyMembers,
		/// The operation would leave the organisation without an admin.
		LastAdmin,
		/// The account is a validator; governance must remove the validator first.
		MemberIsValidator,
		/// The encryption key is not a DER SubjectPublicKeyInfo.
		EncryptionKeyMalformed,
		/// The encryption key is not an RSA key.
		EncryptionKeyNotRsa,
		/// The RSA modulus is shorter than 3072 bits.
		EncryptionKeyTooShort,
		/// The RSA modulus is longer than 8192 bits, or the key longer than 1100 bytes.
		EncryptionKeyTooLong,
		/// The RSA public exponent is even, below 3 or above 2^33 - 1.
		EncryptionKeyBadExponent,
		/// The key proof is not a signature of this account on this chain made with the
		/// key's private half: whoever made it does not hold that key.
		KeyProofInvalid,
		/// No twin has this id.
		UnknownTwin,
		/// The twin still has an access manager that can act; it manages the twin's access.
		TwinStillManaged,
		/// The twin has no room for the appointee's grant.
		NoRoomForGrant,
		/// The organisation name is empty.
		EmptyName,
		/// The organisation name is longer than `MaxNameLength` bytes.
		NameTooLong,
		/// No organisation has this id.
		UnknownOrganisation,
		/// The consortium already holds `MaxOrganisations` organisations.
		TooManyOrganisations,
		/// The last organisation cannot be removed.
		LastOrganisation,
		/// The account is already a validator.
		AlreadyValidator,
		/// The account is not a validator.
		NotAValidator,
		/// The chain already has `MaxValidators` validators.
		TooManyValidators,
		/// The operation would leave the chain without a validator.
		LastValidator,
		/// The account has not registered session keys (`session.setKeys`) yet.
		NoSessionKeys,
		/// The peer id is empty.
		EmptyPeerId,
		/// The peer id is longer than `MaxPeerIdLength` bytes.
		PeerIdTooLong,
		/// The node is already a partner node.
		AlreadyPartnerNode,
		/// The node is not a partner node.
		UnknownPartnerNode,
		/// The network already holds `MaxPartnerNodes` partner nodes.
		TooManyPartnerNodes,
		/// No open proposal has this id.
		UnknownProposal,
		/// The proposal's lifetime has passed.
		ProposalExpired,
		/// The proposal has neither expired nor been defeated, so it stays open.
		ProposalStillOpen,
		/// This organisation already voted on the proposal.
		AlreadyVoted,
		/// Fewer than a strict majority of the organisations approve the proposal.
		NotEnoughApprovals,
		/// `MaxOpenProposals` proposals are already open.
		TooManyOpenProposals,
		/// The signer's organisation already has `MaxOpenProposalsPerOrganisation` proposals
		/// open: it must wait for one to be executed or closed.
		TooManyOpenProposalsOfOrganisation,
		/// An id counter reached its maximum.
		IdsExhausted,
		/// The proposed runtime's spec version is not above the running runtime's.
		SpecVersionNotIncreased,
	}

	impl<T> From<KeyProofError> for Error<T> {
		fn from(error: KeyProofError) -> Self {
			match error {
				KeyProofError::Key(error) => error.into(),
				KeyProofError::Invalid => Error::KeyProofInvalid,
			}
		}
	}

	impl<T> From<AppointmentRefused> for Error<T> {
		fn from(refusal: AppointmentRefused) -> Self {
			match refusal {
				AppointmentRefused::UnknownTwin => Error::UnknownTwin,
				AppointmentRefused::TwinStillManaged => Error::TwinStillManaged,
				AppointmentRefused::NotAConsortiumMember => Error::NotAMember,
				AppointmentRefused::NoRoomForGrant => Error::NoRoomForGrant,
			}
		}
	}

	impl<T> From<EncryptionKeyError> for Error<T> {
		fn from(error: EncryptionKeyError) -> Self {
			match error {
				EncryptionKeyError::Malformed => Error::EncryptionKeyMalformed,
				EncryptionKeyError::NotRsa => Error::EncryptionKeyNotRsa,
				EncryptionKeyError::TooShort => Error::EncryptionKeyTooShort,
				EncryptionKeyError::TooLong => Error::EncryptionKeyTooLong,
				EncryptionKeyError::BadExponent => Error::EncryptionKeyBadExponent,
			}
		}
	}

	/// The consortium at genesis.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The founding organisations, ids assigned in order from 0.
		pub organisations: Vec<GenesisOrganisation<T::AccountId>>,
		/// The first validators; each needs session keys in `pallet-session`'s genesis.
		pub validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for founding in &self.organisations {
				let name = founding.name.as_bytes().to_vec();
				let (first_admin, key) = founding
					.admins
					.first()
					.unwrap_or_else(|| panic!("organisation {} has no admin", founding.name));
				let organisation = Pallet::<T>::do_add_organisation(
					name,
					founding.role,
					first_admin.clone(),
					key.0.clone(),
				)
				.unwrap_or_else(|e| panic!("organisation {}: {:?}", founding.name, e));
				let accounts = founding
					.admins
					.iter()
					.skip(1)
					.map(|(who, key)| (who, key, true))
					.chain(founding.members.iter().map(|(who, key)| (who, key, false)));
				for (who, key, is_admin) in accounts {
					Pallet::<T>::do_add_member(organisation, who.clone(), key.0.clone(), is_admin)
						.unwrap_or_else(|e| panic!("organisation {}: {:?}", founding.name, e));
				}
				for peer_id in &founding.partner_nodes {
					Pallet::<T>::do_add_partner_node(organisation, peer_id.0.clone())
						.unwrap_or_else(|e| panic!("organisation {}: {:?}", founding.name, e));
				}
			}
			for validator in &self.validators {
				assert!(
					Members::<T>::contains_key(validator),
					"validator {validator:?} is not a member of a founding organisation"
				);
				Validators::<T>::try_mutate(|validators| {
					if validators.contains(validator) {
						return Err(Error::<T>::AlreadyValidator);
					}
					validators
						.try_push(validator.clone())
						.map_err(|_| Error::<T>::TooManyValidators)
				})
				.unwrap_or_else(|e| panic!("validator {validator:?}: {e:?}"));
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxOpenProposalsPerOrganisation::get() >= 1,
				"MaxOpenProposalsPerOrganisation must be at least 1"
			);
		}

		/// Tells the node which peers are partner nodes, so it talks to no one else.
		///
		/// With no partner node registered (a single `--dev` node) nothing is restricted.
		fn offchain_worker(_now: BlockNumberFor<T>) {
			let nodes: Vec<sp_core::OpaquePeerId> =
				Self::partner_node_ids().into_iter().map(sp_core::OpaquePeerId).collect();
			if !nodes.is_empty() {
				sp_io::offchain::set_authorized_nodes(nodes, true);
			}
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Adds `who` to the signer's organisation with its public encryption key and the
		/// proof, made by `who` with the key's private half, that it holds the key
		/// ([`Pallet::key_proof_message`]).
		///
		/// The signer must be an admin of its organisation; no vote is needed.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_member())]
		pub fn add_member(
			origin: OriginFor<T>,
			who: T::AccountId,
			encryption_key: Vec<u8>,
			key_proof: Vec<u8>,
		) -> DispatchResult {
			let admin = ensure_signed(origin)?;
			let organisation = Self::ensure_admin(&admin)?;
			ensure!(!Members::<T>::contains_key(&who), Error::<T>::AlreadyMember);
			let encryption_key = Self::checked_encryption_key(encryption_key)?;
			Self::ensure_key_proof(&who, &encryption_key, &key_proof)?;
			Self::do_add_member(organisation, who.clone(), encryption_key.into_inner(), false)?;
			Self::deposit_event(Event::MemberAdded { organisation, who, by: admin });
			Ok(())
		}

		/// Removes `who` from the signer's organisation; its transactions are refused from the
		/// next block on. A validator cannot be removed this way: governance removes the
		/// validator first.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_member())]
		pub fn remove_member(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			let admin = ensure_signed(origin)?;
			let organisation = Self::ensure_admin(&admin)?;
			let member = Self::ensure_member_of(&who, organisation)?;
			if member.is_admin {
				Self::ensure_not_last_admin(organisation)?;
			}
			// A validator's account must stay a member: governance removes the validator first.
			ensure!(!Validators::<T>::get().contains(&who), Error::<T>::MemberIsValidator);
			Self::do_remove_member(organisation, &who);
			Self::deposit_event(Event::MemberRemoved { organisation, who, by: admin });
			Ok(())
		}

		/// Grants (`is_admin = true`) or withdraws admin rights of a member of the signer's
		/// organisation. The last admin cannot be demoted.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_admin())]
		pub fn set_admin(
			origin: OriginFor<T>,
			who: T::AccountId,
			is_admin: bool,
		) -> DispatchResult {
			let admin = ensure_signed(origin)?;
			let organisation = Self::ensure_admin(&admin)?;
			let mut member = Self::ensure_member_of(&who, organisation)?;
			if member.is_admin != is_admin {
				if !is_admin {
					Self::ensure_not_last_admin(organisation)?;
				}
				member.is_admin = is_admin;
				Members::<T>::insert(&who, member);
				Organisations::<T>::mutate(organisation, |entry| {
					if let Some(entry) = entry {
						if is_admin {
							entry.admin_count.saturating_inc();
						} else {
							entry.admin_count.saturating_dec();
						}
					}
				});
			}
			Self::deposit_event(Event::AdminRightsChanged {
				organisation,
				who,
				is_admin,
				by: admin,
			});
			Ok(())
		}

		/// Replaces the signer's public encryption key, with the proof that the signer holds
		/// its private half ([`Pallet::key_proof_message`]). Items encrypted earlier stay
		/// readable only with the old private key; writers wrap new versions with the new key.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::rotate_encryption_key())]
		pub fn rotate_encryption_key(
			origin: OriginFor<T>,
			encryption_key: Vec<u8>,
			key_proof: Vec<u8>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut member = Members::<T>::get(&who).ok_or(Error::<T>::NotAMember)?;
			let encryption_key = Self::checked_encryption_key(encryption_key)?;
			Self::ensure_key_proof(&who, &encryption_key, &key_proof)?;
			member.encryption_key = encryption_key;
			Members::<T>::insert(&who, member);
			Self::deposit_event(Event::EncryptionKeyRotated { who });
			Ok(())
		}

		/// Opens a governance proposal. The signer must be an admin; its organisation's
		/// approval is recorded at once. The action is checked now and again at execution;
		/// the key proof of a new organisation's admin is checked now.
		#[pallet::call_index(4)]
		#[pallet::weight(
			T::WeightInfo::propose().saturating_add(T::AccessManagers::appointment_weight())
		)]
		pub fn propose(origin: OriginFor<T>, action: Action<T>) -> DispatchResultWithPostInfo {
			let proposer = ensure_signed(origin)?;
			let organisation = Self::ensure_admin(&proposer)?;
			Self::check_action(&action)?;
			if let Action::AddOrganisation {
				admin, admin_encryption_key, admin_key_proof, ..
			} = &action
			{
				Self::ensure_key_proof(admin, admin_encryption_key, admin_key_proof)?;
			}
			let appoints = matches!(action, Action::AppointAccessManager { .. });
			ensure!(
				Proposals::<T>::count() < T::MaxOpenProposals::get(),
				Error::<T>::TooManyOpenProposals
			);
			let open_of_organisation = OpenProposalsOf::<T>::get(organisation);
			ensure!(
				open_of_organisation < T::MaxOpenProposalsPerOrganisation::get(),
				Error::<T>::TooManyOpenProposalsOfOrganisation
			);
			let proposal = NextProposalId::<T>::get();
			NextProposalId::<T>::put(proposal.checked_add(1).ok_or(Error::<T>::IdsExhausted)?);
			let expires_at = frame_system::Pallet::<T>::block_number()
				.saturating_add(T::ProposalLifetime::get());
			let mut approvals = BoundedVec::new();
			approvals.try_push(organisation).map_err(|_| Error::<T>::TooManyOrganisations)?;
			OpenProposalsOf::<T>::insert(organisation, open_of_organisation.saturating_add(1));
			Proposals::<T>::insert(
				proposal,
				Proposal {
					action: action.clone(),
					proposer: proposer.clone(),
					organisation,
					expires_at,
					approvals,
					rejections: BoundedVec::new(),
				},
			);
			Self::deposit_event(Event::ProposalCreated {
				proposal,
				organisation,
				proposer,
				action,
				expires_at,
			});
			// Only an appointment asks the access pallet.
			Ok(if appoints { None } else { Some(T::WeightInfo::propose()) }.into())
		}

		/// Records the vote of the signer's organisation. The signer must be an admin; each
		/// organisation votes once.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(origin: OriginFor<T>, proposal: ProposalId, approve: bool) -> DispatchResult {
			let voter = ensure_signed(origin)?;
			let organisation = Self::ensure_admin(&voter)?;
			Proposals::<T>::try_mutate(proposal, |entry| {
				let entry = entry.as_mut().ok_or(Error::<T>::UnknownProposal)?;
				ensure!(!Self::is_expired(entry), Error::<T>::ProposalExpired);
				ensure!(
					!entry.approvals.contains(&organisation)
						&& !entry.rejections.contains(&organisation),
					Error::<T>::AlreadyVoted
				);
				let votes = if approve { &mut entry.approvals } else { &mut entry.rejections };
				votes.try_push(organisation).map_err(|_| Error::<T>::TooManyOrganisations)?;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::Voted { proposal, organisation, approve });
			Ok(())
		}

		/// Carries out a proposal that a strict majority of the current organisations
		/// approves. Any member may call it. If the action can no longer be carried out
		/// (the state changed since the proposal), nothing changes and the proposal stays open.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::execute_proposal(T::MaxMembersPerOrganisation::get()).max(
			T::WeightInfo::execute_proposal(1)
				.saturating_add(T::AccessManagers::appointment_weight())
		))]
		pub fn execute_proposal(
			origin: OriginFor<T>,
			proposal: ProposalId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			ensure!(Members::<T>::contains_key(&who), Error::<T>::NotAMember);
			let entry = Proposals::<T>::get(proposal).ok_or(Error::<T>::UnknownProposal)?;
			ensure!(!Self::is_expired(&entry), Error::<T>::ProposalExpired);
			ensure!(Self::is_majority(&entry.approvals), Error::<T>::NotEnoughApprovals);
			Self::remove_proposal(proposal, &entry);
			let appoints = matches!(entry.action, Action::AppointAccessManager { .. });
			let removed_members = Self::apply_action(entry.action)?;
			Self::deposit_event(Event::ProposalExecuted { proposal, by: who });
			// Actions other than removing an organisation cost at most its one-account case,
			// and an appointment what the access pallet needs on top.
			let weight = T::WeightInfo::execute_proposal(removed_members.max(1));
			Ok(Some(if appoints {
				weight.saturating_add(T::AccessManagers::appointment_weight())
			} else {
				weight
			})
			.into())
		}

		/// Removes a proposal that has expired or that a strict majority rejects. Any member
		/// may call it.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::close_proposal())]
		pub fn close_proposal(origin: OriginFor<T>, proposal: ProposalId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Members::<T>::contains_key(&who), Error::<T>::NotAMember);
			let entry = Proposals::<T>::get(proposal).ok_or(Error::<T>::UnknownProposal)?;
			let reason = if Self::is_expired(&entry) {
				CloseReason::Expired
			} else if Self::is_majority(&entry.rejections) {
				CloseReason::Rejected
			} else {
				return Err(Error::<T>::ProposalStillOpen.into());
			};
			Self::remove_proposal(proposal, &entry);
			Self::deposit_event(Event::ProposalClosed { proposal, reason });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether `who` is a member of a registered organisation: the test every signed
		/// transaction must pass.
		pub fn is_member(who: &T::AccountId) -> bool {
			Members::<T>::contains_key(who)
		}

		/// The organisation of `who`, if it is a member.
		pub fn organisation_of(who: &T::AccountId) -> Option<OrganisationId> {
			Members::<T>::get(who).map(|member| member.organisation)
		}

		/// The registered encryption key of `who`, if it is a member.
		pub fn encryption_key_of(who: &T::AccountId) -> Option<Vec<u8>> {
			Members::<T>::get(who).map(|member| member.encryption_key.into_inner())
		}

		/// The message whose signature with an encryption key's private half proves that
		/// `who` holds it: [`dt_primitives::encryption_key::KEY_PROOF_CONTEXT`], this
		/// chain's genesis block hash and the SCALE encoding of `who`.
		pub fn key_proof_message(who: &T::AccountId) -> Vec<u8> {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			key_proof_message(genesis.as_ref(), &who.encode())
		}

		/// Checks that `key_proof` proves that `who` holds the private half of `key`.
		fn ensure_key_proof(
			who: &T::AccountId,
			key: &[u8],
			key_proof: &[u8],
		) -> Result<(), Error<T>> {
			// No signature is longer than the longest modulus: refuse before any work.
			ensure!(key_proof.len() <= MAX_KEY_PROOF_LEN as usize, Error::<T>::KeyProofInvalid);
			verify_key_proof(key, &Self::key_proof_message(who), key_proof)?;
			Ok(())
		}

		/// Whether `peer_id` is registered as a partner node.
		pub fn is_partner_node(peer_id: &[u8]) -> bool {
			PeerIdOf::<T>::try_from(peer_id.to_vec())
				.is_ok_and(|peer_id| PartnerNodes::<T>::contains_key(peer_id))
		}

		/// The peer ids of all partner nodes.
		pub fn partner_node_ids() -> Vec<Vec<u8>> {
			PartnerNodes::<T>::iter_keys().map(|peer_id| peer_id.into_inner()).collect()
		}

		fn ensure_admin(who: &T::AccountId) -> Result<OrganisationId, Error<T>> {
			let member = Members::<T>::get(who).ok_or(Error::<T>::NotAMember)?;
			ensure!(member.is_admin, Error::<T>::NotAnAdmin);
			Ok(member.organisation)
		}

		fn ensure_member_of(
			who: &T::AccountId,
			organisation: OrganisationId,
		) -> Result<Membership, Error<T>> {
			let member = Members::<T>::get(who).ok_or(Error::<T>::NotAMember)?;
			ensure!(member.organisation == organisation, Error::<T>::MemberOfAnotherOrganisation);
			Ok(member)
		}

		fn ensure_not_last_admin(organisation: OrganisationId) -> Result<(), Error<T>> {
			let entry =
				Organisations::<T>::get(organisation).ok_or(Error::<T>::UnknownOrganisation)?;
			ensure!(entry.admin_count > 1, Error::<T>::LastAdmin);
			Ok(())
		}

		fn checked_encryption_key(key: Vec<u8>) -> Result<EncryptionKeyOf, Error<T>> {
			// Refuse oversized input before parsing it.
			let key: EncryptionKeyOf =
				key.try_into().map_err(|_| Error::<T>::EncryptionKeyTooLong)?;
			validate_rsa_public_key(&key)?;
			Ok(key)
		}

		fn checked_peer_id(peer_id: Vec<u8>) -> Result<PeerIdOf<T>, Error<T>> {
			ensure!(!peer_id.is_empty(), Error::<T>::EmptyPeerId);
			peer_id.try_into().map_err(|_| Error::<T>::PeerIdTooLong)
		}

		/// Removes an open proposal and frees its organisation's slot.
		fn remove_proposal(proposal: ProposalId, entry: &Proposal<T>) {
			Proposals::<T>::remove(proposal);
			OpenProposalsOf::<T>::mutate_exists(entry.organisation, |open| {
				*open = open.and_then(|open| open.checked_sub(1)).filter(|open| *open > 0);
			});
		}

		fn is_expired(proposal: &Proposal<T>) -> bool {
			frame_system::Pallet::<T>::block_number() > proposal.expires_at
		}

		/// Whether the organisations in `votes` that still exist are more than half of all.
		fn is_majority(votes: &[OrganisationId]) -> bool {
			let current = votes.iter().filter(|org| Organisations::<T>::contains_key(org)).count();
			current as u64 * 2 > u64::from(Organisations::<T>::count())
		}

		pub(crate) fn do_add_member(
			organisation: OrganisationId,
			who: T::AccountId,
			encryption_key: Vec<u8>,
			is_admin: bool,
		) -> Result<(), Error<T>> {
			ensure!(!Members::<T>::contains_key(&who), Error::<T>::AlreadyMember);
			let encryption_key = Self::checked_encryption_key(encryption_key)?;
			Organisations::<T>::try_mutate(organisation, |entry| {
				let entry = entry.as_mut().ok_or(Error::<T>::UnknownOrganisation)?;
				ensure!(
					entry.member_count < T::MaxMembersPerOrganisation::get(),
					Error::<T>::TooManyMembers
				);
				entry.member_count.saturating_inc();
				if is_admin {
					entry.admin_count.saturating_inc();
				}
				Ok::<_, Error<T>>(())
			})?;
			// Accounts hold no balance here, so membership is what keeps the account (and with
			// it the nonce that protects against replay) alive. The reference is never dropped,
			// so a removed and re-added member cannot have old transactions replayed.
			if !frame_system::Pallet::<T>::account_exists(&who) {
				frame_system::Pallet::<T>::inc_providers(&who);
			}
			let id = NextMembershipId::<T>::get();
			NextMembershipId::<T>::put(id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?);
			OrganisationMembers::<T>::insert(organisation, &who, ());
			Members::<T>::insert(&who, Membership { organisation, id, is_admin, encryption_key });
			Ok(())
		}

		fn do_remove_member(organisation: OrganisationId, who: &T::AccountId) {
			if let Some(member) = Members::<T>::take(who) {
				OrganisationMembers::<T>::remove(organisation, who);
				Organisations::<T>::mutate(organisation, |entry| {
					if let Some(entry) = entry {
						entry.member_count.saturating_dec();
						if member.is_admin {
							entry.admin_count.saturating_dec();
						}
					}
				});
			}
		}

		pub(crate) fn do_add_organisation(
			name: Vec<u8>,
			role: LifecycleRole,
			admin: T::AccountId,
			admin_encryption_key: Vec<u8>,
		) -> Result<OrganisationId, Error<T>> {
			let name = Self::ensure_can_add_organisation(name, &admin, &admin_encryption_key)?;
			let organisation = NextOrganisationId::<T>::get();
			NextOrganisationId::<T>::put(
				organisation.checked_add(1).ok_or(Error::<T>::IdsExhausted)?,
			);
			Organisations::<T>::insert(
				organisation,
				Organisation { name, role, member_count: 0, admin_count: 0 },
			);
			Self::do_add_member(organisation, admin, admin_encryption_key, true)?;
			Ok(organisation)
		}

		/// Checks an organisation could be admitted now; returns its bounded name.
		fn ensure_can_add_organisation(
			name: Vec<u8>,
			admin: &T::AccountId,
			admin_encryption_key: &[u8],
		) -> Result<NameOf<T>, Error<T>> {
			let name = Self::checked_name(name)?;
			ensure!(
				Organisations::<T>::count() < T::MaxOrganisations::get(),
				Error::<T>::TooManyOrganisations
			);
			ensure!(!Members::<T>::contains_key(admin), Error::<T>::AlreadyMember);
			validate_rsa_public_key(admin_encryption_key)?;
			Ok(name)
		}

		fn checked_name(name: Vec<u8>) -> Result<BoundedVec<u8, T::MaxNameLength>, Error<T>> {
			ensure!(!name.is_empty(), Error::<T>::EmptyName);
			name.try_into().map_err(|_| Error::<T>::NameTooLong)
		}

		pub(crate) fn do_add_partner_node(
			organisation: OrganisationId,
			peer_id: Vec<u8>,
		) -> Result<PeerIdOf<T>, Error<T>> {
			let peer_id = Self::ensure_can_add_partner_node(organisation, peer_id)?;
			PartnerNodes::<T>::insert(&peer_id, organisation);
			Ok(peer_id)
		}

		/// Checks a node could be registered for `organisation` now; returns its bounded id.
		fn ensure_can_add_partner_node(
			organisation: OrganisationId,
			peer_id: Vec<u8>,
		) -> Result<PeerIdOf<T>, Error<T>> {
			ensure!(
				Organisations::<T>::contains_key(organisation),
				Error::<T>::UnknownOrganisation
			);
			let peer_id = Self::checked_peer_id(peer_id)?;
			ensure!(!PartnerNodes::<T>::contains_key(&peer_id), Error::<T>::AlreadyPartnerNode);
			ensure!(
				PartnerNodes::<T>::count() < T::MaxPartnerNodes::get(),
				Error::<T>::TooManyPartnerNodes
			);
			Ok(peer_id)
		}

		/// Checks that `action` could be carried out now, without changing anything.
		fn check_action(action: &Action<T>) -> Result<(), DispatchError> {
			match action {
				Action::AddOrganisation { name, admin, admin_encryption_key, .. } => {
					Self::ensure_can_add_organisation(name.to_vec(), admin, admin_encryption_key)?;
				},
				Action::RemoveOrganisation { organisation } => {
					ensure!(
						Organisations::<T>::contains_key(organisation),
						Error::<T>::UnknownOrganisation
					);
					ensure!(Organisations::<T>::count() > 1, Error::<T>::LastOrganisation);
					let remaining = Validators::<T>::get()
						.iter()
						.filter(|v| Self::organisation_of(v) != Some(*organisation))
						.count();
					ensure!(remaining > 0, Error::<T>::LastValidator);
				},
				Action::AddValidator { validator } => {
					ensure!(Members::<T>::contains_key(validator), Error::<T>::NotAMember);
					ensure!(T::HasSessionKeys::contains(validator), Error::<T>::NoSessionKeys);
					let validators = Validators::<T>::get();
					ensure!(!validators.contains(validator), Error::<T>::AlreadyValidator);
					ensure!(
						(validators.len() as u32) < T::MaxValidators::get(),
						Error::<T>::TooManyValidators
					);
				},
				Action::RemoveValidator { validator } => {
					let validators = Validators::<T>::get();
					ensure!(validators.contains(validator), Error::<T>::NotAValidator);
					ensure!(validators.len() > 1, Error::<T>::LastValidator);
				},
				Action::AddPartnerNode { organisation, peer_id } => {
					Self::ensure_can_add_partner_node(*organisation, peer_id.to_vec())?;
				},
				Action::RemovePartnerNode { peer_id } => {
					ensure!(
						PartnerNodes::<T>::contains_key(peer_id),
						Error::<T>::UnknownPartnerNode
					);
				},
				Action::AppointAccessManager { twin, manager } => {
					ensure!(Members::<T>::contains_key(manager), Error::<T>::NotAMember);
					T::AccessManagers::can_appoint(*twin, manager).map_err(Error::<T>::from)?;
				},
				Action::UpgradeRuntime { spec_version, .. } => {
					let running = <T as frame_system::Config>::Version::get().spec_version;
					ensure!(*spec_version > running, Error::<T>::SpecVersionNotIncreased);
				},
			}
			Ok(())
		}

		/// Carries out an approved action. Returns how many accounts it removed (for weight).
		fn apply_action(action: Action<T>) -> Result<u32, DispatchError> {
			Self::check_action(&action)?;
			let mut removed_members = 0;
			match action {
				Action::AddOrganisation { name, role, admin, admin_encryption_key, .. } => {
					let organisation = Self::do_add_organisation(
						name.into_inner(),
						role,
						admin.clone(),
						admin_encryption_key.into_inner(),
					)?;
					Self::deposit_event(Event::OrganisationAdded { organisation, admin });
				},
				Action::RemoveOrganisation { organisation } => {
					removed_members = Self::do_remove_organisation(organisation);
					Self::deposit_event(Event::OrganisationRemoved { organisation });
				},
				Action::AddValidator { validator } => {
					Validators::<T>::try_mutate(|validators| {
						validators
							.try_push(validator.clone())
							.map_err(|_| Error::<T>::TooManyValidators)
					})?;
					ValidatorsChanged::<T>::put(true);
					Self::deposit_event(Event::ValidatorAdded { validator });
				},
				Action::RemoveValidator { validator } => {
					Validators::<T>::mutate(|validators| validators.retain(|v| v != &validator));
					ValidatorsChanged::<T>::put(true);
					Self::deposit_event(Event::ValidatorRemoved { validator });
				},
				Action::AddPartnerNode { organisation, peer_id } => {
					let peer_id = Self::do_add_partner_node(organisation, peer_id.into_inner())?;
					Self::deposit_event(Event::PartnerNodeAdded { organisation, peer_id });
				},
				Action::RemovePartnerNode { peer_id } => {
					if let Some(organisation) = PartnerNodes::<T>::take(&peer_id) {
						Self::deposit_event(Event::PartnerNodeRemoved { organisation, peer_id });
					}
				},
				Action::AppointAccessManager { twin, manager } => {
					let role =
						T::AccessManagers::appoint(twin, &manager).map_err(Error::<T>::from)?;
					Self::deposit_event(Event::AccessManagerAppointed { twin, manager, role });
				},
				Action::UpgradeRuntime { code_hash, spec_version } => {
					// The version is checked again, against the code itself, when it is applied.
					frame_system::Pallet::<T>::do_authorize_upgrade(code_hash, true);
					Self::deposit_event(Event::RuntimeUpgradeAuthorized {
						code_hash,
						spec_version,
					});
				},
			}
			Ok(removed_members)
		}

		/// Removes an organisation with all its accounts, validators and partner nodes.
		fn do_remove_organisation(organisation: OrganisationId) -> u32 {
			let accounts: Vec<T::AccountId> =
				OrganisationMembers::<T>::iter_key_prefix(organisation).collect();
			for who in &accounts {
				Members::<T>::remove(who);
			}
			// Bounded by MaxMembersPerOrganisation, so one pass clears everything.
			let _ = OrganisationMembers::<T>::clear_prefix(
				organisation,
				T::MaxMembersPerOrganisation::get(),
				None,
			);
			let before = Validators::<T>::decode_len().unwrap_or_default();
			Validators::<T>::mutate(|validators| validators.retain(|v| !accounts.contains(v)));
			if Validators::<T>::decode_len().unwrap_or_default() != before {
				ValidatorsChanged::<T>::put(true);
			}
			let nodes: Vec<PeerIdOf<T>> = PartnerNodes::<T>::iter()
				.filter(|(_, owner)| *owner == organisation)
				.map(|(peer_id, _)| peer_id)
				.collect();
			for peer_id in nodes {
				PartnerNodes::<T>::remove(&peer_id);
				Self::deposit_event(Event::PartnerNodeRemoved { organisation, peer_id });
			}
			Organisations::<T>::remove(organisation);
			accounts.len() as u32
		}

		#[cfg(any(feature = "try-runtime", test))]
		pub(crate) fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			for (organisation, entry) in Organisations::<T>::iter() {
				let members: Vec<_> = OrganisationMembers::<T>::iter_key_prefix(organisation)
					.filter_map(|who| Members::<T>::get(&who))
					.collect();
				ensure!(members.len() as u32 == entry.member_count, "member count out of sync");
				let admins = members.iter().filter(|m| m.is_admin).count() as u32;
				ensure!(admins == entry.admin_count, "admin count out of sync");
				ensure!(admins > 0, "organisation without admin");
			}
			for (_, member) in Members::<T>::iter() {
				ensure!(
					Organisations::<T>::contains_key(member.organisation),
					"member of a removed organisation"
				);
				ensure!(member.id < NextMembershipId::<T>::get(), "membership id not yet assigned");
			}
			let mut open = alloc::collections::BTreeMap::<OrganisationId, u32>::new();
			for (_, proposal) in Proposals::<T>::iter() {
				*open.entry(proposal.organisation).or_default() += 1;
			}
			ensure!(
				open == OpenProposalsOf::<T>::iter().collect(),
				"open proposal counts out of sync"
			);
			for validator in Validators::<T>::get() {
				ensure!(Members::<T>::contains_key(&validator), "validator is not a member");
			}
			Ok(())
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl<T: Config> Pallet<T> {
		/// Makes `who` a member, with `encryption_key` and no key proof, for other pallets'
		/// benchmarks: of the first organisation with room, or of a new one it administers.
		pub fn make_member_for_benchmarks(
			who: &T::AccountId,
			encryption_key: Vec<u8>,
		) -> Result<OrganisationId, DispatchError> {
			if let Some(organisation) = Self::organisation_of(who) {
				return Ok(organisation);
			}
			let with_room = Organisations::<T>::iter()
				.find(|(_, entry)| entry.member_count < T::MaxMembersPerOrganisation::get())
				.map(|(organisation, _)| organisation);
			match with_room {
				Some(organisation) => {
					Self::do_add_member(organisation, who.clone(), encryption_key, false)?;
					Ok(organisation)
				},
				None => Ok(Self::do_add_organisation(
					b"benchmark".to_vec(),
					LifecycleRole::Other,
					who.clone(),
					encryption_key,
				)?),
			}
		}
	}

	impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
		fn new_session(_new_index: sp_staking::SessionIndex) -> Option<Vec<T::AccountId>> {
			if ValidatorsChanged::<T>::take() {
				let validators = Validators::<T>::get().into_inner();
				log::info!(target: LOG_TARGET, "next validator set: {} validators", validators.len());
				Some(validators)
			} else {
				None
			}
		}

		fn new_session_genesis(_new_index: sp_staking::SessionIndex) -> Option<Vec<T::AccountId>> {
			Some(Validators::<T>::get().into_inner())
		}

		fn end_session(_end_index: sp_staking::SessionIndex) {}

		fn start_session(_start_index: sp_staking::SessionIndex) {}
	}
}
