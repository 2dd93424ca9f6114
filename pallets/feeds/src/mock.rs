//! A test runtime with the real access pallet, a small fixed consortium and a small mock of
//! the twins' specifications.
//!
//! The mock specification keeps each twin's elements in storage (not in a static), so that
//! what a failed call changed in it is rolled back with the rest, as the twin-spec pallet's
//! storage is, and storage-root comparisons cover it.

use crate::{self as pallet_dt_feeds, SensorSpecification};
use codec::Encode;
use dt_primitives::access::TwinElements;
use dt_primitives::{
	access::{Action, Authorize, ElementId, Grantee, Role, TwinId},
	OrganisationId,
};
use frame_support::{
	derive_impl, storage::unhashed, traits::ConstU32, weights::Weight, BoundedVec,
};
use sp_runtime::{BuildStorage, DispatchError};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Access: pallet_dt_access,
		Feeds: pallet_dt_feeds,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Owns the twins; member of organisation 0.
pub const OWNER: u64 = 1;
/// Member of organisation 1; Maintainer of twin 0.
pub const MAINTAINER: u64 = 2;
/// Member of organisation 2; Auditor of twin 0.
pub const AUDITOR: u64 = 3;
/// Member of organisation 3, the plant's device agent; Device of twin 0.
pub const DEVICE: u64 = 4;
/// Member of organisation 1 without any role.
pub const BYSTANDER: u64 = 5;
/// Member of organisation 3, a second device account; Device of twin 0.
pub const NEW_DEVICE: u64 = 6;
/// An account of no organisation.
pub const OUTSIDER: u64 = 99;

/// The twin the tests work on, with access control and roles granted.
pub const TWIN: TwinId = 0;
/// A second twin, owned by [`OWNER`] only.
pub const OTHER_TWIN: TwinId = 1;
/// A twin nobody created.
pub const NO_TWIN: TwinId = 7;

pub const MAX_SCHEMA_LENGTH: u32 = 48;
pub const MAX_UNIT_LENGTH: u32 = 8;
pub const MAX_FEEDS_PER_TWIN: u32 = 5;
pub const MAX_FEEDS_PER_ELEMENT: u32 = 2;
pub const MAX_FRAGMENT_LENGTH: u32 = 256;
pub const MAX_REMOVED_ELEMENTS: u32 = 3;

/// How the mock specification refuses a replacement.
pub const SPEC_UNKNOWN_TWIN: DispatchError = DispatchError::Other("spec: unknown twin");
pub const SPEC_UNKNOWN_ELEMENT: DispatchError = DispatchError::Other("spec: unknown element");
pub const SPEC_CANNOT_REPLACE_ROOT: DispatchError = DispatchError::Other("spec: root");
pub const SPEC_NOT_AUTHORIZED: DispatchError = DispatchError::Other("spec: not authorized");
pub const SPEC_INVALID_FRAGMENT: DispatchError = DispatchError::Other("spec: invalid fragment");
pub const SPEC_WITNESS_TOO_SMALL: DispatchError = DispatchError::Other("spec: witness too small");
pub const SPEC_DUPLICATE_ID: DispatchError = DispatchError::Other("spec: duplicate id");

/// Who belongs to which organisation in this mock's consortium.
pub struct Members;
impl dt_pallet_test_support::Members for Members {
	const MEMBERS: &'static [(u64, OrganisationId)] =
		&[(OWNER, 0), (MAINTAINER, 1), (BYSTANDER, 1), (AUDITOR, 2), (DEVICE, 3), (NEW_DEVICE, 3)];
	const ORGANISATIONS: OrganisationId = 4;
}

pub type FixedConsortium = dt_pallet_test_support::FixedConsortium<Members>;

/// The specification twins 0 and 1 start with: `(element, parent)` in document order.
///
/// ```text
/// root
/// ├── filler
/// │   ├── fill-sensor
/// │   │   └── fill-sensor-port
/// │   └── valve
/// └── motor
/// ```
pub const ELEMENTS: [(&str, Option<&str>); 6] = [
	("root", None),
	("filler", Some("root")),
	("fill-sensor", Some("filler")),
	("fill-sensor-port", Some("fill-sensor")),
	("valve", Some("filler")),
	("motor", Some("root")),
];

/// A twin's elements with their parents, in document order.
type Tree = Vec<(ElementId, Option<ElementId>)>;

