//! IDs for structural nodes: elements without an `ID` attribute that still must be nodes.
//!
//! Such an element (the root, an `InstanceHierarchy` or class library without ID, ...) gets
//! a readable, path-like ID derived from its parent node's ID, its qualified name and its
//! CAEX `Name`: `/CAEXFile`, `/CAEXFile/InstanceHierarchy[Plant]`,
//! `e47a5b4c-.../RoleRequirements`. The path mirrors CAEX's own class paths, so users can
//! guess it, and a leading `/` or an embedded `/` keeps it apart from real (GUID) IDs. If the
//! path is already taken (two unnamed siblings), `#2`, `#3`, ... is appended. The ID is never
//! written into the document; it only keys the node.

use std::collections::HashMap;

/// Hands out unique structural IDs for one parse.
#[derive(Default)]
pub(crate) struct SyntheticIds {
	/// Next numeric suffix to try per path, so many same-named siblings stay O(1) each.
	next_suffix: HashMap<String, u64>,
}

impl SyntheticIds {
	/// A fresh ID for an element named `qname` (CAEX `Name` attribute `name`) under the node
	/// `parent_id`; `taken` tells whether an ID is already in use.
	pub(crate) fn allocate(
		&mut self,
		parent_id: Option<&str>,
		qname: &str,
		name: Option<&str>,
		taken: impl Fn(&str) -> bool,
	) -> String {
		let path = structural_path(parent_id, qname, name);
		if !taken(&path) && !self.next_suffix.contains_key(&path) {
			self.next_suffix.insert(path.clone(), 2);
			return path;
		}
		let counter = self.next_suffix.entry(path.clone()).or_insert(2);
		loop {
			let candidate = format!("{path}#{counter}");
			*counter += 1;
			if !taken(&candidate) {
				return candidate;
			}
		}
	}
}

/// `parent/qname[name]`, or `/qname[name]` for the root.
pub fn structural_path(parent_id: Option<&str>, qname: &str, name: Option<&str>) -> String {
	let mut path = String::with_capacity(parent_id.map_or(0, str::len) + qname.len() + 16);
	path.push_str(parent_id.unwrap_or(""));
	path.push('/');
	path.push_str(qname);
	if let Some(name) = name {
		path.push('[');
		path.push_str(name);
		path.push(']');
	}
	path
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn paths_follow_parent_and_name() {
		let mut ids = SyntheticIds::default();
		let none = |_: &str| false;
		assert_eq!(ids.allocate(None, "CAEXFile", None, none), "/CAEXFile");
		assert_eq!(
			ids.allocate(Some("/CAEXFile"), "InstanceHierarchy", Some("Plant"), none),
			"/CAEXFile/InstanceHierarchy[Plant]"
		);
		assert_eq!(
			ids.allocate(Some("ab-12"), "RoleRequirements", None, none),
			"ab-12/RoleRequirements"
		);
	}

	#[test]
	fn repeated_paths_get_suffixes() {
		let mut ids = SyntheticIds::default();
		let none = |_: &str| false;
		assert_eq!(ids.allocate(Some("p"), "X", None, none), "p/X");
		assert_eq!(ids.allocate(Some("p"), "X", None, none), "p/X#2");
		assert_eq!(ids.allocate(Some("p"), "X", None, none), "p/X#3");
		// A path already used by a real ID is skipped too.
		assert_eq!(ids.allocate(Some("q"), "Y", None, |id| id == "q/Y" || id == "q/Y#2"), "q/Y#3");
	}
}
