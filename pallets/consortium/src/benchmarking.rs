//! Benchmarks of `pallet-dt-consortium`, each measuring its call's worst case.

use super::*;
use crate::Pallet as Consortium;
use alloc::vec::Vec;
use dt_primitives::{LifecycleRole, OrganisationId, ProposalId};
use frame_benchmarking::v2::*;
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Bounded, One};

/// The slowest key to validate and to check a proof with: the largest modulus (8192 bits)
/// and the largest exponent (2^33 - 1).
const SLOWEST_KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa8192-slowest.der");
/// Its private half (PKCS#8 DER), to sign the benchmarks' key proofs.
const SLOWEST_PRIVATE_KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa8192-slowest.pk8");

fn largest_key() -> Vec<u8> {
	SLOWEST_KEY.to_vec()
}

/// The proof that `who` holds [`SLOWEST_KEY`], for this chain.
fn key_proof<T: Config>(who: &T::AccountId) -> Vec<u8> {
	use rsa::pkcs8::DecodePrivateKey;
	let key = rsa::PrivateKey::from_pkcs8_der(SLOWEST_PRIVATE_KEY).expect("a valid test key");
	dt_primitives::encryption_key::sign_key_proof(&key, &Consortium::<T>::key_proof_message(who))
		.expect("the test key signs")
}

fn longest_name<T: Config>() -> Vec<u8> {
	alloc::vec![b'n'; T::MaxNameLength::get() as usize]
}

fn new_organisation<T: Config>(seed: u32) -> (OrganisationId, T::AccountId) {
	let admin: T::AccountId = account("admin", seed, 0);
	let organisation = Consortium::<T>::do_add_organisation(
		longest_name::<T>(),
		LifecycleRole::Other,
		admin.clone(),
		largest_key(),
	)
	.expect("the benchmark consortium has room for an organisation");
	(organisation, admin)
}

fn new_member<T: Config>(organisation: OrganisationId, seed: u32) -> T::AccountId {
	let member: T::AccountId = account("member", seed, 0);
	Consortium::<T>::do_add_member(organisation, member.clone(), largest_key(), false)
		.expect("the organisation has room for a member");
	member
}

fn new_node_action<T: Config>(organisation: OrganisationId) -> Action<T> {
	let peer_id = alloc::vec![7u8; T::MaxPeerIdLength::get() as usize];
	Action::AddPartnerNode {
		organisation,
		peer_id: peer_id.try_into().expect("maximal length fits"),
	}
}

