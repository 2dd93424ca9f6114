//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use dt_aml::{first_difference, AmlTree};

// Not every test file lists the corpus.
#[allow(unused_imports)]
pub use dt_aml::examples::example_files;

pub fn parse_file(path: &PathBuf) -> AmlTree {
	let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	AmlTree::parse(BufReader::new(file)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Panics with the first structural difference between two documents.
pub fn assert_same_element_tree(expected: &str, actual: &str) {
	if let Some(difference) =
		first_difference(expected.as_bytes(), actual.as_bytes()).expect("both parse")
	{
		let shown: String = actual.chars().take(3000).collect();
		panic!("documents differ {difference}\n--- actual (start) ---\n{shown}");
	}
}

/// IDs of a node's children.
pub fn child_ids(tree: &AmlTree, id: &str) -> Vec<String> {
	tree.get(id)
		.unwrap_or_else(|| panic!("no node {id}"))
		.children()
		.map(|c| c.id().to_string())
		.collect()
}

#[allow(unused_imports)]
pub use dt_aml::generated::{plant as generated_plant, write_plant as write_generated_plant};
