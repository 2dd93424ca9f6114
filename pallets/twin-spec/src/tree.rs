//! The element tree in storage: linking elements in and out, walking subtrees, and reading
//! the document in document order.
//!
//! Every element stores its parent, both siblings and its first child, so inserting reads
//! and writes at most the parent, the previous and the next sibling, and removing touches
//! the removed subtree and its two neighbours: neither depends on the document's size.

use crate::{
	pallet::*, weights::WeightInfo, ChangeKind, ElementNode, ElementRecord, NewElement, TwinInfo,
};
use alloc::vec::Vec;
use dt_primitives::access::{
	Action, Authorize, Confidentiality, ElementId, SpecificationTree, TwinId,
};
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;

/// Most fragment bytes one page of [`Pallet::elements_in_document_order`] returns (a page
/// always holds at least one element).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// What a removal took away, to weigh it after the fact.
pub(crate) struct Removal {
	pub elements: u32,
	pub programs: u32,
	pub sources: u32,
}

impl Removal {
	pub fn weight<T: Config>(&self) -> Weight {
		let db = T::DbWeight::get();
		T::WeightInfo::remove_element(T::MaxElementsPerTwin::get(), self.elements)
			.saturating_add(scope_check_weight::<T>())
			// A program is one write; a source is a read of its index and two writes.
			.saturating_add(db.writes(self.programs.into()))
			.saturating_add(
				db.reads_writes(self.sources.into(), self.sources.saturating_mul(2).into()),
			)
	}
}

/// What a reader may see of a specification.
enum Visibility {
	/// No reader given: the whole document.
	Everything,
	/// Public elements if `public`, others up to `clearance` (as `Authorize` decides reads).
	UpTo { public: bool, clearance: Option<Confidentiality> },
}

impl Visibility {
	fn allows(&self, level: Confidentiality) -> bool {
		match self {
			Visibility::Everything => true,
			Visibility::UpTo { public, .. } if level == Confidentiality::Public => *public,
			Visibility::UpTo { clearance, .. } => clearance.is_some_and(|cleared| level <= cleared),
		}
	}
}

type Node<T> = ElementNode<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
type Twin<T> = TwinInfo<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

impl<T: Config> Pallet<T> {
	/// Links a new element into the tree after checking its id, place and fragment.
	pub(crate) fn insert(
		twin: TwinId,
		info: &mut TwinInfo<T::AccountId, BlockNumberFor<T>>,
		who: &T::AccountId,
		element: NewElement<T::MaxFragmentLength>,
		kind: ChangeKind,
	) -> DispatchResult {
		let NewElement { id, parent, previous_sibling, fragment } = element;
		ensure!(!Elements::<T>::contains_key((twin, &id)), Error::<T>::DuplicateElement);
		ensure!(info.element_count < T::MaxElementsPerTwin::get(), Error::<T>::TooManyElements);
		validate::<T>(&id, &fragment)?;
		let now = frame_system::Pallet::<T>::block_number();
		let mut node = ElementNode {
			parent: parent.clone(),
			previous_sibling: previous_sibling.clone(),
			next_sibling: None,
			first_child: None,
			depth: 0,
			confidentiality: Default::default(),
			version: 1,
			last_change: kind,
			changed_at: now,
			changed_by: who.clone(),
			previous_change_at: None,
			program_count: 0,
			source_count: 0,
		};
		match parent {
			None => {
				ensure!(info.root.is_none(), Error::<T>::RootAlreadyExists);
				ensure!(previous_sibling.is_none(), Error::<T>::RootWithSibling);
				info.root = Some(id.clone());
			},
			Some(parent) => {
				let mut parent_node =
					Elements::<T>::get((twin, &parent)).ok_or(Error::<T>::UnknownParent)?;
				node.depth = parent_node.depth.saturating_add(1);
				ensure!(node.depth <= T::MaxTreeDepth::get(), Error::<T>::TreeTooDeep);
				// A new element inherits its parent's level: what sits inside a confidential
				// element is confidential too, unless someone decides otherwise.
				node.confidentiality = parent_node.confidentiality;
				node.next_sibling = match &previous_sibling {
					Some(sibling) => {
						let mut sibling_node = Elements::<T>::get((twin, sibling))
							.ok_or(Error::<T>::UnknownSibling)?;
						ensure!(
							sibling_node.parent.as_ref() == Some(&parent),
							Error::<T>::SiblingNotUnderParent
						);
						let next = sibling_node.next_sibling.replace(id.clone());
						Elements::<T>::insert((twin, sibling), sibling_node);
						next
					},
					None => {
						let next = parent_node.first_child.replace(id.clone());
						Elements::<T>::insert((twin, &parent), parent_node);
						next
					},
				};
				if let Some(next) = &node.next_sibling {
					Elements::<T>::mutate((twin, next), |next_node| {
						if let Some(next_node) = next_node {
							next_node.previous_sibling = Some(id.clone());
						}
					});
				}
			},
		}
		info.element_count += 1;
		Elements::<T>::insert((twin, &id), node);
		Fragments::<T>::insert((twin, &id), fragment);
		Ok(())
	}

