//! The configuration of every pallet of the runtime.

use crate::{
	no_deposits::NoDeposits, AccountId, Aura, Block, BlockNumber, Consortium, Hash, Nonce,
	PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, RuntimeTask, SessionKeys,
	TwinSpec, DAYS, SLOT_DURATION, VERSION,
};
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, Contains},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use sp_runtime::{traits::ConvertInto, Perbill};
use sp_version::RuntimeVersion;

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Largest block, in bytes.
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

/// Most validators (and so Aura and GRANDPA authorities) the chain can have.
pub const MAX_VALIDATORS: u32 = 32;

/// Blocks per session (20 seconds): validator changes decided by governance take effect at
/// the second session boundary after the decision. A session without a change costs nothing:
/// the consortium reports no new set and GRANDPA keeps its authority set.
pub const SESSION_PERIOD: BlockNumber = 10;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// A third of the 2-second block time for computation.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND * 2 / 3, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB per block, three quarters of it for normal transactions.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = RocksDbWeight;
	type Version = Version;
	// No balances: accounts carry no data beyond their nonce and reference counts.
	type AccountData = ();
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = sp_consensus_aura::sr25519::AuthorityId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<ConstU32<SESSION_PERIOD>, ConstU32<0>>;
	type NextSessionRotation =
		pallet_session::PeriodicSessions<ConstU32<SESSION_PERIOD>, ConstU32<0>>;
	type SessionManager = Consortium;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = NoDeposits;
	type KeyDeposit = ConstU128<0>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// Accounts that have registered session keys, and so can validate.
pub struct HasSessionKeys;
impl Contains<AccountId> for HasSessionKeys {
	fn contains(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}
}

impl pallet_dt_consortium::Config for Runtime {
	type MaxNameLength = ConstU32<64>;
	type MaxOrganisations = ConstU32<64>;
	type MaxMembersPerOrganisation = ConstU32<256>;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	type MaxPartnerNodes = ConstU32<128>;
	// An identity-multihash ed25519 peer id is 38 bytes; leave room for other key types.
	type MaxPeerIdLength = ConstU32<64>;
	type MaxOpenProposals = ConstU32<32>;
	type ProposalLifetime = ConstU32<{ 7 * DAYS }>;
	type HasSessionKeys = HasSessionKeys;
	type WeightInfo = pallet_dt_consortium::weights::SubstrateWeight<Runtime>;
}

impl pallet_dt_access::Config for Runtime {
	type Consortium = Consortium;
	type Specification = TwinSpec;
	type MaxGrantsPerTwin = ConstU32<256>;
	type MaxRolesPerGrantee = ConstU32<8>;
	type MaxPermissionsPerRole = ConstU32<32>;
	type MaxCustomRolesPerTwin = ConstU32<32>;
	type MaxRoleNameLength = ConstU32<64>;
	type WeightInfo = pallet_dt_access::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessBenchmarkHelper;
}

impl pallet_dt_twin_spec::Config for Runtime {
	type Authorize = crate::Access;
	type MaxFragmentLength = ConstU32<{ dt_primitives::aml_fragment::MAX_FRAGMENT_LEN as u32 }>;
	type MaxHeaderLength = ConstU32<{ 16 * 1024 }>;
	// About a quarter of a block's weight; larger documents are imported in several calls.
	type MaxElementsPerCall = ConstU32<500>;
	type MaxElementsPerTwin = ConstU32<200_000>;
	type MaxTreeDepth = ConstU32<64>;
	type MaxRemovedElements = ConstU32<500>;
	type MaxUriLength = ConstU32<512>;
	type MaxDescriptionLength = ConstU32<1024>;
	type MaxSourcesPerTwin = ConstU32<1024>;
	type MaxSourcesPerElement = ConstU32<16>;
	type MaxProgramsPerElement = ConstU32<16>;
	type WeightInfo = pallet_dt_twin_spec::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessBenchmarkHelper;
}

/// Makes benchmark accounts members of the consortium: the genesis consortium's first
/// admin adds them to its organisation.
#[cfg(feature = "runtime-benchmarks")]
pub struct AccessBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_access::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) -> dt_primitives::OrganisationId {
		if let Some(organisation) = Consortium::organisation_of(who) {
			return organisation;
		}
		let (admin, membership) = pallet_dt_consortium::Members::<Runtime>::iter()
			.find(|(_, membership)| membership.is_admin)
			.expect("the benchmark genesis has an organisation with an admin");
		Consortium::add_member(
			RuntimeOrigin::signed(admin),
			who.clone(),
			crate::genesis_config_presets::dev_encryption_keys::EVE.to_vec(),
		)
		.expect("the admin adds a member with a valid key");
		membership.organisation
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_twin_spec::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) {
		<Self as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(who);
	}
}
