//! Tests of the documents pallet against the real access pallet.

use crate::{
	mock::{Documents, *},
	*,
};
use dt_primitives::{
	access::{Confidentiality, Permission, Role},
	content_id::{ContentId, ContentIdError},
};
use frame_support::{assert_noop, assert_ok, BoundedVec};

type Title = BoundedVec<u8, frame_support::traits::ConstU32<MAX_TITLE_LENGTH>>;
type MediaType = BoundedVec<u8, frame_support::traits::ConstU32<MAX_MEDIA_TYPE_LENGTH>>;

fn title(text: &str) -> Title {
	bounded(text)
}

fn media(text: &str) -> MediaType {
	bounded(text)
}

fn register_as(
	who: u64,
	twin: TwinId,
	level: Confidentiality,
	element: Option<&str>,
) -> Result<DocumentId, sp_runtime::DispatchError> {
	let document = NextDocumentId::<Test>::get();
	Documents::register_document(
		RuntimeOrigin::signed(who),
		twin,
		title("Operating manual"),
		media("application/pdf"),
		1024,
		cid(1),
		cid(2),
		level,
		element.map(id),
	)
	.map(|_| document)
}

/// An internal document of [`TWIN`] registered by [`OWNER`].
fn register() -> DocumentId {
	register_as(OWNER, TWIN, Confidentiality::Internal, None).expect("the owner registers")
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event was deposited").event
}

fn rejected(reason: ContentIdError) -> Error<Test> {
	Error::<Test>::InvalidContentId(ContentIdRejection(reason))
}

#[test]
fn register_document_stores_the_document_and_its_first_version() {
	new_test_ext().execute_with(|| {
		System::set_block_number(5);
		let document =
			register_as(MAINTAINER, TWIN, Confidentiality::Confidential, Some("motor")).unwrap();
		assert_eq!(document, 0);
		assert_eq!(NextDocumentId::<Test>::get(), 1);
		let stored = crate::Documents::<Test>::get(document).unwrap();
		assert_eq!(stored.twin, TWIN);
		assert_eq!(stored.title.to_vec(), b"Operating manual".to_vec());
		assert_eq!(stored.media_type.to_vec(), b"application/pdf".to_vec());
		assert_eq!(stored.confidentiality, Confidentiality::Confidential);
		assert_eq!(stored.element, Some(id("motor")));
		assert_eq!(stored.registered_by, MAINTAINER);
		assert_eq!(stored.registered_at, 5);
		assert_eq!(stored.retired, None);
		assert_eq!(stored.version_count, 1);
		let version = Versions::<Test>::get(document, 0).unwrap();
		assert_eq!(version.content_id, cid(1));
		assert_eq!(version.key_envelope, cid(2));
		assert_eq!((version.size, version.author, version.added_at), (1024, MAINTAINER, 5));
		assert!(TwinDocuments::<Test>::contains_key(TWIN, document));
		assert_eq!(TwinDocumentCount::<Test>::get(TWIN), 1);
		assert_eq!(
			last_event(),
			Event::DocumentRegistered {
				twin: TWIN,
				document,
				confidentiality: Confidentiality::Confidential,
				author: MAINTAINER
			}
			.into()
		);
		// Ids run on across twins and are never reused.
		assert_eq!(register_as(OWNER, OTHER_TWIN, Confidentiality::Public, None), Ok(1));
	});
}

#[test]
fn add_version_appends_the_next_version() {
	new_test_ext().execute_with(|| {
		let document = register();
		System::set_block_number(9);
		assert_ok!(Documents::add_version(
			RuntimeOrigin::signed(MAINTAINER),
			document,
			2048,
			cid(3),
			cid(4)
		));
		assert_eq!(crate::Documents::<Test>::get(document).unwrap().version_count, 2);
		let version = Versions::<Test>::get(document, 1).unwrap();
		assert_eq!(
			version,
			Version {
				content_id: cid(3),
				key_envelope: cid(4),
				size: 2048,
				author: MAINTAINER,
				added_at: 9,
				annotation_count: 0
			}
		);
		// The first version is untouched.
		assert_eq!(Versions::<Test>::get(document, 0).unwrap().content_id, cid(1));
		assert_eq!(
			last_event(),
			Event::DocumentVersionAdded { twin: TWIN, document, version: 1, author: MAINTAINER }
				.into()
		);
	});
}

