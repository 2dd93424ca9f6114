use crate::{mock::*, *};
use dt_primitives::{
	access::{Authorize, Confidentiality, Grantee, Permission, ProgramName, Role, TwinId},
	aml_fragment::{FragmentError, HeaderError},
	program::{DeclarationError, ParameterDeclaration, ParameterType, ProgramParameters},
};
use frame_support::{assert_noop, assert_ok, traits::ConstU32, BoundedVec};

/// CAEX 2.15: the InstanceHierarchy has no ID, so it is a structural element.
const PLANT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<CAEXFile FileName="plant.aml" SchemaVersion="2.15">
  <InstanceHierarchy Name="Plant">
    <Version>1</Version>
    <InternalElement Name="Filler" ID="filler">
      <Attribute Name="Speed" />
      <InternalElement Name="Sensor" ID="sensor-old">
        <Attribute Name="Level" />
        <ExternalInterface Name="Out" ID="sensor-old-out" />
      </InternalElement>
      <InternalElement Name="Valve" ID="valve" />
      <SupportedRoleClass RefRoleClassPath="Roles/Machine" />
    </InternalElement>
    <InternalElement Name="Labeler" ID="labeler">
      <Attribute Name="Rate" />
      <SupportedRoleClass RefRoleClassPath="Roles/Machine" />
    </InternalElement>
  </InstanceHierarchy>
</CAEXFile>
"#;

const HIERARCHY: &str = "/CAEXFile/InstanceHierarchy[Plant]";

type Fragment = BoundedVec<u8, ConstU32<MAX_FRAGMENT_LENGTH>>;

fn fragment(xml: &str) -> Fragment {
	bounded(xml)
}

fn interface(element: &str) -> Fragment {
	fragment(&format!(r#"<ExternalInterface Name="{element}" ID="{element}" />"#))
}

/// The plant after the same edit made by dt-aml in memory: what the chain must export.
fn expected_after(edit: impl FnOnce(&mut dt_aml::AmlTree)) -> String {
	let mut tree = dt_aml::AmlTree::parse_str(PLANT).unwrap();
	edit(&mut tree);
	tree.to_xml_string().unwrap()
}

fn assert_same_element_tree(expected: &str, actual: &str) {
	if let Some(difference) =
		dt_aml::first_difference(expected.as_bytes(), actual.as_bytes()).unwrap()
	{
		panic!("documents differ: {difference}\n--- actual ---\n{actual}");
	}
}

/// The plant as a twin of OWNER, with MAINTAINER's account granted the Maintainer role.
fn plant() -> TwinId {
	let twin = import(OWNER, PLANT, 1000);
	assert_ok!(Access::grant_role(
		RuntimeOrigin::signed(OWNER),
		twin,
		Grantee::Account(MAINTAINER),
		Role::Maintainer
	));
	twin
}

fn children(twin: TwinId, parent: &str) -> Vec<String> {
	let mut ids = Vec::new();
	let mut child = Elements::<Test>::get((twin, id(parent))).unwrap().first_child;
	while let Some(current) = child {
		let node = Elements::<Test>::get((twin, &current)).unwrap();
		assert_eq!(node.parent, Some(id(parent)), "{current:?} links to its parent");
		ids.push(String::from_utf8(current.into_inner()).unwrap());
		child = node.next_sibling;
	}
	ids
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

/// Grants `who` a custom role that may write only the subtree at `scope`.
fn grant_scoped_writer(twin: TwinId, who: u64, scope: &str) {
	let permissions = vec![
		Permission::Read(Confidentiality::Internal),
		Permission::WriteSpecification(Some(id(scope))),
	];
	assert_ok!(Access::create_custom_role(
		RuntimeOrigin::signed(OWNER),
		twin,
		bounded("contractor"),
		permissions.try_into().unwrap(),
	));
	assert_ok!(Access::grant_role(
		RuntimeOrigin::signed(OWNER),
		twin,
		Grantee::Account(who),
		Role::Custom(0),
	));
}

mod round_trip {
	use super::*;

	#[test]
	fn every_example_aml_file_comes_back_as_the_same_element_tree() {
		for path in dt_aml::examples::example_files() {
			new_test_ext().execute_with(|| {
				let original = std::fs::read_to_string(&path).unwrap();
				// Small chunks, so multi-call imports are exercised on every file.
				let twin = import(OWNER, &original, 25);
				let exported = export(twin);
				assert_same_element_tree(&original, &exported);
				// The files are consistently indented, so even the bytes come back.
				assert_eq!(exported, original, "{}", path.display());
				let info = Twins::<Test>::get(twin).unwrap();
				assert!(!info.importing);
				assert_eq!(info.element_count as usize, split(&original).1.len());
			});
		}
	}

	#[test]
	fn a_generated_file_of_50_000_elements_comes_back() {
		// 125 lines of 133 machines: 125 * (1 + 3 * 133) = 50,000 ID-carrying elements.
		let original = dt_aml::generated::plant(125, 133, true);
		new_test_ext().execute_with(|| {
			let twin = import(OWNER, &original, MAX_ELEMENTS_PER_CALL as usize);
			let info = Twins::<Test>::get(twin).unwrap();
			assert!(info.element_count > 50_000, "{} elements", info.element_count);
			let exported = export(twin);
			assert_same_element_tree(&original, &exported);
			assert_eq!(exported, original);
		});
	}

	#[test]
	fn import_in_one_call_emits_creation_and_completion() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			System::assert_has_event(Event::TwinCreated { twin, creator: OWNER }.into());
			System::assert_has_event(
				Event::ElementsImported { twin, count: 7, complete: true }.into(),
			);
			assert_eq!(Twins::<Test>::get(twin).unwrap().root, Some(id("/CAEXFile")));
			assert_eq!(children(twin, HIERARCHY), ["filler", "labeler"]);
			// The creator is the twin's Owner.
			assert_eq!(Access::roles_of(twin, &OWNER), vec![Role::Owner]);
		});
	}
}

mod import {
	use super::*;

	#[test]
	fn only_the_creator_imports_and_nobody_edits_before_the_end() {
		new_test_ext().execute_with(|| {
			let (header, elements) = split(PLANT);
			assert_ok!(TwinSpec::create_twin(
				RuntimeOrigin::signed(OWNER),
				header,
				elements[..3].to_vec().try_into().unwrap(),
				false,
			));
			let rest: BoundedVec<_, _> = elements[3..].to_vec().try_into().unwrap();
			assert_noop!(
				TwinSpec::import_elements(RuntimeOrigin::signed(MAINTAINER), 0, rest.clone(), true),
				Error::<Test>::NotImporter
			);
			assert_noop!(
				TwinSpec::replace_fragment(
					RuntimeOrigin::signed(OWNER),
					0,
					id(HIERARCHY),
					fragment(r#"<InstanceHierarchy Name="Plant" />"#)
				),
				Error::<Test>::ImportInProgress
			);
			assert_ok!(TwinSpec::import_elements(
				RuntimeOrigin::signed(OWNER),
				0,
				rest.clone(),
				true
			));
			assert_noop!(
				TwinSpec::import_elements(RuntimeOrigin::signed(OWNER), 0, rest, true),
				Error::<Test>::ImportNotInProgress
			);
			assert_noop!(
				TwinSpec::import_elements(
					RuntimeOrigin::signed(OWNER),
					7,
					Default::default(),
					true
				),
				Error::<Test>::UnknownTwin
			);
			assert_same_element_tree(PLANT, &export(0));
		});
	}

	#[test]
	fn only_members_of_the_consortium_create_twins() {
		new_test_ext().execute_with(|| {
			let (header, elements) = split(PLANT);
			assert_noop!(
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OUTSIDER),
					header,
					elements.try_into().unwrap(),
					true
				),
				Error::<Test>::NotAuthorized
			);
			// Any member may: the auditor's organisation creates its own twin.
			assert_eq!(import(AUDITOR, PLANT, 4), 0);
			assert_eq!(Access::roles_of(0, &AUDITOR), vec![Role::Owner]);
		});
	}

	#[test]
	fn a_document_needs_exactly_one_root_and_a_clean_header() {
		new_test_ext().execute_with(|| {
			let (header, elements) = split(PLANT);
			assert_noop!(
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OWNER),
					header.clone(),
					Default::default(),
					true
				),
				Error::<Test>::MissingRoot
			);
			let mut two_roots = elements.clone();
			two_roots.push(NewElement {
				id: id("second-root"),
				parent: None,
				previous_sibling: None,
				fragment: fragment(r#"<CAEXFile ID="second-root" />"#),
			});
			assert_noop!(
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OWNER),
					header.clone(),
					two_roots.try_into().unwrap(),
					true
				),
				Error::<Test>::RootAlreadyExists
			);
			// An element before the root has no parent to go to.
			assert_noop!(
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OWNER),
					header.clone(),
					elements[1..].to_vec().try_into().unwrap(),
					true
				),
				Error::<Test>::UnknownParent
			);
			let sneaky =
				Header { prolog: bounded("<?xml version=\"1.0\"?><Extra/>"), epilog: bounded("") };
			assert_noop!(
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OWNER),
					sneaky,
					elements.clone().try_into().unwrap(),
					true
				),
				Error::<Test>::InvalidHeader(HeaderRejection(HeaderError::ContentNotAllowed))
			);
			let not_utf8 = Header { prolog: vec![0xff].try_into().unwrap(), epilog: bounded("") };
			assert_noop!(
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OWNER),
					not_utf8,
					elements.try_into().unwrap(),
					true
				),
				Error::<Test>::InvalidHeader(HeaderRejection(HeaderError::NotUtf8))
			);
		});
	}
}