	/// Unlinks `element` and deletes it with its subtree and everything attached to them.
	/// Fails, changing nothing, if the subtree has more than `witness` elements.
	pub(crate) fn remove_subtree(
		twin: TwinId,
		info: &mut TwinInfo<T::AccountId, BlockNumberFor<T>>,
		element: &ElementId,
		witness: u32,
	) -> Result<Removal, DispatchError> {
		let top = Elements::<T>::get((twin, element)).ok_or(Error::<T>::UnknownElement)?;
		let parent = top.parent.clone().ok_or(Error::<T>::CannotRemoveRoot)?;

		// Collect the subtree first, reading only links, so a wrong witness changes nothing.
		let mut subtree: Vec<(ElementId, Node<T>)> = Vec::new();
		let mut pending = Vec::new();
		pending.push((element.clone(), top.clone()));
		while let Some((id, node)) = pending.pop() {
			ensure!((subtree.len() as u32) < witness, Error::<T>::SubtreeLargerThanWitness);
			let mut child = node.first_child.clone();
			while let Some(child_id) = child {
				let child_node =
					Elements::<T>::get((twin, &child_id)).ok_or(Error::<T>::UnknownElement)?;
				child = child_node.next_sibling.clone();
				pending.push((child_id, child_node));
			}
			subtree.push((id, node));
		}

		match &top.previous_sibling {
			Some(previous) => Elements::<T>::mutate((twin, previous), |node| {
				if let Some(node) = node {
					node.next_sibling = top.next_sibling.clone();
				}
			}),
			None => Elements::<T>::mutate((twin, &parent), |node| {
				if let Some(node) = node {
					node.first_child = top.next_sibling.clone();
				}
			}),
		}
		if let Some(next) = &top.next_sibling {
			Elements::<T>::mutate((twin, next), |node| {
				if let Some(node) = node {
					node.previous_sibling = top.previous_sibling.clone();
				}
			});
		}

		let mut removal = Removal { elements: subtree.len() as u32, programs: 0, sources: 0 };
		for (id, node) in subtree {
			if node.program_count > 0 {
				let cleared = Programs::<T>::clear_prefix((twin, &id), node.program_count, None);
				removal.programs += cleared.unique;
			}
			if node.source_count > 0 {
				for source in
					ElementSources::<T>::drain_prefix((twin, &id)).map(|(source, ())| source)
				{
					ExternalSources::<T>::remove(twin, source);
					removal.sources += 1;
				}
			}
			Elements::<T>::remove((twin, &id));
			Fragments::<T>::remove((twin, &id));
		}
		info.element_count = info.element_count.saturating_sub(removal.elements);
		info.source_count = info.source_count.saturating_sub(removal.sources);
		Ok(removal)
	}

	/// What `reader` may see on `twin` (everything without a reader), asked of the access
	/// control once per page rather than once per element.
	fn visibility(twin: TwinId, reader: Option<&T::AccountId>) -> Visibility {
		match reader {
			None => Visibility::Everything,
			Some(reader) => Visibility::UpTo {
				public: T::Authorize::authorize(
					twin,
					reader,
					Action::Read(Confidentiality::Public),
				)
				.is_ok(),
				clearance: T::Authorize::clearance(twin, reader),
			},
		}
	}

	/// The element after `node` in document order; its subtree is skipped unless `descend`.
	fn next_in_document_order(
		twin: TwinId,
		node: &Node<T>,
		descend: bool,
	) -> Option<(ElementId, Node<T>)> {
		if descend {
			if let Some(child) = &node.first_child {
				return Elements::<T>::get((twin, child))
					.map(|child_node| (child.clone(), child_node));
			}
		}
		let mut current = node.clone();
		loop {
			if let Some(next) = &current.next_sibling {
				return Elements::<T>::get((twin, next)).map(|next_node| (next.clone(), next_node));
			}
			current = Elements::<T>::get((twin, current.parent.as_ref()?))?;
		}
	}

