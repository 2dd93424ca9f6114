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
//! - [`Pallet::remove_element`]: an element with its whole subtree (and the programs and
//!   sources attached to them). The caller states the subtree's size as a witness, so the
//!   call is weighed before it runs.
//! - [`Pallet::replace_fragment`]: an element's own XML; its `ID` stays.
//! - [`Pallet::set_element_confidentiality`]: an element's confidentiality level.
//!
//! Each change is authorized by the twin's access control ([`Config::Authorize`]):
//! writing the specification at the element (inserts: at the parent), which a role may hold
//! for a subtree only; setting confidentiality needs access management. Each change is an
//! event naming the twin, the element and the author, and each element records its version,
//! its last change and the block of the change before, so its history can be walked back
//! block by block on an archive node.
//!
//! ## External data sources and program declarations
//!
//! - [`Pallet::add_external_source`] / [`Pallet::remove_external_source`]: a URI with a
//!   description and kind, attached to the twin or one element.
//! - [`Pallet::declare_program`] / [`Pallet::remove_program`]: a program the device offers on
//!   an element, with its parameters, types and safety bounds (which the client derives from
//!   the AML's attribute constraints). Program calls are checked against them.

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
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use dt_primitives::{
		access::{
			AccessDenied, Action, Authorize, Confidentiality, ElementId, ProgramName, TwinId,
		},
		aml_fragment::{validate_fragment, FragmentId, MAX_FRAGMENT_LEN},
		program::{check_parameters, ProgramParameters},
	};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
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
		/// A program was declared on an element (or its declaration replaced).
		ProgramDeclared {
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
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
		/// The header contains an element or is not UTF-8: it may only hold the XML
		/// declaration, comments, processing instructions, a DOCTYPE and whitespace.
		InvalidHeader,
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
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxFragmentLength::get() as usize <= MAX_FRAGMENT_LEN,
				"MaxFragmentLength exceeds what the fragment validator accepts"
			);
			assert!(T::MaxRemovedElements::get() > 0, "MaxRemovedElements must allow a removal");
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
			ensure!(
				header_is_valid(&header.prolog) && header_is_valid(&header.epilog),
				Error::<T>::InvalidHeader
			);
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
		/// right after `previous_sibling`, which must be a child of `parent`.
		#[pallet::call_index(2)]
		#[pallet::weight(
			T::WeightInfo::insert_element(T::MaxElementsPerTwin::get(), fragment.len() as u32)
				.saturating_add(scope_check_weight::<T>())
		)]
		pub fn insert_element(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			parent: ElementId,
			previous_sibling: Option<ElementId>,
			fragment: BoundedVec<u8, T::MaxFragmentLength>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::editable_twin(twin)?;
			ensure!(Elements::<T>::contains_key((twin, &parent)), Error::<T>::UnknownParent);
			Self::authorize(twin, &who, Action::WriteSpecification(&parent))?;
			let new = NewElement {
				id: element.clone(),
				parent: Some(parent.clone()),
				previous_sibling,
				fragment,
			};
			Self::insert(twin, &mut info, &who, new, ChangeKind::Inserted)?;
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ElementInserted { twin, element, parent, author: who });
			Ok(())
		}

		/// Removes an element with its whole subtree, and the programs and sources attached
		/// to them. `subtree_size` is the number of elements removed (the element included),
		/// at least as the caller counts it; the call fails if the subtree is larger.
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
			ensure!(Elements::<T>::contains_key((twin, &element)), Error::<T>::UnknownElement);
			Self::authorize(twin, &who, Action::WriteSpecification(&element))?;
			let witness = subtree_size.min(T::MaxRemovedElements::get());
			let removal = Self::remove_subtree(twin, &mut info, &element, witness)?;
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ElementRemoved {
				twin,
				element,
				removed: removal.elements,
				author: who,
			});
			Ok(Some(removal.weight::<T>()).into())
		}

		/// Replaces an element's fragment. The new fragment carries the same `ID` (none for a
		/// structural element).
		#[pallet::call_index(4)]
		#[pallet::weight(
			T::WeightInfo::replace_fragment(fragment.len() as u32)
				.saturating_add(scope_check_weight::<T>())
		)]
		pub fn replace_fragment(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			fragment: BoundedVec<u8, T::MaxFragmentLength>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::editable_twin(twin)?;
			let mut node =
				Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			Self::authorize(twin, &who, Action::WriteSpecification(&element))?;
			validate::<T>(&element, &fragment)?;
			Self::record_change(&mut node, &who, ChangeKind::FragmentReplaced);
			let version = node.version;
			Elements::<T>::insert((twin, &element), node);
			Fragments::<T>::insert((twin, &element), fragment);
			Self::deposit_event(Event::FragmentReplaced { twin, element, version, author: who });
			Ok(())
		}

		/// Sets the confidentiality level of one element (its children keep theirs; a reader
		/// sees an element only if cleared for it and for all its ancestors). Needs access
		/// management on the twin.
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
			node.confidentiality = level;
			Self::record_change(&mut node, &who, ChangeKind::ConfidentialitySet);
			Elements::<T>::insert((twin, &element), node);
			Self::deposit_event(Event::ConfidentialitySet { twin, element, level, author: who });
			Ok(())
		}

		/// References an external data source, for the whole twin (`element = None`) or one
		/// element.
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

		/// Removes an external data source.
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
			Self::authorize(twin, &who, Action::AddExternalSource)?;
			if let Some(element) = &removed.element {
				Elements::<T>::mutate((twin, element), |node| {
					if let Some(node) = node {
						node.source_count = node.source_count.saturating_sub(1);
					}
				});
				ElementSources::<T>::remove((twin, element, source));
			}
			ExternalSources::<T>::remove(twin, source);
			info.source_count = info.source_count.saturating_sub(1);
			Twins::<T>::insert(twin, info);
			Self::deposit_event(Event::ExternalSourceRemoved { twin, source, author: who });
			Ok(())
		}

		/// Declares a program the device offers on an element, with its parameters and their
		/// safety bounds; a declaration of the same name on the element is replaced.
		#[pallet::call_index(8)]
		#[pallet::weight(
			T::WeightInfo::declare_program(parameters.len() as u32)
				.saturating_add(scope_check_weight::<T>())
		)]
		pub fn declare_program(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
			parameters: ProgramParameters,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::editable_twin(twin)?;
			let mut node =
				Elements::<T>::get((twin, &element)).ok_or(Error::<T>::UnknownElement)?;
			Self::authorize(twin, &who, Action::WriteSpecification(&element))?;
			ensure!(
				!program.is_empty() && core::str::from_utf8(&program).is_ok(),
				Error::<T>::InvalidProgramName
			);
			check_parameters(&parameters).map_err(|reason| {
				Error::<T>::InvalidProgramDeclaration(DeclarationRejection(reason))
			})?;
			let key = (twin, element.clone(), program.clone());
			if !Programs::<T>::contains_key(&key) {
				ensure!(
					node.program_count < T::MaxProgramsPerElement::get(),
					Error::<T>::TooManyPrograms
				);
				node.program_count += 1;
				Elements::<T>::insert((twin, &element), node);
			}
			Programs::<T>::insert(key, ProgramDeclaration { parameters, declared_by: who.clone() });
			Self::deposit_event(Event::ProgramDeclared { twin, element, program, author: who });
			Ok(())
		}

		/// Removes a program declaration.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::remove_program().saturating_add(scope_check_weight::<T>()))]
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
			ensure!(Programs::<T>::contains_key(&key), Error::<T>::UnknownProgram);
			Self::authorize(twin, &who, Action::WriteSpecification(&element))?;
			Programs::<T>::remove(key);
			node.program_count = node.program_count.saturating_sub(1);
			Elements::<T>::insert((twin, &element), node);
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

	/// Extra weight for a permission scoped to a subtree: one read per ancestor at most.
	pub(crate) fn scope_check_weight<T: Config>() -> Weight {
		T::DbWeight::get().reads(T::MaxTreeDepth::get().into())
	}

	/// Worst-case weight of removing `subtree_size` elements.
	pub(crate) fn remove_weight<T: Config>(subtree_size: u32) -> Weight {
		let elements = subtree_size.clamp(1, T::MaxRemovedElements::get());
		tree::Removal {
			elements,
			programs: elements.saturating_mul(T::MaxProgramsPerElement::get()),
			sources: elements.saturating_mul(T::MaxSourcesPerElement::get()),
		}
		.weight::<T>()
	}

	fn total_fragment_len<S: Get<u32>, E>(elements: &BoundedVec<NewElement<S>, E>) -> u32 {
		elements
			.iter()
			.map(|element| element.fragment.len() as u32)
			.fold(0, u32::saturating_add)
	}

	/// The prolog and epilog are verbatim text around the root element: they may not hold an
	/// element (a second root) and must be UTF-8.
	fn header_is_valid(text: &[u8]) -> bool {
		core::str::from_utf8(text).is_ok()
			&& text
				.iter()
				.enumerate()
				.filter(|(_, byte)| **byte == b'<')
				.all(|(at, _)| matches!(text.get(at + 1), Some(b'?') | Some(b'!')))
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
