//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use dt_aml::{first_difference, AmlTree};

/// `shared/aml`, which lies beside the repository root (locally and in CI alike).
pub fn shared_aml_dir() -> PathBuf {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/aml");
	assert!(dir.is_dir(), "shared AML test files not found at {}", dir.display());
	dir
}

/// All `.aml` files in `shared/aml`, sorted.
pub fn shared_aml_files() -> Vec<PathBuf> {
	let mut files: Vec<PathBuf> = std::fs::read_dir(shared_aml_dir())
		.expect("shared/aml is readable")
		.map(|entry| entry.expect("directory entry").path())
		.filter(|path| path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("aml")))
		.collect();
	files.sort();
	assert!(!files.is_empty(), "no .aml files in shared/aml");
	files
}

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
