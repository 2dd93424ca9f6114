//! Benchmarks of the twin-spec pallet.
//!
//! `insert_element` and `remove_element` are measured on twins of 10 up to 10,000 elements
//! (component `e`), to show that their cost does not grow with the document: the slope of
//! `e` must stay near zero (see `scripts/bench-spec-scaling.sh`). What a run leaves of it
//! (noise of a few nanoseconds per element) is charged for the twin's actual size. Every storage access costs
//! a little more as the whole state trie grows (logarithmically, for every pallet alike), so
//! these benchmarks keep the chain's state at the same size: another twin holds the
//! elements the measured twin does not have.
//!
//! Every change of an element is measured at its worst: the caller is the costliest writer
//! the access control can have (the most roles, each with the most permissions,
//! specification writes scoped elsewhere but for the role checked last), so every permission
//! is checked against every ancestor. `insert_element`, `remove_element` and
//! `replace_fragment` are measured over the number of such roles `r` as well: they are
//! charged for the most before dispatch and for the roles the caller holds after it. Authorizing a change walks up the element's ancestors
//! once; `insert_element`, `remove_element` and `replace_fragment` are measured over the
//! depth `d` of the element (the calls are charged for `MaxTreeDepth` before dispatch and
//! for the depth they found after it), the other calls at the deepest level the tree allows.

use super::*;
use crate::pallet::{Elements, Fragments, NextTwinId, Twins};
use crate::BenchmarkHelper;
use alloc::{format, string::String, vec, vec::Vec};
use dt_primitives::{
	access::{Authorize, Confidentiality, ElementId, ProgramName, TwinId},
	program::{
		ParameterDeclaration, ParameterText, ParameterType, ProgramParameters, MAX_ALLOWED_VALUES,
		MAX_PARAMETERS,
	},
};
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;

/// Most padding bytes a benchmark puts into a fragment.
const MAX_PADDING: u32 = 60_000;
/// Smallest and largest twin the size-independence benchmarks use.
const SMALL_TWIN: u32 = 10;
const LARGE_TWIN: u32 = 10_000;

fn element_id(text: &str) -> ElementId {
	ElementId::try_from(text.as_bytes().to_vec()).expect("benchmark ids are short")
}

