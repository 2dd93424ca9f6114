use crate::{mock::*, *};
use dt_primitives::access::{
	AccessDenied, AccessManagerAppointment, Action, AppointmentRefused, Authorize, Confidentiality,
	Grantee, Permission, ProgramName, Role,
};
use frame_support::{assert_noop, assert_ok, assert_storage_noop, traits::Hooks};
use sp_runtime::DispatchError;

use Confidentiality::*;

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn account(who: u64) -> Grantee<u64> {
	Grantee::Account(who)
}

fn organisation(id: u32) -> Grantee<u64> {
	Grantee::Organisation(id)
}

fn permissions(list: &[Permission]) -> PermissionsOf<Test> {
	list.to_vec().try_into().unwrap()
}

fn name(text: &[u8]) -> RoleNameOf<Test> {
	text.to_vec().try_into().unwrap()
}

fn program(text: &str) -> ProgramName {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn authorize(twin: u32, who: u64, action: Action<'_>) -> Result<(), AccessDenied> {
	<Access as Authorize<u64>>::authorize(twin, &who, action)
}

fn allowed(who: u64, action: Action<'_>) -> bool {
	authorize(TWIN, who, action).is_ok()
}

fn clearance(twin: u32, who: u64) -> Option<Confidentiality> {
	<Access as Authorize<u64>>::clearance(twin, &who)
}

fn grant(grantee: Grantee<u64>, role: Role) {
	assert_ok!(Access::grant_role(signed(OWNER), TWIN, grantee, role));
}

/// The lifecycle roles granted to the accounts that play them.
fn grant_lifecycle_roles() {
	grant(account(MANUFACTURER), Role::Manufacturer);
	grant(account(MAINTAINER), Role::Maintainer);
	grant(account(AUDITOR), Role::Auditor);
	grant(account(DEVICE), Role::Device);
}

/// The roles a grantee's record on [`TWIN`] holds, live or dead.
fn granted(grantee: Grantee<u64>) -> Option<GrantedRolesOf<Test>> {
	Grants::<Test>::get(TWIN, grantee).map(|grant| grant.roles)
}

fn access() -> TwinAccess<Test> {
	ManagedTwins::<Test>::get(TWIN).unwrap()
}

fn roles(list: &[Role]) -> GrantedRolesOf<Test> {
	list.iter()
		.copied()
		.collect::<alloc::collections::BTreeSet<_>>()
		.try_into()
		.unwrap()
}

// --- Twin creation and the default map ---

#[test]
fn a_new_twin_gets_the_default_map_and_its_creator_the_owner_role() {
	new_test_ext().execute_with(|| {
		<Access as Authorize<u64>>::twin_created(TWIN, &OWNER);
		for role in Role::BUILT_IN {
			assert_eq!(Access::role_permissions(TWIN, role), Some(default_permissions(role)));
		}
		assert_eq!(
			Access::role_permissions(TWIN, Role::Owner).unwrap(),
			vec![
				Permission::Read(Secret),
				Permission::WriteSpecification(None),
				Permission::AddDocuments,
				Permission::VersionDocuments,
				Permission::AnnotateDocuments,
				Permission::RegisterFeeds,
				Permission::AppendToFeeds,
				Permission::CallPrograms(None),
				Permission::AddExternalSources,
				Permission::ManageAccess,
				Permission::DeclarePrograms,
			]
		);
		assert_eq!(granted(account(OWNER)), Some(roles(&[Role::Owner])));
		let access = access();
		assert_eq!(
			(access.grant_count, access.custom_role_count, access.next_custom_role),
			(1, 0, 0)
		);
		assert_eq!(access.manager_roles.iter().copied().collect::<Vec<_>>(), vec![Role::Owner]);
		assert_eq!(access.holders_of(&Role::Owner), 1);
		assert_eq!(access_events(), vec![Event::AccessControlCreated { twin: TWIN, owner: OWNER }]);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn creating_a_managed_twin_again_changes_nothing() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Device,
			permissions(&[Permission::Read(Public)])
		));
		assert_storage_noop!(<Access as Authorize<u64>>::twin_created(TWIN, &OUTSIDER));
		assert_eq!(Access::roles_of(TWIN, &OUTSIDER), vec![]);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn the_pallet_passes_its_integrity_test() {
	new_test_ext().execute_with(|| {
		<Access as Hooks<u64>>::integrity_test();
		assert_eq!(largest_default_permission_set(), 11);
	});
}

#[test]
fn owner_and_maintainer_write_everyone_else_reads() {
	new_twin_ext().execute_with(|| {
		grant_lifecycle_roles();
		let (line, above) = (element("line-1"), ancestors_of("line-1"));
		let writes = [
			Action::WriteSpecification { element: &line, ancestors: &above },
			Action::AddDocument,
			Action::VersionDocument,
			Action::CallProgram(b"clean"),
			Action::AddExternalSource,
		];
		for action in writes {
			assert!(allowed(OWNER, action), "owner: {action:?}");
			assert!(allowed(MAINTAINER, action), "maintainer: {action:?}");
			for reader in [MANUFACTURER, AUDITOR, DEVICE] {
				assert_eq!(
					authorize(TWIN, reader, action),
					Err(AccessDenied::NotPermitted),
					"{reader}: {action:?}"
				);
			}
		}
		for who in [OWNER, MAINTAINER, MANUFACTURER, AUDITOR] {
			assert!(allowed(who, Action::Read(Confidential)));
			assert!(allowed(who, Action::AnnotateDocument));
		}
		assert!(allowed(OWNER, Action::Read(Secret)));
		for who in [MAINTAINER, MANUFACTURER, AUDITOR, DEVICE] {
			assert!(!allowed(who, Action::Read(Secret)));
		}
		// The device reads internal data, registers and streams into its sensors' feeds and
		// runs the programs others call, nothing more.
		for who in [OWNER, MAINTAINER, DEVICE] {
			assert!(allowed(who, Action::RegisterFeed), "{who}");
		}
		for who in [MANUFACTURER, AUDITOR] {
			assert!(!allowed(who, Action::RegisterFeed), "{who}");
		}
		assert!(allowed(DEVICE, Action::RunProgram));
		for who in [OWNER, MAINTAINER, MANUFACTURER, AUDITOR] {
			assert!(!allowed(who, Action::RunProgram), "{who}");
		}
		assert!(allowed(DEVICE, Action::Read(Internal)));
		assert!(!allowed(DEVICE, Action::Read(Confidential)));
		assert!(!allowed(DEVICE, Action::AnnotateDocument));
		assert!(allowed(DEVICE, Action::AppendToFeed));
		assert!(allowed(OWNER, Action::AppendToFeed));
		for who in [MAINTAINER, MANUFACTURER, AUDITOR] {
			assert!(!allowed(who, Action::AppendToFeed));
		}
		// Only the owner manages access.
		assert!(allowed(OWNER, Action::ManageAccess));
		for who in [MAINTAINER, MANUFACTURER, AUDITOR, DEVICE] {
			assert!(!allowed(who, Action::ManageAccess));
		}
	});
}

#[test]
fn the_maintainer_operates_the_plant_but_cannot_set_its_safety_bounds() {
	new_twin_ext().execute_with(|| {
		grant_lifecycle_roles();
		// The maintainer calls programs and writes the specification...
		assert!(allowed(MAINTAINER, Action::CallProgram(b"SetFillVolume")));
		// ...but declaring a program or changing its bounds is the manufacturer's and the
		// owner's business.
		for who in [OWNER, MANUFACTURER] {
			assert!(allowed(who, Action::DeclareProgram), "{who}");
		}
		for who in [MAINTAINER, AUDITOR, DEVICE] {
			assert_eq!(
				authorize(TWIN, who, Action::DeclareProgram),
				Err(AccessDenied::NotPermitted),
				"{who}"
			);
		}
		// The owner can still hand it out.
		let mut maintainer = default_permissions(Role::Maintainer);
		maintainer.push(Permission::DeclarePrograms);
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Maintainer,
			permissions(&maintainer)
		));
		assert!(allowed(MAINTAINER, Action::DeclareProgram));
	});
}

