//! The element tree: nodes keyed by ID, linked to parent and siblings.
//!
//! The chain stores per node only (parent, previous sibling, fragment). Here each node also
//! knows its next sibling and first/last child, so that every edit touches a constant number
//! of nodes: insert links one node after its previous sibling, remove unlinks one node and
//! drops its subtree, replace swaps one fragment. Nothing is ever proportional to the size
//! of the document, only to the size of a removed subtree.
//!
//! Nodes live in an arena (a `Vec` with a free list) and link by index, so a node costs a few
//! machine words besides its ID and fragment, and walking the tree needs no recursion: deep
//! documents cannot overflow the stack.

use std::collections::HashMap;

use crate::error::{AmlError, Result};
use crate::fragment::Fragment;

/// What surrounds the root element in the document: everything before it (UTF-8 BOM, XML
/// declaration, comments, whitespace; no DOCTYPE or other processing instruction, which the
/// reader refuses) and everything after it (comments, whitespace), kept verbatim.
///
/// This is the "document header" the chain keeps beside the nodes; the root element itself
/// is a node like any other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentHeader {
	pub prolog: String,
	pub epilog: String,
}

/// One node as the chain stores it: the arguments of an insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
	pub id: String,
	pub parent: Option<String>,
	pub previous_sibling: Option<String>,
	pub fragment: Fragment,
}

type Index = u32;

#[derive(Debug)]
struct Entry {
	id: String,
	parent: Option<Index>,
	previous: Option<Index>,
	next: Option<Index>,
	first_child: Option<Index>,
	last_child: Option<Index>,
	fragment: Fragment,
}

/// An AML document as a tree of ID-keyed nodes; see the crate docs for what a node is.
#[derive(Debug, Default)]
pub struct AmlTree {
	header: DocumentHeader,
	entries: Vec<Option<Entry>>,
	free: Vec<Index>,
	by_id: HashMap<String, Index>,
	root: Option<Index>,
}

impl AmlTree {
	/// An empty tree (no root yet) with the given header.
	pub fn new(header: DocumentHeader) -> AmlTree {
		AmlTree { header, ..AmlTree::default() }
	}

	pub fn header(&self) -> &DocumentHeader {
		&self.header
	}

	pub fn set_header(&mut self, header: DocumentHeader) {
		self.header = header;
	}

	/// Number of nodes.
	pub fn len(&self) -> usize {
		self.by_id.len()
	}

	pub fn is_empty(&self) -> bool {
		self.by_id.is_empty()
	}

	pub fn contains(&self, id: &str) -> bool {
		self.by_id.contains_key(id)
	}