#[test]
fn annotate_records_the_annotation_on_the_version() {
	new_test_ext().execute_with(|| {
		let document = register();
		System::set_block_number(3);
		// An Auditor cannot add documents but can annotate them.
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), document, 0, cid(7)));
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(OWNER), document, 0, cid(8)));
		assert_eq!(Versions::<Test>::get(document, 0).unwrap().annotation_count, 2);
		assert_eq!(
			Annotations::<Test>::get((document, 0, 0)).unwrap(),
			Annotation { content_id: cid(7), author: AUDITOR, added_at: 3 }
		);
		assert_eq!(Annotations::<Test>::get((document, 0, 1)).unwrap().author, OWNER);
		assert_eq!(
			last_event(),
			Event::DocumentAnnotated {
				twin: TWIN,
				document,
				version: 0,
				annotation: 1,
				author: OWNER
			}
			.into()
		);
	});
}

#[test]
fn retire_document_marks_it_obsolete_and_keeps_its_history() {
	new_test_ext().execute_with(|| {
		let document = register();
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), document, 0, cid(7)));
		System::set_block_number(4);
		assert_ok!(Documents::retire_document(RuntimeOrigin::signed(MAINTAINER), document));
		let stored = crate::Documents::<Test>::get(document).unwrap();
		assert_eq!(stored.retired, Some((MAINTAINER, 4)));
		assert!(Versions::<Test>::contains_key(document, 0));
		assert!(Annotations::<Test>::contains_key((document, 0, 0)));
		assert!(TwinDocuments::<Test>::contains_key(TWIN, document));
		assert_eq!(
			last_event(),
			Event::DocumentRetired { twin: TWIN, document, author: MAINTAINER }.into()
		);
		// Its history can still be annotated.
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), document, 0, cid(8)));
		assert_noop!(
			Documents::retire_document(RuntimeOrigin::signed(OWNER), document),
			Error::<Test>::AlreadyRetired
		);
	});
}

#[test]
fn attach_to_element_moves_the_document() {
	new_test_ext().execute_with(|| {
		let document = register();
		assert_ok!(Documents::attach_to_element(
			RuntimeOrigin::signed(MAINTAINER),
			document,
			Some(id("spindle"))
		));
		assert_eq!(crate::Documents::<Test>::get(document).unwrap().element, Some(id("spindle")));
		assert_eq!(
			last_event(),
			Event::DocumentAttached {
				twin: TWIN,
				document,
				element: Some(id("spindle")),
				author: MAINTAINER
			}
			.into()
		);
		assert_ok!(Documents::attach_to_element(RuntimeOrigin::signed(OWNER), document, None));
		assert_eq!(crate::Documents::<Test>::get(document).unwrap().element, None);
	});
}

#[test]
fn reads_for_a_reader_leave_out_what_it_may_not_read() {
	new_test_ext().execute_with(|| {
		let public = register_as(OWNER, TWIN, Confidentiality::Public, Some("motor")).unwrap();
		let internal = register_as(OWNER, TWIN, Confidentiality::Internal, Some("motor")).unwrap();
		let secret = register_as(OWNER, TWIN, Confidentiality::Secret, Some("motor")).unwrap();
		let ids = |records: Vec<DocumentRecord<u64, u64>>| {
			records.into_iter().map(|record| record.id).collect::<Vec<_>>()
		};
		let visible = |reader| ids(Documents::documents_of_twin(TWIN, Some(&reader)));
		assert_eq!(visible(OWNER), vec![public, internal, secret]);
		// The device reads internal data, the auditor confidential: neither the secret one.
		assert_eq!(visible(DEVICE), vec![public, internal]);
		assert_eq!(visible(AUDITOR), vec![public, internal]);
		// A member without a role sees what is public; someone outside the consortium
		// nothing.
		assert_eq!(visible(BYSTANDER), vec![public]);
		assert!(visible(OUTSIDER).is_empty());
		assert_eq!(
			ids(Documents::documents_of_element(TWIN, &id("motor"), Some(&DEVICE))),
			vec![public, internal]
		);
		assert!(Documents::document_with_history(secret, Some(&AUDITOR)).is_none());
		assert!(Documents::document_with_history(secret, Some(&OWNER)).is_some());
		assert!(Documents::document_with_history(public, Some(&BYSTANDER)).is_some());
		assert!(Documents::document_with_history(public, Some(&OUTSIDER)).is_none());
		assert!(Documents::document_with_history(secret, None).is_some());
	});
}