#[test]
fn clearance_is_the_highest_read_level_of_the_roles() {
	new_twin_ext().execute_with(|| {
		grant_lifecycle_roles();
		assert_eq!(clearance(TWIN, OWNER), Some(Secret));
		assert_eq!(clearance(TWIN, MAINTAINER), Some(Confidential));
		assert_eq!(clearance(TWIN, AUDITOR), Some(Confidential));
		assert_eq!(clearance(TWIN, DEVICE), Some(Internal));
		assert_eq!(clearance(TWIN, OWNER_COLLEAGUE), None);
		assert_eq!(clearance(TWIN, OUTSIDER), None);
		assert_eq!(clearance(UNKNOWN_TWIN, OWNER), None);
		assert_eq!(Access::clearance_of(TWIN, &DEVICE), Some(Internal));
		// Two roles: the higher level counts.
		grant(account(DEVICE), Role::Auditor);
		assert_eq!(clearance(TWIN, DEVICE), Some(Confidential));
		assert!(allowed(DEVICE, Action::Read(Confidential)));
	});
}

#[test]
fn every_member_reads_public_data_and_outsiders_nothing() {
	new_twin_ext().execute_with(|| {
		// No role on the twin.
		assert_eq!(Access::roles_of(TWIN, &OWNER_COLLEAGUE), vec![]);
		assert_eq!(authorize(TWIN, OWNER_COLLEAGUE, Action::Read(Public)), Ok(()));
		assert_eq!(
			authorize(TWIN, OWNER_COLLEAGUE, Action::Read(Internal)),
			Err(AccessDenied::NotPermitted)
		);
		assert_eq!(
			authorize(TWIN, OUTSIDER, Action::Read(Public)),
			Err(AccessDenied::NotPermitted)
		);
		assert_eq!(
			authorize(UNKNOWN_TWIN, OWNER_COLLEAGUE, Action::Read(Public)),
			Err(AccessDenied::UnknownTwin)
		);
	});
}

#[test]
fn unknown_twins_deny_everything() {
	new_twin_ext().execute_with(|| {
		for action in [Action::Read(Public), Action::AddDocument, Action::ManageAccess] {
			assert_eq!(authorize(UNKNOWN_TWIN, OWNER, action), Err(AccessDenied::UnknownTwin));
		}
		assert_eq!(Access::roles_of(UNKNOWN_TWIN, &OWNER), vec![]);
		assert_eq!(Access::grants(UNKNOWN_TWIN), vec![]);
		assert_eq!(Access::role_permissions(UNKNOWN_TWIN, Role::Owner), None);
	});
}