mod insert {
	use super::*;

	#[test]
	fn as_first_child() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("new"),
				id("filler"),
				None,
				interface("new"),
			));
			assert_eq!(children(twin, "filler"), ["new", "sensor-old", "valve"]);
			let expected = expected_after(|tree| {
				tree.insert(
					"new",
					Some("filler"),
					None,
					dt_aml::Fragment::parse(r#"<ExternalInterface Name="new" ID="new" />"#)
						.unwrap(),
				)
				.unwrap()
			});
			assert_same_element_tree(&expected, &export(twin));
			assert_eq!(
				last_event(),
				Event::ElementInserted {
					twin,
					element: id("new"),
					parent: id("filler"),
					author: OWNER
				}
				.into()
			);
		});
	}

	#[test]
	fn in_the_middle_and_last() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(MAINTAINER),
				twin,
				id("middle"),
				id("filler"),
				Some(id("sensor-old")),
				interface("middle"),
			));
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(MAINTAINER),
				twin,
				id("last"),
				id("filler"),
				Some(id("valve")),
				interface("last"),
			));
			assert_eq!(children(twin, "filler"), ["sensor-old", "middle", "valve", "last"]);
			assert_eq!(
				Elements::<Test>::get((twin, id("valve"))).unwrap().previous_sibling,
				Some(id("middle"))
			);
			let expected = expected_after(|tree| {
				let parse = |x: &str| dt_aml::Fragment::parse(x).unwrap();
				tree.insert(
					"middle",
					Some("filler"),
					Some("sensor-old"),
					parse(r#"<ExternalInterface Name="middle" ID="middle" />"#),
				)
				.unwrap();
				tree.insert(
					"last",
					Some("filler"),
					Some("valve"),
					parse(r#"<ExternalInterface Name="last" ID="last" />"#),
				)
				.unwrap();
			});
			let exported = export(twin);
			assert_same_element_tree(&expected, &exported);
			// The last child still goes before the SupportedRoleClass, as CAEX demands.
			assert!(
				exported.find(r#"ID="last""#).unwrap() < exported.find("Roles/Machine").unwrap()
			);
			let node = Elements::<Test>::get((twin, id("last"))).unwrap();
			assert_eq!((node.depth, node.version, node.last_change), (3, 1, ChangeKind::Inserted));
			assert_eq!((node.changed_by, node.changed_at), (MAINTAINER, 1));
		});
	}

	#[test]
	fn a_whole_element_with_content_and_an_element_without_id() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let sensor = r#"<InternalElement Name="Sensor" ID="sensor-new"><Attribute Name="Level" Unit="mm"><Value>12</Value></Attribute><?dt-children?><SupportedRoleClass RefRoleClassPath="Roles/Sensor" /></InternalElement>"#;
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-new"),
				id("filler"),
				Some(id("sensor-old")),
				fragment(sensor),
			));
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-new-out"),
				id("sensor-new"),
				None,
				interface("sensor-new-out"),
			));
			let exported = export(twin);
			let out = exported.find(r#"ID="sensor-new-out""#).unwrap();
			assert!(exported.find(r#"ID="sensor-new""#).unwrap() < out);
			assert!(out < exported.find("Roles/Sensor").unwrap());
			assert!(exported.find("Roles/Sensor").unwrap() < exported.find(r#"ID="valve""#).unwrap());
		});
	}

	#[test]
	fn misplaced_or_malformed_elements_change_nothing() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let insert = |element: &str, parent: &str, sibling: Option<&str>, xml: Fragment| {
				TwinSpec::insert_element(
					RuntimeOrigin::signed(OWNER),
					twin,
					id(element),
					id(parent),
					sibling.map(id),
					xml,
				)
			};
			assert_noop!(
				insert("valve", "filler", None, interface("valve")),
				Error::<Test>::DuplicateElement
			);
			assert_noop!(
				insert("x", "nowhere", None, interface("x")),
				Error::<Test>::UnknownParent
			);
			assert_noop!(
				insert("x", "filler", Some("nowhere"), interface("x")),
				Error::<Test>::UnknownSibling
			);
			assert_noop!(
				insert("x", "filler", Some("labeler"), interface("x")),
				Error::<Test>::SiblingNotUnderParent
			);
			let invalid = |reason| Error::<Test>::InvalidFragment(FragmentRejection(reason));
			assert_noop!(
				insert("x", "filler", None, interface("y")),
				invalid(FragmentError::IdMismatch)
			);
			assert_noop!(
				insert(
					"x",
					"filler",
					None,
					fragment(r#"<ExternalInterface ID="x"/><ExternalInterface ID="z"/>"#)
				),
				invalid(FragmentError::MultipleRoots)
			);
			assert_noop!(
				insert(
					"x",
					"filler",
					None,
					fragment(r#"<InternalElement ID="x"><Attribute Name="a"></InternalElement>"#)
				),
				invalid(FragmentError::MismatchedEndTag)
			);
			assert_noop!(
				insert(
					"x",
					"filler",
					None,
					fragment(
						r#"<InternalElement ID="x"><ExternalInterface ID="hidden"/></InternalElement>"#
					)
				),
				invalid(FragmentError::IdCarryingChild)
			);
			assert_noop!(
				insert(
					"x",
					"filler",
					None,
					fragment(r#"<InternalElement ID="x">&custom;</InternalElement>"#)
				),
				invalid(FragmentError::UnknownEntity)
			);
			assert_noop!(insert("x", "filler", None, fragment("")), invalid(FragmentError::Empty));
		});
	}

	#[test]
	fn oversized_fragments_do_not_even_decode() {
		use codec::{Decode, Encode};
		let oversized = vec![b'a'; MAX_FRAGMENT_LENGTH as usize + 1].encode();
		assert!(Fragment::decode(&mut &oversized[..]).is_err());
		let at_limit = vec![b'a'; MAX_FRAGMENT_LENGTH as usize].encode();
		assert!(Fragment::decode(&mut &at_limit[..]).is_ok());
	}

	#[test]
	fn nesting_is_bounded() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			// filler has depth 2; fill up to the limit.
			let mut parent = "filler".to_string();
			for level in 3..=MAX_TREE_DEPTH {
				let element = format!("deep-{level}");
				assert_ok!(TwinSpec::insert_element(
					RuntimeOrigin::signed(OWNER),
					twin,
					id(&element),
					id(&parent),
					None,
					interface(&element),
				));
				parent = element;
			}
			assert_noop!(
				TwinSpec::insert_element(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("too-deep"),
					id(&parent),
					None,
					interface("too-deep")
				),
				Error::<Test>::TreeTooDeep
			);
		});
	}
}

mod insert_several {
	use super::*;
	use frame_support::{
		dispatch::{DispatchResultWithPostInfo, GetDispatchInfo},
		traits::UnfilteredDispatchable,
	};

	type Batch =
		BoundedVec<NewElement<ConstU32<MAX_FRAGMENT_LENGTH>>, ConstU32<MAX_ELEMENTS_PER_CALL>>;

	fn new(
		element: &str,
		parent: &str,
		after: Option<&str>,
		xml: Fragment,
	) -> NewElement<ConstU32<MAX_FRAGMENT_LENGTH>> {
		NewElement {
			id: id(element),
			parent: Some(id(parent)),
			previous_sibling: after.map(id),
			fragment: xml,
		}
	}

	/// A new sensor with its output below the filler, after the old one, and a pump after
	/// the new sensor: an AML snippet of nested elements and a sibling.
	fn sensor_and_pump() -> Batch {
		let sensor = r#"<InternalElement Name="Sensor" ID="sensor-new"><Attribute Name="Level" Unit="mm" /><?dt-children?></InternalElement>"#;
		vec![
			new("sensor-new", "filler", Some("sensor-old"), fragment(sensor)),
			new("sensor-new-out", "sensor-new", None, interface("sensor-new-out")),
			new("pump", "filler", Some("sensor-new"), interface("pump")),
		]
		.try_into()
		.unwrap()
	}

	fn insert(who: u64, twin: TwinId, parent: &str, elements: Batch) -> DispatchResultWithPostInfo {
		TwinSpec::insert_elements(RuntimeOrigin::signed(who), twin, id(parent), elements)
	}

