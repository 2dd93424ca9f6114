//! Insert, remove and replace by ID land at the right place in the serialized AML.

mod common;

use common::{assert_same_element_tree, child_ids};
use dt_aml::{parse_snippet, AmlError, AmlTree, Fragment};

/// CAEX 2.15: the InstanceHierarchy has no ID, so it is a structural node.
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

fn plant() -> AmlTree {
	AmlTree::parse_str(PLANT).unwrap()
}

fn interface(id: &str) -> Fragment {
	Fragment::parse(&format!(r#"<ExternalInterface Name="{id}" ID="{id}" />"#)).unwrap()
}

/// PLANT with the `Filler` element's content replaced by `filler_content`.
fn plant_with_filler(filler_content: &str) -> String {
	let start = PLANT.find(r#"<Attribute Name="Speed" />"#).unwrap();
	let end = PLANT
		.find(r#"<SupportedRoleClass RefRoleClassPath="Roles/Machine" />"#)
		.unwrap();
	format!("{}{}{}", &PLANT[..start], filler_content, &PLANT[end..])
}

const SENSOR: &str = r#"<InternalElement Name="Sensor" ID="sensor-old"><Attribute Name="Level" /><ExternalInterface Name="Out" ID="sensor-old-out" /></InternalElement>"#;
const VALVE: &str = r#"<InternalElement Name="Valve" ID="valve" />"#;

#[test]
fn import_links_nodes_as_in_the_document() {
	let tree = plant();
	assert_eq!(tree.root().unwrap().id(), "/CAEXFile");
	assert_eq!(child_ids(&tree, "/CAEXFile"), [HIERARCHY]);
	assert_eq!(child_ids(&tree, HIERARCHY), ["filler", "labeler"]);
	assert_eq!(child_ids(&tree, "filler"), ["sensor-old", "valve"]);
	assert!(tree.get(HIERARCHY).unwrap().is_structural());
	// The children marker sits between the Attribute and the SupportedRoleClass.
	let filler = tree.get("filler").unwrap().fragment().as_str();
	let marker = filler.find("<?dt-children?>").unwrap();
	assert!(
		filler.find("Speed").unwrap() < marker
			&& marker < filler.find("SupportedRoleClass").unwrap()
	);
}

#[test]
fn insert_as_first_child() {
	let mut tree = plant();
	tree.insert("new", Some("filler"), None, interface("new")).unwrap();
	let expected = plant_with_filler(&format!(
		r#"<Attribute Name="Speed" /><ExternalInterface Name="new" ID="new" />{SENSOR}{VALVE}"#
	));
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());
}

#[test]
fn insert_in_the_middle() {
	let mut tree = plant();
	tree.insert("new", Some("filler"), Some("sensor-old"), interface("new"))
		.unwrap();
	let expected = plant_with_filler(&format!(
		r#"<Attribute Name="Speed" />{SENSOR}<ExternalInterface Name="new" ID="new" />{VALVE}"#
	));
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());
	assert_eq!(tree.get("valve").unwrap().previous_sibling().unwrap().id(), "new");
}

#[test]
fn insert_as_last_child_stays_before_supported_role_class() {
	let mut tree = plant();
	tree.insert("new", Some("filler"), Some("valve"), interface("new")).unwrap();
	let expected = plant_with_filler(&format!(
		r#"<Attribute Name="Speed" />{SENSOR}{VALVE}<ExternalInterface Name="new" ID="new" />"#
	));
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());
}

#[test]
fn insert_into_nodes_without_children() {
	let mut tree = plant();
	// Labeler had no child nodes: its marker was placed before SupportedRoleClass on import.
	tree.insert("l1", Some("labeler"), None, interface("l1")).unwrap();
	// Valve is an empty-element tag: it is opened to take the child.
	tree.insert("v1", Some("valve"), None, interface("v1")).unwrap();
	let exported = tree.to_xml_string().unwrap();
	let expected = PLANT
        .replace(
            r#"<Attribute Name="Rate" />"#,
            r#"<Attribute Name="Rate" /><ExternalInterface Name="l1" ID="l1" />"#,
        )
        .replace(VALVE, r#"<InternalElement Name="Valve" ID="valve"><ExternalInterface Name="v1" ID="v1" /></InternalElement>"#);
	assert_same_element_tree(&expected, &exported);
	// Layout: the new child gets the indentation of its siblings' place.
	assert!(exported.contains("<Attribute Name=\"Rate\" />\n      <ExternalInterface Name=\"l1\" ID=\"l1\" />\n      <SupportedRoleClass"), "{exported}");
}

#[test]
fn insert_directly_under_an_instance_hierarchy_without_id() {
	let mut tree = plant();
	let records = parse_snippet(
        r#"<InternalElement Name="Capper" ID="capper"><ExternalInterface Name="Power" ID="capper-power"/></InternalElement>"#
            .as_bytes(),
        Some(HIERARCHY),
        Some("filler"),
    )
    .unwrap();
	for record in records {
		tree.insert_record(record).unwrap();
	}
	assert_eq!(child_ids(&tree, HIERARCHY), ["filler", "capper", "labeler"]);
	let exported = tree.to_xml_string().unwrap();
	let labeler = PLANT.find(r#"<InternalElement Name="Labeler""#).unwrap();
	let expected = format!(
		r#"{}<InternalElement Name="Capper" ID="capper"><ExternalInterface Name="Power" ID="capper-power"/></InternalElement>{}"#,
		&PLANT[..labeler],
		&PLANT[labeler..]
	);
	assert_same_element_tree(&expected, &exported);
}

#[test]
fn remove_takes_the_whole_subtree() {
	let mut tree = plant();
	assert_eq!(tree.remove("sensor-old").unwrap(), ["sensor-old", "sensor-old-out"]);
	let expected = plant_with_filler(&format!(r#"<Attribute Name="Speed" />{VALVE}"#));
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());

	assert_eq!(tree.remove("filler").unwrap(), ["filler", "valve"]);
	let start = PLANT.find(r#"<InternalElement Name="Filler""#).unwrap();
	let end = PLANT.find(r#"<InternalElement Name="Labeler""#).unwrap();
	let expected = format!("{}{}", &PLANT[..start], &PLANT[end..]);
	let exported = tree.to_xml_string().unwrap();
	assert_same_element_tree(&expected, &exported);
}

#[test]
fn removing_all_children_drops_the_marker_and_its_indentation() {
	let mut tree = plant();
	tree.remove("sensor-old").unwrap();
	tree.remove("valve").unwrap();
	let exported = tree.to_xml_string().unwrap();
	assert!(
		exported.contains("<Attribute Name=\"Speed\" />\n      <SupportedRoleClass"),
		"{exported}"
	);
	assert!(!exported.contains("dt-children"));
}

#[test]
fn sensor_replacement_scenario() {
	// The device agent swaps the broken fill-level sensor: remove the old element, insert the
	// new one at the same place, in one go.
	let mut tree = plant();
	let parent = tree.get("sensor-old").unwrap().parent().unwrap().id().to_string();
	let previous = tree.get("sensor-old").unwrap().previous_sibling().map(|p| p.id().to_string());
	tree.remove("sensor-old").unwrap();
	let snippet = r#"<?xml version="1.0"?>
<InternalElement Name="Sensor" ID="sensor-new">
  <Attribute Name="Level"><Value>0</Value></Attribute>
  <ExternalInterface Name="Out" ID="sensor-new-out" />
  <SupportedRoleClass RefRoleClassPath="Roles/Sensor" />
</InternalElement>"#;
	let records = parse_snippet(snippet.as_bytes(), Some(&parent), previous.as_deref()).unwrap();
	assert_eq!(
		records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
		["sensor-new", "sensor-new-out"]
	);
	assert_eq!(records[1].parent.as_deref(), Some("sensor-new"));
	for record in records {
		tree.insert_record(record).unwrap();
	}
	let expected = plant_with_filler(&format!(
		r#"<Attribute Name="Speed" /><InternalElement Name="Sensor" ID="sensor-new"><Attribute Name="Level"><Value>0</Value></Attribute><ExternalInterface Name="Out" ID="sensor-new-out" /><SupportedRoleClass RefRoleClassPath="Roles/Sensor" /></InternalElement>{VALVE}"#
	));
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());
}

#[test]
fn replace_fragment_keeps_children_in_place() {
	let mut tree = plant();
	let renamed = Fragment::parse(
        r#"<InternalElement Name="Filler2" ID="filler"><Attribute Name="Speed" /><?dt-children?><SupportedRoleClass RefRoleClassPath="Roles/Machine" /></InternalElement>"#,
    )
    .unwrap();
	tree.replace_fragment("filler", renamed).unwrap();
	let expected = PLANT.replace(r#"Name="Filler""#, r#"Name="Filler2""#);
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());
	assert!(matches!(
		tree.replace_fragment("filler", interface("x")),
		Err(AmlError::IdMismatch { .. })
	));
}

#[test]
fn structural_paths_are_used_for_id_less_containers_in_snippets() {
	let records = parse_snippet(
		r#"<InstanceHierarchy Name="Line2"><InternalElement Name="A" ID="a"/></InstanceHierarchy>"#
			.as_bytes(),
		Some("/CAEXFile"),
		Some(HIERARCHY),
	)
	.unwrap();
	assert_eq!(records[0].id, "/CAEXFile/InstanceHierarchy[Line2]");
	assert_eq!(records[1].parent.as_deref(), Some("/CAEXFile/InstanceHierarchy[Line2]"));
	let mut tree = plant();
	for record in records {
		tree.insert_record(record).unwrap();
	}
	assert_eq!(child_ids(&tree, "/CAEXFile"), [HIERARCHY, "/CAEXFile/InstanceHierarchy[Line2]"]);
}

/// CAEX 3.0 in the CAEX namespace, with a prefixed attribute.
const NAMESPACED: &str = r#"<CAEXFile SchemaVersion="3.0" FileName="n.aml" xmlns="http://www.dke.de/CAEX" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<InstanceHierarchy Name="Plant" ID="ih">
		<InternalElement Name="Tank" ID="tank">
			<Attribute Name="Volume" xsi:type="Measure" />
		</InternalElement>
	</InstanceHierarchy>
</CAEXFile>"#;

#[test]
fn namespaced_fragments_stand_alone_and_export_unchanged() {
	let tree = AmlTree::parse_str(NAMESPACED).unwrap();
	let tank = tree.get("tank").unwrap().fragment().as_str();
	assert!(tank.contains(r#"xmlns="http://www.dke.de/CAEX""#), "{tank}");
	assert!(tank.contains(r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#), "{tank}");
	assert_eq!(tree.get("tank").unwrap().parent().unwrap().id(), "ih");
	// The copied declarations are dropped again where the binding is in scope.
	assert_eq!(tree.to_xml_string().unwrap(), NAMESPACED);
}

#[test]
fn snippet_without_namespace_inherits_the_documents() {
	let mut tree = AmlTree::parse_str(NAMESPACED).unwrap();
	tree.insert(
		"pump",
		Some("ih"),
		Some("tank"),
		Fragment::parse(r#"<InternalElement Name="Pump" ID="pump"/>"#).unwrap(),
	)
	.unwrap();
	let expected = NAMESPACED.replace(
		"\t</InstanceHierarchy>",
		"<InternalElement Name=\"Pump\" ID=\"pump\"/></InstanceHierarchy>",
	);
	assert_same_element_tree(&expected, &tree.to_xml_string().unwrap());
}

#[test]
fn prefixed_caex_round_trips() {
	let doc = r#"<caex:CAEXFile xmlns:caex="http://www.dke.de/CAEX" SchemaVersion="3.0"><caex:InstanceHierarchy Name="P"><caex:InternalElement Name="T" ID="t"/></caex:InstanceHierarchy></caex:CAEXFile>"#;
	let tree = AmlTree::parse_str(doc).unwrap();
	let fragment = tree.get("t").unwrap().fragment().as_str();
	assert_eq!(
		fragment,
		r#"<caex:InternalElement Name="T" ID="t" xmlns:caex="http://www.dke.de/CAEX"/>"#
	);
	assert_eq!(tree.to_xml_string().unwrap(), doc);
}

#[test]
fn elements_between_child_nodes_become_fillers_and_keep_their_place() {
	// Not schema-valid CAEX, but the order must survive: Attribute, IE, Note, IE, Note.
	let doc = r#"<CAEXFile><InstanceHierarchy Name="P"><InternalElement ID="a"><Attribute Name="x"/><InternalElement ID="b"/><!-- dropped --><Note>1</Note><Note>2</Note><InternalElement ID="c"/><Note>3</Note></InternalElement></InstanceHierarchy></CAEXFile>"#;
	let tree = AmlTree::parse_str(doc).unwrap();
	assert_eq!(child_ids(&tree, "a"), ["b", "a/Note", "a/Note#2", "c"]);
	let exported = tree.to_xml_string().unwrap();
	assert_same_element_tree(doc, &exported);
	assert!(!exported.contains("dropped"));
}

#[test]
fn appending_in_document_order_rebuilds_the_document() {
	let tree = plant();
	let mut rebuilt = AmlTree::new(tree.header().clone());
	for record in tree.records() {
		rebuilt
			.append_child(&record.id, record.parent.as_deref(), record.fragment)
			.unwrap();
	}
	assert_eq!(rebuilt.to_xml_string().unwrap(), PLANT);
	assert!(matches!(
		rebuilt.append_child("x", Some("nowhere"), interface("x")),
		Err(AmlError::UnknownParent { .. })
	));
}