#[test]
fn twins_have_separate_access_control() {
	new_twin_ext().execute_with(|| {
		const OTHER_TWIN: u32 = 3;
		<Access as Authorize<u64>>::twin_created(OTHER_TWIN, &MAINTAINER);
		assert!(allowed(OWNER, Action::ManageAccess));
		assert_eq!(
			authorize(OTHER_TWIN, OWNER, Action::AddDocument),
			Err(AccessDenied::NotPermitted)
		);
		assert_eq!(authorize(OTHER_TWIN, MAINTAINER, Action::ManageAccess), Ok(()));
		assert!(!allowed(MAINTAINER, Action::AddDocument));
		assert_noop!(
			Access::grant_role(signed(OWNER), OTHER_TWIN, account(AUDITOR), Role::Auditor),
			Error::<Test>::NotAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn an_organisation_grant_reaches_every_member_of_the_organisation() {
	new_twin_ext().execute_with(|| {
		grant(organisation(MANUFACTURER_ORG), Role::Manufacturer);
		for who in [MANUFACTURER, MANUFACTURER_COLLEAGUE] {
			assert_eq!(Access::roles_of(TWIN, &who), vec![Role::Manufacturer]);
			assert!(allowed(who, Action::Read(Confidential)));
			assert!(allowed(who, Action::AnnotateDocument));
		}
		// A member who joins later holds it too; one who leaves loses it.
		join_consortium(42, MANUFACTURER_ORG);
		assert!(allowed(42, Action::Read(Confidential)));
		leave_consortium(MANUFACTURER_COLLEAGUE);
		assert_eq!(Access::roles_of(TWIN, &MANUFACTURER_COLLEAGUE), vec![]);
		assert!(!allowed(MANUFACTURER_COLLEAGUE, Action::Read(Public)));
		// Other organisations do not.
		assert!(!allowed(AUDITOR, Action::Read(Internal)));
	});
}

#[test]
fn roles_of_an_account_and_of_its_organisation_add_up() {
	new_twin_ext().execute_with(|| {
		grant(organisation(OWNER_ORG), Role::Auditor);
		grant(account(DEVICE), Role::Device);
		assert_eq!(Access::roles_of(TWIN, &DEVICE), vec![Role::Auditor, Role::Device]);
		assert!(allowed(DEVICE, Action::AppendToFeed));
		assert!(allowed(DEVICE, Action::AnnotateDocument));
		assert_eq!(Access::roles_of(TWIN, &OWNER), vec![Role::Owner, Role::Auditor]);
		assert_eq!(clearance(TWIN, OWNER_COLLEAGUE), Some(Confidential));
	});
}

#[test]
fn an_account_that_left_the_consortium_loses_its_roles() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		leave_consortium(MAINTAINER);
		assert_eq!(Access::roles_of(TWIN, &MAINTAINER), vec![]);
		assert_eq!(clearance(TWIN, MAINTAINER), None);
		assert!(!allowed(MAINTAINER, Action::AddDocument));
		// The grant itself stays until revoked.
		assert_eq!(granted(account(MAINTAINER)), Some(roles(&[Role::Maintainer])));
	});
}

#[test]
fn a_scoped_write_covers_its_subtree_only() {
	new_twin_ext().execute_with(|| {
		let scope = element("line-1");
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Maintainer,
			permissions(&[Permission::WriteSpecification(Some(scope.clone()))])
		));
		grant(account(MAINTAINER), Role::Maintainer);
		let write_at = |who: u64, at: &str| {
			let (at, ancestors) = (element(at), ancestors_of(at));
			allowed(who, Action::WriteSpecification { element: &at, ancestors: &ancestors })
		};
		for inside in ["line-1", "filler", "fill-sensor", "capper"] {
			assert!(write_at(MAINTAINER, inside), "{inside}");
		}
		for outside in ["plant", "line-2", "unknown"] {
			assert!(!write_at(MAINTAINER, outside), "{outside}");
		}
		// The owner's unscoped permission covers everything.
		assert!(write_at(OWNER, "plant"));
	});
}

// --- grant_role ---