/// Stores a proposal that every current organisation approves.
fn approved_proposal<T: Config>(action: Action<T>, proposer: T::AccountId) -> ProposalId {
	let proposal = NextProposalId::<T>::get();
	NextProposalId::<T>::put(proposal + 1);
	let approvals: Vec<OrganisationId> = Organisations::<T>::iter_keys().collect();
	let organisation = Consortium::<T>::organisation_of(&proposer).expect("a member proposes");
	OpenProposalsOf::<T>::mutate(organisation, |open| *open += 1);
	Proposals::<T>::insert(
		proposal,
		Proposal {
			action,
			proposer,
			organisation,
			expires_at: BlockNumberFor::<T>::max_value(),
			approvals: approvals.try_into().expect("one vote per organisation fits"),
			rejections: BoundedVec::new(),
		},
	);
	proposal
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_member() {
		let (organisation, admin) = new_organisation::<T>(0);
		let member: T::AccountId = account("member", 0, 0);
		let proof = key_proof::<T>(&member);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), member.clone(), largest_key(), proof);

		assert_eq!(Consortium::<T>::organisation_of(&member), Some(organisation));
	}

	#[benchmark]
	fn remove_member() {
		let (organisation, admin) = new_organisation::<T>(0);
		let member = new_member::<T>(organisation, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), member.clone());

		assert!(!Consortium::<T>::is_member(&member));
	}

	#[benchmark]
	fn set_admin() {
		let (organisation, admin) = new_organisation::<T>(0);
		let member = new_member::<T>(organisation, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), member.clone(), true);

		assert!(Members::<T>::get(&member).is_some_and(|m| m.is_admin));
	}

	#[benchmark]
	fn rotate_encryption_key() {
		let (_, admin) = new_organisation::<T>(0);
		let key = largest_key();
		let proof = key_proof::<T>(&admin);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin.clone()), key.clone(), proof);

		assert_eq!(Consortium::<T>::encryption_key_of(&admin), Some(key));
	}

	/// Admitting an organisation: the longest name and the slowest key to check, with its
	/// proof. (An appointment's check is the access pallet's weight, added on top.)
	#[benchmark]
	fn propose() {
		let (organisation, admin) = new_organisation::<T>(0);
		// The organisation has all but one of its proposal slots taken.
		OpenProposalsOf::<T>::insert(
			organisation,
			T::MaxOpenProposalsPerOrganisation::get().saturating_sub(1),
		);
		let future_admin: T::AccountId = account("future-admin", 0, 0);
		let action = Action::AddOrganisation {
			name: longest_name::<T>().try_into().expect("name has the maximal length"),
			role: LifecycleRole::Other,
			admin: future_admin.clone(),
			admin_encryption_key: largest_key().try_into().expect("key fits"),
			admin_key_proof: key_proof::<T>(&future_admin).try_into().expect("proof fits"),
		};
		let proposal = NextProposalId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), action);

		assert!(Proposals::<T>::contains_key(proposal));
	}

	#[benchmark]
	fn vote() {
		let (_, proposer) = new_organisation::<T>(0);
		let (voting_organisation, voter) = new_organisation::<T>(1);
		let proposal = NextProposalId::<T>::get();
		Consortium::<T>::propose(
			RawOrigin::Signed(proposer).into(),
			new_node_action::<T>(voting_organisation),
		)
		.expect("valid proposal");

		#[extrinsic_call]
		_(RawOrigin::Signed(voter), proposal, true);

		assert!(Proposals::<T>::get(proposal)
			.is_some_and(|p| p.approvals.contains(&voting_organisation)));
	}

	/// Removing an organisation with `m` accounts and the most partner nodes is the most
	/// expensive action.
	#[benchmark]
	fn execute_proposal(m: Linear<1, { T::MaxMembersPerOrganisation::get() }>) {
		let (_, executor) = new_organisation::<T>(0);
		let (doomed, doomed_admin) = new_organisation::<T>(1);
		for seed in 1..m {
			new_member::<T>(doomed, seed);
		}
		Validators::<T>::put(
			BoundedVec::try_from(alloc::vec![executor.clone(), doomed_admin])
				.expect("two validators fit"),
		);
		let free_node_slots = T::MaxPartnerNodes::get().saturating_sub(PartnerNodes::<T>::count());
		for seed in 0..free_node_slots {
			let peer_id = (seed as u64).to_le_bytes().to_vec();
			Consortium::<T>::do_add_partner_node(doomed, peer_id).expect("room for a node");
		}
		let proposal = approved_proposal::<T>(
			Action::RemoveOrganisation { organisation: doomed },
			executor.clone(),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(executor), proposal);

		assert!(!Organisations::<T>::contains_key(doomed));
	}

	#[benchmark]
	fn close_proposal() {
		let (_, admin) = new_organisation::<T>(0);
		let (other, _) = new_organisation::<T>(1);
		let proposal = NextProposalId::<T>::get();
		Consortium::<T>::propose(
			RawOrigin::Signed(admin.clone()).into(),
			new_node_action::<T>(other),
		)
		.expect("valid proposal");
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number()
				+ T::ProposalLifetime::get()
				+ BlockNumberFor::<T>::one(),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), proposal);

		assert!(!Proposals::<T>::contains_key(proposal));
	}

	impl_benchmark_test_suite!(Consortium, crate::mock::new_test_ext(), crate::mock::Test);
}
