//! A test runtime with the real access pallet and a small fixed consortium.

use crate::{self as pallet_dt_twin_spec, DocumentHeader, NewElement};
use dt_primitives::{
	access::{ElementId, TwinId},
	OrganisationId,
};
use frame_support::{derive_impl, traits::ConstU32, BoundedVec};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Access: pallet_dt_access,
		TwinSpec: pallet_dt_twin_spec,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Creates twins; member of organisation 0.
pub const OWNER: u64 = 1;
/// Member of organisation 1.
pub const MAINTAINER: u64 = 2;
/// Member of organisation 2.
pub const AUDITOR: u64 = 3;
/// Member of organisation 3, the device's own account.
pub const DEVICE: u64 = 4;
/// Member of organisation 1, used for roles scoped to a subtree.
pub const CONTRACTOR: u64 = 5;
/// An account of no organisation.
pub const OUTSIDER: u64 = 99;

pub const MAX_ELEMENTS_PER_CALL: u32 = 1000;
pub const MAX_TREE_DEPTH: u32 = 32;
pub const MAX_REMOVED_ELEMENTS: u32 = 100;
pub const MAX_CHILDREN_PER_ELEMENT: u32 = 1000;
pub const MAX_SOURCES_PER_ELEMENT: u32 = 2;
pub const MAX_PROGRAMS_PER_ELEMENT: u32 = 2;
pub const MAX_FRAGMENT_LENGTH: u32 = 64 * 1024;

/// Who belongs to which organisation in this mock's consortium.
pub struct Members;
impl dt_pallet_test_support::Members for Members {
	const MEMBERS: &'static [(u64, OrganisationId)] =
		&[(OWNER, 0), (MAINTAINER, 1), (CONTRACTOR, 1), (AUDITOR, 2), (DEVICE, 3)];
	const ORGANISATIONS: OrganisationId = 4;
}

pub type FixedConsortium = dt_pallet_test_support::FixedConsortium<Members>;

dt_pallet_test_support::impl_access_config!(Test, FixedConsortium);

impl pallet_dt_twin_spec::Config for Test {
	type Authorize = Access;
	type MaxFragmentLength = ConstU32<MAX_FRAGMENT_LENGTH>;
	type MaxHeaderLength = ConstU32<4096>;
	type MaxElementsPerCall = ConstU32<MAX_ELEMENTS_PER_CALL>;
	type MaxElementsPerTwin = ConstU32<60_000>;
	type MaxTreeDepth = ConstU32<MAX_TREE_DEPTH>;
	type MaxRemovedElements = ConstU32<MAX_REMOVED_ELEMENTS>;
	type MaxChildrenPerElement = ConstU32<MAX_CHILDREN_PER_ELEMENT>;
	type MaxUriLength = ConstU32<256>;
	type MaxDescriptionLength = ConstU32<256>;
	type MaxSourcesPerTwin = ConstU32<4>;
	type MaxSourcesPerElement = ConstU32<MAX_SOURCES_PER_ELEMENT>;
	type MaxProgramsPerElement = ConstU32<MAX_PROGRAMS_PER_ELEMENT>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = FixedConsortium;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for FixedConsortium {
	fn make_member(who: &u64) {
		<FixedConsortium as pallet_dt_access::BenchmarkHelper<u64>>::make_member(who);
	}

	fn make_writer(twin: TwinId, who: &u64, scope: &ElementId, roles: u32) {
		pallet_dt_access::benchmark_setup::writer_with_roles::<Test>(twin, who, scope, roles);
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// An element id from text.
pub fn id(text: &str) -> ElementId {
	ElementId::try_from(text.as_bytes().to_vec()).expect("test ids are short")
}

/// Bounded bytes from text.
pub fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> BoundedVec<u8, S> {
	BoundedVec::try_from(text.as_bytes().to_vec()).expect("test text fits")
}

pub type Header = DocumentHeader<ConstU32<4096>>;
pub type Element = NewElement<ConstU32<MAX_FRAGMENT_LENGTH>>;

/// The chain records of an AML document, as the client splits it.
pub fn split(aml: &str) -> (Header, Vec<Element>) {
	let tree = dt_aml::AmlTree::parse_str(aml).expect("test documents parse");
	let header = DocumentHeader {
		prolog: bounded(&tree.header().prolog),
		epilog: bounded(&tree.header().epilog),
	};
	let elements = tree
		.records()
		.map(|record| NewElement {
			id: id(&record.id),
			parent: record.parent.as_deref().map(id),
			previous_sibling: record.previous_sibling.as_deref().map(id),
			fragment: bounded(record.fragment.as_str()),
		})
		.collect();
	(header, elements)
}

/// Creates a twin from an AML document as `who`, in chunks of at most `chunk` elements.
pub fn import(who: u64, aml: &str, chunk: usize) -> TwinId {
	let (header, elements) = split(aml);
	let twin = crate::NextTwinId::<Test>::get();
	let mut chunks = elements.chunks(chunk).peekable();
	let first = chunks.next().unwrap_or_default().to_vec();
	TwinSpec::create_twin(
		RuntimeOrigin::signed(who),
		header,
		first.try_into().unwrap(),
		chunks.peek().is_none(),
	)
	.expect("import starts");
	while let Some(next) = chunks.next() {
		TwinSpec::import_elements(
			RuntimeOrigin::signed(who),
			twin,
			next.to_vec().try_into().unwrap(),
			chunks.peek().is_none(),
		)
		.expect("import continues");
	}
	twin
}

/// The twin's AML document, re-assembled from storage as the node's RPC does, for `reader`
/// (everything when `None`).
pub fn export_for(twin: TwinId, reader: Option<u64>) -> String {
	let (prolog, epilog) = TwinSpec::document_header(twin).expect("twin exists");
	let mut tree = dt_aml::AmlTree::new(dt_aml::DocumentHeader {
		prolog: String::from_utf8(prolog).unwrap(),
		epilog: String::from_utf8(epilog).unwrap(),
	});
	let mut after = None;
	loop {
		let page = TwinSpec::elements_in_document_order(twin, after.clone(), 500, reader);
		let Some(last) = page.last() else { break };
		after = Some(last.id.clone());
		for record in page {
			let fragment =
				dt_aml::Fragment::parse(core::str::from_utf8(&record.fragment).unwrap()).unwrap();
			let parent =
				record.node.parent.map(|parent| String::from_utf8(parent.into_inner()).unwrap());
			tree.append_child(
				core::str::from_utf8(&record.id).unwrap(),
				parent.as_deref(),
				fragment,
			)
			.unwrap();
		}
	}
	tree.to_xml_string().unwrap()
}

/// The whole document of a twin.
pub fn export(twin: TwinId) -> String {
	export_for(twin, None)
}
