//! # dt-runtime
//!
//! The runtime of a dt-ledger chain: a permissioned chain that the partners around an
//! industrial asset run together to share its Digital Twin.
//!
//! - Blocks: Aura with [`SLOT_DURATION`] slots, finality by GRANDPA; the authorities of
//!   both come from `pallet-session`, whose validator set the consortium decides.
//! - Parties: `pallet-dt-consortium` holds the organisations, their accounts and public
//!   encryption keys, the validators and partner nodes, and the majority governance over
//!   them. Its [`pallet_dt_consortium::CheckMembership`] extension admits only member
//!   accounts' transactions. There are no tokens and no fees.
//! - `pallet-sudo` exists for `--dev` chains only; consortium chain specs set no key. The
//!   consortium upgrades its runtime by vote (`pallet-dt-consortium`'s `UpgradeRuntime`).

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` and `impl_runtime_apis!` expand to deep recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// The runtime as the upgrade tests' next release (the `upgrade-fixture` feature: spec version
/// 101, the documents pallet migrated to storage version 1), built by build.rs beside
/// [`WASM_BINARY`]. Nothing but tests uses it.
#[cfg(feature = "std")]
pub mod upgrade_fixture {
	include!(concat!(env!("OUT_DIR"), "/dt_runtime_upgrade_fixture.rs"));
}

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod db_weights;
pub mod genesis_config_presets;
mod no_deposits;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use frame_system::Call as SystemCall;
pub use pallet_dt_access::Call as AccessCall;
pub use pallet_dt_consortium::Call as ConsortiumCall;
pub use pallet_dt_documents::Call as DocumentsCall;
pub use pallet_dt_twin_spec::Call as TwinSpecCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types, for code (the node's service) that must not depend on the runtime's
/// exact extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers with `session.setKeys`.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. `spec_version` goes up with every release whose behaviour differs;
/// `transaction_version` with every change to the calls or the transaction extensions, which
/// `dt` and the device agent are built against (they refuse a chain of another one).
#[cfg(not(feature = "upgrade-fixture"))]
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("dt-ledger"),
	impl_name: alloc::borrow::Cow::Borrowed("dt-ledger"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The upgrade tests' next release: the same calls, a higher spec version.
#[cfg(feature = "upgrade-fixture")]
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("dt-ledger"),
	impl_name: alloc::borrow::Cow::Borrowed("dt-ledger"),
	authoring_version: 1,
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Block time: partners see each other's writes within seconds.
pub const MILLISECS_PER_BLOCK: u64 = 2000;

// Changing the slot duration of a running chain would brick block production.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

// Time measured in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// A block's number.
pub type BlockNumber = u32;

/// The signature of a transaction.
pub type Signature = MultiSignature;

/// An account: the public key of its signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// A transaction counter per account.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block's id, by number or hash.
pub type BlockId = generic::BlockId<Block>;

/// The checks every transaction passes. A general transaction (no signer) must be authorized
/// by its call (`#[pallet::authorize]`, e.g. a partner node's availability attestation), so
/// `AuthorizeCall` comes first. Membership comes next so that an outsider gets the
/// membership error, not a confusing nonce or payment one.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	pallet_dt_consortium::CheckMembership<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations to run on a runtime upgrade, besides the pallets' own hooks. Each is
/// versioned: it runs once, when a pallet's on-chain storage version is the one it migrates
/// from. None is due in this release.
#[cfg(not(feature = "upgrade-fixture"))]
type Migrations = ();

/// The upgrade tests' next release migrates the documents pallet to storage version 1.
#[cfg(feature = "upgrade-fixture")]
type Migrations = (pallet_dt_documents::migrations::v1::MigrateToV1<Runtime>,);

/// Dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// Builds the extension tuple for a transaction of `nonce` that is valid for ever.
pub fn tx_extension(nonce: Nonce) -> TxExtension {
	(
		frame_system::AuthorizeCall::new(),
		pallet_dt_consortium::CheckMembership::new(),
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(generic::Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
	)
}

/// What a signer signs besides the call and [`tx_extension`]: the data the extensions add
/// themselves (runtime version, genesis hash, and the genesis hash again as the immortal
/// era's block), for a chain of `genesis` at this runtime version.
pub fn tx_implicit(
	spec_version: u32,
	transaction_version: u32,
	genesis: Hash,
) -> <TxExtension as sp_runtime::traits::TransactionExtension<RuntimeCall>>::Implicit {
	((), (), (), spec_version, transaction_version, genesis, genesis, (), ())
}

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	// Before `Session`: its genesis asks the consortium for the first validators.
	#[runtime::pallet_index(2)]
	pub type Consortium = pallet_dt_consortium;

	#[runtime::pallet_index(3)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(4)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(5)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Access = pallet_dt_access;

	#[runtime::pallet_index(8)]
	pub type TwinSpec = pallet_dt_twin_spec;

	#[runtime::pallet_index(9)]
	pub type Documents = pallet_dt_documents;

	#[runtime::pallet_index(10)]
	pub type Feeds = pallet_dt_feeds;

	#[runtime::pallet_index(11)]
	pub type Programs = pallet_dt_programs;

	#[runtime::pallet_index(12)]
	pub type Availability = pallet_dt_availability;
}

/// Session keys from their public parts, for chain specifications.
pub fn session_keys(
	aura: sp_consensus_aura::sr25519::AuthorityId,
	grandpa: sp_consensus_grandpa::AuthorityId,
) -> SessionKeys {
	SessionKeys { aura, grandpa }
}
