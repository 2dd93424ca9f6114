//! A test runtime with a partner list kept in storage and a fixed set of referenced items.

use crate::{self as pallet_dt_availability, PartnerNodes, ReferencedItems, StoredItem};
use alloc::vec::Vec;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Availability: pallet_dt_availability,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Feeds 0..FEEDS exist.
pub const FEEDS: u64 = 100;
/// Documents 0..DOCUMENTS exist, each with versions 0..VERSIONS, each with annotations
/// 0..ANNOTATIONS.
pub const DOCUMENTS: u64 = 10;
pub const VERSIONS: u32 = 3;
pub const ANNOTATIONS: u32 = 2;

pub const MAX_ITEMS_PER_ATTESTATION: u32 = 8;
pub const ATTESTATION_LONGEVITY: u64 = 16;

parameter_types! {
	pub storage PartnerList: Vec<Vec<u8>> = Vec::new();
}

/// The partner nodes of [`PartnerList`].
pub struct MockPartners;
impl PartnerNodes for MockPartners {
	fn is_partner_node(peer_id: &[u8]) -> bool {
		PartnerList::get().iter().any(|partner| partner == peer_id)
	}
}

impl MockPartners {
	pub fn add(peer_id: Vec<u8>) {
		let mut partners = PartnerList::get();
		partners.push(peer_id);
		PartnerList::set(&partners);
	}

	pub fn remove(peer_id: &[u8]) {
		let mut partners = PartnerList::get();
		partners.retain(|partner| partner != peer_id);
		PartnerList::set(&partners);
	}
}

/// The fixed items described by [`FEEDS`], [`DOCUMENTS`], [`VERSIONS`] and [`ANNOTATIONS`].
pub struct MockItems;
impl ReferencedItems for MockItems {
	fn is_referenced(item: &StoredItem) -> bool {
		match *item {
			StoredItem::Feed(feed) => feed < FEEDS,
			StoredItem::DocumentVersion { document, version } => {
				document < DOCUMENTS && version < VERSIONS
			},
			StoredItem::Annotation { document, version, annotation } => {
				document < DOCUMENTS && version < VERSIONS && annotation < ANNOTATIONS
			},
		}
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for MockItems {
	fn register_partner_node(peer_id: Vec<u8>) {
		MockPartners::add(peer_id);
	}

	fn referenced_item(index: u32) -> StoredItem {
		StoredItem::Feed(u64::from(index) % FEEDS)
	}
}

impl pallet_dt_availability::Config for Test {
	type PartnerNodes = MockPartners;
	type Items = MockItems;
	type MaxPeerIdLength = ConstU32<64>;
	type MaxItemsPerAttestation = ConstU32<MAX_ITEMS_PER_ATTESTATION>;
	type AttestationLongevity = frame_support::traits::ConstU64<ATTESTATION_LONGEVITY>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockItems;
}

/// A fresh chain at block 1, with a keystore for the benchmarks' node keys.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	ext
}