	#[test]
	fn a_snippet_of_nested_elements_goes_in_with_one_call() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let count = Twins::<Test>::get(twin).unwrap().element_count;
			assert_ok!(insert(MAINTAINER, twin, "filler", sensor_and_pump()));
			assert_eq!(children(twin, "filler"), ["sensor-old", "sensor-new", "pump", "valve"]);
			assert_eq!(children(twin, "sensor-new"), ["sensor-new-out"]);
			assert_eq!(Twins::<Test>::get(twin).unwrap().element_count, count + 3);
			let expected = expected_after(|tree| {
				let parse = |x: &str| dt_aml::Fragment::parse(x).unwrap();
				for element in sensor_and_pump() {
					let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
					let (parent, after) = (
						element.parent.as_ref().map(|parent| text(parent)),
						element.previous_sibling.as_ref().map(|sibling| text(sibling)),
					);
					tree.insert(
						&text(&element.id),
						parent.as_deref(),
						after.as_deref(),
						parse(&text(&element.fragment)),
					)
					.unwrap();
				}
			});
			assert_same_element_tree(&expected, &export(twin));
			// One event per element, as single insertions give: watchers and the index see
			// the same changes.
			let inserted: Vec<_> = System::events()
				.into_iter()
				.filter_map(|record| match record.event {
					RuntimeEvent::TwinSpec(Event::ElementInserted {
						element,
						parent,
						author,
						..
					}) => Some((element, parent, author)),
					_ => None,
				})
				.collect();
			assert_eq!(
				inserted,
				[
					(id("sensor-new"), id("filler"), MAINTAINER),
					(id("sensor-new-out"), id("sensor-new"), MAINTAINER),
					(id("pump"), id("filler"), MAINTAINER),
				]
			);
			let out = Elements::<Test>::get((twin, id("sensor-new-out"))).unwrap();
			assert_eq!((out.depth, out.version, out.last_change), (4, 1, ChangeKind::Inserted));
		});
	}

	#[test]
	fn one_bad_element_leaves_the_twin_as_it_was() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let with = |last: NewElement<ConstU32<MAX_FRAGMENT_LENGTH>>| -> Batch {
				let mut elements = sensor_and_pump().into_inner();
				elements.push(last);
				elements.try_into().unwrap()
			};
			let refusals = [
				(
					with(new("valve", "filler", None, interface("valve"))),
					Error::<Test>::DuplicateElement,
				),
				(
					with(new("pump", "filler", None, interface("pump"))),
					Error::<Test>::DuplicateElement,
				),
				(
					with(new("x", "filler", Some("labeler"), interface("x"))),
					Error::<Test>::SiblingNotUnderParent,
				),
				(
					with(new("x", "filler", None, interface("other-id"))),
					Error::<Test>::InvalidFragment(FragmentRejection(FragmentError::IdMismatch)),
				),
				// Under an element the call has not inserted (yet), or outside the parent.
				(
					with(new("x", "later", None, interface("x"))),
					Error::<Test>::ParentOutsideInsertion,
				),
				(
					with(new("x", "labeler", None, interface("x"))),
					Error::<Test>::ParentOutsideInsertion,
				),
				(
					with(new("x", "sensor-old", None, interface("x"))),
					Error::<Test>::ParentOutsideInsertion,
				),
				(
					with(NewElement {
						id: id("x"),
						parent: None,
						previous_sibling: None,
						fragment: interface("x"),
					}),
					Error::<Test>::RootAlreadyExists,
				),
				(Batch::default(), Error::<Test>::NoElements),
			];
			for (elements, error) in refusals {
				assert_noop!(insert(OWNER, twin, "filler", elements), error);
			}
			assert_noop!(
				insert(OWNER, twin, "nowhere", sensor_and_pump()),
				Error::<Test>::UnknownParent
			);
			assert_noop!(insert(OWNER, 7, "filler", sensor_and_pump()), Error::<Test>::UnknownTwin);
		});
	}

	#[test]
	fn is_authorized_at_the_parent_like_one_insertion() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			// No write permission (the auditor reads), or not a party to the twin at all.
			for who in [AUDITOR, OUTSIDER] {
				assert_noop!(
					insert(who, twin, "filler", sensor_and_pump()),
					Error::<Test>::NotAuthorized
				);
			}
			// A writer scoped to the filler writes below it, not next to it.
			grant_scoped_writer(twin, CONTRACTOR, "filler");
			let beside: Batch = vec![new("out", HIERARCHY, Some("filler"), interface("out"))]
				.try_into()
				.unwrap();
			assert_noop!(insert(CONTRACTOR, twin, HIERARCHY, beside), Error::<Test>::NotAuthorized);
			assert_ok!(insert(CONTRACTOR, twin, "filler", sensor_and_pump()));
			// Nobody writes below what they may not read: a secret parent needs clearance.
			assert_ok!(TwinSpec::set_element_confidentiality(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("labeler"),
				Confidentiality::Secret,
			));
			let below: Batch = vec![new("x", "labeler", None, interface("x"))].try_into().unwrap();
			assert_noop!(
				insert(MAINTAINER, twin, "labeler", below.clone()),
				Error::<Test>::InsufficientClearance
			);
			// The new elements inherit the parent's level.
			assert_ok!(insert(OWNER, twin, "labeler", below));
			let x = Elements::<Test>::get((twin, id("x"))).unwrap();
			assert_eq!(x.confidentiality, Confidentiality::Secret);
		});
	}

	#[test]
	fn is_charged_for_the_parents_depth_and_the_writers_roles() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let most = <Access as Authorize<u64>>::max_roles_held();
			let elements = sensor_and_pump();
			let bytes = elements.iter().map(|element| element.fragment.len() as u32).sum::<u32>();
			let call = Call::<Test>::insert_elements { twin, parent: id("filler"), elements };
			assert_eq!(
				call.get_dispatch_info().call_weight,
				<() as WeightInfo>::insert_elements(3, MAX_TREE_DEPTH, bytes, most)
			);
			// The filler is at depth 2: its children at 3; MAINTAINER holds one role.
			let actual = call.dispatch_bypass_filter(RuntimeOrigin::signed(MAINTAINER)).unwrap();
			assert_eq!(
				actual.actual_weight,
				Some(<() as WeightInfo>::insert_elements(3, 3, bytes, 1))
			);
		});
	}
}

mod remove {
	use super::*;

	#[test]
	fn takes_the_subtree_and_relinks_the_neighbours() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-old"),
				2
			));
			assert_eq!(children(twin, "filler"), ["valve"]);
			assert!(!Elements::<Test>::contains_key((twin, id("sensor-old-out"))));
			assert!(!Fragments::<Test>::contains_key((twin, id("sensor-old"))));
			assert_eq!(Twins::<Test>::get(twin).unwrap().element_count, 5);
			assert_eq!(
				last_event(),
				Event::ElementRemoved {
					twin,
					element: id("sensor-old"),
					removed: 2,
					author: OWNER
				}
				.into()
			);
			assert_same_element_tree(
				&expected_after(|tree| {
					tree.remove("sensor-old").unwrap();
				}),
				&export(twin),
			);
		});
	}

	#[test]
	fn first_middle_and_last_children() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			for element in ["a", "b", "c"].iter().rev() {
				assert_ok!(TwinSpec::insert_element(
					RuntimeOrigin::signed(OWNER),
					twin,
					id(element),
					id("valve"),
					None,
					interface(element),
				));
			}
			assert_eq!(children(twin, "valve"), ["a", "b", "c"]);
			assert_ok!(TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("b"), 1));
			assert_eq!(children(twin, "valve"), ["a", "c"]);
			assert_ok!(TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("a"), 1));
			assert_eq!(children(twin, "valve"), ["c"]);
			assert_ok!(TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("c"), 1));
			assert!(children(twin, "valve").is_empty());
			// A whole branch with the structural hierarchy at its top.
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("labeler"),
				1
			));
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id(HIERARCHY),
				6
			));
			assert_eq!(Twins::<Test>::get(twin).unwrap().element_count, 1);
			assert_eq!(Elements::<Test>::iter_keys().filter(|(of, _)| *of == twin).count(), 1);
			assert_eq!(Fragments::<Test>::iter_keys().filter(|(of, _)| *of == twin).count(), 1);
			assert_same_element_tree(
				&expected_after(|tree| {
					tree.remove(HIERARCHY).unwrap();
				}),
				&export(twin),
			);
		});
	}

	#[test]
	fn refusals_change_nothing() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("/CAEXFile"), 9),
				Error::<Test>::CannotRemoveRoot
			);
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("filler"), 3),
				Error::<Test>::SubtreeLargerThanWitness
			);
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("nowhere"), 1),
				Error::<Test>::UnknownElement
			);
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), 5, id("filler"), 4),
				Error::<Test>::UnknownTwin
			);
		});
	}
}

mod replace {
	use super::*;