#[test]
fn reads_list_documents_by_twin_and_element_with_history() {
	new_test_ext().execute_with(|| {
		let first = register_as(OWNER, TWIN, Confidentiality::Internal, Some("motor")).unwrap();
		let second = register();
		let elsewhere = register_as(OWNER, OTHER_TWIN, Confidentiality::Internal, Some("motor"));
		assert_ok!(elsewhere);
		assert_ok!(Documents::add_version(RuntimeOrigin::signed(OWNER), first, 10, cid(3), cid(4)));
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), first, 1, cid(9)));

		let ids = |records: Vec<DocumentRecord<u64, u64>>| {
			records.into_iter().map(|record| record.id).collect::<Vec<_>>()
		};
		assert_eq!(ids(Documents::documents_of_twin(TWIN, None)), vec![first, second]);
		assert_eq!(ids(Documents::documents_of_element(TWIN, &id("motor"), None)), vec![first]);
		assert!(Documents::documents_of_element(TWIN, &id("spindle"), None).is_empty());
		assert!(Documents::documents_of_twin(NO_TWIN, None).is_empty());

		let history = Documents::document_with_history(first, None).unwrap();
		assert_eq!(history.document.id, first);
		assert_eq!(history.document.version_count, 2);
		assert_eq!(history.versions.len(), 2);
		assert_eq!(history.versions[0].number, 0);
		assert!(history.versions[0].annotations.is_empty());
		assert_eq!(history.versions[1].version.content_id, cid(3));
		assert_eq!(history.versions[1].annotations[0].content_id, cid(9));
		assert_eq!(Documents::document_with_history(99, None), None);
	});
}

#[test]
fn roles_without_the_permission_are_refused() {
	new_test_ext().execute_with(|| {
		// An Auditor cannot add, version, retire or attach documents.
		assert_noop!(
			register_as(AUDITOR, TWIN, Confidentiality::Public, None),
			Error::<Test>::NotAuthorized
		);
		let document = register();
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(AUDITOR), document, 1, cid(3), cid(4)),
			Error::<Test>::NotAuthorized
		);
		assert_noop!(
			Documents::retire_document(RuntimeOrigin::signed(AUDITOR), document),
			Error::<Test>::NotAuthorized
		);
		assert_noop!(
			Documents::attach_to_element(RuntimeOrigin::signed(AUDITOR), document, None),
			Error::<Test>::NotAuthorized
		);
		// A Device cannot annotate.
		assert_noop!(
			Documents::annotate(RuntimeOrigin::signed(DEVICE), document, 0, cid(7)),
			Error::<Test>::NotAuthorized
		);
		// Parties without a role on the twin, or outside the consortium, can do nothing.
		for who in [BYSTANDER, OUTSIDER] {
			assert_noop!(
				register_as(who, TWIN, Confidentiality::Public, None),
				Error::<Test>::NotAuthorized
			);
			assert_noop!(
				Documents::annotate(RuntimeOrigin::signed(who), document, 0, cid(7)),
				Error::<Test>::NotAuthorized
			);
		}
		// Roles on one twin give nothing on another.
		assert_noop!(
			register_as(MAINTAINER, OTHER_TWIN, Confidentiality::Public, None),
			Error::<Test>::NotAuthorized
		);
	});
}

#[test]
fn writers_need_clearance_for_the_document_level() {
	new_test_ext().execute_with(|| {
		// Give the Device the document permissions; its clearance stays Internal.
		let permissions = vec![
			Permission::Read(Confidentiality::Internal),
			Permission::AddDocuments,
			Permission::VersionDocuments,
			Permission::AnnotateDocuments,
		];
		assert_ok!(Access::set_role_permissions(
			RuntimeOrigin::signed(OWNER),
			TWIN,
			Role::Device,
			permissions.try_into().unwrap()
		));
		assert_ok!(register_as(DEVICE, TWIN, Confidentiality::Internal, None));
		assert_noop!(
			register_as(DEVICE, TWIN, Confidentiality::Confidential, None),
			Error::<Test>::InsufficientClearance
		);
		let secret = register_as(OWNER, TWIN, Confidentiality::Secret, None).unwrap();
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(DEVICE), secret, 1, cid(3), cid(4)),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			Documents::annotate(RuntimeOrigin::signed(DEVICE), secret, 0, cid(7)),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			Documents::retire_document(RuntimeOrigin::signed(DEVICE), secret),
			Error::<Test>::InsufficientClearance
		);
		assert_noop!(
			Documents::attach_to_element(RuntimeOrigin::signed(DEVICE), secret, None),
			Error::<Test>::InsufficientClearance
		);
		// A Maintainer (Confidential clearance) cannot touch a secret document either.
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(MAINTAINER), secret, 1, cid(3), cid(4)),
			Error::<Test>::InsufficientClearance
		);
	});
}

