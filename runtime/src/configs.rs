//! The configuration of every pallet of the runtime.

use crate::{
	no_deposits::NoDeposits, AccountId, Aura, Block, BlockNumber, Consortium, Hash, Nonce,
	PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, RuntimeTask, SessionKeys,
	TwinSpec, DAYS, SLOT_DURATION, VERSION,
};
use dt_primitives::{
	access::{ElementId, ProgramName, TwinId},
	program::ProgramParameters,
};
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, Contains},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
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
/// the second session boundary after the decision. A session ends only if it has something
/// to change ([`RotateOnChange`]).
pub const SESSION_PERIOD: BlockNumber = 10;

/// Sessions after which one ends even without a validator change (ten minutes), so session
/// keys a validator set anew take effect.
pub const SESSIONS_PER_KEY_ROTATION: BlockNumber = 30;

type SessionBoundaries = pallet_session::PeriodicSessions<ConstU32<SESSION_PERIOD>, ConstU32<0>>;

/// Ends a session at a boundary only if there is something to change: the consortium
/// decided a new validator set (reported at this rotation), or the session pallet holds one
/// queued (applied at this rotation); and every [`SESSIONS_PER_KEY_ROTATION`] sessions for
/// new session keys. pallet_session declares a rotation's block full (`max_block`), so a
/// rotation every 20 seconds took every tenth block from transactions, and a transaction
/// arriving before it waited a slot longer.
pub struct RotateOnChange;

impl pallet_session::ShouldEndSession<BlockNumber> for RotateOnChange {
	fn should_end_session(now: BlockNumber) -> bool {
		SessionBoundaries::should_end_session(now)
			&& (pallet_dt_consortium::ValidatorsChanged::<Runtime>::get()
				|| pallet_session::QueuedChanged::<Runtime>::get()
				|| now % SESSION_PERIOD.saturating_mul(SESSIONS_PER_KEY_ROTATION) == 0)
	}
}

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
	/// Measured on a partner node's database (scripts/benchmark-db-weights.sh).
	type DbWeight = crate::db_weights::RocksDbWeight;
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
	type ShouldEndSession = RotateOnChange;
	// The earliest a rotation can come; nothing in this runtime plans by it.
	type NextSessionRotation = SessionBoundaries;
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
	// Every organisation can use its whole share at once: no group of organisations can take
	// the slots of the others.
	type MaxOpenProposals = ConstU32<{ 64 * 4 }>;
	type MaxOpenProposalsPerOrganisation = ConstU32<4>;
	type ProposalLifetime = ConstU32<{ 7 * DAYS }>;
	type HasSessionKeys = HasSessionKeys;
	type AccessManagers = crate::Access;
	type WeightInfo = pallet_dt_consortium::weights::SubstrateWeight<Runtime>;
}

impl pallet_dt_access::Config for Runtime {
	type Consortium = Consortium;
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
	type MaxChildrenPerElement = ConstU32<4096>;
	type MaxUriLength = ConstU32<512>;
	type MaxDescriptionLength = ConstU32<1024>;
	type MaxSourcesPerTwin = ConstU32<1024>;
	type MaxSourcesPerElement = ConstU32<16>;
	type MaxProgramsPerElement = ConstU32<16>;
	type WeightInfo = pallet_dt_twin_spec::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessBenchmarkHelper;
}

impl pallet_dt_documents::Config for Runtime {
	type Authorize = crate::Access;
	type Elements = Specifications;
	type MaxTitleLength = ConstU32<256>;
	type MaxMediaTypeLength = ConstU32<128>;
	type MaxVersionsPerDocument = ConstU32<1024>;
	type MaxAnnotationsPerVersion = ConstU32<256>;
	type MaxDocumentsPerTwin = ConstU32<100_000>;
	type WeightInfo = pallet_dt_documents::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessBenchmarkHelper;
}

impl pallet_dt_feeds::Config for Runtime {
	type Authorize = crate::Access;
	type Specification = Specifications;
	type MaxSchemaLength = ConstU32<256>;
	type MaxUnitLength = ConstU32<32>;
	type MaxFeedsPerTwin = ConstU32<10_000>;
	type MaxFeedsPerElement = ConstU32<16>;
	type MaxFragmentLength = <Runtime as pallet_dt_twin_spec::Config>::MaxFragmentLength;
	type MaxRemovedElements = <Runtime as pallet_dt_twin_spec::Config>::MaxRemovedElements;
	type WeightInfo = pallet_dt_feeds::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessBenchmarkHelper;
}

impl pallet_dt_programs::Config for Runtime {
	type Authorize = crate::Access;
	type Programs = Specifications;
	type MaxPendingCallsPerTwin = ConstU32<64>;
	// A call the device has not finished within an hour is stale: the situation that made
	// someone call it has likely changed.
	type CallTimeToLive = ConstU32<{ crate::HOURS }>;
	type MaxResultLength = ConstU32<1024>;
	type WeightInfo = pallet_dt_programs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessBenchmarkHelper;
}

