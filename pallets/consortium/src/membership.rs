//! The consortium as the access pallet sees it: which organisation an account belongs to,
//! and since when.

use crate::{Config, Members, Organisations, Pallet};
use dt_primitives::{
	access::{ConsortiumMember, ConsortiumMembership},
	OrganisationId,
};

impl<T: Config> ConsortiumMembership<T::AccountId> for Pallet<T> {
	fn member(who: &T::AccountId) -> Option<ConsortiumMember> {
		Members::<T>::get(who).map(|member| ConsortiumMember {
			organisation: member.organisation,
			membership: member.id,
		})
	}

	fn organisation_exists(organisation: OrganisationId) -> bool {
		Organisations::<T>::contains_key(organisation)
	}
}

#[cfg(test)]
mod tests {
	use crate::mock::*;
	use dt_primitives::access::ConsortiumMembership;
	use frame_support::assert_ok;

	#[test]
	fn members_and_organisations_are_those_of_the_consortium() {
		new_test_ext().execute_with(|| {
			assert_eq!(
				<Consortium as ConsortiumMembership<u64>>::organisation_of(&AUDITOR),
				Some(3)
			);
			assert_eq!(<Consortium as ConsortiumMembership<u64>>::organisation_of(&OUTSIDER), None);
			assert!(<Consortium as ConsortiumMembership<u64>>::organisation_exists(0));
			assert!(!<Consortium as ConsortiumMembership<u64>>::organisation_exists(4));
		});
	}

	#[test]
	fn an_account_added_again_has_a_new_membership() {
		new_test_ext().execute_with(|| {
			let member = |who| <Consortium as ConsortiumMembership<u64>>::member(&who);
			add_member_with_proof(OWNER, NEW_MEMBER);
			let first = member(NEW_MEMBER).unwrap();
			assert_eq!(first.organisation, 1);
			assert_ok!(Consortium::remove_member(RuntimeOrigin::signed(OWNER), NEW_MEMBER));
			assert_eq!(member(NEW_MEMBER), None);
			// Added again, by the same organisation or another one: a new membership.
			add_member_with_proof(OWNER, NEW_MEMBER);
			let second = member(NEW_MEMBER).unwrap();
			assert_ne!(second.membership, first.membership);
			assert_ok!(Consortium::remove_member(RuntimeOrigin::signed(OWNER), NEW_MEMBER));
			add_member_with_proof(MAINTAINER, NEW_MEMBER);
			let third = member(NEW_MEMBER).unwrap();
			assert_eq!(third.organisation, 2);
			assert!(third.membership != first.membership && third.membership != second.membership);
		});
	}
}