/// Who may manage a document's readers off chain: a writer of its versions or an access
/// manager of its twin, cleared for its level; not a writer without the clearance, not a
/// reader, and nobody for a document that does not exist.
#[test]
fn managing_readers_needs_a_writer_cleared_for_the_document() {
	new_test_ext().execute_with(|| {
		let internal = register_as(OWNER, TWIN, Confidentiality::Internal, None).unwrap();
		let secret = register_as(OWNER, TWIN, Confidentiality::Secret, None).unwrap();
		assert!(Documents::may_manage_readers(internal, &OWNER));
		assert!(Documents::may_manage_readers(secret, &OWNER));
		assert!(Documents::may_manage_readers(internal, &MAINTAINER));
		// The Maintainer may add versions, but is cleared up to Confidential only.
		assert!(!Documents::may_manage_readers(secret, &MAINTAINER));
		assert!(!Documents::may_manage_readers(internal, &AUDITOR));
		assert!(!Documents::may_manage_readers(secret + 100, &OWNER));
	});
}

#[test]
fn unknown_twin_element_document_and_version_are_refused() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			register_as(OWNER, NO_TWIN, Confidentiality::Internal, None),
			Error::<Test>::UnknownTwin
		);
		assert_noop!(
			register_as(OWNER, TWIN, Confidentiality::Internal, Some("gearbox")),
			Error::<Test>::UnknownElement
		);
		let document = register();
		assert_noop!(
			Documents::attach_to_element(
				RuntimeOrigin::signed(OWNER),
				document,
				Some(id("gearbox"))
			),
			Error::<Test>::UnknownElement
		);
		let missing = document + 1;
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(OWNER), missing, 1, cid(3), cid(4)),
			Error::<Test>::UnknownDocument
		);
		assert_noop!(
			Documents::annotate(RuntimeOrigin::signed(OWNER), missing, 0, cid(7)),
			Error::<Test>::UnknownDocument
		);
		assert_noop!(
			Documents::retire_document(RuntimeOrigin::signed(OWNER), missing),
			Error::<Test>::UnknownDocument
		);
		assert_noop!(
			Documents::attach_to_element(RuntimeOrigin::signed(OWNER), missing, None),
			Error::<Test>::UnknownDocument
		);
		assert_noop!(
			Documents::annotate(RuntimeOrigin::signed(OWNER), document, 1, cid(7)),
			Error::<Test>::UnknownVersion
		);
	});
}

#[test]
fn malformed_content_ids_are_refused_with_the_reason() {
	new_test_ext().execute_with(|| {
		let mut cidv0 = cid(1).to_vec();
		cidv0.drain(..2);
		let cidv0 = ContentId::try_from(cidv0).unwrap();
		let mut trailing = cid(1).to_vec();
		trailing.push(0);
		let trailing = ContentId::try_from(trailing).unwrap();
		let empty = ContentId::default();
		let register_with = |content_id: ContentId, key_envelope: ContentId| {
			Documents::register_document(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				title("Manual"),
				media("application/pdf"),
				1,
				content_id,
				key_envelope,
				Confidentiality::Internal,
				None,
			)
		};
		assert_noop!(
			register_with(cidv0.clone(), cid(2)),
			rejected(ContentIdError::UnsupportedVersion)
		);
		assert_noop!(
			register_with(cid(1), trailing.clone()),
			rejected(ContentIdError::TrailingBytes)
		);
		let document = register();
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(OWNER), document, 1, empty, cid(4)),
			rejected(ContentIdError::MalformedVarint)
		);
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(OWNER), document, 1, cid(3), cidv0),
			rejected(ContentIdError::UnsupportedVersion)
		);
		assert_noop!(
			Documents::annotate(RuntimeOrigin::signed(OWNER), document, 0, trailing),
			rejected(ContentIdError::TrailingBytes)
		);
	});
}

#[test]
fn titles_and_media_types_are_checked() {
	new_test_ext().execute_with(|| {
		let register_with = |title: Title, media_type: MediaType| {
			Documents::register_document(
				RuntimeOrigin::signed(OWNER),
				TWIN,
				title,
				media_type,
				1,
				cid(1),
				cid(2),
				Confidentiality::Internal,
				None,
			)
		};
		assert_noop!(register_with(title(""), media("text/plain")), Error::<Test>::InvalidTitle);
		let not_utf8: Title = vec![0xff, 0xfe].try_into().unwrap();
		assert_noop!(register_with(not_utf8, media("text/plain")), Error::<Test>::InvalidTitle);
		for bad in ["", "text", "text/", "/plain", "text plain", "text/pl ain", "tëxt/plain"] {
			assert_noop!(
				register_with(title("Manual"), media(bad)),
				Error::<Test>::InvalidMediaType
			);
		}
		assert_ok!(register_with(title("Prüfbericht"), media("application/vnd.dt+json")));
	});
}