	pub fn get(&self, id: &str) -> Option<NodeRef<'_>> {
		self.by_id.get(id).map(|&index| NodeRef { tree: self, index })
	}

	/// The root element's node.
	pub fn root(&self) -> Option<NodeRef<'_>> {
		self.root.map(|index| NodeRef { tree: self, index })
	}

	/// All nodes in document order (parents before children, siblings in order).
	pub fn iter(&self) -> DocumentOrder<'_> {
		DocumentOrder { tree: self, next: self.root, stop_at: None }
	}

	/// All nodes as chain records, in an order in which inserting them one by one into an
	/// empty tree rebuilds this tree.
	pub fn records(&self) -> impl Iterator<Item = NodeRecord> + '_ {
		self.iter().map(|node| node.to_record())
	}

	/// Inserts a node as child of `parent`, right after `previous_sibling` (or as first child
	/// when `None`). Without a parent the node becomes the root, which needs an empty tree.
	pub fn insert(
		&mut self,
		id: &str,
		parent: Option<&str>,
		previous_sibling: Option<&str>,
		fragment: Fragment,
	) -> Result<()> {
		if self.by_id.contains_key(id) {
			return Err(AmlError::DuplicateId { id: id.to_string() });
		}
		if let Some(found) = fragment.id() {
			if found != id {
				return Err(AmlError::IdMismatch {
					id: id.to_string(),
					found: Some(found.to_string()),
				});
			}
		}
		let parent_index = match parent {
			Some(parent) => Some(*self.by_id.get(parent).ok_or_else(|| {
				AmlError::UnknownParent { id: id.to_string(), parent: parent.to_string() }
			})?),
			None => None,
		};
		let after = match previous_sibling {
			Some(sibling) => {
				let index =
					*self.by_id.get(sibling).ok_or_else(|| AmlError::UnknownPreviousSibling {
						id: id.to_string(),
						previous_sibling: sibling.to_string(),
					})?;
				if parent_index.is_none() || self.entry(index).parent != parent_index {
					return Err(AmlError::SiblingNotUnderParent {
						id: id.to_string(),
						previous_sibling: sibling.to_string(),
						parent: parent.map(str::to_string),
					});
				}
				Some(index)
			},
			None => None,
		};
		if parent_index.is_none() {
			if let Some(root) = self.root {
				return Err(AmlError::RootExists {
					id: id.to_string(),
					root: self.entry(root).id.clone(),
				});
			}
		}
		let index = self.allocate(id.to_string(), parent_index, fragment)?;
		self.link(index, parent_index, after);
		Ok(())
	}

	/// Inserts a node as the last child of `parent` (as the root when `None`). Appending the
	/// nodes of a document in document order, as the chain's `twin_elements` runtime API
	/// returns them, rebuilds the document; a sibling left out (e.g. one the reader may not
	/// see) leaves no gap.
	pub fn append_child(
		&mut self,
		id: &str,
		parent: Option<&str>,
		fragment: Fragment,
	) -> Result<()> {
		let previous_sibling = match parent {
			Some(parent) => self
				.get(parent)
				.ok_or_else(|| AmlError::UnknownParent {
					id: id.to_string(),
					parent: parent.to_string(),
				})?
				.last_child()
				.map(|last| last.id().to_string()),
			None => None,
		};
		self.insert(id, parent, previous_sibling.as_deref(), fragment)
	}

	/// Inserts a record as produced by [`Self::records`] or [`crate::parse_snippet`].
	pub fn insert_record(&mut self, record: NodeRecord) -> Result<()> {
		self.insert(
			&record.id,
			record.parent.as_deref(),
			record.previous_sibling.as_deref(),
			record.fragment,
		)
	}

	/// Removes a node with its whole subtree; returns the removed IDs in document order
	/// (the chain deletes exactly these entries).
	pub fn remove(&mut self, id: &str) -> Result<Vec<String>> {
		let top =
			*self.by_id.get(id).ok_or_else(|| AmlError::UnknownNode { id: id.to_string() })?;
		let subtree: Vec<Index> = DocumentOrder { tree: self, next: Some(top), stop_at: Some(top) }
			.map(|node| node.index)
			.collect();
		self.unlink(top);
		let mut removed = Vec::with_capacity(subtree.len());
		for index in subtree {
			if let Some(entry) = self.entries.get_mut(index as usize).and_then(Option::take) {
				self.by_id.remove(&entry.id);
				self.free.push(index);
				removed.push(entry.id);
			}
		}
		Ok(removed)
	}

	/// Replaces a node's fragment and returns the old one. The new fragment must carry the
	/// same ID attribute as the old one (none for a structural node).
	pub fn replace_fragment(&mut self, id: &str, fragment: Fragment) -> Result<Fragment> {
		let index =
			*self.by_id.get(id).ok_or_else(|| AmlError::UnknownNode { id: id.to_string() })?;
		let entry = self.entry_mut(index);
		if fragment.id() != entry.fragment.id() {
			return Err(AmlError::IdMismatch {
				id: id.to_string(),
				found: fragment.id().map(str::to_string),
			});
		}
		Ok(std::mem::replace(&mut entry.fragment, fragment))
	}

	// ---- building blocks for the document reader -------------------------------------------

	/// Adds a node as last child of `parent` with an empty fragment, filled in later by
	/// [`Self::set_fragment`] once the element's end has been read. Returns `None` if the ID
	/// is taken.
	pub(crate) fn open_node(&mut self, id: String, parent: Option<Index>) -> Result<Option<Index>> {
		if self.by_id.contains_key(&id) {
			return Ok(None);
		}
		let after = match parent {
			Some(parent) => self.entry(parent).last_child,
			None => None,
		};
		let index = self.allocate(id, parent, Fragment::default())?;
		self.link(index, parent, after);
		Ok(Some(index))
	}

	pub(crate) fn set_fragment(&mut self, index: Index, fragment: Fragment) {
		self.entry_mut(index).fragment = fragment;
	}

	pub(crate) fn id_of(&self, index: Index) -> &str {
		&self.entry(index).id
	}

	// ---- arena and links -------------------------------------------------------------------

	fn allocate(&mut self, id: String, parent: Option<Index>, fragment: Fragment) -> Result<Index> {
		let entry = Entry {
			id: id.clone(),
			parent,
			previous: None,
			next: None,
			first_child: None,
			last_child: None,
			fragment,
		};
		let index = match self.free.pop() {
			Some(index) => {
				self.entries[index as usize] = Some(entry);
				index
			},
			None => {
				let index = Index::try_from(self.entries.len())
					.ok()
					.filter(|&i| i < Index::MAX)
					.ok_or_else(|| AmlError::InvalidFragment {
						reason: "too many nodes in one tree".into(),
					})?;
				self.entries.push(Some(entry));
				index
			},
		};
		self.by_id.insert(id, index);
		Ok(index)
	}

	/// Links `index` under `parent` right after `after` (first child if `None`).
	fn link(&mut self, index: Index, parent: Option<Index>, after: Option<Index>) {
		let Some(parent) = parent else {
			self.root = Some(index);
			return;
		};
		let next = match after {
			Some(after) => self.entry(after).next,
			None => self.entry(parent).first_child,
		};
		{
			let entry = self.entry_mut(index);
			entry.parent = Some(parent);
			entry.previous = after;
			entry.next = next;
		}
		match after {
			Some(after) => self.entry_mut(after).next = Some(index),
			None => self.entry_mut(parent).first_child = Some(index),
		}
		match next {
			Some(next) => self.entry_mut(next).previous = Some(index),
			None => self.entry_mut(parent).last_child = Some(index),
		}
	}

	fn unlink(&mut self, index: Index) {
		let (parent, previous, next) = {
			let entry = self.entry(index);
			(entry.parent, entry.previous, entry.next)
		};
		let Some(parent) = parent else {
			self.root = None;
			return;
		};
		match previous {
			Some(previous) => self.entry_mut(previous).next = next,
			None => self.entry_mut(parent).first_child = next,
		}
		match next {
			Some(next) => self.entry_mut(next).previous = previous,
			None => self.entry_mut(parent).last_child = previous,
		}
	}

	// Indices held in links always point at live entries (links are cleared before an entry is
	// freed), so these lookups cannot fail on any input.
	fn entry(&self, index: Index) -> &Entry {
		self.entries[index as usize].as_ref().expect("tree links point at live entries")
	}

	fn entry_mut(&mut self, index: Index) -> &mut Entry {
		self.entries[index as usize].as_mut().expect("tree links point at live entries")
	}
}

