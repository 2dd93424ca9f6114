//! # Twin specification pallet
//!
//! A Digital Twin on a dt-ledger chain starts as the AutomationML (AML) description of its
//! asset. This pallet keeps that description as a tree of elements, not as one string: every
//! element with an `ID` (and every structural container, see `docs/aml-element-tree.md`) is
//! one entry keyed by `(twin, element id)`, holding its parent, its siblings and its own XML
//! fragment without its child elements. Inserting or removing an element therefore touches
//! only the element and its neighbours, whatever the size of the document; each element
//! carries its own confidentiality level and change history; and the whole document is
//! re-assembled, at any block, by the [`runtime_api::TwinSpecApi`] and the node's
//! `twin_getAml` RPC.
//!
//! Parsing AML files happens off chain (the `dt-aml` crate splits a document into elements);
//! the runtime trusts none of it: every fragment is checked by
//! [`dt_primitives::aml_fragment::validate_fragment`] (well-formed, a single root, its `ID`
//! equal to the given id, no ID-carrying child, size bounds), and every placement is checked
//! against the stored tree.
//!
//! ## Creating a twin
//!
//! Any member of the consortium creates a twin with [`Pallet::create_twin`], giving the
//! document's header (the text around the root element) and its elements in document order,
//! all at once or, for large files, the first chunk; [`Pallet::import_elements`] adds the next
//! chunks, and the chunk flagged `complete` ends the import. The creator becomes the twin's
//! Owner (see the access pallet's default roles). Until the import is complete only the
//! creator can add to the twin and nobody can edit it.
//!
//! ## Changing the specification
//!
//! - [`Pallet::insert_element`]: a new element as first child of its parent or right after
//!   a given sibling.
//! - [`Pallet::insert_elements`]: several new elements below one parent in one transaction,
//!   all or none (an AML snippet of nested elements, or a run of siblings): authorized once,
//!   at that parent, and charged per element far less than as many insertions.
//! - [`Pallet::remove_element`]: an element with its whole subtree (and the programs and
//!   sources attached to them). The caller states the subtree's size as a witness, so the
//!   call is weighed before it runs; a larger subtree is refused before more elements than
//!   the witness are read. No element has more than [`Config::MaxChildrenPerElement`]
//!   children.
//! - [`Pallet::replace_fragment`]: an element's own XML; its `ID` stays.
//! - [`Pallet::set_element_confidentiality`]: an element's confidentiality level.
//!
//! Each change is authorized by the twin's access control ([`Config::Authorize`]):
//! writing the specification at the element (inserts: at the parent), which a role may hold
//! for a subtree only; setting confidentiality needs access management. The pallet walks up
//! from the element once per call and hands its ancestors to the access control, so a
//! caller's permissions scoped to subtrees cost no further reads. The walk reads one entry
//! per level: an insertion, a removal and a fragment replacement are charged for an element
//! at [`Config::MaxTreeDepth`] before they run and for the depth of the element they
//! changed afterwards, so shallow edits, the common ones, leave their unused weight to the
//! block. Every change also needs clearance for the element: its level and its ancestors'
//! (a removal: every level in the subtree), as document writes do; nobody changes what they
//! may not read. Each change is an event naming the twin, the element and the author, and
//! each element records its version, its last change and the block of the change before, so
//! its history can be walked back block by block on an archive node.
//!
//! The document's header may hold only a byte order mark, the XML declaration, closed
//! comments and whitespace ([`dt_primitives::aml_fragment::validate_prolog`]).
//!
//! ## External data sources and program declarations
//!
//! - [`Pallet::add_external_source`] / [`Pallet::remove_external_source`]: a URI with a
//!   description and kind, attached to the twin or one element.
//! - [`Pallet::declare_program`] / [`Pallet::remove_program`]: a program the device offers on
//!   an element, with its parameters, types and safety bounds (which the client derives from
//!   the AML's attribute constraints of the element `described_by`). Program calls are
//!   checked against them. Declaring needs its own permission, `DeclarePrograms` (the
//!   owner's and the manufacturer's by default): operating a plant, which includes writing
//!   its specification and calling its programs, does not include setting its safety
//!   envelope. A declaration is anchored to `described_by`: while it stands, changing that
//!   element's fragment or removing it needs `DeclarePrograms` too, so its AML keeps saying
//!   what was declared. Every declaration, and every re-declaration that may change the
//!   bounds, is an event.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod runtime_api;
mod specification;
mod tree;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` a member of the consortium, so the twin's access control recognises it.
	fn make_member(who: &AccountId);

	/// Makes `who` (a member) the costliest caller of a specification change on `twin` that
	/// holds `roles` roles: each with the most permissions, specification writes scoped
	/// elsewhere but for the role checked last, which may write at `scope` and below, read
	/// everything, declare programs, add external sources and manage access.
	fn make_writer(
		twin: dt_primitives::access::TwinId,
		who: &AccountId,
		scope: &dt_primitives::access::ElementId,
		roles: u32,
	);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use dt_primitives::{
		access::{
			AccessDenied, Action, Authorize, Confidentiality, ElementId, ProgramName, TwinId,
		},
		aml_fragment::{
			validate_epilog, validate_fragment, validate_prolog, FragmentId, MAX_FRAGMENT_LEN,
		},
		program::{check_parameters, ProgramParameters},
	};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Saturating;

	/// The storage layout this code reads and writes. A change to it comes with a migration
	/// (`VersionedMigration`) from the previous version, listed in the runtime.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The twins' access control.
		type Authorize: Authorize<Self::AccountId>;

		/// Largest element fragment, in bytes; at most the validator's own bound
		/// ([`dt_primitives::aml_fragment::MAX_FRAGMENT_LEN`]).
		#[pallet::constant]
		type MaxFragmentLength: Get<u32>;

		/// Longest document prolog or epilog, in bytes.
		#[pallet::constant]
		type MaxHeaderLength: Get<u32>;

		/// Most elements one create or import call can carry.
		#[pallet::constant]
		type MaxElementsPerCall: Get<u32>;

		/// Most elements one twin's specification can hold.
		#[pallet::constant]
		type MaxElementsPerTwin: Get<u32>;

		/// Deepest element nesting (the root has depth 0). Bounds the walk that checks a
		/// permission scoped to a subtree.
		#[pallet::constant]
		type MaxTreeDepth: Get<u32>;

		/// Most elements one remove call can take away (the element and its subtree).
		#[pallet::constant]
		type MaxRemovedElements: Get<u32>;

		/// Most child elements one element can have.
		#[pallet::constant]
		type MaxChildrenPerElement: Get<u32>;

		/// Longest external source URI, in bytes.
		#[pallet::constant]
		type MaxUriLength: Get<u32>;

		/// Longest external source description, in bytes.
		#[pallet::constant]
		type MaxDescriptionLength: Get<u32>;

		/// Most external sources of one twin.
		#[pallet::constant]
		type MaxSourcesPerTwin: Get<u32>;

		/// Most external sources attached to one element.
		#[pallet::constant]
		type MaxSourcesPerElement: Get<u32>;

		/// Most programs declared on one element.
		#[pallet::constant]
		type MaxProgramsPerElement: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Prepares accounts for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// The twins.
	#[pallet::storage]
	pub type Twins<T: Config> =
		StorageMap<_, Twox64Concat, TwinId, TwinInfo<T::AccountId, BlockNumberFor<T>>>;

	/// The id the next twin will get. Ids are never reused.
	#[pallet::storage]
	pub type NextTwinId<T: Config> = StorageValue<_, TwinId, ValueQuery>;

	/// The text around each twin's root element.
	#[pallet::storage]
	pub type DocumentHeaders<T: Config> =
		StorageMap<_, Twox64Concat, TwinId, DocumentHeader<T::MaxHeaderLength>>;

	/// The elements of every twin's specification: place in the tree and history.
	///
	/// Keyed by the hash of `(twin, element)` as a whole, not by twin first: every element of
	/// every twin lies in one evenly filled part of the state trie, so reaching an element
	/// costs the same in a small and in a large document.
	#[pallet::storage]
	pub type Elements<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		(TwinId, ElementId),
		ElementNode<T::AccountId, BlockNumberFor<T>>,
	>;

	/// The XML fragment of each element, keyed like [`Elements`].
	#[pallet::storage]
	pub type Fragments<T: Config> =
		StorageMap<_, Blake2_128Concat, (TwinId, ElementId), BoundedVec<u8, T::MaxFragmentLength>>;

	/// The external data sources of each twin.
	#[pallet::storage]
	pub type ExternalSources<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TwinId,
		Twox64Concat,
		SourceId,
		ExternalSource<T::AccountId, T::MaxUriLength, T::MaxDescriptionLength>,
	>;

	/// Which sources are attached to which element (so removing the element removes them).
	#[pallet::storage]
	pub type ElementSources<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, TwinId>,
			NMapKey<Blake2_128Concat, ElementId>,
			NMapKey<Twox64Concat, SourceId>,
		),
		(),
	>;

	/// The programs declared on each element.
	#[pallet::storage]
	pub type Programs<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, TwinId>,
			NMapKey<Blake2_128Concat, ElementId>,
			NMapKey<Blake2_128Concat, ProgramName>,
		),
		ProgramDeclaration<T::AccountId>,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A twin was created; its creator is its Owner.
		TwinCreated { twin: TwinId, creator: T::AccountId },
		/// Elements of a twin's document were imported; `complete` when the import ended.
		ElementsImported { twin: TwinId, count: u32, complete: bool },
		/// An element was inserted into a specification.
		ElementInserted {
			twin: TwinId,
			element: ElementId,
			parent: ElementId,
			author: T::AccountId,
		},
		/// An element was removed with its subtree (`removed` elements in all).
		ElementRemoved { twin: TwinId, element: ElementId, removed: u32, author: T::AccountId },
		/// An element and its subtree (`removed` elements in all) were replaced by the element
		/// `new`, at the same place in the tree (a replaced sensor, for example).
		ElementReplaced {
			twin: TwinId,
			old: ElementId,
			new: ElementId,
			removed: u32,
			author: T::AccountId,
		},
		/// An element's fragment was replaced; `version` is the element's new version.
		FragmentReplaced { twin: TwinId, element: ElementId, version: u32, author: T::AccountId },
		/// An element's confidentiality level was set.
		ConfidentialitySet {
			twin: TwinId,
			element: ElementId,
			level: Confidentiality,
			author: T::AccountId,
		},
		/// An external data source was added.
		ExternalSourceAdded {
			twin: TwinId,
			source: SourceId,
			element: Option<ElementId>,
			author: T::AccountId,
		},
		/// An external data source was removed.
		ExternalSourceRemoved { twin: TwinId, source: SourceId, author: T::AccountId },
		/// A program was declared on an element with its parameters and safety bounds, taken
		/// from the AML of `described_by`; `replaced` when it replaced a declaration of the
		/// same name, whose bounds it may have changed.
		ProgramDeclared {
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
			described_by: ElementId,
			replaced: bool,
			author: T::AccountId,
		},
		/// A program declaration was removed.
		ProgramRemoved {
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
			author: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No twin has this id.
		UnknownTwin,
		/// The twin's access control does not allow the caller this action.
		NotAuthorized,
		/// Twin ids are exhausted.
		TooManyTwins,
		/// The twin's document is still being imported; it cannot be edited yet.
		ImportInProgress,
		/// The twin's import is complete; use the editing calls.
		ImportNotInProgress,
		/// Only the twin's creator imports its document.
		NotImporter,
		/// The import was declared complete but the document has no root element.
		MissingRoot,
		/// The document already has a root element; every other element needs a parent.
		RootAlreadyExists,
		/// The root element cannot be placed after a sibling.
		RootWithSibling,
		/// An element with this id already exists in the twin.
		DuplicateElement,
		/// No element of the twin has this id.
		UnknownElement,
		/// The given parent is not an element of the twin.
		UnknownParent,
		/// The given previous sibling is not an element of the twin.
		UnknownSibling,
		/// The given previous sibling is not a child of the given parent.
		SiblingNotUnderParent,
		/// The fragment was rejected; the inner value says why.
		InvalidFragment(FragmentRejection),
		/// The header was rejected: the prolog may only hold a byte order mark, the XML
		/// declaration, closed comments and whitespace, the epilog only comments and
		/// whitespace. The inner value says why.
		InvalidHeader(HeaderRejection),
		/// The element would be nested deeper than `MaxTreeDepth`.
		TreeTooDeep,
		/// The twin would have more than `MaxElementsPerTwin` elements.
		TooManyElements,
		/// The root element cannot be removed.
		CannotRemoveRoot,
		/// The subtree has more elements than the stated witness (or than
		/// `MaxRemovedElements`).
		SubtreeLargerThanWitness,
		/// A URI must be printable ASCII without spaces and start with a scheme (`https:`).
		InvalidUri,
		/// A description must be UTF-8.
		InvalidDescription,
		/// The twin has `MaxSourcesPerTwin` external sources already.
		TooManySources,
		/// The element has `MaxSourcesPerElement` external sources already.
		TooManySourcesOnElement,
		/// The twin has no external source with this id.
		UnknownSource,
		/// A program name must be non-empty UTF-8.
		InvalidProgramName,
		/// The element has `MaxProgramsPerElement` programs already.
		TooManyPrograms,
		/// No program of this name is declared on the element.
		UnknownProgram,
		/// The program's parameters are inconsistent; the inner value says why.
		InvalidProgramDeclaration(DeclarationRejection),
		/// The caller may not read the element (its level or an ancestor's is above the
		/// caller's clearance), so it may not change it either.
		InsufficientClearance,
		/// The parent has `MaxChildrenPerElement` children already.
		TooManyChildren,
		/// The element describes a program declared outside the removed subtree; remove or
		/// re-declare that program first.
		DescribesDeclaredProgram,
		/// An insertion of several elements needs one element at least.
		NoElements,
		/// Each element inserted by one call goes under the call's parent or under an
		/// element the call inserted before it.
		ParentOutsideInsertion,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxFragmentLength::get() as usize <= MAX_FRAGMENT_LEN,
				"MaxFragmentLength exceeds what the fragment validator accepts"
			);
			assert!(T::MaxRemovedElements::get() > 0, "MaxRemovedElements must allow a removal");
			assert!(
				T::MaxChildrenPerElement::get() > 0,
				"MaxChildrenPerElement must allow a child"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates a twin from the header of its AML document and its first elements, in
		/// document order, the first being the root. `complete` ends the import; otherwise
		/// [`Pallet::import_elements`] adds the rest. The caller becomes the twin's Owner.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_twin(elements.len() as u32, total_fragment_len(elements)))]
		pub fn create_twin(
			origin: OriginFor<T>,
			header: DocumentHeader<T::MaxHeaderLength>,
			elements: BoundedVec<NewElement<T::MaxFragmentLength>, T::MaxElementsPerCall>,
			complete: bool,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			validate_prolog(&header.prolog)
				.and_then(|()| validate_epilog(&header.epilog))
				.map_err(|reason| Error::<T>::InvalidHeader(HeaderRejection(reason)))?;
			let twin = NextTwinId::<T>::get();
			let next = twin.checked_add(1).ok_or(Error::<T>::TooManyTwins)?;
			let now = frame_system::Pallet::<T>::block_number();
			let mut info = TwinInfo {
				creator: who.clone(),
				created_at: now,
				root: None,
				element_count: 0,
				importing: true,
				source_count: 0,
				next_source_id: 0,
			};
			T::Authorize::twin_created(twin, &who);
			// Roles count only for members of the consortium: an account outside it (which the
			// transaction pool refuses anyway) would create a twin nobody could manage.
			Self::authorize(twin, &who, Action::ManageAccess)?;
			Self::deposit_event(Event::TwinCreated { twin, creator: who.clone() });
			Self::import_chunk(twin, &mut info, &who, elements, complete)?;
			NextTwinId::<T>::put(next);
			DocumentHeaders::<T>::insert(twin, header);
			Twins::<T>::insert(twin, info);
			Ok(())
		}

		/// Adds the next elements of a twin's document, in document order, while its import
		/// is in progress. Only the creator imports; `complete` ends the import.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::import_elements(elements.len() as u32, total_fragment_len(elements)))]
		pub fn import_elements(
			origin: OriginFor<T>,
			twin: TwinId,
			elements: BoundedVec<NewElement<T::MaxFragmentLength>, T::MaxElementsPerCall>,
			complete: bool,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Twins::<T>::get(twin).ok_or(Error::<T>::UnknownTwin)?;
			ensure!(info.importing, Error::<T>::ImportNotInProgress);
			ensure!(info.creator == who, Error::<T>::NotImporter);
			Self::import_chunk(twin, &mut info, &who, elements, complete)?;
			Twins::<T>::insert(twin, info);
			Ok(())
		}

		/// Inserts an element as the first child of `parent` (`previous_sibling = None`) or
		/// right after `previous_sibling`, which must be a child of `parent`. Needs a
		/// specification write at `parent` and clearance for its level.
		///
		/// Charged for an element at the deepest level of the largest twin, by a writer holding
		/// the most roles, before dispatch; for the depth of the new element, the twin's size
		/// and the roles the writer holds after it.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::insert_element(
			T::MaxElementsPerTwin::get(),
			T::MaxTreeDepth::get(),
			fragment.len() as u32,
			T::Authorize::max_roles_held(),
		))]
		pub fn insert_element(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			parent: ElementId,
			previous_sibling: Option<ElementId>,
			fragment: BoundedVec<u8, T::MaxFragmentLength>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut info = Self::editable_twin(twin)?;
			let parent_node =
				Elements::<T>::get((twin, &parent)).ok_or(Error::<T>::UnknownParent)?;
			Self::authorize_write(twin, &who, &parent, &parent_node)?;
			let actual_weight = T::WeightInfo::insert_element(
				info.element_count.min(T::MaxElementsPerTwin::get()),
				charged_depth::<T>(parent_node.depth.saturating_add(1), 2),
				fragment.len() as u32,
				charged_roles::<T>(twin, &who),
			);
			let new = NewElement {
				id: element.clone(),
				parent: Some(parent.clone()),
				previous_sibling,
				fragment,
			};
			Self::insert(twin, &mut info, &who, new, ChangeKind::Inserted)?;
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ElementInserted { twin, element, parent, author: who });
			Ok(Some(actual_weight).into())
		}

		/// Inserts several elements at once, all or none: a run of siblings, a subtree, or
		/// both (an AML snippet of nested elements). Each element is placed as
		/// [`Pallet::insert_element`] would place it, in the given order; its parent is
		/// `parent` or an element inserted before it by this call. Needs a specification write
		/// at `parent` and clearance for its level, checked once: the new elements inherit
		/// `parent`'s level and lie inside any scope that covers it.
		///
		/// Charged before dispatch for `parent` at the deepest level and a writer holding the
		/// most roles; for `parent`'s depth and the roles the writer holds after it.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::insert_elements(
			elements.len() as u32,
			T::MaxTreeDepth::get(),
			total_fragment_len(elements),
			T::Authorize::max_roles_held(),
		))]
		pub fn insert_elements(
			origin: OriginFor<T>,
			twin: TwinId,
			parent: ElementId,
			elements: BoundedVec<NewElement<T::MaxFragmentLength>, T::MaxElementsPerCall>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			ensure!(!elements.is_empty(), Error::<T>::NoElements);
			let mut info = Self::editable_twin(twin)?;
			let parent_node =
				Elements::<T>::get((twin, &parent)).ok_or(Error::<T>::UnknownParent)?;
			Self::authorize_write(twin, &who, &parent, &parent_node)?;
			let actual_weight = T::WeightInfo::insert_elements(
				elements.len() as u32,
				charged_depth::<T>(parent_node.depth.saturating_add(1), 2),
				total_fragment_len(&elements),
				charged_roles::<T>(twin, &who),
			);
			let mut inserted = alloc::collections::BTreeSet::new();
			for element in elements {
				let element_parent = element.parent.clone().ok_or(Error::<T>::RootAlreadyExists)?;
				ensure!(
					element_parent == parent || inserted.contains(&element_parent),
					Error::<T>::ParentOutsideInsertion
				);
				let id = element.id.clone();
				Self::insert(twin, &mut info, &who, element, ChangeKind::Inserted)?;
				Self::deposit_event(Event::ElementInserted {
					twin,
					element: id.clone(),
					parent: element_parent,
					author: who.clone(),
				});
				inserted.insert(id);
			}
			Twins::<T>::insert(twin, info);
			Ok(Some(actual_weight).into())
		}

		/// Removes an element with its whole subtree, and the programs and sources attached
		/// to them. `subtree_size` is the number of elements removed (the element included),
		/// at least as the caller counts it; the call fails if the subtree is larger, having
		/// read no more elements than that. Needs a specification write at the element,
		/// clearance for every level in the subtree and above it, and the right to declare
		/// programs if an element of the subtree describes one.
		#[pallet::call_index(3)]
		#[pallet::weight(remove_weight::<T>(*subtree_size))]
		pub fn remove_element(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			subtree_size: u32,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut info = Self::editable_twin(twin)?;
			let node = Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			let path = Self::authorize_write(twin, &who, &element, &node)?;
			let witness = subtree_size.min(T::MaxRemovedElements::get());
			let subtree = Self::collect_subtree(twin, &element, &node, witness)?;
			Self::authorize_removal(twin, &who, &path, &subtree)?;
			let roles = charged_roles::<T>(twin, &who);
			let removal = Self::delete_subtree(twin, &mut info, &element, &node, subtree)?;
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ElementRemoved {
				twin,
				element,
				removed: removal.elements,
				author: who,
			});
			Ok(Some(removal.weight::<T>(node.depth, roles)).into())
		}

		/// Replaces an element's fragment. The new fragment carries the same `ID` (none for a
		/// structural element). Needs a specification write at the element and clearance for
		/// its level; if the element describes a declared program (its parameters and safety
		/// bounds come from this fragment), also the right to declare programs.
		///
		/// Charged for an element at the deepest level, by a writer holding the most roles,
		/// before dispatch; for the element's depth and the roles the writer holds after it.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::replace_fragment(
			T::MaxTreeDepth::get(),
			fragment.len() as u32,
			T::Authorize::max_roles_held(),
		))]
		pub fn replace_fragment(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			fragment: BoundedVec<u8, T::MaxFragmentLength>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::editable_twin(twin)?;
			let mut node =
				Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			Self::authorize_write(twin, &who, &element, &node)?;
			let actual_weight = T::WeightInfo::replace_fragment(
				charged_depth::<T>(node.depth, 1),
				fragment.len() as u32,
				charged_roles::<T>(twin, &who),
			);
			if node.describes_programs > 0 {
				Self::authorize(twin, &who, Action::DeclareProgram)?;
			}
			validate::<T>(&element, &fragment)?;
			Self::record_change(&mut node, &who, ChangeKind::FragmentReplaced);
			let version = node.version;
			Elements::<T>::insert((twin, &element), node);
			Fragments::<T>::insert((twin, &element), fragment);
			Self::deposit_event(Event::FragmentReplaced { twin, element, version, author: who });
			Ok(Some(actual_weight).into())
		}

		/// Sets the confidentiality level of one element (its children keep theirs; a reader
		/// sees an element only if cleared for it and for all its ancestors). Needs access
		/// management on the twin and clearance for the element's current level.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_element_confidentiality())]
		pub fn set_element_confidentiality(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			level: Confidentiality,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::editable_twin(twin)?;
			let mut node =
				Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			Self::authorize(twin, &who, Action::ManageAccess)?;
			Self::ensure_cleared(twin, &who, Self::path(twin, &node).level)?;
			node.confidentiality = level;
			Self::record_change(&mut node, &who, ChangeKind::ConfidentialitySet);
			Elements::<T>::insert((twin, &element), node);
			Self::deposit_event(Event::ConfidentialitySet { twin, element, level, author: who });
			Ok(())
		}

		/// References an external data source, for the whole twin (`element = None`) or one
		/// element (then the caller needs clearance for the element's level).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::add_external_source(uri.len() as u32, description.len() as u32))]
		pub fn add_external_source(
			origin: OriginFor<T>,
			twin: TwinId,
			element: Option<ElementId>,
			uri: BoundedVec<u8, T::MaxUriLength>,
			description: BoundedVec<u8, T::MaxDescriptionLength>,
			kind: SourceKind,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Twins::<T>::get(twin).ok_or(Error::<T>::UnknownTwin)?;
			let mut node = match &element {
				Some(element) => {
					Some(Elements::<T>::get((twin, element)).ok_or(Error::<T>::UnknownElement)?)
				},
				None => None,
			};
			Self::authorize(twin, &who, Action::AddExternalSource)?;
			if let Some(node) = &node {
				Self::ensure_cleared(twin, &who, Self::path(twin, node).level)?;
			}
			ensure!(uri_is_valid(&uri), Error::<T>::InvalidUri);
			ensure!(core::str::from_utf8(&description).is_ok(), Error::<T>::InvalidDescription);
			ensure!(info.source_count < T::MaxSourcesPerTwin::get(), Error::<T>::TooManySources);
			let source = info.next_source_id;
			info.next_source_id = source.checked_add(1).ok_or(Error::<T>::TooManySources)?;
			info.source_count += 1;
			if let (Some(element), Some(node)) = (&element, node.as_mut()) {
				ensure!(
					node.source_count < T::MaxSourcesPerElement::get(),
					Error::<T>::TooManySourcesOnElement
				);
				node.source_count += 1;
				Elements::<T>::insert((twin, element), &*node);
				ElementSources::<T>::insert((twin, element, source), ());
			}
			ExternalSources::<T>::insert(
				twin,
				source,
				ExternalSource {
					element: element.clone(),
					uri,
					description,
					kind,
					added_by: who.clone(),
				},
			);
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ExternalSourceAdded { twin, source, element, author: who });
			Ok(())
		}

		/// Removes an external data source. One attached to an element needs clearance for
		/// the element's level.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::remove_external_source())]
		pub fn remove_external_source(
			origin: OriginFor<T>,
			twin: TwinId,
			source: SourceId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Twins::<T>::get(twin).ok_or(Error::<T>::UnknownTwin)?;
			let removed =
				ExternalSources::<T>::get(twin, source).ok_or(Error::<T>::UnknownSource)?;
			let node = removed.element.as_ref().and_then(|element| {
				Elements::<T>::get((twin, element)).map(|node| (element.clone(), node))
			});
			Self::authorize(twin, &who, Action::AddExternalSource)?;
			if let Some((element, mut node)) = node {
				Self::ensure_cleared(twin, &who, Self::path(twin, &node).level)?;
				node.source_count = node.source_count.saturating_sub(1);
				Elements::<T>::insert((twin, &element), node);
				ElementSources::<T>::remove((twin, &element, source));
			}
			ExternalSources::<T>::remove(twin, source);
			info.source_count = info.source_count.saturating_sub(1);
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ExternalSourceRemoved { twin, source, author: who });
			Ok(())
		}

		/// Declares a program the device offers on `element`, with its parameters and their
		/// safety bounds, taken from the AML of `described_by` (often `element` itself); a
		/// declaration of the same name on the element is replaced. Needs the right to declare
		/// programs (not a specification write: operating a plant does not include setting its
		/// safety envelope) and clearance for both elements' levels. While the declaration
		/// stands, changing or removing `described_by` needs that right too.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::declare_program(parameters.len() as u32))]
		pub fn declare_program(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
			parameters: ProgramParameters,
			described_by: ElementId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::editable_twin(twin)?;
			let mut node =
				Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			let description =
				Elements::<T>::get((twin, &described_by)).ok_or(Error::<T>::UnknownElement)?;
			Self::authorize(twin, &who, Action::DeclareProgram)?;
			Self::ensure_cleared(twin, &who, Self::path(twin, &node).level)?;
			Self::ensure_cleared(twin, &who, Self::path(twin, &description).level)?;
			ensure!(
				!program.is_empty() && core::str::from_utf8(&program).is_ok(),
				Error::<T>::InvalidProgramName
			);
			check_parameters(&parameters).map_err(|reason| {
				Error::<T>::InvalidProgramDeclaration(DeclarationRejection(reason))
			})?;
			let key = (twin, element.clone(), program.clone());
			let replaced = Programs::<T>::get(&key);
			match &replaced {
				Some(old) => Self::release_description(twin, &old.described_by),
				None => {
					ensure!(
						node.program_count < T::MaxProgramsPerElement::get(),
						Error::<T>::TooManyPrograms
					);
					node.program_count += 1;
					Elements::<T>::insert((twin, &element), node);
				},
			}
			Elements::<T>::mutate((twin, &described_by), |description| {
				if let Some(description) = description {
					description.describes_programs.saturating_inc();
				}
			});
			Programs::<T>::insert(
				key,
				ProgramDeclaration {
					parameters,
					described_by: described_by.clone(),
					declared_by: who.clone(),
				},
			);
			Self::deposit_event(Event::ProgramDeclared {
				twin,
				element,
				program,
				described_by,
				replaced: replaced.is_some(),
				author: who,
			});
			Ok(())
		}

		/// Removes a program declaration. Needs the right to declare programs and clearance
		/// for the element's level.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::remove_program())]
		pub fn remove_program(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::editable_twin(twin)?;
			let mut node =
				Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			let key = (twin, element.clone(), program.clone());
			let declaration = Programs::<T>::get(&key).ok_or(Error::<T>::UnknownProgram)?;
			Self::authorize(twin, &who, Action::DeclareProgram)?;
			Self::ensure_cleared(twin, &who, Self::path(twin, &node).level)?;
			Programs::<T>::remove(key);
			node.program_count = node.program_count.saturating_sub(1);
			Elements::<T>::insert((twin, &element), node);
			// After writing `node`: the program may have been described by its own element.
			Self::release_description(twin, &declaration.described_by);
			Self::deposit_event(Event::ProgramRemoved { twin, element, program, author: who });
			Ok(())
		}
	}
	impl<T: Config> Pallet<T> {
		/// The twin, if it exists and its import is complete.
		pub(crate) fn editable_twin(
			twin: TwinId,
		) -> Result<TwinInfo<T::AccountId, BlockNumberFor<T>>, DispatchError> {
			let info = Twins::<T>::get(twin).ok_or(Error::<T>::UnknownTwin)?;
			ensure!(!info.importing, Error::<T>::ImportInProgress);
			Ok(info)
		}

		pub(crate) fn authorize(
			twin: TwinId,
			who: &T::AccountId,
			action: Action<'_>,
		) -> DispatchResult {
			T::Authorize::authorize(twin, who, action).map_err(|denied| match denied {
				AccessDenied::UnknownTwin => Error::<T>::UnknownTwin.into(),
				AccessDenied::NotPermitted => Error::<T>::NotAuthorized.into(),
			})
		}

		/// Checks that `who` may read data of `level` on `twin`: nobody changes what they may
		/// not read.
		pub(crate) fn ensure_cleared(
			twin: TwinId,
			who: &T::AccountId,
			level: Confidentiality,
		) -> DispatchResult {
			T::Authorize::authorize(twin, who, Action::Read(level)).map_err(|denied| match denied {
				AccessDenied::UnknownTwin => Error::<T>::UnknownTwin.into(),
				AccessDenied::NotPermitted => Error::<T>::InsufficientClearance.into(),
			})
		}

		/// Checks that `who` may change the specification at `element` (whose entry is
		/// `node`): a specification write there (one that may be scoped to a subtree above
		/// it) and clearance for its level and its ancestors'. Walks up the tree once, for
		/// both checks; returns what it found.
		pub(crate) fn authorize_write(
			twin: TwinId,
			who: &T::AccountId,
			element: &ElementId,
			node: &ElementNode<T::AccountId, BlockNumberFor<T>>,
		) -> Result<tree::ElementPath, DispatchError> {
			let path = Self::path(twin, node);
			Self::authorize(
				twin,
				who,
				Action::WriteSpecification { element, ancestors: &path.ancestors },
			)?;
			Self::ensure_cleared(twin, who, path.level)?;
			Ok(path)
		}

		/// Checks that `who` may remove `subtree` from below `path`: clearance for every level
		/// in it, and the right to declare programs if one of its elements describes a
		/// program.
		pub(crate) fn authorize_removal(
			twin: TwinId,
			who: &T::AccountId,
			path: &tree::ElementPath,
			subtree: &tree::Subtree<T>,
		) -> DispatchResult {
			if subtree.level > path.level {
				Self::ensure_cleared(twin, who, subtree.level)?;
			}
			if subtree.describes_programs {
				Self::authorize(twin, who, Action::DeclareProgram)?;
			}
			Ok(())
		}

		/// One program declaration less takes its parameters from `described_by`.
		pub(crate) fn release_description(twin: TwinId, described_by: &ElementId) {
			Elements::<T>::mutate((twin, described_by), |description| {
				if let Some(description) = description {
					description.describes_programs.saturating_dec();
				}
			});
		}

		fn import_chunk(
			twin: TwinId,
			info: &mut TwinInfo<T::AccountId, BlockNumberFor<T>>,
			who: &T::AccountId,
			elements: BoundedVec<NewElement<T::MaxFragmentLength>, T::MaxElementsPerCall>,
			complete: bool,
		) -> DispatchResult {
			let count = elements.len() as u32;
			for element in elements {
				Self::insert(twin, info, who, element, ChangeKind::Imported)?;
			}
			if complete {
				ensure!(info.root.is_some(), Error::<T>::MissingRoot);
				info.importing = false;
			}
			Self::deposit_event(Event::ElementsImported { twin, count, complete });
			Ok(())
		}

		/// Bookkeeping of a change to an existing element.
		fn record_change(
			node: &mut ElementNode<T::AccountId, BlockNumberFor<T>>,
			who: &T::AccountId,
			kind: ChangeKind,
		) {
			let now = frame_system::Pallet::<T>::block_number();
			if node.changed_at != now {
				node.previous_change_at = Some(node.changed_at);
			}
			node.changed_at = now;
			node.changed_by = who.clone();
			node.version = node.version.saturating_add(1);
			node.last_change = kind;
		}
	}

	/// Checks a fragment for the element `id`: an element with that `ID`, or a structural
	/// element without any.
	pub(crate) fn validate<T: Config>(id: &ElementId, fragment: &[u8]) -> DispatchResult {
		validate_fragment(fragment, FragmentId::ElementOrStructural(id))
			.map(|_| ())
			.map_err(|reason| Error::<T>::InvalidFragment(FragmentRejection(reason)).into())
	}

	/// Worst-case weight of removing `subtree_size` elements, or of refusing to because the
	/// subtree is larger.
	pub(crate) fn remove_weight<T: Config>(subtree_size: u32) -> Weight {
		let elements = subtree_size.clamp(1, T::MaxRemovedElements::get());
		tree::Removal {
			elements,
			programs: elements.saturating_mul(T::MaxProgramsPerElement::get()),
			sources: elements.saturating_mul(T::MaxSourcesPerElement::get()),
		}
		.weight::<T>(T::MaxTreeDepth::get(), T::Authorize::max_roles_held())
		.max(T::WeightInfo::remove_element_refused(elements))
	}

	/// The roles a change by `who` on `twin` is charged for: authorizing and clearing it
	/// read each role's permissions. Never below one, the fewest the benchmarks measure,
	/// nor above what the call was charged for before dispatch.
	pub(crate) fn charged_roles<T: Config>(twin: TwinId, who: &T::AccountId) -> u32 {
		let most = T::Authorize::max_roles_held();
		T::Authorize::roles_held(twin, who).clamp(1, most.max(1))
	}

	/// The depth a change at an element of `depth` is charged for: authorizing it walks up
	/// that many ancestors. Never below `lowest`, the smallest depth the call's benchmark
	/// measures, nor above `MaxTreeDepth`, what the call was charged before dispatch.
	pub(crate) fn charged_depth<T: Config>(depth: u32, lowest: u32) -> u32 {
		depth.max(lowest).min(T::MaxTreeDepth::get())
	}

	fn total_fragment_len<S: Get<u32>, E>(elements: &BoundedVec<NewElement<S>, E>) -> u32 {
		elements
			.iter()
			.map(|element| element.fragment.len() as u32)
			.fold(0, u32::saturating_add)
	}

	/// A URI: printable ASCII without spaces, starting with a scheme (`letter *(letter /
	/// digit / + / - / .) ":"`).
	fn uri_is_valid(uri: &[u8]) -> bool {
		let Some(colon) = uri.iter().position(|byte| *byte == b':') else { return false };
		let scheme = &uri[..colon];
		scheme.first().is_some_and(u8::is_ascii_alphabetic)
			&& scheme.iter().all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(byte))
			&& uri.len() > colon + 1
			&& uri.iter().all(|byte| byte.is_ascii_graphic())
	}
}