	#[test]
	fn keeps_the_children_and_records_the_history() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			System::set_block_number(5);
			let new = r#"<InternalElement Name="Filler" ID="filler"><Attribute Name="Speed" Unit="1/min"><Value>60</Value></Attribute><?dt-children?><SupportedRoleClass RefRoleClassPath="Roles/Machine" /></InternalElement>"#;
			assert_ok!(TwinSpec::replace_fragment(RuntimeOrigin::signed(MAINTAINER), twin, id("filler"), fragment(new)));
			assert_eq!(
				last_event(),
				Event::FragmentReplaced { twin, element: id("filler"), version: 2, author: MAINTAINER }.into()
			);
			let exported = export(twin);
			assert!(exported.contains("<Value>60</Value>"));
			assert_eq!(children(twin, "filler"), ["sensor-old", "valve"]);
			let node = Elements::<Test>::get((twin, id("filler"))).unwrap();
			assert_eq!(
				(node.version, node.changed_at, node.previous_change_at, node.changed_by),
				(2, 5, Some(1), MAINTAINER)
			);
			// A second change in the same block keeps the link to the block before.
			assert_ok!(TwinSpec::replace_fragment(RuntimeOrigin::signed(OWNER), twin, id("filler"), fragment(new)));
			let node = Elements::<Test>::get((twin, id("filler"))).unwrap();
			assert_eq!((node.version, node.previous_change_at, node.changed_by), (3, Some(1), OWNER));
		});
	}

	#[test]
	fn the_id_stays() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_noop!(
				TwinSpec::replace_fragment(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("filler"),
					interface("other")
				),
				Error::<Test>::InvalidFragment(FragmentRejection(FragmentError::IdMismatch))
			);
			// A structural element stays without ID.
			assert_noop!(
				TwinSpec::replace_fragment(
					RuntimeOrigin::signed(OWNER),
					twin,
					id(HIERARCHY),
					fragment(r#"<InstanceHierarchy Name="Plant" ID="sneaky" />"#)
				),
				Error::<Test>::InvalidFragment(FragmentRejection(FragmentError::IdMismatch))
			);
			assert_ok!(TwinSpec::replace_fragment(
				RuntimeOrigin::signed(OWNER),
				twin,
				id(HIERARCHY),
				fragment(
					r#"<InstanceHierarchy Name="Plant"><Version>2</Version><?dt-children?></InstanceHierarchy>"#
				)
			));
			assert!(export(twin).contains("<Version>2</Version>"));
			assert_noop!(
				TwinSpec::replace_fragment(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("nowhere"),
					interface("nowhere")
				),
				Error::<Test>::UnknownElement
			);
		});
	}
}

mod authorization {
	use super::*;

	#[test]
	fn parties_without_write_permission_are_refused() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			for (who, role) in [(AUDITOR, Role::Auditor), (DEVICE, Role::Device)] {
				assert_ok!(Access::grant_role(
					RuntimeOrigin::signed(OWNER),
					twin,
					Grantee::Account(who),
					role
				));
			}
			for who in [AUDITOR, DEVICE, OUTSIDER] {
				assert_noop!(
					TwinSpec::insert_element(
						RuntimeOrigin::signed(who),
						twin,
						id("x"),
						id("filler"),
						None,
						interface("x")
					),
					Error::<Test>::NotAuthorized
				);
				assert_noop!(
					TwinSpec::remove_element(RuntimeOrigin::signed(who), twin, id("valve"), 1),
					Error::<Test>::NotAuthorized
				);
				assert_noop!(
					TwinSpec::replace_fragment(
						RuntimeOrigin::signed(who),
						twin,
						id("valve"),
						interface("valve")
					),
					Error::<Test>::NotAuthorized
				);
				assert_noop!(
					TwinSpec::set_element_confidentiality(
						RuntimeOrigin::signed(who),
						twin,
						id("valve"),
						Confidentiality::Public
					),
					Error::<Test>::NotAuthorized
				);
			}
		});
	}

	#[test]
	fn the_maintainer_organisation_writes_by_default_once_granted() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(CONTRACTOR), twin, id("valve"), 1),
				Error::<Test>::NotAuthorized
			);
			// CONTRACTOR belongs to organisation 1; granting the organisation covers it.
			assert_ok!(Access::grant_role(
				RuntimeOrigin::signed(OWNER),
				twin,
				Grantee::Organisation(1),
				Role::Maintainer
			));
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(CONTRACTOR),
				twin,
				id("valve"),
				1
			));
		});
	}

	#[test]
	fn a_scoped_writer_stays_inside_its_subtree() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			grant_scoped_writer(twin, CONTRACTOR, "filler");
			let writer = RuntimeOrigin::signed(CONTRACTOR);
			// Inside: the scope root itself and everything below it.
			assert_ok!(TwinSpec::insert_element(
				writer.clone(),
				twin,
				id("in"),
				id("filler"),
				None,
				interface("in")
			));
			assert_ok!(TwinSpec::insert_element(
				writer.clone(),
				twin,
				id("deeper"),
				id("sensor-old"),
				None,
				interface("deeper")
			));
			assert_ok!(TwinSpec::remove_element(writer.clone(), twin, id("sensor-old-out"), 1));
			assert_ok!(TwinSpec::replace_fragment(
				writer.clone(),
				twin,
				id("filler"),
				fragment(
					r#"<InternalElement Name="Filler 2" ID="filler"><?dt-children?></InternalElement>"#
				)
			));
			// Outside: a sibling, the parent, and inserting next to the scope root.
			assert_noop!(
				TwinSpec::insert_element(
					writer.clone(),
					twin,
					id("out"),
					id(HIERARCHY),
					Some(id("filler")),
					interface("out")
				),
				Error::<Test>::NotAuthorized
			);
			assert_noop!(
				TwinSpec::remove_element(writer.clone(), twin, id("labeler"), 1),
				Error::<Test>::NotAuthorized
			);
			assert_noop!(
				TwinSpec::replace_fragment(
					writer,
					twin,
					id(HIERARCHY),
					fragment(r#"<InstanceHierarchy Name="X" />"#)
				),
				Error::<Test>::NotAuthorized
			);
		});
	}

	#[test]
	fn the_last_access_manager_cannot_give_up() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_noop!(
				Access::revoke_role(
					RuntimeOrigin::signed(OWNER),
					twin,
					Grantee::Account(OWNER),
					Role::Owner
				),
				pallet_dt_access::Error::<Test>::LastAccessManager
			);
		});
	}
}

mod confidentiality {
	use super::*;

	#[test]
	fn readers_see_only_what_they_are_cleared_for() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(Access::grant_role(
				RuntimeOrigin::signed(OWNER),
				twin,
				Grantee::Account(DEVICE),
				Role::Device
			));
			assert_ok!(TwinSpec::set_element_confidentiality(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("filler"),
				Confidentiality::Secret
			));
			assert_eq!(
				last_event(),
				Event::ConfidentialitySet {
					twin,
					element: id("filler"),
					level: Confidentiality::Secret,
					author: OWNER
				}
				.into()
			);
			let node = Elements::<Test>::get((twin, id("filler"))).unwrap();
			assert_eq!((node.version, node.last_change), (2, ChangeKind::ConfidentialitySet));

			// The owner reads Secret; the device only Internal: the filler's subtree is hidden.
			assert_same_element_tree(PLANT, &export_for(twin, Some(OWNER)));
			let for_device = export_for(twin, Some(DEVICE));
			assert!(!for_device.contains("filler") && !for_device.contains("sensor-old"));
			assert!(for_device.contains(r#"ID="labeler""#));
			assert_same_element_tree(
				&expected_after(|tree| {
					tree.remove("filler").unwrap();
				}),
				&for_device,
			);
			// A party without any role on the twin sees nothing beyond public data.
			assert_eq!(
				TwinSpec::elements_in_document_order(twin, None, 100, Some(AUDITOR)).len(),
				0
			);
			// New elements inherit their parent's level.
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("secret-child"),
				id("filler"),
				None,
				interface("secret-child")
			));
			assert_eq!(
				Elements::<Test>::get((twin, id("secret-child"))).unwrap().confidentiality,
				Confidentiality::Secret
			);
		});
	}

	#[test]
	fn only_access_managers_set_levels_on_known_elements() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			// The maintainer writes the specification but does not manage access.
			assert_noop!(
				TwinSpec::set_element_confidentiality(
					RuntimeOrigin::signed(MAINTAINER),
					twin,
					id("filler"),
					Confidentiality::Public
				),
				Error::<Test>::NotAuthorized
			);
			assert_noop!(
				TwinSpec::set_element_confidentiality(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("nowhere"),
					Confidentiality::Public
				),
				Error::<Test>::UnknownElement
			);
			assert_noop!(
				TwinSpec::set_element_confidentiality(
					RuntimeOrigin::signed(OWNER),
					4,
					id("filler"),
					Confidentiality::Public
				),
				Error::<Test>::UnknownTwin
			);
		});
	}

	#[test]
	fn pages_continue_where_the_last_one_ended() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let all = TwinSpec::elements_in_document_order(twin, None, 100, None);
			assert_eq!(all.len(), 7);
			let mut paged = Vec::new();
			let mut after = None;
			loop {
				let page = TwinSpec::elements_in_document_order(twin, after, 2, None);
				if page.is_empty() {
					break;
				}
				assert!(page.len() <= 2);
				after = page.last().map(|record| record.id.clone());
				paged.extend(page);
			}
			assert_eq!(paged, all);
		});
	}
}

mod external_sources {
	use super::*;

	fn add(
		twin: TwinId,
		element: Option<&str>,
		uri: &str,
	) -> frame_support::dispatch::DispatchResult {
		TwinSpec::add_external_source(
			RuntimeOrigin::signed(OWNER),
			twin,
			element.map(id),
			bounded(uri),
			bounded("Fill level history"),
			SourceKind::OpcUa,
		)
	}