/// A node of an [`AmlTree`], borrowed.
#[derive(Clone, Copy)]
pub struct NodeRef<'t> {
	tree: &'t AmlTree,
	index: Index,
}

impl<'t> NodeRef<'t> {
	fn at(&self, index: Option<Index>) -> Option<NodeRef<'t>> {
		index.map(|index| NodeRef { tree: self.tree, index })
	}

	fn entry(&self) -> &'t Entry {
		self.tree.entry(self.index)
	}

	pub fn id(&self) -> &'t str {
		&self.entry().id
	}

	pub fn fragment(&self) -> &'t Fragment {
		&self.entry().fragment
	}

	/// True for elements that have no ID attribute and are nodes only because the tree needs
	/// them (see the crate docs); their ID is a path derived by the importer.
	pub fn is_structural(&self) -> bool {
		self.fragment().id().is_none()
	}

	pub fn parent(&self) -> Option<NodeRef<'t>> {
		self.at(self.entry().parent)
	}

	pub fn previous_sibling(&self) -> Option<NodeRef<'t>> {
		self.at(self.entry().previous)
	}

	pub fn next_sibling(&self) -> Option<NodeRef<'t>> {
		self.at(self.entry().next)
	}

	pub fn first_child(&self) -> Option<NodeRef<'t>> {
		self.at(self.entry().first_child)
	}

	pub fn last_child(&self) -> Option<NodeRef<'t>> {
		self.at(self.entry().last_child)
	}

	pub fn children(&self) -> impl Iterator<Item = NodeRef<'t>> + 't {
		std::iter::successors(self.first_child(), |node| node.next_sibling())
	}

	/// This node as a chain record.
	pub fn to_record(&self) -> NodeRecord {
		NodeRecord {
			id: self.id().to_string(),
			parent: self.parent().map(|p| p.id().to_string()),
			previous_sibling: self.previous_sibling().map(|p| p.id().to_string()),
			fragment: self.fragment().clone(),
		}
	}
}