#[test]
fn an_access_manager_grants_a_role_to_an_account() {
	new_twin_ext().execute_with(|| {
		assert_ok!(Access::grant_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Maintainer));
		assert_eq!(granted(account(MAINTAINER)), Some(roles(&[Role::Maintainer])));
		assert_eq!(access().grant_count, 2);
		assert_eq!(access().holders_of(&Role::Maintainer), 1);
		assert_eq!(
			access_events(),
			vec![Event::RoleGranted {
				twin: TWIN,
				grantee: account(MAINTAINER),
				role: Role::Maintainer,
				by: OWNER
			}]
		);
		// A second role for the same grantee adds no grantee.
		assert_ok!(Access::grant_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Auditor));
		assert_eq!(granted(account(MAINTAINER)), Some(roles(&[Role::Maintainer, Role::Auditor])));
		assert_eq!(access().grant_count, 2);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn an_access_manager_grants_a_role_to_an_organisation() {
	new_twin_ext().execute_with(|| {
		assert_ok!(Access::grant_role(
			signed(OWNER),
			TWIN,
			organisation(INSURER_ORG),
			Role::Auditor
		));
		assert_eq!(granted(organisation(INSURER_ORG)), Some(roles(&[Role::Auditor])));
		assert_eq!(
			access_events(),
			vec![Event::RoleGranted {
				twin: TWIN,
				grantee: organisation(INSURER_ORG),
				role: Role::Auditor,
				by: OWNER
			}]
		);
		assert_eq!(
			Access::grants(TWIN),
			vec![
				(account(OWNER), vec![Role::Owner]),
				(organisation(INSURER_ORG), vec![Role::Auditor])
			]
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn only_access_managers_grant_roles() {
	new_twin_ext().execute_with(|| {
		grant_lifecycle_roles();
		for who in [MAINTAINER, MANUFACTURER, OWNER_COLLEAGUE, OUTSIDER] {
			assert_noop!(
				Access::grant_role(signed(who), TWIN, account(who), Role::Owner),
				Error::<Test>::NotAccessManager
			);
		}
		assert_noop!(
			Access::grant_role(RuntimeOrigin::none(), TWIN, account(AUDITOR), Role::Owner),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Access::grant_role(signed(OWNER), UNKNOWN_TWIN, account(AUDITOR), Role::Auditor),
			Error::<Test>::UnknownTwin
		);
	});
}

#[test]
fn granting_checks_the_role_and_the_grantee() {
	new_twin_ext().execute_with(|| {
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(AUDITOR), Role::Custom(0)),
			Error::<Test>::UnknownRole
		);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, organisation(UNKNOWN_ORG), Role::Auditor),
			Error::<Test>::UnknownOrganisation
		);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(OUTSIDER), Role::Auditor),
			Error::<Test>::NotAConsortiumMember
		);
		grant(account(AUDITOR), Role::Auditor);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(AUDITOR), Role::Auditor),
			Error::<Test>::RoleAlreadyGranted
		);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(OWNER), Role::Owner),
			Error::<Test>::RoleAlreadyGranted
		);
	});
}

#[test]
fn grants_are_bounded() {
	new_twin_ext().execute_with(|| {
		// MAX_ROLES_PER_GRANTEE roles for one grantee.
		grant(account(AUDITOR), Role::Auditor);
		grant(account(AUDITOR), Role::Manufacturer);
		grant(account(AUDITOR), Role::Device);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(AUDITOR), Role::Maintainer),
			Error::<Test>::TooManyRoles
		);
		// MAX_GRANTS grantees: the owner, the auditor and six more.
		for id in 100..106 {
			join_consortium(id, INSURER_ORG);
			grant(account(id), Role::Auditor);
		}
		assert_eq!(access().grant_count, MAX_GRANTS);
		join_consortium(106, INSURER_ORG);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(106), Role::Auditor),
			Error::<Test>::TooManyGrants
		);
		// An existing grantee can still get another role.
		grant(account(100), Role::Device);
		Access::do_try_state().unwrap();
	});
}

// --- revoke_role ---

#[test]
fn an_access_manager_revokes_a_role() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		grant(account(MAINTAINER), Role::Auditor);
		System::reset_events();
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Maintainer));
		assert_eq!(granted(account(MAINTAINER)), Some(roles(&[Role::Auditor])));
		assert_eq!(access().holders_of(&Role::Maintainer), 0);
		assert_eq!(access().grant_count, 2);
		assert!(!allowed(MAINTAINER, Action::AddDocument));
		assert_eq!(
			access_events(),
			vec![Event::RoleRevoked {
				twin: TWIN,
				grantee: account(MAINTAINER),
				role: Role::Maintainer,
				by: OWNER
			}]
		);
		// Revoking the last role removes the grantee.
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Auditor));
		assert_eq!(granted(account(MAINTAINER)), None);
		assert_eq!(access().grant_count, 1);
		assert_eq!(Access::roles_of(TWIN, &MAINTAINER), vec![]);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn revoking_needs_a_granted_role_and_an_access_manager() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		assert_noop!(
			Access::revoke_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Auditor),
			Error::<Test>::RoleNotGranted
		);
		assert_noop!(
			Access::revoke_role(signed(OWNER), TWIN, account(AUDITOR), Role::Auditor),
			Error::<Test>::RoleNotGranted
		);
		assert_noop!(
			Access::revoke_role(
				signed(OWNER),
				TWIN,
				organisation(MAINTAINER_ORG),
				Role::Maintainer
			),
			Error::<Test>::RoleNotGranted
		);
		for who in [MAINTAINER, OUTSIDER] {
			assert_noop!(
				Access::revoke_role(signed(who), TWIN, account(MAINTAINER), Role::Maintainer),
				Error::<Test>::NotAccessManager
			);
		}
		assert_noop!(
			Access::revoke_role(signed(OWNER), UNKNOWN_TWIN, account(OWNER), Role::Owner),
			Error::<Test>::UnknownTwin
		);
	});
}