#[test]
fn retired_documents_refuse_versions_and_attachment() {
	new_test_ext().execute_with(|| {
		let document = register();
		assert_ok!(Documents::retire_document(RuntimeOrigin::signed(OWNER), document));
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(OWNER), document, 1, cid(3), cid(4)),
			Error::<Test>::DocumentRetired
		);
		assert_noop!(
			Documents::attach_to_element(RuntimeOrigin::signed(OWNER), document, None),
			Error::<Test>::DocumentRetired
		);
	});
}

#[test]
fn bounds_are_enforced() {
	new_test_ext().execute_with(|| {
		let document = register();
		for _ in 1..MAX_VERSIONS {
			assert_ok!(Documents::add_version(
				RuntimeOrigin::signed(OWNER),
				document,
				1,
				cid(3),
				cid(4)
			));
		}
		assert_noop!(
			Documents::add_version(RuntimeOrigin::signed(OWNER), document, 1, cid(3), cid(4)),
			Error::<Test>::TooManyVersions
		);
		for _ in 0..MAX_ANNOTATIONS {
			assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), document, 0, cid(7)));
		}
		assert_noop!(
			Documents::annotate(RuntimeOrigin::signed(AUDITOR), document, 0, cid(7)),
			Error::<Test>::TooManyAnnotations
		);
		// Other versions have their own annotation budget.
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), document, 1, cid(7)));
		for _ in 1..MAX_DOCUMENTS {
			register();
		}
		// Retired documents still count.
		assert_ok!(Documents::retire_document(RuntimeOrigin::signed(OWNER), document));
		assert_noop!(
			register_as(OWNER, TWIN, Confidentiality::Internal, None),
			Error::<Test>::TooManyDocuments
		);
		// The bound is per twin.
		assert_ok!(register_as(OWNER, OTHER_TWIN, Confidentiality::Internal, None));
	});
}

#[test]
fn media_type_validation() {
	assert!(pallet::media_type_is_valid(b"application/pdf"));
	assert!(pallet::media_type_is_valid(b"image/svg+xml"));
	assert!(!pallet::media_type_is_valid(b"application/pdf/x"));
	assert!(!pallet::media_type_is_valid(b"application"));
}

#[test]
fn migration_to_v1_recounts_documents_once_and_keeps_every_document() {
	use crate::migrations::v1;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		// A state with documents on two twins, versions, an annotation and a retired document.
		let manual = register();
		let report = register_as(MAINTAINER, TWIN, Confidentiality::Internal, Some("motor"))
			.expect("the maintainer registers");
		assert_ok!(Documents::add_version(
			RuntimeOrigin::signed(MAINTAINER),
			report,
			1,
			cid(3),
			cid(4)
		));
		assert_ok!(Documents::annotate(RuntimeOrigin::signed(AUDITOR), report, 1, cid(5)));
		assert_ok!(Documents::retire_document(RuntimeOrigin::signed(OWNER), manual));
		register_as(OWNER, OTHER_TWIN, Confidentiality::Public, None).expect("registers");
		// Counts drifted: one too high, one stale for a twin without documents.
		TwinDocumentCount::<Test>::insert(TWIN, 7);
		TwinDocumentCount::<Test>::insert(99, 1);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), 0);

		let before = v1::snapshot::<Test>();
		assert_eq!(before.documents.len(), 3);
		assert_eq!(before.versions.len(), 4);
		v1::MigrateToV1::<Test>::on_runtime_upgrade();
		v1::verify::<Test>(&before).expect("the state after the migration checks out");
		assert_eq!(TwinDocumentCount::<Test>::get(TWIN), 2);
		assert_eq!(TwinDocumentCount::<Test>::get(OTHER_TWIN), 1);
		assert!(!TwinDocumentCount::<Test>::contains_key(99));

		// Left in the runtime's list, it does not run again.
		TwinDocumentCount::<Test>::insert(TWIN, 5);
		v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(TwinDocumentCount::<Test>::get(TWIN), 5);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));
		assert_eq!(
			v1::verify::<Test>(&before),
			Err("a twin's document count differs from its documents")
		);
	});
}
