//! The consortium as the access pallet sees it: which organisation an account belongs to.

use crate::{Config, Members, Organisations, Pallet};
use dt_primitives::{access::ConsortiumMembership, OrganisationId};

impl<T: Config> ConsortiumMembership<T::AccountId> for Pallet<T> {
	fn organisation_of(who: &T::AccountId) -> Option<OrganisationId> {
		Members::<T>::get(who).map(|member| member.organisation)
	}

	fn organisation_exists(organisation: OrganisationId) -> bool {
		Organisations::<T>::contains_key(organisation)
	}
}

#[cfg(test)]
mod tests {
	use crate::mock::*;
	use dt_primitives::access::ConsortiumMembership;

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
}