/// The twins' specifications, kept in storage under `mock-spec` and the twin id.
pub struct MockSpecification;

impl MockSpecification {
	fn key(twin: TwinId) -> Vec<u8> {
		(b"mock-spec", twin).encode()
	}

	/// The elements of `twin`, if it exists.
	pub fn tree(twin: TwinId) -> Option<Tree> {
		unhashed::get::<Vec<(Vec<u8>, Option<Vec<u8>>)>>(&Self::key(twin)).map(|tree| {
			tree.into_iter()
				.map(|(element, parent)| (bytes_id(element), parent.map(bytes_id)))
				.collect()
		})
	}

	/// Creates `twin` with these elements and its access control, owned by `owner`.
	pub fn create(twin: TwinId, owner: &u64, elements: &[(ElementId, Option<ElementId>)]) {
		Self::store(twin, elements);
		<Access as Authorize<u64>>::twin_created(twin, owner);
	}

	fn store(twin: TwinId, tree: &[(ElementId, Option<ElementId>)]) {
		let raw: Vec<(Vec<u8>, Option<Vec<u8>>)> = tree
			.iter()
			.map(|(element, parent)| (element.to_vec(), parent.as_ref().map(|p| p.to_vec())))
			.collect();
		unhashed::put(&Self::key(twin), &raw);
	}

	/// The elements above `element`, its parent first.
	fn ancestors(tree: &Tree, element: &ElementId) -> Vec<ElementId> {
		let parent_of = |child: &ElementId| {
			tree.iter().find(|(id, _)| id == child).and_then(|(_, parent)| parent.clone())
		};
		let mut ancestors = Vec::new();
		let mut current = parent_of(element);
		while let Some(parent) = current {
			current = parent_of(&parent);
			ancestors.push(parent);
		}
		ancestors
	}

	/// `element` and everything below it.
	fn subtree(tree: &Tree, element: &ElementId) -> Vec<ElementId> {
		let mut subtree = vec![element.clone()];
		let mut index = 0;
		while index < subtree.len() {
			let current = subtree[index].clone();
			subtree.extend(
				tree.iter()
					.filter(|(_, parent)| parent.as_ref() == Some(&current))
					.map(|(child, _)| child.clone()),
			);
			index += 1;
		}
		subtree
	}
}

/// The mock's fragment convention: starts with `<` and carries `ID="…"`, the new id.
pub fn fragment_id(fragment: &[u8]) -> Option<ElementId> {
	if !fragment.starts_with(b"<") {
		return None;
	}
	let marker = b" ID=\"";
	let start = fragment.windows(marker.len()).position(|window| window == marker)? + marker.len();
	let length = fragment[start..].iter().position(|byte| *byte == b'"')?;
	let id = &fragment[start..start + length];
	(!id.is_empty()).then(|| bytes_id(id.to_vec()))
}

impl TwinElements for MockSpecification {
	fn twin_exists(twin: TwinId) -> bool {
		unhashed::exists(&Self::key(twin))
	}

	fn element_exists(twin: TwinId, element: &ElementId) -> bool {
		Self::tree(twin).is_some_and(|tree| tree.iter().any(|(known, _)| known == element))
	}
}

impl SensorSpecification<u64> for MockSpecification {
	fn replace_element(
		who: &u64,
		twin: TwinId,
		old: &ElementId,
		new: &ElementId,
		fragment: &[u8],
		max_removed: u32,
	) -> Result<u32, DispatchError> {
		let mut tree = Self::tree(twin).ok_or(SPEC_UNKNOWN_TWIN)?;
		let position = tree
			.iter()
			.position(|(element, _)| element == old)
			.ok_or(SPEC_UNKNOWN_ELEMENT)?;
		let parent = tree[position].1.clone().ok_or(SPEC_CANNOT_REPLACE_ROOT)?;
		let ancestors = Self::ancestors(&tree, old);
		<Access as Authorize<u64>>::authorize(
			twin,
			who,
			Action::WriteSpecification { element: old, ancestors: &ancestors },
		)
		.map_err(|_| SPEC_NOT_AUTHORIZED)?;
		if fragment_id(fragment).as_ref() != Some(new) {
			return Err(SPEC_INVALID_FRAGMENT);
		}
		let new = new.clone();
		let subtree = Self::subtree(&tree, old);
		if subtree.len() as u32 > max_removed {
			return Err(SPEC_WITNESS_TOO_SMALL);
		}
		if tree.iter().any(|(element, _)| *element == new) && !subtree.contains(&new) {
			return Err(SPEC_DUPLICATE_ID);
		}
		let replaced: Tree = tree
			.drain(..)
			.enumerate()
			.filter_map(|(index, entry)| match index == position {
				true => Some((new.clone(), Some(parent.clone()))),
				false => (!subtree.contains(&entry.0)).then_some(entry),
			})
			.collect();
		Self::store(twin, &replaced);
		Ok(subtree.len() as u32)
	}

