//! A test runtime with four founding organisations, each with one admin and validator.

use crate::{self as pallet_dt_consortium, GenesisOrganisation};
use dt_primitives::{
	access::{AccessManagerAppointment, AppointmentRefused, Role, TwinId},
	encryption_key::sign_key_proof,
	LifecycleRole,
};
use frame_support::{assert_ok, derive_impl, parameter_types, traits::Contains, weights::Weight};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Consortium: pallet_dt_consortium,
	}
);

parameter_types! {
	/// The running runtime, as runtime upgrades compare with it.
	pub Version: sp_version::RuntimeVersion = sp_version::RuntimeVersion {
		spec_name: RUNTIME_NAME.into(),
		spec_version: RUNTIME_SPEC_VERSION,
		..Default::default()
	};
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type Version = Version;
}

/// The spec name of the running runtime.
pub const RUNTIME_NAME: &str = "dt-ledger";
/// The spec version of the running runtime.
pub const RUNTIME_SPEC_VERSION: u32 = 100;

/// Stands for a runtime's Wasm code in these tests: the spec name and version it declares
/// (SCALE), which [`StubRuntimeVersionReader`] reads back as `frame_system` asks.
pub fn runtime_code(spec_name: &str, spec_version: u32) -> Vec<u8> {
	use codec::Encode;
	(b"stub runtime".to_vec(), spec_name.to_owned(), spec_version).encode()
}

/// Reads the version of a [`runtime_code`], the way the node reads a real runtime's.
struct StubRuntimeVersionReader;
impl sp_core::traits::ReadRuntimeVersion for StubRuntimeVersionReader {
	fn read_runtime_version(
		&self,
		code: &[u8],
		_ext: &mut dyn sp_core::traits::Externalities,
	) -> Result<Vec<u8>, String> {
		use codec::{Decode, Encode};
		let (_, spec_name, spec_version) = <(Vec<u8>, String, u32)>::decode(&mut &code[..])
			.map_err(|_| "not a runtime".to_string())?;
		Ok(sp_version::RuntimeVersion {
			spec_name: spec_name.into(),
			spec_version,
			..Default::default()
		}
		.encode())
	}
}

/// A valid 3072-bit RSA public key.
pub const KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa3072.der");
/// The private half of [`KEY`] (PKCS#8 DER).
pub const PRIVATE_KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa3072.pk8");
/// Another valid 3072-bit RSA public key.
pub const SECOND_KEY: &[u8] = include_bytes!("../../primitives/test-keys/rsa3072-second.der");
/// The private half of [`SECOND_KEY`].
pub const SECOND_PRIVATE_KEY: &[u8] =
	include_bytes!("../../primitives/test-keys/rsa3072-second.pk8");
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
/// An account the tests add as a member.
pub const NEW_MEMBER: u64 = 10;

/// A twin of the stub access control that a member who can act manages.
pub const MANAGED_TWIN: TwinId = 1;
/// A twin of the stub access control whose managers have all left.
pub const ORPHANED_TWIN: TwinId = 2;
/// A twin the stub access control does not know.
pub const UNKNOWN_TWIN: TwinId = 3;
/// The partner node of the manufacturer.
pub const MANUFACTURER_NODE: &[u8] = b"manufacturer-node";

pub const MAX_MEMBERS: u32 = 5;
pub const PROPOSAL_LIFETIME: u64 = 10;
pub const MAX_OPEN_PROPOSALS_PER_ORGANISATION: u32 = 2;

parameter_types! {
	/// Accounts that registered session keys.
	pub static AccountsWithSessionKeys: Vec<u64> = vec![MANUFACTURER, OWNER, MAINTAINER, AUDITOR];
}

parameter_types! {
	/// The twins of the stub access control and whether a grantee that can act manages each.
	pub static StubTwins: Vec<(TwinId, bool)> = vec![(MANAGED_TWIN, true), (ORPHANED_TWIN, false)];
}

/// Access control that knows two twins and records appointments by managing the twin.
pub struct StubAccess;
impl AccessManagerAppointment<u64> for StubAccess {
	fn can_appoint(twin: TwinId, _who: &u64) -> Result<(), AppointmentRefused> {
		match StubTwins::get().iter().find(|(id, _)| *id == twin) {
			None => Err(AppointmentRefused::UnknownTwin),
			Some((_, true)) => Err(AppointmentRefused::TwinStillManaged),
			Some((_, false)) => Ok(()),
		}
	}

	fn appoint(twin: TwinId, who: &u64) -> Result<Role, AppointmentRefused> {
		Self::can_appoint(twin, who)?;
		StubTwins::mutate(|twins| twins.retain(|(id, _)| *id != twin));
		StubTwins::mutate(|twins| twins.push((twin, true)));
		Ok(Role::Owner)
	}

	fn appointment_weight() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
}

/// The proof that `who` holds the private key `private_key` (PKCS#8 DER).
pub fn key_proof(who: u64, private_key: &[u8]) -> Vec<u8> {
	use rsa::pkcs8::DecodePrivateKey;
	let key = rsa::PrivateKey::from_pkcs8_der(private_key).expect("a test key");
	sign_key_proof(&key, &Consortium::key_proof_message(&who)).expect("signing works")
}

/// `admin` adds `who` to its organisation with [`KEY`] and `who`'s proof.
pub fn add_member_with_proof(admin: u64, who: u64) {
	assert_ok!(Consortium::add_member(
		RuntimeOrigin::signed(admin),
		who,
		KEY.to_vec(),
		key_proof(who, PRIVATE_KEY)
	));
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
	type MaxOpenProposalsPerOrganisation =
		frame_support::traits::ConstU32<MAX_OPEN_PROPOSALS_PER_ORGANISATION>;
	type ProposalLifetime = frame_support::traits::ConstU64<PROPOSAL_LIFETIME>;
	type HasSessionKeys = SessionKeysRegistered;
	type AccessManagers = StubAccess;
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
	ext.register_extension(sp_core::traits::ReadRuntimeVersionExt::new(StubRuntimeVersionReader));
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
