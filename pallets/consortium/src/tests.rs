use crate::{mock::*, *};
use dt_primitives::{LifecycleRole, ProposalId};
use frame_support::{
	assert_noop, assert_ok, dispatch::DispatchInfo, pallet_prelude::TransactionSource,
	traits::Hooks,
};
use pallet_session::SessionManager;
use sp_runtime::{
	traits::{
		AsTransactionAuthorizedOrigin, DispatchTransaction, TransactionExtension, TxBaseImplication,
	},
	transaction_validity::{InvalidTransaction, TransactionValidityError},
};

const NEW_ADMIN: u64 = 20;

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn add_organisation_action(admin: u64) -> Action<Test> {
	Action::AddOrganisation {
		name: b"Insurer".to_vec().try_into().unwrap(),
		role: LifecycleRole::Other,
		admin,
		admin_encryption_key: KEY.to_vec().try_into().unwrap(),
		admin_key_proof: key_proof(admin, PRIVATE_KEY).try_into().unwrap(),
	}
}

/// Opens a proposal by the manufacturer and has `more` further organisations approve it.
fn propose_and_approve(action: Action<Test>, more: &[u64]) -> ProposalId {
	let proposal = NextProposalId::<Test>::get();
	assert_ok!(Consortium::propose(signed(MANUFACTURER), action));
	for admin in more {
		assert_ok!(Consortium::vote(signed(*admin), proposal, true));
	}
	proposal
}

fn membership_check(who: u64) -> Result<(), TransactionValidityError> {
	let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
	CheckMembership::<Test>::new()
		.validate_only(
			signed(who),
			&call,
			&DispatchInfo::default(),
			0,
			TransactionSource::External,
			0,
		)
		.map(|_| ())
}