impl pallet_dt_availability::Config for Runtime {
	type PartnerNodes = PartnerNodeRegistry;
	type Items = OffchainItems;
	type MaxPeerIdLength = <Runtime as pallet_dt_consortium::Config>::MaxPeerIdLength;
	// Attestations are sent in batches as a node catches up with the chain.
	type MaxItemsPerAttestation = ConstU32<64>;
	// An attestation waits in the pool at most about two minutes.
	type AttestationLongevity = ConstU32<{ crate::MINUTES * 2 }>;
	type WeightInfo = pallet_dt_availability::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AvailabilityBenchmarkHelper;
}

/// The consortium's partner nodes, as the availability pallet checks them.
pub struct PartnerNodeRegistry;
impl pallet_dt_availability::PartnerNodes for PartnerNodeRegistry {
	fn is_partner_node(peer_id: &[u8]) -> bool {
		Consortium::is_partner_node(peer_id)
	}
}

/// The off-chain items the documents and feeds pallets record.
pub struct OffchainItems;
impl pallet_dt_availability::ReferencedItems for OffchainItems {
	fn is_referenced(item: &pallet_dt_availability::StoredItem) -> bool {
		use pallet_dt_availability::StoredItem;
		match *item {
			StoredItem::DocumentVersion { document, version } => {
				pallet_dt_documents::Versions::<Runtime>::contains_key(document, version)
			},
			StoredItem::Annotation { document, version, annotation } => {
				pallet_dt_documents::Annotations::<Runtime>::contains_key((
					document, version, annotation,
				))
			},
			StoredItem::Feed(feed) => pallet_dt_feeds::Feeds::<Runtime>::contains_key(feed),
		}
	}
}

/// The twins' specifications (the twin-spec pallet) as the pallets that refer to their
/// elements see them.
pub struct Specifications;

impl dt_primitives::access::TwinElements for Specifications {
	fn twin_exists(twin: TwinId) -> bool {
		TwinSpec::twin_exists(twin)
	}

	fn element_exists(twin: TwinId, element: &ElementId) -> bool {
		TwinSpec::element_exists(twin, element)
	}
}

impl pallet_dt_feeds::SensorSpecification<AccountId> for Specifications {
	fn replace_element(
		who: &AccountId,
		twin: TwinId,
		old: &ElementId,
		new: &ElementId,
		fragment: &[u8],
		max_removed: u32,
	) -> Result<u32, sp_runtime::DispatchError> {
		TwinSpec::replace_element(who, twin, old, new, fragment, max_removed)
	}

	fn replace_element_weight(max_removed: u32, fragment_len: u32) -> Weight {
		TwinSpec::replace_element_weight(max_removed, fragment_len)
	}
}

impl pallet_dt_programs::DeclaredPrograms for Specifications {
	fn program_parameters(
		twin: TwinId,
		element: &ElementId,
		name: &ProgramName,
	) -> Option<ProgramParameters> {
		TwinSpec::program_parameters(twin, element, name)
	}
}