	#[test]
	fn are_added_to_the_twin_or_an_element_and_removed() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(add(twin, None, "https://plant.example/manual"));
			assert_ok!(add(twin, Some("sensor-old"), "opc.tcp://plant:4840/filler/level"));
			assert_eq!(
				last_event(),
				Event::ExternalSourceAdded {
					twin,
					source: 1,
					element: Some(id("sensor-old")),
					author: OWNER
				}
				.into()
			);
			let sources = TwinSpec::external_sources(twin);
			assert_eq!(sources.len(), 2);
			assert_eq!(sources[1].uri, b"opc.tcp://plant:4840/filler/level".to_vec());
			assert_noop!(
				TwinSpec::remove_external_source(RuntimeOrigin::signed(AUDITOR), twin, 0),
				Error::<Test>::NotAuthorized
			);
			assert_ok!(TwinSpec::remove_external_source(RuntimeOrigin::signed(OWNER), twin, 0));
			assert_noop!(
				TwinSpec::remove_external_source(RuntimeOrigin::signed(OWNER), twin, 0),
				Error::<Test>::UnknownSource
			);
			// Removing the element removes what is attached to it.
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-old"),
				2
			));
			assert!(TwinSpec::external_sources(twin).is_empty());
			assert_eq!(Twins::<Test>::get(twin).unwrap().source_count, 0);
		});
	}

	#[test]
	fn bad_input_and_wrong_parties_are_refused() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			for uri in ["no-scheme", "https:", "1http://x", "https://with space", "https://ünicode"]
			{
				assert_noop!(add(twin, None, uri), Error::<Test>::InvalidUri);
			}
			assert_noop!(add(twin, Some("nowhere"), "https://x"), Error::<Test>::UnknownElement);
			assert_noop!(add(9, None, "https://x"), Error::<Test>::UnknownTwin);
			assert_noop!(
				TwinSpec::add_external_source(
					RuntimeOrigin::signed(OWNER),
					twin,
					None,
					bounded("https://x"),
					vec![0xff].try_into().unwrap(),
					SourceKind::Web
				),
				Error::<Test>::InvalidDescription
			);
			assert_noop!(
				TwinSpec::add_external_source(
					RuntimeOrigin::signed(AUDITOR),
					twin,
					None,
					bounded("https://x"),
					bounded(""),
					SourceKind::Web
				),
				Error::<Test>::NotAuthorized
			);
			for _ in 0..MAX_SOURCES_PER_ELEMENT {
				assert_ok!(add(twin, Some("valve"), "https://x"));
			}
			assert_noop!(
				add(twin, Some("valve"), "https://x"),
				Error::<Test>::TooManySourcesOnElement
			);
			assert_ok!(add(twin, None, "https://x"));
			assert_ok!(add(twin, None, "https://x"));
			assert_noop!(add(twin, None, "https://x"), Error::<Test>::TooManySources);
		});
	}
}

mod programs {
	use super::*;

	fn program(name: &str) -> ProgramName {
		bounded(name)
	}

	fn fill_volume(min: i128, max: i128) -> ProgramParameters {
		vec![ParameterDeclaration {
			name: bounded("volume"),
			kind: ParameterType::Decimal { decimals: 3 },
			min: Some(min),
			max: Some(max),
			allowed: Default::default(),
			unit: bounded("l"),
		}]
		.try_into()
		.unwrap()
	}

	#[test]
	fn are_declared_replaced_listed_and_removed() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let declare = |name: &str, parameters| {
				TwinSpec::declare_program(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("filler"),
					program(name),
					parameters,
					id("filler"),
				)
			};
			assert_ok!(declare("set-volume", fill_volume(250, 1_500)));
			assert_eq!(
				last_event(),
				Event::ProgramDeclared {
					twin,
					element: id("filler"),
					program: program("set-volume"),
					described_by: id("filler"),
					replaced: false,
					author: OWNER
				}
				.into()
			);
			assert_ok!(declare("set-volume", fill_volume(330, 1_000)));
			assert_eq!(
				last_event(),
				Event::ProgramDeclared {
					twin,
					element: id("filler"),
					program: program("set-volume"),
					described_by: id("filler"),
					replaced: true,
					author: OWNER
				}
				.into()
			);
			let programs = TwinSpec::programs(twin);
			assert_eq!(programs.len(), 1);
			assert_eq!(programs[0].parameters[0].max, Some(1_000));
			assert_eq!(Elements::<Test>::get((twin, id("filler"))).unwrap().program_count, 1);
			assert_ok!(declare("clean", Default::default()));
			assert_noop!(declare("third", Default::default()), Error::<Test>::TooManyPrograms);
			assert_noop!(
				TwinSpec::remove_program(
					RuntimeOrigin::signed(AUDITOR),
					twin,
					id("filler"),
					program("clean")
				),
				Error::<Test>::NotAuthorized
			);
			assert_ok!(TwinSpec::remove_program(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("filler"),
				program("clean")
			));
			// The remaining declaration still anchors the filler's AML.
			assert_eq!(Elements::<Test>::get((twin, id("filler"))).unwrap().describes_programs, 1);
			assert_noop!(
				TwinSpec::remove_program(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("filler"),
					program("clean")
				),
				Error::<Test>::UnknownProgram
			);
			// Removing the element removes its programs.
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("filler"),
				4
			));
			assert!(TwinSpec::programs(twin).is_empty());
		});
	}

	#[test]
	fn inconsistent_declarations_are_refused() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_noop!(
				TwinSpec::declare_program(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("filler"),
					program("p"),
					fill_volume(5, 4),
					id("filler"),
				),
				Error::<Test>::InvalidProgramDeclaration(DeclarationRejection(
					DeclarationError::MinAboveMax
				))
			);
			assert_noop!(
				TwinSpec::declare_program(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("filler"),
					program(""),
					fill_volume(1, 4),
					id("filler"),
				),
				Error::<Test>::InvalidProgramName
			);
			assert_noop!(
				TwinSpec::declare_program(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("nowhere"),
					program("p"),
					fill_volume(1, 4),
					id("filler"),
				),
				Error::<Test>::UnknownElement
			);
			assert_noop!(
				TwinSpec::declare_program(
					RuntimeOrigin::signed(AUDITOR),
					twin,
					id("filler"),
					program("p"),
					fill_volume(1, 4),
					id("filler"),
				),
				Error::<Test>::NotAuthorized
			);
		});
	}
}

mod programs_from_aml {
	use super::*;
	use dt_aml::program::{program_parameters, ParameterKind, ProgramParameter};

	/// What the client does: the AML's attribute constraints as a chain declaration.
	fn declaration(parameter: ProgramParameter) -> ParameterDeclaration {
		ParameterDeclaration {
			name: bounded(&parameter.name),
			kind: match parameter.kind {
				ParameterKind::Boolean => ParameterType::Boolean,
				ParameterKind::Integer => ParameterType::Integer,
				ParameterKind::Decimal { decimals } => ParameterType::Decimal { decimals },
				ParameterKind::Text => ParameterType::Text,
			},
			min: parameter.min,
			max: parameter.max,
			allowed: parameter
				.allowed
				.iter()
				.map(|value| bounded(value))
				.collect::<Vec<_>>()
				.try_into()
				.unwrap(),
			unit: bounded(parameter.unit.as_deref().unwrap_or_default()),
		}
	}

	#[test]
	fn the_safety_bounds_declared_in_the_aml_reach_the_chain() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let interface = r#"<ExternalInterface Name="SetFillVolume" ID="set-fill-volume" RefBaseClassPath="DtLedgerInterfaceClassLib/Program"><Attribute Name="volume" AttributeDataType="xs:double" Unit="ml"><Constraint Name="SafeRange"><OrdinalScaledType><RequiredMaxValue>1500.5</RequiredMaxValue><RequiredMinValue>250</RequiredMinValue></OrdinalScaledType></Constraint></Attribute><Attribute Name="mode" AttributeDataType="xs:string"><Constraint Name="Modes"><NominalScaledType><RequiredValue>gentle</RequiredValue><RequiredValue>fast</RequiredValue></NominalScaledType></Constraint></Attribute></ExternalInterface>"#;
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("set-fill-volume"),
				id("filler"),
				None,
				fragment(interface),
			));
			let parameters: Vec<_> = program_parameters(&dt_aml::Fragment::parse(interface).unwrap())
				.unwrap()
				.into_iter()
				.map(declaration)
				.collect();
			assert_ok!(TwinSpec::declare_program(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("set-fill-volume"),
				bounded("SetFillVolume"),
				parameters.try_into().unwrap(),
				id("set-fill-volume"),
			));
			let declared = &TwinSpec::programs(twin)[0];
			assert_eq!(declared.element, id("set-fill-volume"));
			let volume = &declared.parameters[0];
			assert_eq!(volume.kind, ParameterType::Decimal { decimals: 1 });
			assert_eq!((volume.min, volume.max), (Some(2_500), Some(15_005)));
			assert_eq!(declared.parameters[1].allowed.len(), 2);
		});
	}
}

/// What the feeds pallet's sensor replacement asks of the specification.
mod element_replacement {
	use super::*;

	const NEW_SENSOR: &str = r#"<InternalElement Name="Sensor" ID="sensor-new">
        <Attribute Name="Level" />
      </InternalElement>"#;

	fn replace(
		who: u64,
		twin: TwinId,
		old: &str,
		max_removed: u32,
	) -> Result<u32, sp_runtime::DispatchError> {
		frame_support::storage::with_storage_layer(|| {
			TwinSpec::replace_element(
				&who,
				twin,
				&id(old),
				&id("sensor-new"),
				NEW_SENSOR.as_bytes(),
				max_removed,
			)
		})
	}