	fn replace_element_weight(max_removed: u32, fragment_len: u32) -> Weight {
		Weight::from_parts(1_000_000, 1_000)
			.saturating_add(Weight::from_parts(500_000, 100).saturating_mul(max_removed.into()))
			.saturating_add(Weight::from_parts(1_000, 1).saturating_mul(fragment_len.into()))
	}
}

dt_pallet_test_support::impl_access_config!(Test, FixedConsortium);

impl pallet_dt_feeds::Config for Test {
	type Authorize = Access;
	type Specification = MockSpecification;
	type MaxSchemaLength = ConstU32<MAX_SCHEMA_LENGTH>;
	type MaxUnitLength = ConstU32<MAX_UNIT_LENGTH>;
	type MaxFeedsPerTwin = ConstU32<MAX_FEEDS_PER_TWIN>;
	type MaxFeedsPerElement = ConstU32<MAX_FEEDS_PER_ELEMENT>;
	type MaxFragmentLength = ConstU32<MAX_FRAGMENT_LENGTH>;
	type MaxRemovedElements = ConstU32<MAX_REMOVED_ELEMENTS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = FixedConsortium;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for FixedConsortium {
	fn make_member(who: &u64) {
		<FixedConsortium as pallet_dt_access::BenchmarkHelper<u64>>::make_member(who);
	}

	fn create_twin(owner: &u64) -> (TwinId, ElementId) {
		let (twin, sensor, _, _) = Self::create_sensor(owner, 1, 0);
		(twin, sensor)
	}

	fn create_sensor(
		owner: &u64,
		subtree_size: u32,
		fragment_len: u32,
	) -> (TwinId, ElementId, ElementId, Vec<u8>) {
		let twin = (100..).find(|twin| !MockSpecification::twin_exists(*twin)).expect("a free id");
		let (root, sensor) = (id("root"), id("sensor"));
		let mut elements = vec![(root.clone(), None), (sensor.clone(), Some(root))];
		for part in 1..subtree_size.max(1) {
			elements.push((id(&format!("part-{part}")), Some(sensor.clone())));
		}
		MockSpecification::create(twin, owner, &elements);
		let (head, tail) = (r#"<InternalElement ID="new-sensor" Name=""#, r#""/>"#);
		let padding = (fragment_len as usize)
			.min(MAX_FRAGMENT_LENGTH as usize)
			.saturating_sub(head.len() + tail.len());
		let fragment = format!("{head}{}{tail}", "x".repeat(padding)).into_bytes();
		(twin, sensor, id("new-sensor"), fragment)
	}
}

/// Twins 0 and 1 with [`ELEMENTS`], created by [`OWNER`]; on twin 0 [`MAINTAINER`],
/// [`AUDITOR`], [`DEVICE`] and [`NEW_DEVICE`] hold the roles their names say.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		let elements: Tree =
			ELEMENTS.iter().map(|(element, parent)| (id(element), parent.map(id))).collect();
		MockSpecification::create(TWIN, &OWNER, &elements);
		MockSpecification::create(OTHER_TWIN, &OWNER, &elements);
		for (who, role) in [
			(MAINTAINER, Role::Maintainer),
			(AUDITOR, Role::Auditor),
			(DEVICE, Role::Device),
			(NEW_DEVICE, Role::Device),
		] {
			Access::grant_role(RuntimeOrigin::signed(OWNER), TWIN, Grantee::Account(who), role)
				.expect("the owner grants roles");
		}
		System::reset_events();
	});
	ext
}

/// An element id from text.
pub fn id(text: &str) -> ElementId {
	bytes_id(text.as_bytes().to_vec())
}

fn bytes_id(bytes: Vec<u8>) -> ElementId {
	ElementId::try_from(bytes).expect("test ids are short")
}

/// Bounded bytes from text.
pub fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> BoundedVec<u8, S> {
	BoundedVec::try_from(text.as_bytes().to_vec()).expect("test text fits")
}