impl std::fmt::Debug for NodeRef<'_> {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("NodeRef")
			.field("id", &self.id())
			.field("fragment", &self.fragment().as_str())
			.finish()
	}
}

/// Pre-order walk over a tree or one subtree, without recursion or a stack.
pub struct DocumentOrder<'t> {
	tree: &'t AmlTree,
	next: Option<Index>,
	/// Root of the walked subtree (`None`: the whole tree).
	stop_at: Option<Index>,
}

impl<'t> Iterator for DocumentOrder<'t> {
	type Item = NodeRef<'t>;

	fn next(&mut self) -> Option<NodeRef<'t>> {
		let current = self.next?;
		let entry = self.tree.entry(current);
		self.next = entry.first_child.or_else(|| {
			let mut at = current;
			loop {
				if Some(at) == self.stop_at {
					return None;
				}
				let here = self.tree.entry(at);
				if let Some(next) = here.next {
					return Some(next);
				}
				at = here.parent?;
			}
		});
		Some(NodeRef { tree: self.tree, index: current })
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn fragment(id: &str) -> Fragment {
		Fragment::parse(&format!("<InternalElement ID=\"{id}\"/>")).unwrap()
	}

	fn tree_with_root() -> AmlTree {
		let mut tree = AmlTree::new(DocumentHeader::default());
		tree.insert("/CAEXFile", None, None, Fragment::parse("<CAEXFile/>").unwrap())
			.unwrap();
		tree
	}

	fn child_ids(tree: &AmlTree, id: &str) -> Vec<String> {
		tree.get(id).unwrap().children().map(|c| c.id().to_string()).collect()
	}

	#[test]
	fn insert_first_middle_last() {
		let mut tree = tree_with_root();
		tree.insert("b", Some("/CAEXFile"), None, fragment("b")).unwrap();
		tree.insert("a", Some("/CAEXFile"), None, fragment("a")).unwrap();
		tree.insert("d", Some("/CAEXFile"), Some("b"), fragment("d")).unwrap();
		tree.insert("c", Some("/CAEXFile"), Some("b"), fragment("c")).unwrap();
		assert_eq!(child_ids(&tree, "/CAEXFile"), ["a", "b", "c", "d"]);
		let c = tree.get("c").unwrap();
		assert_eq!(c.previous_sibling().unwrap().id(), "b");
		assert_eq!(c.next_sibling().unwrap().id(), "d");
		assert_eq!(tree.root().unwrap().last_child().unwrap().id(), "d");
	}