	#[test]
	fn puts_the_new_element_in_the_old_ones_place_with_its_level() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(TwinSpec::set_element_confidentiality(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-old"),
				Confidentiality::Confidential
			));
			assert_eq!(replace(MAINTAINER, twin, "sensor-old", 2), Ok(2));
			assert_eq!(children(twin, "filler"), ["sensor-new", "valve"]);
			assert!(!Elements::<Test>::contains_key((twin, id("sensor-old-out"))));
			let new = Elements::<Test>::get((twin, id("sensor-new"))).unwrap();
			assert_eq!(new.confidentiality, Confidentiality::Confidential);
			assert_eq!((new.version, new.changed_by), (1, MAINTAINER));
			assert_eq!(Twins::<Test>::get(twin).unwrap().element_count, 6);
			assert_eq!(
				last_event(),
				Event::ElementReplaced {
					twin,
					old: id("sensor-old"),
					new: id("sensor-new"),
					removed: 2,
					author: MAINTAINER
				}
				.into()
			);
			assert_same_element_tree(
				&expected_after(|tree| {
					tree.insert(
						"sensor-new",
						Some("filler"),
						Some("sensor-old"),
						dt_aml::Fragment::parse(NEW_SENSOR).unwrap(),
					)
					.unwrap();
					tree.remove("sensor-old").unwrap();
				}),
				&export(twin),
			);
		});
	}

	#[test]
	fn refusals_change_nothing() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let before = sp_io::storage::root(sp_runtime::StateVersion::V1);
			let refused = [
				(replace(AUDITOR, twin, "sensor-old", 2), Error::<Test>::NotAuthorized),
				(replace(OWNER, twin, "nothing", 2), Error::<Test>::UnknownElement),
				(replace(OWNER, twin, "sensor-old", 1), Error::<Test>::SubtreeLargerThanWitness),
				(replace(OWNER, twin, "/CAEXFile", 100), Error::<Test>::CannotRemoveRoot),
				(replace(OWNER, 99, "sensor-old", 2), Error::<Test>::UnknownTwin),
			];
			for (result, error) in refused {
				assert_eq!(result, Err(error.into()));
			}
			// The new id is taken, or the fragment carries another: both found after the
			// removal, which the storage layer must undo.
			let wrong_id = frame_support::storage::with_storage_layer(|| {
				TwinSpec::replace_element(
					&OWNER,
					twin,
					&id("sensor-old"),
					&id("valve"),
					br#"<InternalElement Name="Valve" ID="valve" />"#,
					2,
				)
			});
			assert_eq!(wrong_id, Err(Error::<Test>::DuplicateElement.into()));
			let mismatch = frame_support::storage::with_storage_layer(|| {
				TwinSpec::replace_element(
					&OWNER,
					twin,
					&id("sensor-old"),
					&id("other"),
					NEW_SENSOR.as_bytes(),
					2,
				)
			});
			assert_eq!(
				mismatch,
				Err(Error::<Test>::InvalidFragment(FragmentRejection(FragmentError::IdMismatch))
					.into())
			);
			assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), before);
			assert_eq!(children(twin, "filler"), ["sensor-old", "valve"]);
		});
	}

	#[test]
	fn reads_what_other_pallets_ask() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert!(TwinSpec::twin_exists(twin));
			assert!(!TwinSpec::twin_exists(twin + 1));
			assert!(TwinSpec::element_exists(twin, &id("sensor-old-out")));
			assert!(!TwinSpec::element_exists(twin, &id("sensor-new")));
			let parameters: ProgramParameters = vec![ParameterDeclaration {
				name: bounded("volume"),
				kind: ParameterType::Integer,
				min: Some(1),
				max: Some(10),
				allowed: Default::default(),
				unit: bounded("ml"),
			}]
			.try_into()
			.unwrap();
			assert_ok!(TwinSpec::declare_program(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("filler"),
				bounded("fill"),
				parameters.clone(),
				id("filler"),
			));
			assert_eq!(
				TwinSpec::program_parameters(twin, &id("filler"), &bounded("fill")),
				Some(parameters)
			);
			assert_eq!(TwinSpec::program_parameters(twin, &id("valve"), &bounded("fill")), None);
		});
	}
}

/// Operating a plant does not include redefining its safety bounds: the issue's attack, a
/// maintainer widening `SetFillVolume`'s bound from 1500.5 ml to 5000 ml, by a new
/// declaration or by rewriting the AML the declaration came from.
mod safety_bounds {
	use super::*;

	const MANUFACTURER: u64 = AUDITOR;

	fn set_fill_volume(id: &str, max: &str) -> Fragment {
		fragment(&format!(
			r#"<ExternalInterface Name="SetFillVolume" ID="{id}" RefBaseClassPath="DtLedgerInterfaceClassLib/Program"><Attribute Name="volume" AttributeDataType="xs:double" Unit="ml"><Constraint Name="SafeRange"><OrdinalScaledType><RequiredMaxValue>{max}</RequiredMaxValue><RequiredMinValue>250</RequiredMinValue></OrdinalScaledType></Constraint></Attribute></ExternalInterface>"#
		))
	}

	/// What `dt twin declare-program --parameters-from` derives from an interface.
	fn parameters_of(fragment: &Fragment) -> ProgramParameters {
		let parsed = dt_aml::Fragment::parse(core::str::from_utf8(fragment).unwrap()).unwrap();
		dt_aml::program::program_parameters(&parsed)
			.unwrap()
			.into_iter()
			.map(|parameter| {
				let ParameterKind::Decimal { decimals } = parameter.kind else {
					panic!("the volume is a decimal")
				};
				ParameterDeclaration {
					name: bounded(&parameter.name),
					kind: ParameterType::Decimal { decimals },
					min: parameter.min,
					max: parameter.max,
					allowed: Default::default(),
					unit: bounded("ml"),
				}
			})
			.collect::<Vec<_>>()
			.try_into()
			.unwrap()
	}
	use dt_aml::program::ParameterKind;

	fn declare(
		who: u64,
		twin: TwinId,
		described_by: &str,
	) -> frame_support::dispatch::DispatchResult {
		let interface = Fragments::<Test>::get((twin, id(described_by))).unwrap();
		TwinSpec::declare_program(
			RuntimeOrigin::signed(who),
			twin,
			id("filler"),
			bounded("SetFillVolume"),
			parameters_of(&interface),
			id(described_by),
		)
	}

	fn declared_max(twin: TwinId) -> Option<i128> {
		TwinSpec::program_parameters(twin, &id("filler"), &bounded("SetFillVolume"))
			.and_then(|parameters| parameters[0].max)
	}

	/// The plant with the filler's `SetFillVolume` (at most 1500.5 ml) declared by the owner
	/// from its interface, and a manufacturer.
	fn declared_plant() -> TwinId {
		let twin = plant();
		assert_ok!(Access::grant_role(
			RuntimeOrigin::signed(OWNER),
			twin,
			Grantee::Account(MANUFACTURER),
			Role::Manufacturer
		));
		assert_ok!(TwinSpec::insert_element(
			RuntimeOrigin::signed(OWNER),
			twin,
			id("set-fill-volume"),
			id("filler"),
			None,
			set_fill_volume("set-fill-volume", "1500.5"),
		));
		assert_ok!(declare(OWNER, twin, "set-fill-volume"));
		assert_eq!(declared_max(twin), Some(15_005));
		twin
	}

