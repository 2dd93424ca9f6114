//! The element tree in storage: linking elements in and out, walking subtrees, and reading
//! the document in document order.
//!
//! Every element stores its parent, both siblings and its first child, so inserting reads
//! and writes at most the parent, the previous and the next sibling, and removing touches
//! the removed subtree and its two neighbours: neither depends on the document's size.

use crate::{
	pallet::*, weights::WeightInfo, ChangeKind, ElementNode, ElementRecord, NewElement, TwinInfo,
};
use alloc::{collections::BTreeSet, vec::Vec};
use dt_primitives::access::{Action, Authorize, Confidentiality, ElementId, TwinId};
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

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
	/// The weight of this removal below an element at `depth`, by a caller holding `roles`
	/// roles on the twin.
	pub fn weight<T: Config>(&self, depth: u32, roles: u32) -> Weight {
		let db = T::DbWeight::get();
		T::WeightInfo::remove_element(
			T::MaxElementsPerTwin::get(),
			crate::charged_depth::<T>(depth, 1),
			self.elements,
			roles,
		)
		// A program is read and deleted, and the element describing it read and written;
		// a source is a read of its index and two writes.
		.saturating_add(db.reads_writes(
			self.programs.saturating_mul(2).into(),
			self.programs.saturating_mul(2).into(),
		))
		.saturating_add(db.reads_writes(self.sources.into(), self.sources.saturating_mul(2).into()))
	}
}

/// Where an element sits: what a change there is authorized and cleared against.
pub(crate) struct ElementPath {
	/// The elements above it, its parent first, the root last.
	pub ancestors: Vec<ElementId>,
	/// The highest confidentiality level of the element and its ancestors: a reader sees the
	/// element only with clearance for it.
	pub level: Confidentiality,
}

/// An element with its whole subtree, read before anything is removed.
pub(crate) struct Subtree<T: Config> {
	/// Every element of the subtree, the top one first.
	elements: Vec<(ElementId, Node<T>)>,
	/// The highest confidentiality level in the subtree.
	pub level: Confidentiality,
	/// Whether an element of the subtree describes a declared program.
	pub describes_programs: bool,
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
			child_count: 0,
			describes_programs: 0,
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
				ensure!(
					parent_node.child_count < T::MaxChildrenPerElement::get(),
					Error::<T>::TooManyChildren
				);
				parent_node.child_count += 1;
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
					None => parent_node.first_child.replace(id.clone()),
				};
				Elements::<T>::insert((twin, &parent), parent_node);
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

	/// The elements above `node` and the highest confidentiality level on the way up, read
	/// once: at most `MaxTreeDepth` reads.
	pub(crate) fn path(twin: TwinId, node: &Node<T>) -> ElementPath {
		let mut ancestors = Vec::with_capacity(node.depth as usize);
		let mut level = node.confidentiality;
		let mut current = node.parent.clone();
		while let Some(id) = current {
			if ancestors.len() as u32 >= T::MaxTreeDepth::get() {
				break;
			}
			let Some(ancestor) = Elements::<T>::get((twin, &id)) else { break };
			level = level.max(ancestor.confidentiality);
			current = ancestor.parent;
			ancestors.push(id);
		}
		ElementPath { ancestors, level }
	}

	/// Reads `element` (whose entry is `top`) and its subtree, reading only links and
	/// refusing, before it reads another element, once the subtree has `witness` elements
	/// and more lie below: a wrong witness costs no more than the removal it claimed.
	/// Changes nothing; the root cannot be removed.
	pub(crate) fn collect_subtree(
		twin: TwinId,
		element: &ElementId,
		top: &Node<T>,
		witness: u32,
	) -> Result<Subtree<T>, DispatchError> {
		ensure!(top.parent.is_some(), Error::<T>::CannotRemoveRoot);
		ensure!(witness > 0, Error::<T>::SubtreeLargerThanWitness);
		let mut subtree =
			Subtree { elements: Vec::new(), level: top.confidentiality, describes_programs: false };
		// Elements found so far: those collected and those waiting.
		let mut found: u32 = 1;
		let mut pending = Vec::new();
		pending.push((element.clone(), top.clone()));
		while let Some((id, node)) = pending.pop() {
			subtree.level = subtree.level.max(node.confidentiality);
			subtree.describes_programs |= node.describes_programs > 0;
			let mut child = node.first_child.clone();
			while let Some(child_id) = child {
				ensure!(found < witness, Error::<T>::SubtreeLargerThanWitness);
				let child_node =
					Elements::<T>::get((twin, &child_id)).ok_or(Error::<T>::UnknownElement)?;
				found += 1;
				child = child_node.next_sibling.clone();
				pending.push((child_id, child_node));
			}
			subtree.elements.push((id, node));
		}
		Ok(subtree)
	}

	/// Unlinks `element` (whose entry is `top`) and deletes it with its `subtree` (from
	/// [`Self::collect_subtree`]) and everything attached to them. Fails if an element of the
	/// subtree describes a program declared outside it, which would lose its description;
	/// the caller's storage transaction then undoes what was done.
	pub(crate) fn delete_subtree(
		twin: TwinId,
		info: &mut TwinInfo<T::AccountId, BlockNumberFor<T>>,
		element: &ElementId,
		top: &Node<T>,
		subtree: Subtree<T>,
	) -> Result<Removal, DispatchError> {
		let parent = top.parent.clone().ok_or(Error::<T>::CannotRemoveRoot)?;
		Elements::<T>::mutate((twin, &parent), |node| {
			if let Some(node) = node {
				node.child_count.saturating_dec();
				if top.previous_sibling.is_none() {
					node.first_child = top.next_sibling.clone();
				}
			}
		});
		if let Some(previous) = &top.previous_sibling {
			Elements::<T>::mutate((twin, previous), |node| {
				if let Some(node) = node {
					node.next_sibling = top.next_sibling.clone();
				}
			});
		}
		if let Some(next) = &top.next_sibling {
			Elements::<T>::mutate((twin, next), |node| {
				if let Some(node) = node {
					node.previous_sibling = top.previous_sibling.clone();
				}
			});
		}
		debug_assert!(subtree.elements.first().is_some_and(|(id, _)| id == element));

		let mut removal =
			Removal { elements: subtree.elements.len() as u32, programs: 0, sources: 0 };
		// Descriptions in the subtree that declarations still refer to; those declared in
		// the subtree go with it.
		let mut described: u32 = 0;
		let mut ids = BTreeSet::new();
		if subtree.describes_programs {
			for (id, node) in &subtree.elements {
				described = described.saturating_add(node.describes_programs);
				ids.insert(id.clone());
			}
		}
		for (id, node) in subtree.elements {
			if node.program_count > 0 {
				for (_, declaration) in Programs::<T>::drain_prefix((twin, &id)) {
					removal.programs += 1;
					if ids.contains(&declaration.described_by) {
						described.saturating_dec();
					} else {
						Self::release_description(twin, &declaration.described_by);
					}
				}
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
		ensure!(described == 0, Error::<T>::DescribesDeclaredProgram);
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
				described_by: declaration.described_by,
				declared_by: declaration.declared_by,
			})
			.collect()
	}
}