	#[test]
	fn insert_errors_name_the_offending_ids() {
		let mut tree = tree_with_root();
		tree.insert("a", Some("/CAEXFile"), None, fragment("a")).unwrap();
		tree.insert("x", Some("a"), None, fragment("x")).unwrap();
		assert!(matches!(
			tree.insert("a", Some("/CAEXFile"), None, fragment("a")),
			Err(AmlError::DuplicateId { id }) if id == "a"
		));
		assert!(matches!(
			tree.insert("b", Some("nope"), None, fragment("b")),
			Err(AmlError::UnknownParent { parent, .. }) if parent == "nope"
		));
		assert!(matches!(
			tree.insert("b", Some("/CAEXFile"), Some("nope"), fragment("b")),
			Err(AmlError::UnknownPreviousSibling { previous_sibling, .. }) if previous_sibling == "nope"
		));
		assert!(matches!(
			tree.insert("b", Some("/CAEXFile"), Some("x"), fragment("b")),
			Err(AmlError::SiblingNotUnderParent { previous_sibling, .. }) if previous_sibling == "x"
		));
		assert!(matches!(
			tree.insert("b", None, None, fragment("b")),
			Err(AmlError::RootExists { .. })
		));
		assert!(matches!(
			tree.insert("b", Some("/CAEXFile"), None, fragment("c")),
			Err(AmlError::IdMismatch { .. })
		));
		assert_eq!(tree.len(), 3);
	}

	#[test]
	fn remove_takes_the_subtree_and_relinks_siblings() {
		let mut tree = tree_with_root();
		tree.insert("a", Some("/CAEXFile"), None, fragment("a")).unwrap();
		tree.insert("b", Some("/CAEXFile"), Some("a"), fragment("b")).unwrap();
		tree.insert("c", Some("/CAEXFile"), Some("b"), fragment("c")).unwrap();
		tree.insert("b1", Some("b"), None, fragment("b1")).unwrap();
		tree.insert("b2", Some("b"), Some("b1"), fragment("b2")).unwrap();
		tree.insert("b11", Some("b1"), None, fragment("b11")).unwrap();
		assert_eq!(tree.remove("b").unwrap(), ["b", "b1", "b11", "b2"]);
		assert_eq!(child_ids(&tree, "/CAEXFile"), ["a", "c"]);
		assert_eq!(tree.get("c").unwrap().previous_sibling().unwrap().id(), "a");
		assert!(!tree.contains("b11"));
		assert!(matches!(tree.remove("b"), Err(AmlError::UnknownNode { .. })));
		// Freed slots are reused and the tree stays consistent.
		tree.insert("e", Some("a"), None, fragment("e")).unwrap();
		let order: Vec<_> = tree.iter().map(|n| n.id().to_string()).collect();
		assert_eq!(order, ["/CAEXFile", "a", "e", "c"]);
		assert_eq!(tree.remove("/CAEXFile").unwrap().len(), 4);
		assert!(tree.is_empty() && tree.root().is_none());
	}

	#[test]
	fn replace_fragment_keeps_the_id() {
		let mut tree = tree_with_root();
		tree.insert("a", Some("/CAEXFile"), None, fragment("a")).unwrap();
		let new = Fragment::parse("<InternalElement ID=\"a\" Name=\"renamed\"/>").unwrap();
		let old = tree.replace_fragment("a", new).unwrap();
		assert_eq!(old, fragment("a"));
		assert!(tree.get("a").unwrap().fragment().as_str().contains("renamed"));
		assert!(matches!(
			tree.replace_fragment("a", fragment("b")),
			Err(AmlError::IdMismatch { .. })
		));
		assert!(matches!(
			tree.replace_fragment("/CAEXFile", fragment("b")),
			Err(AmlError::IdMismatch { .. })
		));
	}

	#[test]
	fn records_rebuild_the_same_tree() {
		let mut tree = tree_with_root();
		tree.insert("a", Some("/CAEXFile"), None, fragment("a")).unwrap();
		tree.insert("a1", Some("a"), None, fragment("a1")).unwrap();
		tree.insert("b", Some("/CAEXFile"), Some("a"), fragment("b")).unwrap();
		let mut copy = AmlTree::new(DocumentHeader::default());
		for record in tree.records() {
			copy.insert_record(record).unwrap();
		}
		assert_eq!(copy.records().collect::<Vec<_>>(), tree.records().collect::<Vec<_>>());
	}
}
