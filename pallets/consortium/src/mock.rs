//! A test runtime with four founding organisations, each with one admin and validator.

use crate::{self as pallet_dt_consortium, GenesisOrganisation};
use dt_primitives::LifecycleRole;
use frame_support::{derive_impl, parameter_types, traits::Contains};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Consortium: pallet_dt_consortium,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// A valid 3072-bit RSA public key.
pub const KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa3072.der");
/// Another valid 3072-bit RSA public key.
pub const SECOND_KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa3072-second.der");
/// A well-formed but too short (2048-bit) RSA key.
pub const SHORT_KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa2048.der");
/// A well-formed elliptic-curve key.
pub const EC_KEY: &[u8] = include_bytes!("../../primitives/test-keys/ec-p256.der");

/// Admins of the founding organisations 0..=3, which are also the validators.
pub const MANUFACTURER: u64 = 1;
pub const OWNER: u64 = 2;
pub const MAINTAINER: u64 = 3;
pub const AUDITOR: u64 = 4;
/// An account of no organisation.
pub const OUTSIDER: u64 = 99;
/// The partner node of the manufacturer.
pub const MANUFACTURER_NODE: &[u8] = b"manufacturer-node";

pub const MAX_MEMBERS: u32 = 5;
pub const PROPOSAL_LIFETIME: u64 = 10;

parameter_types! {
	/// Accounts that registered session keys.
	pub static AccountsWithSessionKeys: Vec<u64> = vec![MANUFACTURER, OWNER, MAINTAINER, AUDITOR];
}

pub struct SessionKeysRegistered;
impl Contains<u64> for SessionKeysRegistered {
	fn contains(who: &u64) -> bool {
		AccountsWithSessionKeys::get().contains(who)
	}
}

impl pallet_dt_consortium::Config for Test {
	type MaxNameLength = frame_support::traits::ConstU32<32>;
	type MaxOrganisations = frame_support::traits::ConstU32<6>;
	type MaxMembersPerOrganisation = frame_support::traits::ConstU32<MAX_MEMBERS>;
	type MaxValidators = frame_support::traits::ConstU32<6>;
	type MaxPartnerNodes = frame_support::traits::ConstU32<8>;
	type MaxPeerIdLength = frame_support::traits::ConstU32<64>;
	type MaxOpenProposals = frame_support::traits::ConstU32<3>;
	type ProposalLifetime = frame_support::traits::ConstU64<PROPOSAL_LIFETIME>;
	type HasSessionKeys = SessionKeysRegistered;
	type WeightInfo = ();
}

fn founding(name: &str, role: LifecycleRole, admin: u64) -> GenesisOrganisation<u64> {
	GenesisOrganisation {
		name: name.into(),
		role,
		admins: vec![(admin, KEY.to_vec().into())],
		members: vec![],
		partner_nodes: vec![],
	}
}

/// Externalities with the four founding organisations (ids 0..=3) at block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut manufacturer = founding("Manufacturer", LifecycleRole::Manufacturer, MANUFACTURER);
	manufacturer.partner_nodes.push(MANUFACTURER_NODE.to_vec().into());
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		consortium: pallet_dt_consortium::GenesisConfig {
			organisations: vec![
				manufacturer,
				founding("Owner", LifecycleRole::Owner, OWNER),
				founding("Maintainer", LifecycleRole::Maintainer, MAINTAINER),
				founding("Auditor", LifecycleRole::Auditor, AUDITOR),
			],
			validators: vec![MANUFACTURER, OWNER, MAINTAINER, AUDITOR],
		},
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// The events of this pallet deposited so far, oldest first.
pub fn consortium_events() -> Vec<pallet_dt_consortium::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Consortium(event) => Some(event),
			_ => None,
		})
		.collect()
}