/// `<InternalElement ID="id" Padding="xxx…"/>` with `padding` filler bytes.
fn element_fragment<S: Get<u32>>(id: &str, padding: u32) -> BoundedVec<u8, S> {
	let mut xml = format!(r#"<InternalElement Name="Machine" ID="{id}" Padding=""#).into_bytes();
	xml.extend(core::iter::repeat_n(b'x', padding as usize));
	xml.extend_from_slice(b"\"/>");
	xml.try_into().expect("MaxFragmentLength holds the benchmark's fragments")
}

fn root_fragment<S: Get<u32>>() -> BoundedVec<u8, S> {
	b"<CAEXFile FileName=\"bench.aml\"><?dt-children?></CAEXFile>"
		.to_vec()
		.try_into()
		.expect("short")
}

fn child_id(index: u32) -> ElementId {
	element_id(&format!("c-{index}"))
}

/// Writes a complete twin straight into storage: a root with `children` children in a row.
fn seed_twin<T: Config>(owner: &T::AccountId, children: u32) -> TwinId {
	T::BenchmarkHelper::make_member(owner);
	let twin = NextTwinId::<T>::get();
	NextTwinId::<T>::put(twin + 1);
	T::Authorize::twin_created(twin, owner);
	let now = frame_system::Pallet::<T>::block_number();
	let node = |parent: Option<ElementId>, previous, next, first_child, depth| {
		new_node::<T>(owner, parent, previous, next, first_child, depth)
	};
	let root = element_id("root");
	let first = (children > 0).then(|| child_id(0));
	let mut root_node = node(None, None, None, first, 0);
	root_node.child_count = children;
	Elements::<T>::insert((twin, &root), root_node);
	Fragments::<T>::insert((twin, &root), root_fragment::<T::MaxFragmentLength>());
	for index in 0..children {
		let id = child_id(index);
		let previous = index.checked_sub(1).map(child_id);
		let next = (index + 1 < children).then(|| child_id(index + 1));
		Elements::<T>::insert((twin, &id), node(Some(root.clone()), previous, next, None, 1));
		Fragments::<T>::insert(
			(twin, &id),
			element_fragment::<T::MaxFragmentLength>(&format!("c-{index}"), 0),
		);
	}
	Twins::<T>::insert(
		twin,
		TwinInfo {
			creator: owner.clone(),
			created_at: now,
			root: Some(root),
			element_count: children + 1,
			importing: false,
			source_count: 0,
			next_source_id: 0,
		},
	);
	DocumentHeaders::<T>::insert(twin, DocumentHeader::default());
	twin
}

fn new_node<T: Config>(
	owner: &T::AccountId,
	parent: Option<ElementId>,
	previous_sibling: Option<ElementId>,
	next_sibling: Option<ElementId>,
	first_child: Option<ElementId>,
	depth: u32,
) -> ElementNode<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>> {
	ElementNode {
		parent,
		previous_sibling,
		next_sibling,
		first_child,
		depth,
		confidentiality: Confidentiality::Internal,
		version: 1,
		last_change: ChangeKind::Imported,
		changed_at: frame_system::Pallet::<T>::block_number(),
		changed_by: owner.clone(),
		previous_change_at: None,
		program_count: 0,
		source_count: 0,
		child_count: 0,
		describes_programs: 0,
	}
}

fn chain_id(level: u32) -> ElementId {
	element_id(&format!("deep-{level}"))
}

/// Hangs a chain of elements below `top` (a child of the root, at depth 1) down to depth
/// `deepest`, each the only child of the one above; returns the deepest one (`top` itself
/// for a depth of 1).
fn deep_chain<T: Config>(
	owner: &T::AccountId,
	twin: TwinId,
	top: &ElementId,
	deepest: u32,
) -> ElementId {
	let mut parent = top.clone();
	for depth in 2..=deepest {
		let id = chain_id(depth);
		Elements::<T>::mutate((twin, &parent), |node| {
			if let Some(node) = node {
				node.first_child = Some(id.clone());
				node.child_count = 1;
			}
		});
		Elements::<T>::insert(
			(twin, &id),
			new_node::<T>(owner, Some(parent.clone()), None, None, None, depth),
		);
		Fragments::<T>::insert(
			(twin, &id),
			element_fragment::<T::MaxFragmentLength>(&format!("deep-{depth}"), 0),
		);
		parent = id;
	}
	Twins::<T>::mutate(twin, |info| {
		if let Some(info) = info {
			info.element_count += deepest.saturating_sub(1);
		}
	});
	parent
}

/// The costliest writer on `twin` (see the module docs), allowed to write at `scope` and
/// below.
fn costliest_writer<T: Config>(twin: TwinId, scope: &ElementId) -> T::AccountId {
	writer_with_roles::<T>(twin, scope, T::Authorize::max_roles_held())
}

/// The costliest writer on `twin` that holds `roles` roles, allowed to write at `scope` and
/// below.
fn writer_with_roles<T: Config>(twin: TwinId, scope: &ElementId, roles: u32) -> T::AccountId {
	let writer: T::AccountId = account("writer", 0, 0);
	T::BenchmarkHelper::make_member(&writer);
	T::BenchmarkHelper::make_writer(twin, &writer, scope, roles);
	writer
}

/// A document of `n` elements (a root and `n - 1` children) with `padding` extra bytes in
/// the root's first child (or the root).
fn document<T: Config>(
	n: u32,
	padding: u32,
) -> BoundedVec<NewElement<T::MaxFragmentLength>, T::MaxElementsPerCall> {
	let root = element_id("root");
	let mut elements = vec![NewElement {
		id: root.clone(),
		parent: None,
		previous_sibling: None,
		fragment: root_fragment::<T::MaxFragmentLength>(),
	}];
	for index in 0..n.saturating_sub(1) {
		let padding = if index == 0 { padding } else { 0 };
		elements.push(NewElement {
			id: child_id(index),
			parent: Some(root.clone()),
			previous_sibling: index.checked_sub(1).map(child_id),
			fragment: element_fragment::<T::MaxFragmentLength>(&format!("c-{index}"), padding),
		});
	}
	elements.try_into().expect("n is at most MaxElementsPerCall")
}

fn parameters(count: u32) -> ProgramParameters {
	(0..count)
		.map(|index| ParameterDeclaration {
			name: format!("parameter-{index}").into_bytes().try_into().expect("short"),
			kind: ParameterType::Integer,
			min: Some(0),
			max: Some(i128::from(MAX_ALLOWED_VALUES)),
			// Allowed values make the consistency check do the most work.
			allowed: (0..MAX_ALLOWED_VALUES)
				.map(|value| {
					ParameterText::try_from(format!("{value}").into_bytes()).expect("short")
				})
				.collect::<Vec<_>>()
				.try_into()
				.expect("MAX_ALLOWED_VALUES values"),
			unit: b"mm".to_vec().try_into().expect("short"),
		})
		.collect::<Vec<_>>()
		.try_into()
		.expect("at most MAX_PARAMETERS")
}

fn program_name() -> ProgramName {
	b"set-fill-volume".to_vec().try_into().expect("short")
}

fn id_text(id: &ElementId) -> String {
	String::from_utf8(id.to_vec()).expect("benchmark ids are UTF-8")
}

/// A small twin of the whitelisted caller with a chain of elements down to `depth` below its
/// first child: the twin, the chain's top and its deepest element.
fn deep_twin<T: Config>(depth: u32) -> (TwinId, ElementId, ElementId) {
	let owner: T::AccountId = whitelisted_caller();
	let twin = seed_twin::<T>(&owner, SMALL_TWIN);
	let top = child_id(0);
	let deepest = deep_chain::<T>(&owner, twin, &top, depth);
	(twin, top, deepest)
}

/// Declares the benchmarks' program with the most parameters on `element`, described by
/// `described_by`, as the twin's owner `owner`.
fn declare<T: Config>(
	owner: &T::AccountId,
	twin: TwinId,
	element: &ElementId,
	described_by: &ElementId,
) {
	Pallet::<T>::declare_program(
		RawOrigin::Signed(owner.clone()).into(),
		twin,
		element.clone(),
		program_name(),
		parameters(MAX_PARAMETERS),
		described_by.clone(),
	)
	.expect("the owner declares the program");
}

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_twin(n: Linear<1, { T::MaxElementsPerCall::get() }>, b: Linear<0, MAX_PADDING>) {
		let caller: T::AccountId = whitelisted_caller();
		T::BenchmarkHelper::make_member(&caller);
		let elements = document::<T>(n, b);
		let twin = NextTwinId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), DocumentHeader::default(), elements, true);

		assert_eq!(Twins::<T>::get(twin).map(|info| info.element_count), Some(n));
	}

	#[benchmark]
	fn import_elements(n: Linear<1, { T::MaxElementsPerCall::get() }>, b: Linear<0, MAX_PADDING>) {
		let caller: T::AccountId = whitelisted_caller();
		T::BenchmarkHelper::make_member(&caller);
		let twin = NextTwinId::<T>::get();
		Pallet::<T>::create_twin(
			RawOrigin::Signed(caller.clone()).into(),
			DocumentHeader::default(),
			Default::default(),
			false,
		)
		.expect("an empty import starts");
		let elements = document::<T>(n, b);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, elements, true);

		assert_eq!(Twins::<T>::get(twin).map(|info| info.element_count), Some(n));
	}

	/// Inserting at depth `d` (authorizing it walks up `d - 1` ancestors of the parent),
	/// between two siblings (both get relinked), as the costliest writer holding `r` roles.
	#[benchmark]
	fn insert_element(
		e: Linear<SMALL_TWIN, LARGE_TWIN>,
		d: Linear<2, { T::MaxTreeDepth::get() }>,
		b: Linear<0, MAX_PADDING>,
		r: Linear<1, { T::Authorize::max_roles_held() }>,
	) {
		let owner: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&owner, e.saturating_sub(d).max(1));
		seed_twin::<T>(&owner, LARGE_TWIN - e);
		let top = child_id(0);
		let previous = deep_chain::<T>(&owner, twin, &top, d);
		// The chain's deepest element's parent gets a second child; the new one goes between
		// them.
		let parent = Elements::<T>::get((twin, &previous))
			.and_then(|node| node.parent)
			.expect("the chain has two levels at least");
		let mut info = Twins::<T>::get(twin).expect("seeded");
		Pallet::<T>::insert(
			twin,
			&mut info,
			&owner,
			NewElement {
				id: element_id("after"),
				parent: Some(parent.clone()),
				previous_sibling: Some(previous.clone()),
				fragment: element_fragment::<T::MaxFragmentLength>("after", 0),
			},
			ChangeKind::Inserted,
		)
		.expect("room for a sibling");
		Twins::<T>::insert(twin, info);
		let caller = writer_with_roles::<T>(twin, &top, r);
		let fragment = element_fragment::<T::MaxFragmentLength>("new", b);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			twin,
			element_id("new"),
			parent.clone(),
			Some(previous),
			fragment,
		);

		assert_last_event::<T>(Event::ElementInserted {
			twin,
			element: element_id("new"),
			parent,
			author: caller,
		});
	}

	/// Inserting `n` elements in a row below a parent at depth `d - 1` (authorizing it walks
	/// up `d - 2` ancestors), each between two siblings (the one inserted before it and the
	/// parent's last child, both relinked), with `b` bytes of padding, as the costliest writer
	/// holding `r` roles.
	#[benchmark]
	fn insert_elements(
		n: Linear<1, { T::MaxElementsPerCall::get().min(T::MaxChildrenPerElement::get() - 2) }>,
		d: Linear<2, { T::MaxTreeDepth::get() }>,
		b: Linear<0, MAX_PADDING>,
		r: Linear<1, { T::Authorize::max_roles_held() }>,
	) {
		let owner: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&owner, LARGE_TWIN - d);
		let top = child_id(0);
		let parent = deep_chain::<T>(&owner, twin, &top, d - 1);
		let mut info = Twins::<T>::get(twin).expect("seeded");
		for (id, previous) in [("first", None), ("last", Some(element_id("first")))] {
			let placed = NewElement {
				id: element_id(id),
				parent: Some(parent.clone()),
				previous_sibling: previous,
				fragment: element_fragment::<T::MaxFragmentLength>(id, 0),
			};
			Pallet::<T>::insert(twin, &mut info, &owner, placed, ChangeKind::Inserted)
				.expect("room for two children");
		}
		Twins::<T>::insert(twin, info);
		let count_before = Twins::<T>::get(twin).expect("seeded").element_count;
		let caller = writer_with_roles::<T>(twin, &top, r);
		let new_id = |index: u32| element_id(&format!("new-{index}"));
		let elements: BoundedVec<_, T::MaxElementsPerCall> = (0..n)
			.map(|index| NewElement {
				id: new_id(index),
				parent: Some(parent.clone()),
				previous_sibling: Some(index.checked_sub(1).map_or(element_id("first"), new_id)),
				fragment: element_fragment::<T::MaxFragmentLength>(
					&format!("new-{index}"),
					if index == 0 { b } else { 0 },
				),
			})
			.collect::<Vec<_>>()
			.try_into()
			.expect("n is at most MaxElementsPerCall");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), twin, parent.clone(), elements);

		assert_eq!(Twins::<T>::get(twin).expect("seeded").element_count, count_before + n);
		assert_last_event::<T>(Event::ElementInserted {
			twin,
			element: new_id(n - 1),
			parent,
			author: caller,
		});
	}

	/// Removing an element at depth `d` (authorizing it walks up its `d` ancestors) with
	/// `n - 1` children, as the costliest writer holding `r` roles.
	#[benchmark]
	fn remove_element(
		e: Linear<SMALL_TWIN, LARGE_TWIN>,
		d: Linear<1, { T::MaxTreeDepth::get() - 1 }>,
		n: Linear<1, { T::MaxRemovedElements::get() }>,
		r: Linear<1, { T::Authorize::max_roles_held() }>,
	) {
		let owner: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&owner, e.saturating_sub(d + 1).max(1));
		seed_twin::<T>(&owner, LARGE_TWIN - e);
		let top = child_id(0);
		let deepest = deep_chain::<T>(&owner, twin, &top, d + 1);
		// The deepest element's parent, with `n - 1` children, so the subtree has `n`.
		let target = Elements::<T>::get((twin, &deepest))
			.and_then(|node| node.parent)
			.expect("the chain has two levels at least");
		Pallet::<T>::remove_element(RawOrigin::Signed(owner.clone()).into(), twin, deepest, 1)
			.expect("the owner removes a leaf");
		let mut previous = None;
		for index in 0..n - 1 {
			let id = format!("sub-{index}");
			Pallet::<T>::insert_element(
				RawOrigin::Signed(owner.clone()).into(),
				twin,
				element_id(&id),
				target.clone(),
				previous.clone(),
				element_fragment::<T::MaxFragmentLength>(&id, 0),
			)
			.expect("the subtree is built");
			previous = Some(element_id(&id));
		}
		let caller = writer_with_roles::<T>(twin, &top, r);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), twin, target.clone(), n);

		assert_last_event::<T>(Event::ElementRemoved {
			twin,
			element: target,
			removed: n,
			author: caller,
		});
	}

	/// Refusing to remove an element with more children than the witness of `n` elements
	/// claims: the refusal reads `n` elements, however many children there are, so the
	/// weight of a removal of `n` elements pays for it.
	#[benchmark]
	fn remove_element_refused(n: Linear<1, { T::MaxRemovedElements::get() }>) {
		let owner: T::AccountId = whitelisted_caller();
		let twin = seed_twin::<T>(&owner, SMALL_TWIN);
		let target = child_id(0);
		let children = T::MaxChildrenPerElement::get().min(n.saturating_add(SMALL_TWIN));
		let mut info = Twins::<T>::get(twin).expect("seeded");
		let mut previous = None;
		for index in 0..children {
			let id = format!("sub-{index}");
			Pallet::<T>::insert(
				twin,
				&mut info,
				&owner,
				NewElement {
					id: element_id(&id),
					parent: Some(target.clone()),
					previous_sibling: previous.clone(),
					fragment: element_fragment::<T::MaxFragmentLength>(&id, 0),
				},
				ChangeKind::Inserted,
			)
			.expect("room for the children");
			previous = Some(element_id(&id));
		}
		Twins::<T>::insert(twin, info);
		let caller = costliest_writer::<T>(twin, &target);

		#[block]
		{
			let refused = Pallet::<T>::remove_element(
				RawOrigin::Signed(caller).into(),
				twin,
				target.clone(),
				n,
			);
			assert!(refused.is_err());
		}

		assert!(Elements::<T>::contains_key((twin, &target)));
	}

	/// Replacing the fragment of an element at depth `d` (authorizing it walks up its `d`
	/// ancestors), which describes a declared program, as the costliest writer holding `r`
	/// roles.
	#[benchmark]
	fn replace_fragment(
		d: Linear<1, { T::MaxTreeDepth::get() }>,
		b: Linear<0, MAX_PADDING>,
		r: Linear<1, { T::Authorize::max_roles_held() }>,
	) {
		let (twin, top, deepest) = deep_twin::<T>(d);
		let owner: T::AccountId = whitelisted_caller();
		declare::<T>(&owner, twin, &deepest, &deepest);
		let caller = writer_with_roles::<T>(twin, &top, r);
		let fragment = element_fragment::<T::MaxFragmentLength>(&id_text(&deepest), b);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, deepest.clone(), fragment);

		assert_eq!(Elements::<T>::get((twin, deepest)).map(|node| node.version), Some(2));
	}

	/// Setting the level of the deepest element, as the costliest writer.
	#[benchmark]
	fn set_element_confidentiality() {
		let (twin, top, deepest) = deep_twin::<T>(T::MaxTreeDepth::get());
		let caller = costliest_writer::<T>(twin, &top);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, deepest.clone(), Confidentiality::Secret);

		assert_eq!(
			Elements::<T>::get((twin, deepest)).map(|node| node.confidentiality),
			Some(Confidentiality::Secret)
		);
	}

	#[benchmark]
	fn add_external_source(
		u: Linear<8, { T::MaxUriLength::get() }>,
		d: Linear<0, { T::MaxDescriptionLength::get() }>,
	) {
		let (twin, top, deepest) = deep_twin::<T>(T::MaxTreeDepth::get());
		let caller = costliest_writer::<T>(twin, &top);
		let mut uri = b"https://".to_vec();
		uri.resize(u as usize, b'a');
		let uri: BoundedVec<u8, T::MaxUriLength> = uri.try_into().expect("u is bounded");
		let description: BoundedVec<u8, T::MaxDescriptionLength> =
			vec![b'd'; d as usize].try_into().expect("d is bounded");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, Some(deepest), uri, description, SourceKind::Web);

		assert_eq!(ExternalSources::<T>::iter_prefix(twin).count(), 1);
	}

	/// Removing a source of the deepest element, as the costliest writer.
	#[benchmark]
	fn remove_external_source() {
		let (twin, top, deepest) = deep_twin::<T>(T::MaxTreeDepth::get());
		let owner: T::AccountId = whitelisted_caller();
		Pallet::<T>::add_external_source(
			RawOrigin::Signed(owner).into(),
			twin,
			Some(deepest),
			b"https://plant.example/level".to_vec().try_into().expect("short"),
			Default::default(),
			SourceKind::Web,
		)
		.expect("the source is added");
		let caller = costliest_writer::<T>(twin, &top);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, 0);

		assert_eq!(ExternalSources::<T>::iter_prefix(twin).count(), 0);
	}

	/// Re-declaring a program of the deepest element with `p` parameters, described by
	/// another element at the deepest level, as the costliest writer: both elements' levels
	/// are checked, and the old description is released.
	#[benchmark]
	fn declare_program(p: Linear<0, MAX_PARAMETERS>) {
		let (twin, top, deepest) = deep_twin::<T>(T::MaxTreeDepth::get());
		let owner: T::AccountId = whitelisted_caller();
		declare::<T>(&owner, twin, &deepest, &deepest);
		let sibling = element_id("deep-sibling");
		let parent = Elements::<T>::get((twin, &deepest)).and_then(|node| node.parent);
		Pallet::<T>::insert_element(
			RawOrigin::Signed(owner).into(),
			twin,
			sibling.clone(),
			parent.expect("the deepest element has a parent"),
			Some(deepest.clone()),
			element_fragment::<T::MaxFragmentLength>("deep-sibling", 0),
		)
		.expect("room for a sibling");
		let caller = costliest_writer::<T>(twin, &top);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			twin,
			deepest.clone(),
			program_name(),
			parameters(p),
			sibling.clone(),
		);

		assert_eq!(Elements::<T>::get((twin, &deepest)).map(|node| node.program_count), Some(1));
		assert_eq!(
			Elements::<T>::get((twin, &deepest)).map(|node| node.describes_programs),
			Some(0)
		);
		assert_eq!(
			Elements::<T>::get((twin, sibling)).map(|node| node.describes_programs),
			Some(1)
		);
	}

	/// Removing a program of the deepest element, as the costliest writer.
	#[benchmark]
	fn remove_program() {
		let (twin, top, deepest) = deep_twin::<T>(T::MaxTreeDepth::get());
		let owner: T::AccountId = whitelisted_caller();
		declare::<T>(&owner, twin, &deepest, &deepest);
		let caller = costliest_writer::<T>(twin, &top);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), twin, deepest.clone(), program_name());

		assert_eq!(Elements::<T>::get((twin, deepest)).map(|node| node.program_count), Some(0));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