	#[test]
	fn a_maintainer_cannot_declare_a_wider_bound_from_a_copy_of_the_interface() {
		new_test_ext().execute_with(|| {
			let twin = declared_plant();
			// Inserting a copy with a larger maximum is a specification write...
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(MAINTAINER),
				twin,
				id("set-fill-volume-copy"),
				id("filler"),
				None,
				set_fill_volume("set-fill-volume-copy", "5000"),
			));
			// ...but declaring the program from it is not.
			assert_noop!(
				declare(MAINTAINER, twin, "set-fill-volume-copy"),
				Error::<Test>::NotAuthorized
			);
			assert_noop!(
				TwinSpec::remove_program(
					RuntimeOrigin::signed(MAINTAINER),
					twin,
					id("filler"),
					bounded("SetFillVolume")
				),
				Error::<Test>::NotAuthorized
			);
			assert_eq!(declared_max(twin), Some(15_005));
		});
	}

	#[test]
	fn a_maintainer_cannot_rewrite_or_remove_the_aml_a_declaration_was_taken_from() {
		new_test_ext().execute_with(|| {
			let twin = declared_plant();
			let widened = set_fill_volume("set-fill-volume", "5000");
			assert_noop!(
				TwinSpec::replace_fragment(
					RuntimeOrigin::signed(MAINTAINER),
					twin,
					id("set-fill-volume"),
					widened.clone()
				),
				Error::<Test>::NotAuthorized
			);
			// Neither on its own nor with the element that offers the program.
			for (element, size) in [("set-fill-volume", 1), ("filler", 5)] {
				assert_noop!(
					TwinSpec::remove_element(
						RuntimeOrigin::signed(MAINTAINER),
						twin,
						id(element),
						size
					),
					Error::<Test>::NotAuthorized
				);
			}
			// Other elements stay the maintainer's to change.
			assert_ok!(TwinSpec::replace_fragment(
				RuntimeOrigin::signed(MAINTAINER),
				twin,
				id("valve"),
				fragment(r#"<InternalElement Name="Valve2" ID="valve" />"#)
			));
			// The owner, who holds the right to declare programs, may; the declaration keeps
			// its bounds until someone with that right declares it again.
			assert_ok!(TwinSpec::replace_fragment(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("set-fill-volume"),
				widened
			));
			assert_eq!(declared_max(twin), Some(15_005));
		});
	}

	#[test]
	fn the_manufacturer_declares_and_every_change_is_an_event() {
		new_test_ext().execute_with(|| {
			let twin = declared_plant();
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("set-fill-volume-2"),
				id("filler"),
				None,
				set_fill_volume("set-fill-volume-2", "1200"),
			));
			assert_ok!(declare(MANUFACTURER, twin, "set-fill-volume-2"));
			assert_eq!(
				last_event(),
				Event::ProgramDeclared {
					twin,
					element: id("filler"),
					program: bounded("SetFillVolume"),
					described_by: id("set-fill-volume-2"),
					replaced: true,
					author: MANUFACTURER,
				}
				.into()
			);
			assert_eq!(declared_max(twin), Some(1_200));
			// The declaration moved: the old interface is free again, the new one anchored.
			let describes = |element: &str| {
				Elements::<Test>::get((twin, id(element))).unwrap().describes_programs
			};
			assert_eq!((describes("set-fill-volume"), describes("set-fill-volume-2")), (0, 1));
			assert_ok!(TwinSpec::replace_fragment(
				RuntimeOrigin::signed(MAINTAINER),
				twin,
				id("set-fill-volume"),
				set_fill_volume("set-fill-volume", "5000")
			));
			assert_ok!(TwinSpec::remove_program(
				RuntimeOrigin::signed(MANUFACTURER),
				twin,
				id("filler"),
				bounded("SetFillVolume")
			));
			assert_eq!(describes("set-fill-volume-2"), 0);
		});
	}

	#[test]
	fn a_description_still_in_use_elsewhere_is_not_removed() {
		new_test_ext().execute_with(|| {
			let twin = declared_plant();
			// The labeler offers the same program, described under the filler.
			let interface = Fragments::<Test>::get((twin, id("set-fill-volume"))).unwrap();
			assert_ok!(TwinSpec::declare_program(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("labeler"),
				bounded("SetFillVolume"),
				parameters_of(&interface),
				id("set-fill-volume"),
			));
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("filler"), 5),
				Error::<Test>::DescribesDeclaredProgram
			);
			// Once the labeler's declaration is gone, the filler goes with its own.
			assert_ok!(TwinSpec::remove_program(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("labeler"),
				bounded("SetFillVolume")
			));
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("filler"),
				5
			));
			assert!(TwinSpec::programs(twin).is_empty());
		});
	}

	#[test]
	fn removing_an_element_releases_the_descriptions_its_programs_used() {
		new_test_ext().execute_with(|| {
			let twin = declared_plant();
			let interface = Fragments::<Test>::get((twin, id("set-fill-volume"))).unwrap();
			assert_ok!(TwinSpec::declare_program(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("labeler"),
				bounded("SetFillVolume"),
				parameters_of(&interface),
				id("set-fill-volume"),
			));
			assert_eq!(
				Elements::<Test>::get((twin, id("set-fill-volume"))).unwrap().describes_programs,
				2
			);
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("labeler"),
				1
			));
			assert_eq!(
				Elements::<Test>::get((twin, id("set-fill-volume"))).unwrap().describes_programs,
				1
			);
		});
	}
}

/// Specification writes need clearance for the element's level, as document writes do:
/// nobody changes what they may not read.
mod clearance {
	use super::*;

	/// The plant with the filler made secret by the owner; its parts keep their internal
	/// level but are hidden with it. The maintainer is cleared for confidential data only.
	fn secret_filler() -> TwinId {
		let twin = plant();
		assert_ok!(TwinSpec::add_external_source(
			RuntimeOrigin::signed(OWNER),
			twin,
			Some(id("valve")),
			bounded("https://plant.example/valve"),
			bounded(""),
			SourceKind::Web,
		));
		assert_ok!(TwinSpec::set_element_confidentiality(
			RuntimeOrigin::signed(OWNER),
			twin,
			id("filler"),
			Confidentiality::Secret
		));
		assert_eq!(
			Elements::<Test>::get((twin, id("sensor-old"))).unwrap().confidentiality,
			Confidentiality::Internal
		);
		twin
	}

	#[test]
	fn the_maintainer_cannot_change_what_lies_in_a_secret_element() {
		new_test_ext().execute_with(|| {
			let twin = secret_filler();
			let maintainer = RuntimeOrigin::signed(MAINTAINER);
			let refused = [
				TwinSpec::insert_element(
					maintainer.clone(),
					twin,
					id("planted"),
					id("sensor-old"),
					None,
					interface("planted"),
				)
				.map(|_| ())
				.map_err(|e| e.error),
				TwinSpec::replace_fragment(
					maintainer.clone(),
					twin,
					id("sensor-old"),
					fragment(r#"<InternalElement Name="Sensor" ID="sensor-old" />"#),
				)
				.map(|_| ())
				.map_err(|e| e.error),
				TwinSpec::remove_element(maintainer.clone(), twin, id("sensor-old-out"), 1)
					.map(|_| ())
					.map_err(|e| e.error),
				TwinSpec::add_external_source(
					maintainer.clone(),
					twin,
					Some(id("sensor-old")),
					bounded("https://evil.example"),
					bounded(""),
					SourceKind::Web,
				),
				TwinSpec::remove_external_source(maintainer.clone(), twin, 0),
			];
			for result in refused {
				assert_eq!(result, Err(Error::<Test>::InsufficientClearance.into()));
			}
			let replaced = frame_support::storage::with_storage_layer(|| {
				TwinSpec::replace_element(
					&MAINTAINER,
					twin,
					&id("sensor-old"),
					&id("sensor-new"),
					br#"<InternalElement Name="Sensor" ID="sensor-new" />"#,
					2,
				)
			});
			assert_eq!(replaced, Err(Error::<Test>::InsufficientClearance.into()));
			// The owner is cleared for secret data.
			assert_ok!(TwinSpec::replace_fragment(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-old"),
				fragment(r#"<InternalElement Name="Sensor" ID="sensor-old" />"#),
			));
		});
	}

	#[test]
	fn removing_a_subtree_needs_clearance_for_everything_in_it() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			assert_ok!(TwinSpec::set_element_confidentiality(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("sensor-old-out"),
				Confidentiality::Secret
			));
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(MAINTAINER), twin, id("filler"), 4),
				Error::<Test>::InsufficientClearance
			);
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(MAINTAINER),
				twin,
				id("valve"),
				1
			));
		});
	}

	#[test]
	fn setting_a_level_and_declaring_programs_need_clearance_too() {
		new_test_ext().execute_with(|| {
			let twin = secret_filler();
			// An access manager cleared for internal data only.
			assert_ok!(Access::create_custom_role(
				RuntimeOrigin::signed(OWNER),
				twin,
				bounded("registrar"),
				vec![
					Permission::Read(Confidentiality::Internal),
					Permission::ManageAccess,
					Permission::DeclarePrograms
				]
				.try_into()
				.unwrap(),
			));
			assert_ok!(Access::grant_role(
				RuntimeOrigin::signed(OWNER),
				twin,
				Grantee::Account(CONTRACTOR),
				Role::Custom(0),
			));
			assert_noop!(
				TwinSpec::set_element_confidentiality(
					RuntimeOrigin::signed(CONTRACTOR),
					twin,
					id("valve"),
					Confidentiality::Public
				),
				Error::<Test>::InsufficientClearance
			);
			let parameters: ProgramParameters = Default::default();
			for (element, described_by) in [("valve", "labeler"), ("labeler", "valve")] {
				assert_noop!(
					TwinSpec::declare_program(
						RuntimeOrigin::signed(CONTRACTOR),
						twin,
						id(element),
						bounded("Run"),
						parameters.clone(),
						id(described_by),
					),
					Error::<Test>::InsufficientClearance
				);
			}
			assert_ok!(TwinSpec::set_element_confidentiality(
				RuntimeOrigin::signed(CONTRACTOR),
				twin,
				id("labeler"),
				Confidentiality::Public
			));
		});
	}
}

/// Every removal reads no more elements than its weight pays for, and no element has more
/// children than `MaxChildrenPerElement`.
mod bounded_work {
	use super::*;