#[test]
fn genesis_builds_the_consortium() {
	new_test_ext().execute_with(|| {
		assert_eq!(Organisations::<Test>::count(), 4);
		let manufacturer = Organisations::<Test>::get(0).unwrap();
		assert_eq!(manufacturer.name.to_vec(), b"Manufacturer".to_vec());
		assert_eq!(manufacturer.role, LifecycleRole::Manufacturer);
		assert_eq!((manufacturer.member_count, manufacturer.admin_count), (1, 1));
		assert_eq!(Consortium::organisation_of(&AUDITOR), Some(3));
		assert_eq!(Consortium::encryption_key_of(&OWNER), Some(KEY.to_vec()));
		assert_eq!(Validators::<Test>::get().to_vec(), vec![1, 2, 3, 4]);
		let node: PeerIdOf<Test> = MANUFACTURER_NODE.to_vec().try_into().unwrap();
		assert_eq!(PartnerNodes::<Test>::get(node), Some(0));
		assert!(frame_system::Pallet::<Test>::account_exists(&OWNER));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn admin_adds_member_without_vote() {
	new_test_ext().execute_with(|| {
		assert!(!frame_system::Pallet::<Test>::account_exists(&NEW_MEMBER));
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		let member = Members::<Test>::get(NEW_MEMBER).unwrap();
		assert_eq!((member.organisation, member.is_admin), (1, false));
		assert_eq!(Organisations::<Test>::get(1).unwrap().member_count, 2);
		// The account now exists, so its nonce protects it against replay.
		assert!(frame_system::Pallet::<Test>::account_exists(&NEW_MEMBER));
		assert_eq!(
			consortium_events(),
			vec![Event::MemberAdded { organisation: 1, who: NEW_MEMBER, by: OWNER }]
		);
		assert_ok!(membership_check(NEW_MEMBER));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn only_admins_add_members() {
	new_test_ext().execute_with(|| {
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_noop!(
			Consortium::add_member(
				signed(NEW_MEMBER),
				11,
				KEY.to_vec(),
				key_proof(11, PRIVATE_KEY)
			),
			Error::<Test>::NotAnAdmin
		);
		assert_noop!(
			Consortium::add_member(signed(OUTSIDER), 11, KEY.to_vec(), key_proof(11, PRIVATE_KEY)),
			Error::<Test>::NotAMember
		);
		assert_noop!(
			Consortium::add_member(
				RuntimeOrigin::none(),
				11,
				KEY.to_vec(),
				key_proof(11, PRIVATE_KEY)
			),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn duplicate_member_is_refused() {
	new_test_ext().execute_with(|| {
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_noop!(
			Consortium::add_member(
				signed(OWNER),
				NEW_MEMBER,
				KEY.to_vec(),
				key_proof(NEW_MEMBER, PRIVATE_KEY)
			),
			Error::<Test>::AlreadyMember
		);
		// Nor can another organisation claim the account.
		assert_noop!(
			Consortium::add_member(
				signed(AUDITOR),
				NEW_MEMBER,
				KEY.to_vec(),
				key_proof(NEW_MEMBER, PRIVATE_KEY)
			),
			Error::<Test>::AlreadyMember
		);
		assert_noop!(
			Consortium::add_member(
				signed(AUDITOR),
				OWNER,
				KEY.to_vec(),
				key_proof(OWNER, PRIVATE_KEY)
			),
			Error::<Test>::AlreadyMember
		);
	});
}

#[test]
fn invalid_or_short_encryption_keys_are_refused() {
	new_test_ext().execute_with(|| {
		let cases: [(&[u8], Error<Test>); 4] = [
			(SHORT_KEY, Error::<Test>::EncryptionKeyTooShort),
			(EC_KEY, Error::<Test>::EncryptionKeyNotRsa),
			(b"-----BEGIN PUBLIC KEY-----", Error::<Test>::EncryptionKeyMalformed),
			(&KEY[..KEY.len() - 1], Error::<Test>::EncryptionKeyMalformed),
		];
		for (key, error) in cases {
			assert_noop!(
				Consortium::add_member(signed(OWNER), NEW_MEMBER, key.to_vec(), vec![]),
				error
			);
		}
		let oversized = vec![0x30; 5000];
		assert_noop!(
			Consortium::add_member(signed(OWNER), NEW_MEMBER, oversized, vec![]),
			Error::<Test>::EncryptionKeyTooLong
		);
	});
}

#[test]
fn organisation_size_is_bounded() {
	new_test_ext().execute_with(|| {
		for who in 1..MAX_MEMBERS as u64 {
			assert_ok!(Consortium::add_member(
				signed(OWNER),
				100 + who,
				KEY.to_vec(),
				key_proof(100 + who, PRIVATE_KEY)
			));
		}
		assert_noop!(
			Consortium::add_member(
				signed(OWNER),
				NEW_MEMBER,
				KEY.to_vec(),
				key_proof(NEW_MEMBER, PRIVATE_KEY)
			),
			Error::<Test>::TooManyMembers
		);
	});
}

#[test]
fn admin_removes_own_members_only() {
	new_test_ext().execute_with(|| {
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_noop!(
			Consortium::remove_member(signed(AUDITOR), NEW_MEMBER),
			Error::<Test>::MemberOfAnotherOrganisation
		);
		assert_noop!(
			Consortium::remove_member(signed(NEW_MEMBER), OWNER),
			Error::<Test>::NotAnAdmin
		);
		assert_noop!(Consortium::remove_member(signed(OWNER), OUTSIDER), Error::<Test>::NotAMember);
		assert_ok!(Consortium::remove_member(signed(OWNER), NEW_MEMBER));
		assert!(!Members::<Test>::contains_key(NEW_MEMBER));
		assert_eq!(Organisations::<Test>::get(1).unwrap().member_count, 1);
		assert!(consortium_events().contains(&Event::MemberRemoved {
			organisation: 1,
			who: NEW_MEMBER,
			by: OWNER
		}));
		// Its transactions are refused at once.
		assert_eq!(membership_check(NEW_MEMBER), Err(InvalidTransaction::BadSigner.into()));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn validator_stays_a_member_until_governance_removes_it() {
	new_test_ext().execute_with(|| {
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_ADMIN,
			KEY.to_vec(),
			key_proof(NEW_ADMIN, PRIVATE_KEY)
		));
		assert_ok!(Consortium::set_admin(signed(OWNER), NEW_ADMIN, true));
		assert_noop!(
			Consortium::remove_member(signed(NEW_ADMIN), OWNER),
			Error::<Test>::MemberIsValidator
		);
		let proposal = propose_and_approve(
			Action::RemoveValidator { validator: OWNER },
			&[MAINTAINER, AUDITOR],
		);
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));
		assert_ok!(Consortium::remove_member(signed(NEW_ADMIN), OWNER));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn last_admin_cannot_be_removed_or_demoted() {
	new_test_ext().execute_with(|| {
		assert_noop!(Consortium::remove_member(signed(OWNER), OWNER), Error::<Test>::LastAdmin);
		assert_noop!(Consortium::set_admin(signed(OWNER), OWNER, false), Error::<Test>::LastAdmin);
		// With a second admin, the first may step down.
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_ADMIN,
			KEY.to_vec(),
			key_proof(NEW_ADMIN, PRIVATE_KEY)
		));
		assert_ok!(Consortium::set_admin(signed(OWNER), NEW_ADMIN, true));
		assert_eq!(Organisations::<Test>::get(1).unwrap().admin_count, 2);
		assert_ok!(Consortium::set_admin(signed(NEW_ADMIN), OWNER, false));
		assert!(!Members::<Test>::get(OWNER).unwrap().is_admin);
		assert_noop!(
			Consortium::add_member(
				signed(OWNER),
				NEW_MEMBER,
				KEY.to_vec(),
				key_proof(NEW_MEMBER, PRIVATE_KEY)
			),
			Error::<Test>::NotAnAdmin
		);
		assert!(consortium_events().contains(&Event::AdminRightsChanged {
			organisation: 1,
			who: OWNER,
			is_admin: false,
			by: NEW_ADMIN
		}));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn set_admin_checks_organisation() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Consortium::set_admin(signed(OWNER), AUDITOR, true),
			Error::<Test>::MemberOfAnotherOrganisation
		);
		assert_noop!(
			Consortium::set_admin(signed(OUTSIDER), OWNER, true),
			Error::<Test>::NotAMember
		);
	});
}

#[test]
fn members_rotate_their_encryption_key() {
	new_test_ext().execute_with(|| {
		assert_ok!(Consortium::rotate_encryption_key(
			signed(AUDITOR),
			SECOND_KEY.to_vec(),
			key_proof(AUDITOR, SECOND_PRIVATE_KEY)
		));
		assert_eq!(Consortium::encryption_key_of(&AUDITOR), Some(SECOND_KEY.to_vec()));
		assert_eq!(consortium_events(), vec![Event::EncryptionKeyRotated { who: AUDITOR }]);
		assert_noop!(
			Consortium::rotate_encryption_key(signed(AUDITOR), SHORT_KEY.to_vec(), vec![]),
			Error::<Test>::EncryptionKeyTooShort
		);
		assert_noop!(
			Consortium::rotate_encryption_key(
				signed(OUTSIDER),
				KEY.to_vec(),
				key_proof(OUTSIDER, PRIVATE_KEY)
			),
			Error::<Test>::NotAMember
		);
	});
}

#[test]
fn majority_adds_an_organisation() {
	new_test_ext().execute_with(|| {
		let proposal = propose_and_approve(add_organisation_action(NEW_ADMIN), &[OWNER]);
		// Two of four is not a strict majority.
		assert_noop!(
			Consortium::execute_proposal(signed(AUDITOR), proposal),
			Error::<Test>::NotEnoughApprovals
		);
		assert_ok!(Consortium::vote(signed(MAINTAINER), proposal, true));
		assert_ok!(Consortium::execute_proposal(signed(AUDITOR), proposal));
		assert_eq!(Organisations::<Test>::count(), 5);
		assert_eq!(Consortium::organisation_of(&NEW_ADMIN), Some(4));
		assert!(!Proposals::<Test>::contains_key(proposal));
		let events = consortium_events();
		assert!(events.contains(&Event::OrganisationAdded { organisation: 4, admin: NEW_ADMIN }));
		assert!(events.contains(&Event::ProposalExecuted { proposal, by: AUDITOR }));
		// The new organisation's admin onboards members itself.
		assert_ok!(Consortium::add_member(
			signed(NEW_ADMIN),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_ok!(membership_check(NEW_MEMBER));
		// Executing twice is impossible.
		assert_noop!(
			Consortium::execute_proposal(signed(AUDITOR), proposal),
			Error::<Test>::UnknownProposal
		);
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn voting_rules() {
	new_test_ext().execute_with(|| {
		let proposal = propose_and_approve(add_organisation_action(NEW_ADMIN), &[]);
		assert_noop!(
			Consortium::vote(signed(MANUFACTURER), proposal, true),
			Error::<Test>::AlreadyVoted
		);
		assert_ok!(Consortium::vote(signed(OWNER), proposal, false));
		assert_noop!(Consortium::vote(signed(OWNER), proposal, true), Error::<Test>::AlreadyVoted);
		assert_noop!(Consortium::vote(signed(OUTSIDER), proposal, true), Error::<Test>::NotAMember);
		assert_ok!(Consortium::add_member(
			signed(AUDITOR),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_noop!(
			Consortium::vote(signed(NEW_MEMBER), proposal, true),
			Error::<Test>::NotAnAdmin
		);
		assert_noop!(Consortium::vote(signed(AUDITOR), 77, true), Error::<Test>::UnknownProposal);
		assert!(consortium_events().contains(&Event::Voted {
			proposal,
			organisation: 1,
			approve: false
		}));
	});
}

#[test]
fn only_admins_propose_valid_actions() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Consortium::propose(signed(OUTSIDER), add_organisation_action(NEW_ADMIN)),
			Error::<Test>::NotAMember
		);
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_noop!(
			Consortium::propose(signed(NEW_MEMBER), add_organisation_action(NEW_ADMIN)),
			Error::<Test>::NotAnAdmin
		);
		// The new organisation's admin must not belong to another one.
		assert_noop!(
			Consortium::propose(signed(OWNER), add_organisation_action(NEW_MEMBER)),
			Error::<Test>::AlreadyMember
		);
		let short_key = Action::AddOrganisation {
			name: b"Insurer".to_vec().try_into().unwrap(),
			role: LifecycleRole::Other,
			admin: NEW_ADMIN,
			admin_encryption_key: SHORT_KEY.to_vec().try_into().unwrap(),
			admin_key_proof: Default::default(),
		};
		assert_noop!(
			Consortium::propose(signed(OWNER), short_key),
			Error::<Test>::EncryptionKeyTooShort
		);
		let empty_name = Action::AddOrganisation {
			name: Default::default(),
			role: LifecycleRole::Other,
			admin: NEW_ADMIN,
			admin_encryption_key: KEY.to_vec().try_into().unwrap(),
			admin_key_proof: key_proof(NEW_ADMIN, PRIVATE_KEY).try_into().unwrap(),
		};
		assert_noop!(Consortium::propose(signed(OWNER), empty_name), Error::<Test>::EmptyName);
		assert_noop!(
			Consortium::propose(signed(OWNER), Action::RemoveOrganisation { organisation: 42 }),
			Error::<Test>::UnknownOrganisation
		);
		assert_noop!(
			Consortium::propose(signed(OWNER), Action::AddValidator { validator: OUTSIDER }),
			Error::<Test>::NotAMember
		);
		assert_noop!(
			Consortium::propose(signed(OWNER), Action::AddValidator { validator: OWNER }),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			Consortium::propose(signed(OWNER), Action::RemoveValidator { validator: NEW_MEMBER }),
			Error::<Test>::NotAValidator
		);
		assert_noop!(
			Consortium::propose(
				signed(OWNER),
				Action::AddPartnerNode {
					organisation: 0,
					peer_id: MANUFACTURER_NODE.to_vec().try_into().unwrap()
				}
			),
			Error::<Test>::AlreadyPartnerNode
		);
		assert_noop!(
			Consortium::propose(
				signed(OWNER),
				Action::RemovePartnerNode { peer_id: b"nobody".to_vec().try_into().unwrap() }
			),
			Error::<Test>::UnknownPartnerNode
		);
	});
}

#[test]
fn open_proposals_are_bounded() {
	new_test_ext().execute_with(|| {
		for (proposer, admin) in [(OWNER, NEW_ADMIN), (OWNER, 21), (MAINTAINER, 22)] {
			assert_ok!(Consortium::propose(signed(proposer), add_organisation_action(admin)));
		}
		assert_noop!(
			Consortium::propose(signed(AUDITOR), add_organisation_action(23)),
			Error::<Test>::TooManyOpenProposals
		);
	});
}

#[test]
fn one_organisation_cannot_take_every_proposal_slot() {
	new_test_ext().execute_with(|| {
		// The owner's organisation has two admins; together they hold one organisation's
		// share of the open proposals, not more.
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		assert_ok!(Consortium::set_admin(signed(OWNER), NEW_MEMBER, true));
		let first = NextProposalId::<Test>::get();
		assert_ok!(Consortium::propose(signed(OWNER), add_organisation_action(NEW_ADMIN)));
		assert_ok!(Consortium::propose(signed(NEW_MEMBER), add_organisation_action(21)));
		assert_eq!(OpenProposalsOf::<Test>::get(1), MAX_OPEN_PROPOSALS_PER_ORGANISATION);
		for admin in [OWNER, NEW_MEMBER] {
			assert_noop!(
				Consortium::propose(signed(admin), add_organisation_action(22)),
				Error::<Test>::TooManyOpenProposalsOfOrganisation
			);
		}
		// Other organisations still have room.
		assert_ok!(Consortium::propose(signed(MAINTAINER), add_organisation_action(22)));
		// Closing one of its proposals gives the organisation its slot back.
		System::set_block_number(1 + PROPOSAL_LIFETIME + 1);
		assert_ok!(Consortium::close_proposal(signed(AUDITOR), first));
		assert_eq!(OpenProposalsOf::<Test>::get(1), 1);
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn executed_proposal_frees_its_organisations_slot() {
	new_test_ext().execute_with(|| {
		let proposal = propose_and_approve(add_organisation_action(NEW_ADMIN), &[OWNER, AUDITOR]);
		assert_eq!(OpenProposalsOf::<Test>::get(0), 1);
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));
		assert!(!OpenProposalsOf::<Test>::contains_key(0));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn expired_proposal_cannot_be_voted_or_executed() {
	new_test_ext().execute_with(|| {
		let proposal =
			propose_and_approve(add_organisation_action(NEW_ADMIN), &[OWNER, MAINTAINER]);
		assert_noop!(
			Consortium::close_proposal(signed(AUDITOR), proposal),
			Error::<Test>::ProposalStillOpen
		);
		System::set_block_number(1 + PROPOSAL_LIFETIME + 1);
		assert_noop!(
			Consortium::execute_proposal(signed(AUDITOR), proposal),
			Error::<Test>::ProposalExpired
		);
		assert_noop!(
			Consortium::vote(signed(AUDITOR), proposal, true),
			Error::<Test>::ProposalExpired
		);
		assert_noop!(
			Consortium::close_proposal(signed(OUTSIDER), proposal),
			Error::<Test>::NotAMember
		);
		assert_ok!(Consortium::close_proposal(signed(AUDITOR), proposal));
		assert!(!Proposals::<Test>::contains_key(proposal));
		assert!(consortium_events()
			.contains(&Event::ProposalClosed { proposal, reason: CloseReason::Expired }));
		assert_eq!(Organisations::<Test>::count(), 4);
	});
}

#[test]
fn rejected_proposal_is_closed() {
	new_test_ext().execute_with(|| {
		let proposal = propose_and_approve(add_organisation_action(NEW_ADMIN), &[]);
		assert_ok!(Consortium::vote(signed(OWNER), proposal, false));
		assert_ok!(Consortium::vote(signed(MAINTAINER), proposal, false));
		assert_noop!(
			Consortium::close_proposal(signed(OWNER), proposal),
			Error::<Test>::ProposalStillOpen
		);
		assert_ok!(Consortium::vote(signed(AUDITOR), proposal, false));
		assert_ok!(Consortium::close_proposal(signed(OWNER), proposal));
		assert!(consortium_events()
			.contains(&Event::ProposalClosed { proposal, reason: CloseReason::Rejected }));
	});
}

#[test]
fn removed_organisation_loses_its_rights_at_once() {
	new_test_ext().execute_with(|| {
		assert_ok!(Consortium::add_member(
			signed(MANUFACTURER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		// The manufacturer approves another proposal before it is removed.
		let pending = propose_and_approve(add_organisation_action(NEW_ADMIN), &[]);
		let proposal = NextProposalId::<Test>::get();
		assert_ok!(Consortium::propose(
			signed(OWNER),
			Action::RemoveOrganisation { organisation: 0 }
		));
		assert_ok!(Consortium::vote(signed(MAINTAINER), proposal, true));
		assert_ok!(Consortium::vote(signed(AUDITOR), proposal, true));
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));

		assert!(!Organisations::<Test>::contains_key(0));
		for who in [MANUFACTURER, NEW_MEMBER] {
			assert!(!Members::<Test>::contains_key(who));
			assert_eq!(membership_check(who), Err(InvalidTransaction::BadSigner.into()));
		}
		assert_noop!(
			Consortium::add_member(
				signed(MANUFACTURER),
				11,
				KEY.to_vec(),
				key_proof(11, PRIVATE_KEY)
			),
			Error::<Test>::NotAMember
		);
		assert_noop!(
			Consortium::vote(signed(MANUFACTURER), pending, true),
			Error::<Test>::NotAMember
		);
		assert_eq!(Validators::<Test>::get().to_vec(), vec![OWNER, MAINTAINER, AUDITOR]);
		assert_eq!(PartnerNodes::<Test>::count(), 0);
		// The removed organisation's approval no longer counts: with the owner's it is 1 of 3.
		assert_ok!(Consortium::vote(signed(OWNER), pending, true));
		assert_noop!(
			Consortium::execute_proposal(signed(OWNER), pending),
			Error::<Test>::NotEnoughApprovals
		);
		assert_ok!(Consortium::vote(signed(MAINTAINER), pending, true));
		assert_ok!(Consortium::execute_proposal(signed(OWNER), pending));
		// The session manager hands the smaller set to pallet-session.
		assert_eq!(
			<Consortium as SessionManager<u64>>::new_session(1),
			Some(vec![OWNER, MAINTAINER, AUDITOR])
		);
		let events = consortium_events();
		assert!(events.contains(&Event::OrganisationRemoved { organisation: 0 }));
		assert!(events.contains(&Event::PartnerNodeRemoved {
			organisation: 0,
			peer_id: MANUFACTURER_NODE.to_vec().try_into().unwrap()
		}));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn last_validator_stays() {
	new_test_ext().execute_with(|| {
		for validator in [MANUFACTURER, OWNER, MAINTAINER] {
			let proposal =
				propose_and_approve(Action::RemoveValidator { validator }, &[OWNER, MAINTAINER]);
			assert_ok!(Consortium::execute_proposal(signed(AUDITOR), proposal));
		}
		assert_eq!(Validators::<Test>::get().to_vec(), vec![AUDITOR]);
		assert_noop!(
			Consortium::propose(signed(AUDITOR), Action::RemoveValidator { validator: AUDITOR }),
			Error::<Test>::LastValidator
		);
		// Removing the auditor's organisation would remove the last validator too.
		assert_noop!(
			Consortium::propose(signed(OWNER), Action::RemoveOrganisation { organisation: 3 }),
			Error::<Test>::LastValidator
		);
	});
}

#[test]
fn validator_changes_reach_the_session_manager() {
	new_test_ext().execute_with(|| {
		assert_eq!(
			<Consortium as SessionManager<u64>>::new_session_genesis(0),
			Some(vec![1, 2, 3, 4])
		);
		assert_eq!(<Consortium as SessionManager<u64>>::new_session(1), None);
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			KEY.to_vec(),
			key_proof(NEW_MEMBER, PRIVATE_KEY)
		));
		// Without session keys, a validator could not author: refused.
		assert_noop!(
			Consortium::propose(signed(OWNER), Action::AddValidator { validator: NEW_MEMBER }),
			Error::<Test>::NoSessionKeys
		);
		AccountsWithSessionKeys::mutate(|accounts| accounts.push(NEW_MEMBER));
		let proposal =
			propose_and_approve(Action::AddValidator { validator: NEW_MEMBER }, &[OWNER, AUDITOR]);
		assert_ok!(Consortium::execute_proposal(signed(NEW_MEMBER), proposal));
		assert!(consortium_events().contains(&Event::ValidatorAdded { validator: NEW_MEMBER }));
		assert_eq!(
			<Consortium as SessionManager<u64>>::new_session(2),
			Some(vec![1, 2, 3, 4, NEW_MEMBER])
		);
		// Reported once; unchanged afterwards.
		assert_eq!(<Consortium as SessionManager<u64>>::new_session(3), None);

		let proposal = propose_and_approve(
			Action::RemoveValidator { validator: OWNER },
			&[MAINTAINER, AUDITOR],
		);
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));
		assert!(consortium_events().contains(&Event::ValidatorRemoved { validator: OWNER }));
		assert_eq!(
			<Consortium as SessionManager<u64>>::new_session(4),
			Some(vec![1, 3, 4, NEW_MEMBER])
		);
	});
}

#[test]
fn partner_nodes_follow_governance() {
	new_test_ext().execute_with(|| {
		let peer_id: PeerIdOf<Test> = b"owner-node".to_vec().try_into().unwrap();
		let proposal = propose_and_approve(
			Action::AddPartnerNode { organisation: 1, peer_id: peer_id.clone() },
			&[OWNER, MAINTAINER],
		);
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));
		assert_eq!(PartnerNodes::<Test>::get(&peer_id), Some(1));
		assert!(Consortium::is_partner_node(b"owner-node"));
		assert!(!Consortium::is_partner_node(b"other-node"));
		assert!(!Consortium::is_partner_node(&[7u8; 1024]), "longer than any peer id");
		assert!(consortium_events()
			.contains(&Event::PartnerNodeAdded { organisation: 1, peer_id: peer_id.clone() }));

		let proposal = propose_and_approve(
			Action::RemovePartnerNode { peer_id: peer_id.clone() },
			&[OWNER, MAINTAINER],
		);
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));
		assert_eq!(PartnerNodes::<Test>::get(&peer_id), None);
		assert!(!Consortium::is_partner_node(b"owner-node"));
		assert!(
			consortium_events().contains(&Event::PartnerNodeRemoved { organisation: 1, peer_id })
		);
	});
}

#[test]
fn proposal_that_became_impossible_changes_nothing() {
	new_test_ext().execute_with(|| {
		let proposal =
			propose_and_approve(add_organisation_action(NEW_ADMIN), &[OWNER, MAINTAINER]);
		// Meanwhile the future admin joins an existing organisation.
		assert_ok!(Consortium::add_member(
			signed(AUDITOR),
			NEW_ADMIN,
			KEY.to_vec(),
			key_proof(NEW_ADMIN, PRIVATE_KEY)
		));
		assert_noop!(
			Consortium::execute_proposal(signed(AUDITOR), proposal),
			Error::<Test>::AlreadyMember
		);
		assert!(Proposals::<Test>::contains_key(proposal));
	});
}

#[test]
fn membership_extension_gates_signed_transactions_only() {
	new_test_ext().execute_with(|| {
		assert_ok!(membership_check(OWNER));
		assert_eq!(membership_check(OUTSIDER), Err(InvalidTransaction::BadSigner.into()));
		let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		let check = |origin: RuntimeOrigin| {
			CheckMembership::<Test>::new()
				.validate(
					origin,
					&call,
					&DispatchInfo::default(),
					0,
					(),
					&TxBaseImplication(&call),
					TransactionSource::External,
				)
				.map(|(_, _, origin)| origin)
		};
		// A general transaction its call authorized passes, to be judged by its pallet.
		let authorized = check(frame_system::RawOrigin::Authorized.into()).unwrap();
		assert!(authorized.is_transaction_authorized());
		// One that nobody authorized is refused.
		assert_eq!(
			check(RuntimeOrigin::none()).map(|_| ()),
			Err(InvalidTransaction::UnknownOrigin.into())
		);
	});
}

#[test]
fn offchain_worker_without_partner_nodes_restricts_nothing() {
	// With partner nodes the worker calls into the node's network (covered by the
	// multi-node tests); without any, it must not touch the network at all.
	new_test_ext().execute_with(|| {
		let _ = PartnerNodes::<Test>::clear(u32::MAX, None);
		Consortium::offchain_worker(1);
	});
}

#[test]
fn member_cannot_register_anothers_encryption_key() {
	new_test_ext().execute_with(|| {
		// SECOND_KEY is the new member's: only it holds the private half.
		add_member_with_proof(OWNER, NEW_MEMBER);
		assert_ok!(Consortium::rotate_encryption_key(
			signed(NEW_MEMBER),
			SECOND_KEY.to_vec(),
			key_proof(NEW_MEMBER, SECOND_PRIVATE_KEY)
		));
		// The auditor claims that key as its own, signing with its own private key...
		assert_noop!(
			Consortium::rotate_encryption_key(
				signed(AUDITOR),
				SECOND_KEY.to_vec(),
				key_proof(AUDITOR, PRIVATE_KEY)
			),
			Error::<Test>::KeyProofInvalid
		);
		// ...or replaying the proof the member made for its own account.
		assert_noop!(
			Consortium::rotate_encryption_key(
				signed(AUDITOR),
				SECOND_KEY.to_vec(),
				key_proof(NEW_MEMBER, SECOND_PRIVATE_KEY)
			),
			Error::<Test>::KeyProofInvalid
		);
		assert_eq!(Consortium::encryption_key_of(&AUDITOR), Some(KEY.to_vec()));
	});
}

#[test]
fn admin_cannot_add_a_member_under_a_key_it_does_not_hold() {
	new_test_ext().execute_with(|| {
		// The admin signs for the member with a private key that is not the key's.
		assert_noop!(
			Consortium::add_member(
				signed(OWNER),
				NEW_MEMBER,
				SECOND_KEY.to_vec(),
				key_proof(NEW_MEMBER, PRIVATE_KEY)
			),
			Error::<Test>::KeyProofInvalid
		);
		// A proof the key's holder made for another account does not serve either.
		assert_noop!(
			Consortium::add_member(
				signed(OWNER),
				NEW_MEMBER,
				SECOND_KEY.to_vec(),
				key_proof(OWNER, SECOND_PRIVATE_KEY)
			),
			Error::<Test>::KeyProofInvalid
		);
		assert_noop!(
			Consortium::add_member(signed(OWNER), NEW_MEMBER, SECOND_KEY.to_vec(), vec![]),
			Error::<Test>::KeyProofInvalid
		);
		// Oversized proofs are refused before any work.
		assert_noop!(
			Consortium::add_member(signed(OWNER), NEW_MEMBER, SECOND_KEY.to_vec(), vec![1; 5000]),
			Error::<Test>::KeyProofInvalid
		);
		assert_ok!(Consortium::add_member(
			signed(OWNER),
			NEW_MEMBER,
			SECOND_KEY.to_vec(),
			key_proof(NEW_MEMBER, SECOND_PRIVATE_KEY)
		));
	});
}

#[test]
fn key_proof_of_another_chain_is_refused() {
	new_test_ext().execute_with(|| {
		let proof = key_proof(NEW_MEMBER, PRIVATE_KEY);
		// The same accounts and keys on a chain with another genesis block.
		frame_system::BlockHash::<Test>::insert(0, sp_core::H256::repeat_byte(1));
		assert_noop!(
			Consortium::add_member(signed(OWNER), NEW_MEMBER, KEY.to_vec(), proof),
			Error::<Test>::KeyProofInvalid
		);
	});
}

#[test]
fn new_organisations_admin_proves_its_key() {
	new_test_ext().execute_with(|| {
		let mut action = add_organisation_action(NEW_ADMIN);
		if let Action::AddOrganisation { admin_key_proof, .. } = &mut action {
			// Made by someone holding the key, but for another account.
			*admin_key_proof = key_proof(OWNER, PRIVATE_KEY).try_into().unwrap();
		}
		assert_noop!(Consortium::propose(signed(OWNER), action), Error::<Test>::KeyProofInvalid);
		let mut action = add_organisation_action(NEW_ADMIN);
		if let Action::AddOrganisation { admin_encryption_key, .. } = &mut action {
			*admin_encryption_key = SECOND_KEY.to_vec().try_into().unwrap();
		}
		assert_noop!(Consortium::propose(signed(OWNER), action), Error::<Test>::KeyProofInvalid);
		assert_ok!(Consortium::propose(signed(OWNER), add_organisation_action(NEW_ADMIN)));
	});
}

#[test]
fn governance_appoints_an_access_manager_to_an_orphaned_twin() {
	new_test_ext().execute_with(|| {
		add_member_with_proof(OWNER, NEW_MEMBER);
		let action = Action::AppointAccessManager { twin: ORPHANED_TWIN, manager: NEW_MEMBER };
		let proposal = propose_and_approve(action, &[OWNER]);
		// A majority is needed, as for every action.
		assert_noop!(
			Consortium::execute_proposal(signed(OWNER), proposal),
			Error::<Test>::NotEnoughApprovals
		);
		assert_ok!(Consortium::vote(signed(AUDITOR), proposal, true));
		assert_ok!(Consortium::execute_proposal(signed(OWNER), proposal));
		assert!(consortium_events().contains(&Event::AccessManagerAppointed {
			twin: ORPHANED_TWIN,
			manager: NEW_MEMBER,
			role: dt_primitives::access::Role::Owner,
		}));
		assert!(StubTwins::get().contains(&(ORPHANED_TWIN, true)));
		Consortium::do_try_state().unwrap();
	});
}

#[test]
fn appointment_is_refused_while_the_twin_is_managed_or_for_outsiders() {
	new_test_ext().execute_with(|| {
		let appoint = |twin, manager| Action::AppointAccessManager { twin, manager };
		assert_noop!(
			Consortium::propose(signed(OWNER), appoint(MANAGED_TWIN, OWNER)),
			Error::<Test>::TwinStillManaged
		);
		assert_noop!(
			Consortium::propose(signed(OWNER), appoint(UNKNOWN_TWIN, OWNER)),
			Error::<Test>::UnknownTwin
		);
		assert_noop!(
			Consortium::propose(signed(OWNER), appoint(ORPHANED_TWIN, OUTSIDER)),
			Error::<Test>::NotAMember
		);
		// The twin found a manager between the proposal and its execution: nothing happens
		// and the proposal stays open.
		let proposal = propose_and_approve(appoint(ORPHANED_TWIN, OWNER), &[OWNER, AUDITOR]);
		StubTwins::mutate(|twins| twins.push((ORPHANED_TWIN, true)));
		StubTwins::mutate(|twins| twins.retain(|twin| *twin != (ORPHANED_TWIN, false)));
		assert_noop!(
			Consortium::execute_proposal(signed(OWNER), proposal),
			Error::<Test>::TwinStillManaged
		);
		assert!(Proposals::<Test>::contains_key(proposal));
	});
}

/// The hash `frame_system` authorizes and checks the submitted code against.
fn code_hash(code: &[u8]) -> sp_core::H256 {
	sp_core::H256(sp_io::hashing::blake2_256(code))
}

fn upgrade_action(code: &[u8], spec_version: u32) -> Action<Test> {
	Action::UpgradeRuntime { code_hash: code_hash(code), spec_version }
}

fn system_events() -> Vec<frame_system::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::System(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn running_code() -> Option<Vec<u8>> {
	sp_io::storage::get(sp_core::storage::well_known_keys::CODE).map(|code| code.to_vec())
}

#[test]
fn runtime_upgrade_is_proposed_by_an_admin_with_a_higher_version() {
	new_test_ext().execute_with(|| {
		let next = runtime_code(RUNTIME_NAME, RUNTIME_SPEC_VERSION + 1);
		assert_noop!(
			Consortium::propose(signed(OUTSIDER), upgrade_action(&next, RUNTIME_SPEC_VERSION + 1)),
			Error::<Test>::NotAMember
		);
		add_member_with_proof(OWNER, NEW_MEMBER);
		assert_noop!(
			Consortium::propose(
				signed(NEW_MEMBER),
				upgrade_action(&next, RUNTIME_SPEC_VERSION + 1)
			),
			Error::<Test>::NotAnAdmin
		);
		for stale in [0, RUNTIME_SPEC_VERSION - 1, RUNTIME_SPEC_VERSION] {
			assert_noop!(
				Consortium::propose(signed(MANUFACTURER), upgrade_action(&next, stale)),
				Error::<Test>::SpecVersionNotIncreased
			);
		}
		assert_ok!(Consortium::propose(
			signed(MANUFACTURER),
			upgrade_action(&next, RUNTIME_SPEC_VERSION + 1)
		));
	});
}

#[test]
fn runtime_upgrade_is_applied_only_after_the_majority_and_only_with_the_voted_code() {
	new_test_ext().execute_with(|| {
		let next = runtime_code(RUNTIME_NAME, RUNTIME_SPEC_VERSION + 1);
		let other = runtime_code(RUNTIME_NAME, RUNTIME_SPEC_VERSION + 2);
		let before = running_code();
		let proposal = propose_and_approve(upgrade_action(&next, RUNTIME_SPEC_VERSION + 1), &[]);

		// Applying before the vote: nothing is authorized.
		assert_noop!(
			System::apply_authorized_upgrade(signed(AUDITOR), next.clone()),
			frame_system::Error::<Test>::NothingAuthorized
		);
		// Two of four approve: not a majority.
		assert_ok!(Consortium::vote(signed(OWNER), proposal, true));
		assert_noop!(
			Consortium::execute_proposal(signed(AUDITOR), proposal),
			Error::<Test>::NotEnoughApprovals
		);
		assert_noop!(
			System::apply_authorized_upgrade(signed(AUDITOR), next.clone()),
			frame_system::Error::<Test>::NothingAuthorized
		);

		assert_ok!(Consortium::vote(signed(MAINTAINER), proposal, true));
		assert_ok!(Consortium::execute_proposal(signed(AUDITOR), proposal));
		assert!(consortium_events().contains(&Event::RuntimeUpgradeAuthorized {
			code_hash: code_hash(&next),
			spec_version: RUNTIME_SPEC_VERSION + 1
		}));
		assert_eq!(running_code(), before, "executing only authorizes");

		// Another code than the voted one is refused, and the authorization stays.
		assert_noop!(
			System::apply_authorized_upgrade(signed(OUTSIDER), other),
			frame_system::Error::<Test>::Unauthorized
		);
		assert_ok!(System::apply_authorized_upgrade(signed(OUTSIDER), next.clone()));
		assert_eq!(running_code(), Some(next.clone()));
		assert!(
			system_events().contains(&frame_system::Event::CodeUpdated { hash: code_hash(&next) })
		);
		// Once applied, the authorization is used up.
		assert_noop!(
			System::apply_authorized_upgrade(signed(OUTSIDER), next),
			frame_system::Error::<Test>::NothingAuthorized
		);
	});
}

#[test]
fn an_authorized_code_of_another_chain_or_an_older_version_is_not_applied() {
	for (code, refusal) in [
		(
			runtime_code(RUNTIME_NAME, RUNTIME_SPEC_VERSION),
			frame_system::Error::<Test>::SpecVersionNeedsToIncrease,
		),
		(
			runtime_code("another-chain", RUNTIME_SPEC_VERSION + 1),
			frame_system::Error::<Test>::InvalidSpecName,
		),
		(b"not a runtime".to_vec(), frame_system::Error::<Test>::FailedToExtractRuntimeVersion),
	] {
		new_test_ext().execute_with(|| {
			let before = running_code();
			// The proposal announces a higher version than the code declares.
			let proposal = propose_and_approve(
				upgrade_action(&code, RUNTIME_SPEC_VERSION + 1),
				&[OWNER, AUDITOR],
			);
			assert_ok!(Consortium::execute_proposal(signed(AUDITOR), proposal));
			assert_ok!(System::apply_authorized_upgrade(signed(AUDITOR), code.clone()));
			assert_eq!(running_code(), before);
			assert!(system_events().contains(
				&frame_system::Event::RejectedInvalidAuthorizedUpgrade {
					code_hash: code_hash(&code),
					error: refusal.into(),
				}
			));
			assert_noop!(
				System::apply_authorized_upgrade(signed(AUDITOR), code),
				frame_system::Error::<Test>::NothingAuthorized
			);
		});
	}
}

#[test]
fn an_upgrade_proposal_expires_like_the_others() {
	new_test_ext().execute_with(|| {
		let next = runtime_code(RUNTIME_NAME, RUNTIME_SPEC_VERSION + 1);
		let proposal = propose_and_approve(
			upgrade_action(&next, RUNTIME_SPEC_VERSION + 1),
			&[OWNER, MAINTAINER],
		);
		System::set_block_number(1 + PROPOSAL_LIFETIME + 1);
		assert_noop!(
			Consortium::execute_proposal(signed(AUDITOR), proposal),
			Error::<Test>::ProposalExpired
		);
		assert_noop!(
			System::apply_authorized_upgrade(signed(AUDITOR), next),
			frame_system::Error::<Test>::NothingAuthorized
		);
	});
}
