//! Every real AML file of the example corpus (`docs/examples/aml`) survives import and
//! export as the same element tree.

mod common;

use std::fs;

use common::{assert_same_element_tree, example_files, parse_file};
use dt_aml::{AmlTree, Fragment};

#[test]
fn every_example_file_round_trips_as_an_element_tree() {
	for path in example_files() {
		let original = fs::read_to_string(&path).unwrap();
		let tree = parse_file(&path);
		let exported = tree.to_xml_string().unwrap();
		assert_same_element_tree(&original, &exported);
		println!(
			"{}: {} nodes, export byte-identical: {}",
			path.display(),
			tree.len(),
			exported == original
		);
	}
}

#[test]
fn export_is_stable_under_reimport() {
	for path in example_files() {
		let tree = parse_file(&path);
		let exported = tree.to_xml_string().unwrap();
		let again = AmlTree::parse_str(&exported).unwrap();
		assert_eq!(
			tree.records().collect::<Vec<_>>(),
			again.records().collect::<Vec<_>>(),
			"{}: re-importing the export gives other nodes",
			path.display()
		);
		assert_eq!(again.to_xml_string().unwrap(), exported, "{}", path.display());
	}
}

#[test]
fn pretty_printed_files_come_back_byte_for_byte() {
	// The example files are consistently indented, so the layout heuristics reproduce them
	// exactly; this guards the layout, the element-tree test above guards the content.
	for path in example_files() {
		let original = fs::read_to_string(&path).unwrap();
		let exported = parse_file(&path).to_xml_string().unwrap();
		assert_eq!(exported, original, "{}", path.display());
	}
}

#[test]
fn every_fragment_stands_alone() {
	for path in example_files() {
		let tree = parse_file(&path);
		for node in tree.iter() {
			let fragment = node.fragment();
			let reparsed = Fragment::parse(fragment.as_str())
				.unwrap_or_else(|e| panic!("{}: fragment of {}: {e}", path.display(), node.id()));
			assert_eq!(&reparsed, fragment);
			match fragment.id() {
				Some(id) => assert_eq!(id, node.id()),
				None => {
					assert!(node.id().contains('/'), "structural ID {} is not a path", node.id())
				},
			}
		}
	}
}

#[test]
fn every_id_carrying_element_is_a_node() {
	for path in example_files() {
		let original = fs::read_to_string(&path).unwrap();
		let tree = parse_file(&path);
		let ids_in_file = original.matches(" ID=\"").count();
		let id_nodes = tree.iter().filter(|node| !node.is_structural()).count();
		assert_eq!(id_nodes, ids_in_file, "{}", path.display());
	}
}