	/// A row of `count` children under the filler's valve, written as the owner.
	fn row(twin: TwinId, count: u32) {
		let mut previous = None;
		for index in 0..count {
			let child = format!("part-{index}");
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id(&child),
				id("valve"),
				previous.clone(),
				interface(&child),
			));
			previous = Some(id(&child));
		}
	}

	/// A write is charged before dispatch for an element at the deepest level, and after it
	/// for the depth of the element it changed (authorizing it walked up that many
	/// ancestors): a shallow write leaves room in the block.
	#[test]
	fn writes_are_charged_for_the_roles_their_writer_holds() {
		use frame_support::{
			dispatch::GetDispatchInfo,
			traits::{Get, UnfilteredDispatchable},
		};
		new_test_ext().execute_with(|| {
			let twin = plant();
			let largest = <Test as Config>::MaxElementsPerTwin::get();
			let size = || Twins::<Test>::get(twin).unwrap().element_count;
			let most = <Access as Authorize<u64>>::max_roles_held();
			// Each part has the same length: "part-1", "part-2".
			let length = interface("part-1").len() as u32;
			let insert = |element: &str| Call::<Test>::insert_element {
				twin,
				element: id(element),
				parent: id("sensor-old"),
				previous_sibling: None,
				fragment: interface(element),
			};
			let inserted_by = |who: u64, element: &str| {
				insert(element)
					.dispatch_bypass_filter(RuntimeOrigin::signed(who))
					.unwrap()
					.actual_weight
					.unwrap()
			};
			// Charged for the most roles before dispatch.
			let declared = insert("part-1").get_dispatch_info().call_weight;
			assert_eq!(
				declared,
				<() as WeightInfo>::insert_element(largest, MAX_TREE_DEPTH, length, most)
			);
			// MAINTAINER holds the Maintainer role: charged for one, and for the twin's size.
			let elements = size();
			let one = inserted_by(MAINTAINER, "part-1");
			assert_eq!(one, <() as WeightInfo>::insert_element(elements, 4, length, 1));
			// Its organisation is granted two roles more: three roles' permissions are read.
			for role in [Role::Auditor, Role::Manufacturer] {
				assert_ok!(Access::grant_role(
					RuntimeOrigin::signed(OWNER),
					twin,
					Grantee::Organisation(1),
					role
				));
			}
			assert_eq!(<Access as Authorize<u64>>::roles_held(twin, &MAINTAINER), 3);
			let elements = size();
			let three = inserted_by(MAINTAINER, "part-2");
			assert_eq!(three, <() as WeightInfo>::insert_element(elements, 4, length, 3));
			assert!(one.all_lte(three) && one != three, "{one} < {three}");
			assert!(three.all_lte(declared) && three != declared, "{three} < {declared}");
		});
	}

	#[test]
	fn writes_are_charged_for_the_depth_they_walk() {
		use frame_support::{dispatch::GetDispatchInfo, traits::UnfilteredDispatchable};
		new_test_ext().execute_with(|| {
			let twin = plant();
			let elements = Twins::<Test>::get(twin).unwrap().element_count;
			let part = interface("part");
			let length = part.len() as u32;
			// Below the root, the hierarchy, the filler and the old sensor: depth 4.
			let insert = Call::<Test>::insert_element {
				twin,
				element: id("part"),
				parent: id("sensor-old"),
				previous_sibling: None,
				fragment: part.clone(),
			};
			let declared = insert.get_dispatch_info().call_weight;
			let info = insert.dispatch_bypass_filter(RuntimeOrigin::signed(OWNER)).unwrap();
			let charged = <() as WeightInfo>::insert_element(elements, 4, length, 1);
			assert_eq!(info.actual_weight, Some(charged));
			assert!(charged.all_lte(declared) && charged != declared, "{charged} < {declared}");

			let replace = Call::<Test>::replace_fragment {
				twin,
				element: id("part"),
				fragment: part.clone(),
			};
			let declared = replace.get_dispatch_info().call_weight;
			let info = replace.dispatch_bypass_filter(RuntimeOrigin::signed(OWNER)).unwrap();
			let charged = <() as WeightInfo>::replace_fragment(4, length, 1);
			assert_eq!(info.actual_weight, Some(charged));
			assert!(charged.all_lte(declared) && charged != declared, "{charged} < {declared}");

			let remove =
				Call::<Test>::remove_element { twin, element: id("part"), subtree_size: 1 };
			let declared = remove.get_dispatch_info().call_weight;
			let info = remove.dispatch_bypass_filter(RuntimeOrigin::signed(OWNER)).unwrap();
			let charged =
				tree::Removal { elements: 1, programs: 0, sources: 0 }.weight::<Test>(4, 1);
			assert_eq!(info.actual_weight, Some(charged));
			assert!(charged.all_lte(declared) && charged != declared, "{charged} < {declared}");

			// An element right below the hierarchy (depth 2) costs less than one at depth 4.
			let line = fragment(r#"<InternalElement Name="Line" ID="line" />"#);
			let shallow = <() as WeightInfo>::insert_element(elements, 2, line.len() as u32, 1);
			let deep = <() as WeightInfo>::insert_element(elements, 4, line.len() as u32, 1);
			let info = TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("line"),
				id(HIERARCHY),
				None,
				line,
			)
			.unwrap();
			assert_eq!(info.actual_weight, Some(shallow));
			assert!(shallow.all_lte(deep) && shallow != deep, "{shallow} < {deep}");
		});
	}

	#[test]
	fn a_small_witness_is_refused_before_the_children_are_read() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			row(twin, 10);
			// The third child cannot be read: a removal that got that far would fail on it
			// (`UnknownElement`). With a witness of two elements (the valve and its first
			// child) the removal stops before it.
			Elements::<Test>::remove((twin, id("part-2")));
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("valve"), 2),
				Error::<Test>::SubtreeLargerThanWitness
			);
			assert_noop!(
				TwinSpec::remove_element(RuntimeOrigin::signed(OWNER), twin, id("valve"), 0),
				Error::<Test>::SubtreeLargerThanWitness
			);
		});
	}

	#[test]
	fn an_element_holds_at_most_max_children() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			row(twin, MAX_CHILDREN_PER_ELEMENT);
			assert_eq!(
				Elements::<Test>::get((twin, id("valve"))).unwrap().child_count,
				MAX_CHILDREN_PER_ELEMENT
			);
			assert_noop!(
				TwinSpec::insert_element(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("one-more"),
					id("valve"),
					None,
					interface("one-more"),
				),
				Error::<Test>::TooManyChildren
			);
			// Removing a child makes room again.
			assert_ok!(TwinSpec::remove_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("part-0"),
				1
			));
			assert_ok!(TwinSpec::insert_element(
				RuntimeOrigin::signed(OWNER),
				twin,
				id("one-more"),
				id("valve"),
				None,
				interface("one-more"),
			));
		});
	}

	#[test]
	fn an_imported_document_holds_at_most_max_children_per_element() {
		new_test_ext().execute_with(|| {
			let mut aml =
				String::from(r#"<CAEXFile FileName="wide.aml"><InstanceHierarchy Name="Wide">"#);
			for index in 0..=MAX_CHILDREN_PER_ELEMENT {
				aml.push_str(&format!(r#"<InternalElement Name="M" ID="m-{index}"/>"#));
			}
			aml.push_str("</InstanceHierarchy></CAEXFile>");
			let (header, elements) = split(&aml);
			let chunks: Vec<_> = elements.chunks(MAX_ELEMENTS_PER_CALL as usize).collect();
			assert_ok!(TwinSpec::create_twin(
				RuntimeOrigin::signed(OWNER),
				header,
				chunks[0].to_vec().try_into().unwrap(),
				false
			));
			let twin = NextTwinId::<Test>::get() - 1;
			assert_noop!(
				TwinSpec::import_elements(
					RuntimeOrigin::signed(OWNER),
					twin,
					chunks[1].to_vec().try_into().unwrap(),
					true
				),
				Error::<Test>::TooManyChildren
			);
		});
	}
}

/// What a twin's header and fragments may carry.
mod document_text {
	use super::*;

	#[test]
	fn a_header_holds_only_the_xml_declaration_and_closed_comments() {
		new_test_ext().execute_with(|| {
			let (_, elements) = split(PLANT);
			let create = |prolog: &str, epilog: &str| {
				TwinSpec::create_twin(
					RuntimeOrigin::signed(OWNER),
					Header { prolog: bounded(prolog), epilog: bounded(epilog) },
					elements.clone().try_into().unwrap(),
					true,
				)
			};
			let refused = [
				("<!-- never closed ", "", HeaderError::MalformedComment),
				(
					"<?xml version=\"1.0\"?><!DOCTYPE CAEXFile [<!ENTITY e \"x\">]>",
					"",
					HeaderError::DoctypeNotAllowed,
				),
				(
					"<?xml-stylesheet href=\"steal.xsl\"?>",
					"",
					HeaderError::ProcessingInstructionNotAllowed,
				),
				("", "<?pi?>", HeaderError::ProcessingInstructionNotAllowed),
				("", "<!-- open", HeaderError::MalformedComment),
			];
			for (prolog, epilog, reason) in refused {
				assert_noop!(
					create(prolog, epilog),
					Error::<Test>::InvalidHeader(HeaderRejection(reason))
				);
			}
			assert_ok!(create("\u{FEFF}<?xml version=\"1.0\"?>\n<!-- exported -->\n", "\n"));
		});
	}

	#[test]
	fn a_fragment_with_an_unbound_prefix_is_refused() {
		new_test_ext().execute_with(|| {
			let twin = plant();
			let insert = |xml: &str| {
				TwinSpec::insert_element(
					RuntimeOrigin::signed(OWNER),
					twin,
					id("typed"),
					id("filler"),
					None,
					fragment(xml),
				)
			};
			assert_noop!(
				insert(r#"<InternalElement Name="T" ID="typed" xsi:type="x" />"#),
				Error::<Test>::InvalidFragment(FragmentRejection(FragmentError::UnboundPrefix))
			);
			assert_ok!(insert(
				r#"<InternalElement Name="T" ID="typed" xsi:type="x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />"#
			));
		});
	}
}
