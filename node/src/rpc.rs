//! The node's own RPC methods, next to the standard Substrate ones.

use crate::{
	offchain_network::{ChainView, StoreChainApi},
	offchain_rpc::{FeedApiServer, Offchain, OffchainStores, StoreApiServer},
	twin_index::rpc::{Index, IndexApiServer},
	twin_rpc::{Twin, TwinApiServer},
};
use dt_runtime::{opaque::Block, AccountId, BlockNumber, Nonce};
use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use std::sync::Arc;

/// What the RPC methods need from the node.
pub struct FullDeps<C, P> {
	/// The client, to read the chain.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// The embedded off-chain store.
	pub offchain: Arc<OffchainStores>,
	/// The twin index; `None` if it could not be opened.
	pub twin_index: Option<Arc<dt_twin_index::IndexStore>>,
}

/// All RPC methods beyond those `sc-service` mounts itself.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: BlockBuilder<Block>,
	C::Api: pallet_dt_twin_spec::runtime_api::TwinSpecApi<Block, AccountId, BlockNumber>,
	C::Api: pallet_dt_feeds::runtime_api::FeedsApi<Block, AccountId, BlockNumber>,
	C::Api: StoreChainApi,
	C::Api: pallet_dt_access::runtime_api::AccessApi<Block, AccountId>,
	P: TransactionPool + 'static,
{
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, offchain, twin_index } = deps;
	// `system_accountNextIndex`: the next nonce, counting transactions still in the pool.
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	// `twin_*`: twins' AML documents, elements and their history.
	module.merge(Twin::<C, Block, AccountId>::new(client.clone()).into_rpc())?;
	// `index_*`: twins' change trails and searches, from the node's twin index.
	module.merge(Index::new(client.clone(), twin_index).into_rpc())?;
	// `store_*` and `feed_*`: the embedded off-chain store's blocks and sensor feeds.
	// The chain's rules as the store asks them (membership, for puts).
	let policy = Arc::new(ChainView::new(client.clone()));
	module.merge(StoreApiServer::into_rpc(Offchain::new(
		client.clone(),
		offchain.clone(),
		policy.clone(),
	)))?;
	module.merge(FeedApiServer::into_rpc(Offchain::new(client, offchain, policy)))?;
	Ok(module)
}