#[test]
fn the_last_access_manager_cannot_be_revoked() {
	new_twin_ext().execute_with(|| {
		assert_noop!(
			Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner),
			Error::<Test>::LastAccessManager
		);
		// With a second owner, the first can step down; then the second is the last.
		grant(account(OWNER_COLLEAGUE), Role::Owner);
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner));
		assert!(!allowed(OWNER, Action::ManageAccess));
		assert_noop!(
			Access::revoke_role(
				signed(OWNER_COLLEAGUE),
				TWIN,
				account(OWNER_COLLEAGUE),
				Role::Owner
			),
			Error::<Test>::LastAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn an_organisation_holding_the_only_manager_role_is_the_last_access_manager() {
	new_twin_ext().execute_with(|| {
		grant(organisation(OWNER_ORG), Role::Owner);
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner));
		// The owner still manages access through its organisation.
		assert!(allowed(OWNER, Action::ManageAccess));
		assert!(allowed(OWNER_COLLEAGUE, Action::ManageAccess));
		assert_noop!(
			Access::revoke_role(
				signed(OWNER_COLLEAGUE),
				TWIN,
				organisation(OWNER_ORG),
				Role::Owner
			),
			Error::<Test>::LastAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn a_grantee_counts_once_for_every_manager_role_it_holds() {
	new_twin_ext().execute_with(|| {
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[Permission::ManageAccess])
		));
		grant(account(OWNER), Role::Custom(0));
		// The owner still manages access with its custom role.
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner));
		assert_noop!(
			Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Custom(0)),
			Error::<Test>::LastAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

// --- set_role_permissions ---

#[test]
fn an_access_manager_replaces_the_permissions_of_a_role() {
	new_twin_ext().execute_with(|| {
		grant(account(AUDITOR), Role::Auditor);
		System::reset_events();
		let unsorted = permissions(&[
			Permission::AddDocuments,
			Permission::Read(Secret),
			Permission::AddDocuments,
			Permission::Read(Internal),
		]);
		assert_ok!(Access::set_role_permissions(signed(OWNER), TWIN, Role::Auditor, unsorted));
		let stored = permissions(&[
			Permission::Read(Internal),
			Permission::Read(Secret),
			Permission::AddDocuments,
		]);
		assert_eq!(RolePermissions::<Test>::get(TWIN, Role::Auditor), Some(stored.clone()));
		assert_eq!(
			access_events(),
			vec![Event::RolePermissionsSet {
				twin: TWIN,
				role: Role::Auditor,
				permissions: stored,
				by: OWNER
			}]
		);
		assert!(allowed(AUDITOR, Action::AddDocument));
		assert!(!allowed(AUDITOR, Action::AnnotateDocument));
		assert_eq!(clearance(TWIN, AUDITOR), Some(Secret));
		// An empty set is allowed: the role then permits nothing.
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Auditor,
			permissions(&[])
		));
		assert_eq!(clearance(TWIN, AUDITOR), None);
		assert!(!allowed(AUDITOR, Action::AddDocument));
		Access::do_try_state().unwrap();
	});
}

#[test]
fn giving_a_role_manage_access_makes_its_holders_access_managers() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		let mut maintainer = default_permissions(Role::Maintainer);
		maintainer.push(Permission::ManageAccess);
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Maintainer,
			maintainer.try_into().unwrap()
		));
		assert!(access().manager_roles.contains(&Role::Maintainer));
		assert_ok!(Access::grant_role(signed(MAINTAINER), TWIN, account(AUDITOR), Role::Auditor));
		// Now the owner's role may lose it: the maintainer still manages access.
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Owner,
			permissions(&[Permission::Read(Secret)])
		));
		assert!(!access().manager_roles.contains(&Role::Owner));
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(DEVICE), Role::Device),
			Error::<Test>::NotAccessManager
		);
		assert_noop!(
			Access::set_role_permissions(
				signed(MAINTAINER),
				TWIN,
				Role::Maintainer,
				permissions(&[Permission::Read(Secret)])
			),
			Error::<Test>::LastAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn manage_access_cannot_be_taken_from_the_last_manager_role_held() {
	new_twin_ext().execute_with(|| {
		let without_manage_access = || {
			let mut owner = default_permissions(Role::Owner);
			owner.retain(|p| *p != Permission::ManageAccess);
			PermissionsOf::<Test>::try_from(owner).unwrap()
		};
		assert_noop!(
			Access::set_role_permissions(signed(OWNER), TWIN, Role::Owner, without_manage_access()),
			Error::<Test>::LastAccessManager
		);
		// A manager role that nobody holds does not help.
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Auditor,
			permissions(&[Permission::ManageAccess])
		));
		assert_noop!(
			Access::set_role_permissions(signed(OWNER), TWIN, Role::Owner, without_manage_access()),
			Error::<Test>::LastAccessManager
		);
		// Keeping ManageAccess in the set is fine.
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Owner,
			permissions(&[Permission::ManageAccess])
		));
		Access::do_try_state().unwrap();
	});
}

#[test]
fn setting_permissions_needs_a_defined_role_and_an_access_manager() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		let read = || permissions(&[Permission::Read(Public)]);
		assert_noop!(
			Access::set_role_permissions(signed(OWNER), TWIN, Role::Custom(0), read()),
			Error::<Test>::UnknownRole
		);
		for who in [MAINTAINER, OUTSIDER] {
			assert_noop!(
				Access::set_role_permissions(signed(who), TWIN, Role::Maintainer, read()),
				Error::<Test>::NotAccessManager
			);
		}
		assert_noop!(
			Access::set_role_permissions(signed(OWNER), UNKNOWN_TWIN, Role::Owner, read()),
			Error::<Test>::UnknownTwin
		);
	});
}

// --- custom roles ---