/// Makes benchmark accounts members of the consortium: the genesis consortium's first
/// admin adds them to its organisation.
#[cfg(feature = "runtime-benchmarks")]
pub struct AccessBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_access::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) -> dt_primitives::OrganisationId {
		Consortium::make_member_for_benchmarks(
			who,
			crate::genesis_config_presets::dev_encryption_keys::EVE.to_vec(),
		)
		.expect("the consortium has room for the benchmarks' members")
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_twin_spec::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) {
		<Self as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(who);
	}

	fn make_writer(twin: TwinId, who: &AccountId, scope: &ElementId, roles: u32) {
		pallet_dt_access::benchmark_setup::writer_with_roles::<Runtime>(twin, who, scope, roles);
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_documents::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) {
		<Self as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(who);
	}

	fn create_twin(owner: &AccountId) -> (TwinId, ElementId) {
		benchmark_twins::create(owner)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_feeds::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) {
		<Self as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(who);
	}

	fn create_twin(owner: &AccountId) -> (TwinId, ElementId) {
		benchmark_twins::create(owner)
	}

	fn create_sensor(
		owner: &AccountId,
		subtree_size: u32,
		fragment_len: u32,
	) -> (TwinId, ElementId, ElementId, alloc::vec::Vec<u8>) {
		benchmark_twins::create_sensor(owner, subtree_size, fragment_len)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_programs::BenchmarkHelper<AccountId> for AccessBenchmarkHelper {
	fn make_member(who: &AccountId) {
		<Self as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(who);
	}

	fn create_twin_with_program(
		owner: &AccountId,
		parameters: ProgramParameters,
	) -> (TwinId, ElementId, ProgramName) {
		let (twin, element) = benchmark_twins::create(owner);
		let name: ProgramName = b"set-fill-volume".to_vec().try_into().expect("short");
		TwinSpec::declare_program(
			RuntimeOrigin::signed(owner.clone()),
			twin,
			element.clone(),
			name.clone(),
			parameters,
			element.clone(),
		)
		.expect("the owner declares a consistent program");
		(twin, element, name)
	}

	fn make_device(owner: &AccountId, twin: TwinId, device: &AccountId) {
		<Self as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(device);
		crate::Access::grant_role(
			RuntimeOrigin::signed(owner.clone()),
			twin,
			dt_primitives::access::Grantee::Account(device.clone()),
			dt_primitives::access::Role::Device,
		)
		.expect("the owner grants the Device role");
	}
}

/// Real twins for the benchmarks of the pallets that refer to twins' elements.
#[cfg(feature = "runtime-benchmarks")]
mod benchmark_twins {
	use super::*;
	use alloc::{format, vec, vec::Vec};
	use frame_support::BoundedVec;
	use pallet_dt_twin_spec::{DocumentHeader, NewElement};

	fn id(text: &str) -> ElementId {
		text.as_bytes().to_vec().try_into().expect("benchmark ids are short")
	}

	fn fragment<S: frame_support::traits::Get<u32>>(xml: &str) -> BoundedVec<u8, S> {
		xml.as_bytes().to_vec().try_into().expect("benchmark fragments are short")
	}

	/// Creates, through the twin-spec pallet, a twin of `owner` (made a member) whose root
	/// has one child element, `sensor`; returns the twin and that element.
	pub fn create(owner: &AccountId) -> (TwinId, ElementId) {
		let (twin, sensor, _, _) = create_sensor(owner, 1, 0);
		(twin, sensor)
	}

	/// Like [`create`], with `subtree_size - 1` parts below the sensor; also returns the id
	/// and fragment (about `fragment_len` bytes) of a new sensor to replace it with.
	pub fn create_sensor(
		owner: &AccountId,
		subtree_size: u32,
		fragment_len: u32,
	) -> (TwinId, ElementId, ElementId, Vec<u8>) {
		<AccessBenchmarkHelper as pallet_dt_access::BenchmarkHelper<AccountId>>::make_member(owner);
		let twin = pallet_dt_twin_spec::NextTwinId::<Runtime>::get();
		let (root, sensor) = (id("root"), id("sensor"));
		let mut elements = vec![
			NewElement {
				id: root.clone(),
				parent: None,
				previous_sibling: None,
				fragment: fragment(r#"<CAEXFile FileName="bench.aml"><?dt-children?></CAEXFile>"#),
			},
			NewElement {
				id: sensor.clone(),
				parent: Some(root),
				previous_sibling: None,
				fragment: fragment(r#"<InternalElement Name="Sensor" ID="sensor"/>"#),
			},
		];
		for part in 1..subtree_size {
			let part_id = format!("part-{part}");
			elements.push(NewElement {
				id: id(&part_id),
				parent: Some(sensor.clone()),
				previous_sibling: (part > 1).then(|| id(&format!("part-{}", part - 1))),
				fragment: fragment(&format!(r#"<ExternalInterface Name="Port" ID="{part_id}"/>"#)),
			});
		}
		TwinSpec::create_twin(
			RuntimeOrigin::signed(owner.clone()),
			DocumentHeader::default(),
			elements.try_into().expect("at most MaxElementsPerCall elements"),
			true,
		)
		.expect("a member creates a twin");
		let (head, tail) = (r#"<InternalElement Name="Sensor" ID="new-sensor" Note=""#, r#""/>"#);
		let padding = (fragment_len as usize).saturating_sub(head.len() + tail.len());
		let mut new_fragment = head.as_bytes().to_vec();
		new_fragment.extend(core::iter::repeat_n(b'x', padding));
		new_fragment.extend_from_slice(tail.as_bytes());
		(twin, sensor, id("new-sensor"), new_fragment)
	}
}

/// Partner nodes and document versions for the availability pallet's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct AvailabilityBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_dt_availability::BenchmarkHelper for AvailabilityBenchmarkHelper {
	fn register_partner_node(peer_id: alloc::vec::Vec<u8>) {
		let peer_id: pallet_dt_consortium::PeerIdOf<Runtime> =
			peer_id.try_into().expect("the benchmark's peer id fits the bound");
		pallet_dt_consortium::PartnerNodes::<Runtime>::insert(peer_id, 0);
	}

	fn referenced_item(index: u32) -> pallet_dt_availability::StoredItem {
		let document = u64::from(index);
		let content_id = dt_primitives::content_id::raw_sha256_content_id(&[index as u8; 32]);
		let version = pallet_dt_documents::Version {
			content_id: content_id.to_vec().try_into().expect("a content id fits"),
			key_envelope: content_id.to_vec().try_into().expect("a content id fits"),
			size: 0,
			author: AccountId::from([0u8; 32]),
			added_at: 0,
			annotation_count: 0,
		};
		pallet_dt_documents::Versions::<Runtime>::insert(document, 0, version);
		pallet_dt_availability::StoredItem::DocumentVersion { document, version: 0 }
	}
}
