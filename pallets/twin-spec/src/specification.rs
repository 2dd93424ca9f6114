//! What the pallets that refer to a twin's specification (documents, feeds, program calls)
//! ask of it: whether twins and elements exist, the programs an element declares, and the
//! replacement of one element by another, which a replaced sensor needs as one step.

use crate::{
	pallet::{remove_weight, Config, Elements, Error, Event, Pallet, Programs, Twins},
	ChangeKind, FragmentRejection, NewElement, WeightInfo,
};
use dt_primitives::{
	access::{Authorize, ElementId, ProgramName, TwinId},
	aml_fragment::FragmentError,
	program::ProgramParameters,
};
use frame_support::{pallet_prelude::*, BoundedVec};

impl<T: Config> Pallet<T> {
	/// Whether the twin exists (its import may still be running).
	pub fn twin_exists(twin: TwinId) -> bool {
		Twins::<T>::contains_key(twin)
	}

	/// Whether `twin`'s specification has an element with this id.
	pub fn element_exists(twin: TwinId, element: &ElementId) -> bool {
		Elements::<T>::contains_key((twin, element))
	}

	/// The parameters of the program `name` that `element` of `twin` declares.
	pub fn program_parameters(
		twin: TwinId,
		element: &ElementId,
		name: &ProgramName,
	) -> Option<ProgramParameters> {
		Programs::<T>::get((twin, element, name)).map(|program| program.parameters)
	}

	/// The weight of [`Self::replace_element`] removing at most `max_removed` elements and
	/// inserting a fragment of `fragment_len` bytes: a removal and an insertion, each with
	/// its authorization (measured at the deepest element, for a caller holding the most
	/// roles with the most permissions scoped to subtrees).
	pub fn replace_element_weight(max_removed: u32, fragment_len: u32) -> Weight {
		remove_weight::<T>(max_removed).saturating_add(T::WeightInfo::insert_element(
			T::MaxElementsPerTwin::get(),
			T::MaxTreeDepth::get(),
			fragment_len,
			T::Authorize::max_roles_held(),
		))
	}

	/// On behalf of `who`, replaces the element `old` and its subtree (at most `max_removed`
	/// elements) by the element `new` that `fragment` describes, at the same place: under
	/// `old`'s parent, after `old`'s previous sibling, with `old`'s confidentiality level.
	/// `who` needs a specification write at `old`, clearance for every level in its subtree
	/// and above it, and the right to declare programs if the subtree describes one (as for
	/// `remove_element`). Reads no more than `max_removed` elements of the subtree before it
	/// refuses a larger one. Returns how many elements were removed.
	///
	/// Changes nothing when it fails, provided the caller runs it in a storage transaction
	/// (every dispatchable does).
	pub fn replace_element(
		who: &T::AccountId,
		twin: TwinId,
		old: &ElementId,
		new: &ElementId,
		fragment: &[u8],
		max_removed: u32,
	) -> Result<u32, DispatchError> {
		let mut info = Self::editable_twin(twin)?;
		let node = Elements::<T>::get((twin, old)).ok_or(Error::<T>::UnknownElement)?;
		let parent = node.parent.clone().ok_or(Error::<T>::CannotRemoveRoot)?;
		let path = Self::authorize_write(twin, who, old, &node)?;
		let fragment: BoundedVec<u8, T::MaxFragmentLength> = fragment
			.to_vec()
			.try_into()
			.map_err(|_| Error::<T>::InvalidFragment(FragmentRejection(FragmentError::TooLong)))?;
		let witness = max_removed.min(T::MaxRemovedElements::get());
		let subtree = Self::collect_subtree(twin, old, &node, witness)?;
		Self::authorize_removal(twin, who, &path, &subtree)?;
		let removal = Self::delete_subtree(twin, &mut info, old, &node, subtree)?;
		let element = NewElement {
			id: new.clone(),
			parent: Some(parent),
			previous_sibling: node.previous_sibling.clone(),
			fragment,
		};
		Self::insert(twin, &mut info, who, element, ChangeKind::Inserted)?;
		// The new part does the old one's job: it keeps the level someone chose for it,
		// where an inserted element would take its parent's.
		Elements::<T>::mutate((twin, new), |inserted| {
			if let Some(inserted) = inserted {
				inserted.confidentiality = node.confidentiality;
			}
		});
		Twins::<T>::insert(twin, info);
		Self::deposit_event(Event::ElementReplaced {
			twin,
			old: old.clone(),
			new: new.clone(),
			removed: removal.elements,
			author: who.clone(),
		});
		Ok(removal.elements)
	}
}