#[test]
fn an_access_manager_creates_a_custom_role() {
	new_twin_ext().execute_with(|| {
		let inspector = permissions(&[
			Permission::CallPrograms(Some(program("clean"))),
			Permission::Read(Secret),
		]);
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name("Prüfer".as_bytes()),
			inspector
		));
		let role = Role::Custom(0);
		assert_eq!(CustomRoleNames::<Test>::get(TWIN, 0), Some(name("Prüfer".as_bytes())));
		assert_eq!(CustomRolesByName::<Test>::get(TWIN, name("Prüfer".as_bytes())), Some(0));
		assert_eq!(
			Access::role_permissions(TWIN, role),
			Some(vec![Permission::Read(Secret), Permission::CallPrograms(Some(program("clean")))])
		);
		assert_eq!((access().custom_role_count, access().next_custom_role), (1, 1));
		assert!(!access().manager_roles.contains(&role));
		assert_eq!(Access::custom_roles(TWIN), vec![(0, "Prüfer".as_bytes().to_vec())]);
		assert_eq!(
			access_events(),
			vec![Event::CustomRoleCreated {
				twin: TWIN,
				role: 0,
				name: name("Prüfer".as_bytes()),
				by: OWNER
			}]
		);
		// Its holders may do what it allows, and nothing else.
		grant(account(AUDITOR), role);
		assert!(allowed(AUDITOR, Action::Read(Secret)));
		assert!(allowed(AUDITOR, Action::CallProgram(b"clean")));
		assert!(!allowed(AUDITOR, Action::CallProgram(b"stop")));
		assert!(!allowed(AUDITOR, Action::AnnotateDocument));
		// A second custom role gets the next id.
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[Permission::ManageAccess])
		));
		assert!(access().manager_roles.contains(&Role::Custom(1)));
		Access::do_try_state().unwrap();
	});
}

#[test]
fn custom_role_names_are_checked() {
	new_twin_ext().execute_with(|| {
		let none = || permissions(&[]);
		assert_noop!(
			Access::create_custom_role(signed(OWNER), TWIN, name(b""), none()),
			Error::<Test>::EmptyRoleName
		);
		assert_noop!(
			Access::create_custom_role(signed(OWNER), TWIN, name(b"\xff\xfe"), none()),
			Error::<Test>::RoleNameNotUtf8
		);
		assert_ok!(Access::create_custom_role(signed(OWNER), TWIN, name(b"inspector"), none()));
		assert_noop!(
			Access::create_custom_role(signed(OWNER), TWIN, name(b"inspector"), none()),
			Error::<Test>::RoleNameTaken
		);
		// The same name on another twin is fine.
		<Access as Authorize<u64>>::twin_created(3, &OWNER);
		assert_ok!(Access::create_custom_role(signed(OWNER), 3, name(b"inspector"), none()));
	});
}

#[test]
fn creating_custom_roles_needs_an_access_manager_and_room() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		let none = || permissions(&[]);
		for who in [MAINTAINER, OUTSIDER] {
			assert_noop!(
				Access::create_custom_role(signed(who), TWIN, name(b"inspector"), none()),
				Error::<Test>::NotAccessManager
			);
		}
		assert_noop!(
			Access::create_custom_role(signed(OWNER), UNKNOWN_TWIN, name(b"inspector"), none()),
			Error::<Test>::UnknownTwin
		);
		for role in [&b"one"[..], b"two", b"three"] {
			assert_ok!(Access::create_custom_role(signed(OWNER), TWIN, name(role), none()));
		}
		assert_noop!(
			Access::create_custom_role(signed(OWNER), TWIN, name(b"four"), none()),
			Error::<Test>::TooManyCustomRoles
		);
		// Removing one makes room again; ids are not reused.
		assert_ok!(Access::remove_custom_role(signed(OWNER), TWIN, 1));
		assert_ok!(Access::create_custom_role(signed(OWNER), TWIN, name(b"four"), none()));
		assert_eq!(
			Access::custom_roles(TWIN),
			vec![(0, b"one".to_vec()), (2, b"three".to_vec()), (3, b"four".to_vec())]
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn an_access_manager_removes_a_custom_role_nobody_holds() {
	new_twin_ext().execute_with(|| {
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[Permission::ManageAccess])
		));
		grant(account(MAINTAINER), Role::Custom(0));
		assert_noop!(
			Access::remove_custom_role(signed(OWNER), TWIN, 0),
			Error::<Test>::RoleStillGranted
		);
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Custom(0)));
		System::reset_events();
		assert_ok!(Access::remove_custom_role(signed(OWNER), TWIN, 0));
		assert_eq!(CustomRoleNames::<Test>::get(TWIN, 0), None);
		assert_eq!(CustomRolesByName::<Test>::get(TWIN, name(b"access-admin")), None);
		assert_eq!(RolePermissions::<Test>::get(TWIN, Role::Custom(0)), None);
		assert_eq!(access().custom_role_count, 0);
		assert!(!access().manager_roles.contains(&Role::Custom(0)));
		assert_eq!(
			access_events(),
			vec![Event::CustomRoleRemoved { twin: TWIN, role: 0, by: OWNER }]
		);
		// The role is gone: it can be neither granted nor changed, and its name is free.
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Custom(0)),
			Error::<Test>::UnknownRole
		);
		assert_noop!(
			Access::set_role_permissions(signed(OWNER), TWIN, Role::Custom(0), permissions(&[])),
			Error::<Test>::UnknownRole
		);
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[])
		));
		assert_eq!(CustomRolesByName::<Test>::get(TWIN, name(b"access-admin")), Some(1));
		Access::do_try_state().unwrap();
	});
}

