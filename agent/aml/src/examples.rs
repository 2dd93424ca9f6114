//! The AML example corpus that ships with the repository (`docs/examples/aml`): real files
//! from public AutomationML sources, with their licenses and a README saying where each
//! comes from. The tests of every crate find it here, so none looks outside the work tree;
//! users find the same files there to try `dt twin create` on.

use std::path::PathBuf;

/// The folder holding the example files, `docs/examples/aml` in the repository.
pub fn corpus_dir() -> PathBuf {
	PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/aml"))
}

/// One example file by name, e.g. `example_file("CandyFactory.aml")`.
///
/// Panics when the file is missing: the corpus is part of the repository, so a missing
/// file is a broken checkout, not a condition a test should step around.
pub fn example_file(name: &str) -> PathBuf {
	let path = corpus_dir().join(name);
	assert!(
		path.is_file(),
		"the example AML file {} is missing from the repository",
		path.display()
	);
	path
}

/// Every `.aml` file directly in the corpus folder, sorted by name. Files kept apart in
/// subfolders (documents that the reader refuses as they are, such as `duplicate-ids/`)
/// are not included.
///
/// Panics when the folder cannot be read or holds no AML file, for the reason above.
pub fn example_files() -> Vec<PathBuf> {
	let dir = corpus_dir();
	let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
		.unwrap_or_else(|e| panic!("the example AML folder {}: {e}", dir.display()))
		.map(|entry| entry.expect("a directory entry of the example AML folder").path())
		.filter(|path| path.is_file())
		.filter(|path| path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("aml")))
		.collect();
	files.sort();
	assert!(!files.is_empty(), "no .aml files in {}", dir.display());
	files
}
