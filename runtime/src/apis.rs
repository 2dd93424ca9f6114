//! The runtime APIs the node and clients call.

use crate::{
	genesis_config_presets, Access, AccountId, Aura, Availability, Block, BlockNumber, Consortium,
	Documents, Executive, Feeds, Grandpa, InherentDataExt, Nonce, Programs, Runtime,
	RuntimeGenesisConfig, SessionKeys, System, TwinSpec, VERSION,
};
use alloc::vec::Vec;
use dt_primitives::access::{
	Confidentiality, CustomRoleId, ElementId, Grantee, Permission, Role, TwinId,
};
use frame_support::genesis_builder_helper::{build_state, get_preset};
use pallet_dt_documents::{DocumentHistory, DocumentId, DocumentRecord};
use pallet_dt_feeds::{CheckpointIndex, CheckpointRecord, FeedId, FeedRecord};
use pallet_dt_programs::{CallId, CallRecord};
use pallet_dt_twin_spec::{ElementRecord, ExternalSourceRecord, ProgramRecord, TwinInfo};
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(owner: Vec<u8>, seed: Option<Vec<u8>>) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// Equivocation is not punished on a consortium chain: there is nothing to slash,
			// and a misbehaving partner is removed by governance.
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: sp_consensus_grandpa::AuthorityId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			None
		}
	}

	impl pallet_dt_consortium::runtime_api::ConsortiumApi<Block, AccountId> for Runtime {
		fn partner_nodes() -> Vec<Vec<u8>> {
			Consortium::partner_node_ids()
		}

		fn organisation_of(who: AccountId) -> Option<dt_primitives::OrganisationId> {
			Consortium::organisation_of(&who)
		}

		fn encryption_key(who: AccountId) -> Option<Vec<u8>> {
			Consortium::encryption_key_of(&who)
		}
	}

	impl pallet_dt_access::runtime_api::AccessApi<Block, AccountId> for Runtime {
		fn roles_of(twin: TwinId, who: AccountId) -> Vec<Role> {
			Access::roles_of(twin, &who)
		}

		fn clearance(twin: TwinId, who: AccountId) -> Option<Confidentiality> {
			Access::clearance_of(twin, &who)
		}

		fn grants(twin: TwinId) -> Vec<(Grantee<AccountId>, Vec<Role>)> {
			Access::grants(twin)
		}

		fn role_permissions(twin: TwinId, role: Role) -> Option<Vec<Permission>> {
			Access::role_permissions(twin, role)
		}

		fn custom_roles(twin: TwinId) -> Vec<(CustomRoleId, Vec<u8>)> {
			Access::custom_roles(twin)
		}
	}

	impl pallet_dt_twin_spec::runtime_api::TwinSpecApi<Block, AccountId, BlockNumber> for Runtime {
		fn twins() -> Vec<(TwinId, TwinInfo<AccountId, BlockNumber>)> {
			TwinSpec::twins()
		}

		fn document_header(twin: TwinId) -> Option<(Vec<u8>, Vec<u8>)> {
			TwinSpec::document_header(twin)
		}

		fn elements(
			twin: TwinId,
			after: Option<ElementId>,
			limit: u32,
			reader: Option<AccountId>,
		) -> Vec<ElementRecord<AccountId, BlockNumber>> {
			TwinSpec::elements_in_document_order(twin, after, limit, reader)
		}

		fn element(twin: TwinId, id: ElementId) -> Option<ElementRecord<AccountId, BlockNumber>> {
			TwinSpec::element_record(twin, id)
		}

		fn external_sources(twin: TwinId) -> Vec<ExternalSourceRecord<AccountId>> {
			TwinSpec::external_sources(twin)
		}

		fn programs(twin: TwinId) -> Vec<ProgramRecord<AccountId>> {
			TwinSpec::programs(twin)
		}
	}

	impl pallet_dt_documents::runtime_api::DocumentsApi<Block, AccountId, BlockNumber> for Runtime {
		fn documents_of_twin(
			twin: TwinId,
			reader: Option<AccountId>,
		) -> Vec<DocumentRecord<AccountId, BlockNumber>> {
			Documents::documents_of_twin(twin, reader.as_ref())
		}

		fn documents_of_element(
			twin: TwinId,
			element: ElementId,
			reader: Option<AccountId>,
		) -> Vec<DocumentRecord<AccountId, BlockNumber>> {
			Documents::documents_of_element(twin, &element, reader.as_ref())
		}

		fn document_with_history(
			document: DocumentId,
			reader: Option<AccountId>,
		) -> Option<DocumentHistory<AccountId, BlockNumber>> {
			Documents::document_with_history(document, reader.as_ref())
		}

		fn may_manage_readers(document: DocumentId, who: AccountId) -> bool {
			Documents::may_manage_readers(document, &who)
		}
	}

	impl pallet_dt_feeds::runtime_api::FeedsApi<Block, AccountId, BlockNumber> for Runtime {
		fn feeds_of_twin(
			twin: TwinId,
			reader: Option<AccountId>,
		) -> Vec<FeedRecord<AccountId, BlockNumber>> {
			Feeds::feeds_of_twin(twin, reader.as_ref())
		}

		fn feeds_of_element(
			twin: TwinId,
			element: ElementId,
			reader: Option<AccountId>,
		) -> Vec<FeedRecord<AccountId, BlockNumber>> {
			Feeds::feeds_of_element(twin, &element, reader.as_ref())
		}

		fn feed(feed: FeedId) -> Option<FeedRecord<AccountId, BlockNumber>> {
			Feeds::feed(feed)
		}

		fn checkpoints(
			feed: FeedId,
			from_index: CheckpointIndex,
			limit: u32,
		) -> Vec<CheckpointRecord<BlockNumber>> {
			Feeds::checkpoints(feed, from_index, limit)
		}
	}

	impl pallet_dt_availability::runtime_api::AvailabilityApi<Block, BlockNumber> for Runtime {
		fn holders(item: pallet_dt_availability::StoredItem) -> Vec<(Vec<u8>, BlockNumber)> {
			Availability::holders(&item)
		}
	}

	impl pallet_dt_programs::runtime_api::ProgramsApi<Block, AccountId, BlockNumber> for Runtime {
		fn pending_calls(twin: TwinId) -> Vec<CallRecord<AccountId, BlockNumber>> {
			Programs::pending_calls(twin)
		}

		fn calls_of_twin(
			twin: TwinId,
			after: Option<CallId>,
			limit: u32,
		) -> Vec<CallRecord<AccountId, BlockNumber>> {
			Programs::calls_of_twin(twin, after, limit)
		}

		fn call(call: CallId) -> Option<CallRecord<AccountId, BlockNumber>> {
			Programs::call(call)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			crate::benchmarks::metadata(extra)
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			crate::benchmarks::dispatch(config)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			genesis_config_presets::preset_names()
		}
	}
}