#[test]
fn removing_a_custom_role_needs_a_known_role_and_an_access_manager() {
	new_twin_ext().execute_with(|| {
		assert_noop!(
			Access::remove_custom_role(signed(OWNER), TWIN, 0),
			Error::<Test>::UnknownRole
		);
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"inspector"),
			permissions(&[])
		));
		grant(account(MAINTAINER), Role::Maintainer);
		for who in [MAINTAINER, OUTSIDER] {
			assert_noop!(
				Access::remove_custom_role(signed(who), TWIN, 0),
				Error::<Test>::NotAccessManager
			);
		}
		assert_noop!(
			Access::remove_custom_role(signed(OWNER), UNKNOWN_TWIN, 0),
			Error::<Test>::UnknownTwin
		);
		// Held through an organisation counts as held.
		grant(organisation(AUDITOR_ORG), Role::Custom(0));
		assert_noop!(
			Access::remove_custom_role(signed(OWNER), TWIN, 0),
			Error::<Test>::RoleStillGranted
		);
	});
}

#[test]
fn a_custom_manager_role_protects_against_lockout_like_the_owner_role() {
	new_twin_ext().execute_with(|| {
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[Permission::ManageAccess, Permission::Read(Internal)])
		));
		grant(account(AUDITOR), Role::Custom(0));
		assert_ok!(Access::revoke_role(signed(AUDITOR), TWIN, account(OWNER), Role::Owner));
		assert_eq!(Access::roles_of(TWIN, &OWNER), vec![]);
		assert_noop!(
			Access::set_role_permissions(
				signed(AUDITOR),
				TWIN,
				Role::Custom(0),
				permissions(&[Permission::Read(Internal)])
			),
			Error::<Test>::LastAccessManager
		);
		assert_noop!(
			Access::revoke_role(signed(AUDITOR), TWIN, account(AUDITOR), Role::Custom(0)),
			Error::<Test>::LastAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn failed_calls_change_nothing_even_outside_assert_noop() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		let before = (
			ManagedTwins::<Test>::get(TWIN),
			Access::grants(TWIN),
			RolePermissions::<Test>::iter_prefix(TWIN).collect::<Vec<_>>().len(),
		);
		let result = Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner);
		assert_eq!(result, Err(Error::<Test>::LastAccessManager.into()));
		let after = (
			ManagedTwins::<Test>::get(TWIN),
			Access::grants(TWIN),
			RolePermissions::<Test>::iter_prefix(TWIN).collect::<Vec<_>>().len(),
		);
		assert_eq!(before, after);
	});
}

#[test]
fn calls_with_too_long_names_or_permission_sets_do_not_decode() {
	use codec::{Decode, Encode};
	// Access is the pallet at index 1; create_custom_role is call 3.
	let call =
		|name: Vec<u8>, permissions: Vec<Permission>| (1u8, 3u8, TWIN, name, permissions).encode();
	let fits = call(vec![b'x'; MAX_ROLE_NAME as usize], vec![Permission::AddDocuments]);
	assert!(RuntimeCall::decode(&mut &fits[..]).is_ok());
	let long_name = call(vec![b'x'; MAX_ROLE_NAME as usize + 1], vec![]);
	assert!(RuntimeCall::decode(&mut &long_name[..]).is_err());
	let many = (0..=MAX_PERMISSIONS as u8)
		.map(|i| Permission::CallPrograms(Some(program(&format!("p{i}")))))
		.collect();
	let too_many = call(b"x".to_vec(), many);
	assert!(RuntimeCall::decode(&mut &too_many[..]).is_err());
}

// --- Revocation by leaving is final ---

#[test]
fn a_member_added_again_gets_none_of_its_former_roles() {
	new_twin_ext().execute_with(|| {
		// The maintainer's account was an owner of the twin, then left the consortium.
		grant(account(MAINTAINER), Role::Owner);
		leave_consortium(MAINTAINER);
		// Any organisation's admin adds the same account later, here the insurer's.
		join_consortium(MAINTAINER, INSURER_ORG);
		assert_eq!(Access::roles_of(TWIN, &MAINTAINER), vec![]);
		assert!(!allowed(MAINTAINER, Action::ManageAccess));
		assert!(!allowed(
			MAINTAINER,
			Action::WriteSpecification { element: &element("plant"), ancestors: &[] }
		));
		assert_eq!(clearance(TWIN, MAINTAINER), None);
		assert_noop!(
			Access::grant_role(signed(MAINTAINER), TWIN, account(MAINTAINER), Role::Auditor),
			Error::<Test>::NotAccessManager
		);
		// The runtime API shows the dead grant as nobody's.
		assert_eq!(Access::grants(TWIN), vec![(account(OWNER), vec![Role::Owner])]);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn grants_of_a_removed_organisation_stay_dead() {
	new_twin_ext().execute_with(|| {
		grant(organisation(MAINTAINER_ORG), Role::Maintainer);
		remove_organisation(MAINTAINER_ORG);
		assert_eq!(Access::grants(TWIN), vec![(account(OWNER), vec![Role::Owner])]);
		// Its accounts joining another organisation get nothing from it.
		join_consortium(MAINTAINER, INSURER_ORG);
		assert_eq!(Access::roles_of(TWIN, &MAINTAINER), vec![]);
		assert_noop!(
			Access::grant_role(signed(OWNER), TWIN, organisation(MAINTAINER_ORG), Role::Auditor),
			Error::<Test>::UnknownOrganisation
		);
	});
}

#[test]
fn granting_to_an_account_with_a_dead_grant_replaces_it() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Owner);
		grant(account(MAINTAINER), Role::Maintainer);
		leave_consortium(MAINTAINER);
		join_consortium(MAINTAINER, MAINTAINER_ORG);
		grant(account(MAINTAINER), Role::Auditor);
		assert_eq!(granted(account(MAINTAINER)), Some(roles(&[Role::Auditor])));
		assert_eq!(Access::roles_of(TWIN, &MAINTAINER), vec![Role::Auditor]);
		let access = access();
		assert_eq!(access.grant_count, 2);
		assert_eq!(access.holders_of(&Role::Owner), 1);
		assert_eq!(access.holders_of(&Role::Maintainer), 0);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn an_access_manager_revokes_a_dead_grant_to_free_its_slot() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		leave_consortium(MAINTAINER);
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(MAINTAINER), Role::Maintainer));
		assert_eq!(granted(account(MAINTAINER)), None);
		assert_eq!(access().grant_count, 1);
		Access::do_try_state().unwrap();
	});
}