	/// Up to `limit` elements of a twin in document order, starting after `after` (from the
	/// root if `None`), with their fragments; at most about [`MAX_PAGE_BYTES`] of fragments.
	/// With a `reader`, elements it may not read are left out with their subtrees. Paging on
	/// from the last returned id continues the walk.
	pub fn elements_in_document_order(
		twin: TwinId,
		after: Option<ElementId>,
		limit: u32,
		reader: Option<T::AccountId>,
	) -> Vec<ElementRecord<T::AccountId, BlockNumberFor<T>>> {
		let visibility = Self::visibility(twin, reader.as_ref());
		let mut page = Vec::new();
		let mut next = match after {
			None => Twins::<T>::get(twin)
				.and_then(|info| info.root)
				.and_then(|root| Elements::<T>::get((twin, &root)).map(|node| (root, node))),
			Some(after) => Elements::<T>::get((twin, &after)).and_then(|node| {
				let descend = visibility.allows(node.confidentiality);
				Self::next_in_document_order(twin, &node, descend)
			}),
		};
		let mut bytes = 0usize;
		while let Some((id, node)) = next {
			if page.len() as u32 >= limit || (bytes >= MAX_PAGE_BYTES && !page.is_empty()) {
				break;
			}
			let visible = visibility.allows(node.confidentiality);
			next = Self::next_in_document_order(twin, &node, visible);
			if visible {
				let fragment =
					Fragments::<T>::get((twin, &id)).map(|f| f.into_inner()).unwrap_or_default();
				bytes += fragment.len();
				page.push(ElementRecord { id, node, fragment });
			}
		}
		page
	}

	/// One element with its fragment.
	pub fn element_record(
		twin: TwinId,
		id: ElementId,
	) -> Option<ElementRecord<T::AccountId, BlockNumberFor<T>>> {
		let node = Elements::<T>::get((twin, &id))?;
		let fragment = Fragments::<T>::get((twin, &id)).map(|f| f.into_inner()).unwrap_or_default();
		Some(ElementRecord { id, node, fragment })
	}
}

impl<T: Config> SpecificationTree for Pallet<T> {
	fn is_descendant(twin: TwinId, element: &ElementId, ancestor: &ElementId) -> bool {
		let Some(ancestor_depth) = Elements::<T>::get((twin, ancestor)).map(|node| node.depth)
		else {
			return false;
		};
		let mut current = Elements::<T>::get((twin, element)).and_then(|node| node.parent);
		while let Some(id) = current {
			if &id == ancestor {
				return true;
			}
			match Elements::<T>::get((twin, &id)) {
				Some(node) if node.depth > ancestor_depth => current = node.parent,
				_ => return false,
			}
		}
		false
	}
}

impl<T: Config> Pallet<T> {
	/// Every twin with its summary.
	pub fn twins() -> Vec<(TwinId, Twin<T>)> {
		Twins::<T>::iter().collect()
	}

	/// The prolog and epilog of a twin's document.
	pub fn document_header(twin: TwinId) -> Option<(Vec<u8>, Vec<u8>)> {
		DocumentHeaders::<T>::get(twin)
			.map(|header| (header.prolog.into_inner(), header.epilog.into_inner()))
	}

	/// The twin's external data sources.
	pub fn external_sources(twin: TwinId) -> Vec<crate::ExternalSourceRecord<T::AccountId>> {
		let mut sources: Vec<_> = ExternalSources::<T>::iter_prefix(twin).collect();
		sources.sort_by_key(|(id, _)| *id);
		sources
			.into_iter()
			.map(|(id, source)| crate::ExternalSourceRecord {
				id,
				element: source.element,
				uri: source.uri.into_inner(),
				description: source.description.into_inner(),
				kind: source.kind,
				added_by: source.added_by,
			})
			.collect()
	}

	/// The programs declared in the twin's specification.
	pub fn programs(twin: TwinId) -> Vec<crate::ProgramRecord<T::AccountId>> {
		Programs::<T>::iter_prefix((twin,))
			.map(|((element, name), declaration)| crate::ProgramRecord {
				element,
				name,
				parameters: declaration.parameters,
				declared_by: declaration.declared_by,
			})
			.collect()
	}
}