// --- No lockout counts only managers that can act ---

#[test]
fn a_departed_manager_does_not_keep_a_twin_from_lockout() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Owner);
		leave_consortium(MAINTAINER);
		// The departed account still holds Owner in storage, but cannot act: the owner is
		// the last manager that can.
		assert_noop!(
			Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner),
			Error::<Test>::LastAccessManager
		);
		// Nor can ManageAccess be taken from Owner while only a departed account holds
		// another manager role.
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[Permission::ManageAccess])
		));
		grant(account(AUDITOR), Role::Custom(0));
		leave_consortium(AUDITOR);
		let mut owner_permissions = default_permissions(Role::Owner);
		owner_permissions.retain(|permission| *permission != Permission::ManageAccess);
		assert_noop!(
			Access::set_role_permissions(
				signed(OWNER),
				TWIN,
				Role::Owner,
				permissions(&owner_permissions)
			),
			Error::<Test>::LastAccessManager
		);
		Access::do_try_state().unwrap();
	});
}

#[test]
fn a_manager_steps_down_when_a_live_one_remains() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Owner);
		grant(organisation(MANUFACTURER_ORG), Role::Owner);
		leave_consortium(MAINTAINER);
		assert_ok!(Access::revoke_role(signed(OWNER), TWIN, account(OWNER), Role::Owner));
		assert!(!allowed(OWNER, Action::ManageAccess));
		assert!(allowed(MANUFACTURER_COLLEAGUE, Action::ManageAccess));
		Access::do_try_state().unwrap();
	});
}

fn can_appoint(twin: u32, who: u64) -> Result<(), AppointmentRefused> {
	<Access as AccessManagerAppointment<u64>>::can_appoint(twin, &who)
}

fn appoint(who: u64) -> Result<Role, AppointmentRefused> {
	<Access as AccessManagerAppointment<u64>>::appoint(TWIN, &who)
}

#[test]
fn the_consortium_appoints_a_manager_only_to_a_twin_without_one() {
	new_twin_ext().execute_with(|| {
		grant(account(MAINTAINER), Role::Maintainer);
		assert_eq!(can_appoint(TWIN, AUDITOR), Err(AppointmentRefused::TwinStillManaged));
		assert_eq!(appoint(AUDITOR), Err(AppointmentRefused::TwinStillManaged));
		// The twin's only manager leaves the consortium: nobody can manage the twin.
		leave_consortium(OWNER);
		assert!(Access::grants(TWIN).iter().all(|(_, roles)| !roles.contains(&Role::Owner)));
		assert_eq!(can_appoint(UNKNOWN_TWIN, AUDITOR), Err(AppointmentRefused::UnknownTwin));
		assert_eq!(can_appoint(TWIN, OUTSIDER), Err(AppointmentRefused::NotAConsortiumMember));
		assert_eq!(can_appoint(TWIN, AUDITOR), Ok(()));
		assert_eq!(appoint(AUDITOR), Ok(Role::Owner));
		assert!(allowed(AUDITOR, Action::ManageAccess));
		assert!(access_events().contains(&Event::AccessManagerAppointed {
			twin: TWIN,
			manager: AUDITOR,
			role: Role::Owner
		}));
		assert_eq!(can_appoint(TWIN, MAINTAINER), Err(AppointmentRefused::TwinStillManaged));
		// The appointee manages the twin like any owner, dead grants included.
		assert_ok!(Access::revoke_role(signed(AUDITOR), TWIN, account(OWNER), Role::Owner));
		Access::do_try_state().unwrap();
	});
}

#[test]
fn an_appointee_gets_a_manager_role_when_owner_lost_manage_access() {
	new_twin_ext().execute_with(|| {
		assert_ok!(Access::create_custom_role(
			signed(OWNER),
			TWIN,
			name(b"access-admin"),
			permissions(&[Permission::ManageAccess])
		));
		grant(account(MAINTAINER), Role::Custom(0));
		let mut owner_permissions = default_permissions(Role::Owner);
		owner_permissions.retain(|permission| *permission != Permission::ManageAccess);
		assert_ok!(Access::set_role_permissions(
			signed(OWNER),
			TWIN,
			Role::Owner,
			permissions(&owner_permissions)
		));
		leave_consortium(MAINTAINER);
		assert_eq!(appoint(AUDITOR), Ok(Role::Custom(0)));
		assert!(allowed(AUDITOR, Action::ManageAccess));
		Access::do_try_state().unwrap();
	});
}
