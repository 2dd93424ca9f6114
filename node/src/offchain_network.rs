//! The off-chain store's network among the partners' nodes, started inside dt-node when
//! `--store-listen` is given: [`dt_offchain::network`] with this node's identity (the chain's
//! node key, so the store's peer id is the one the consortium registered), the partner
//! list and the access rules read from the chain.
//!
//! Without `--store-listen` the node keeps its store to itself (a development node, or a
//! partner that has not opened the store's port yet).

use dt_offchain::{
	crypto::ReaderPublicKey,
	network::{
		document_of_item, feed_epoch_of_item, AccessPolicy, ItemId, Keypair, Multiaddr,
		PartnerDirectory, PeerId, StoreConfig, StoreHandle, StoreNode,
	},
	uploads::UploadLimits,
};
use dt_primitives::{feed::FeedId, OrganisationId};
use dt_runtime::{opaque::Block, AccountId, BlockNumber};
use pallet_dt_access::runtime_api::AccessApi;
use pallet_dt_availability::runtime_api::AvailabilityApi;
use pallet_dt_consortium::runtime_api::ConsortiumApi;
use pallet_dt_documents::runtime_api::DocumentsApi;
use pallet_dt_feeds::{runtime_api::FeedsApi, FeedStatus};
use pallet_dt_twin_spec::runtime_api::TwinSpecApi;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::sr25519;
use std::{
	path::PathBuf,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

/// How long the partner list read from the chain is used before it is read again.
const PARTNER_LIST_TTL: Duration = Duration::from_secs(6);

/// The command-line options of the store's network.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreNetworkParams {
	/// Opens the off-chain store's network on this address (e.g. `/ip4/0.0.0.0/tcp/30444`),
	/// so that documents and feeds are replicated among the partners' nodes.
	#[arg(long, value_name = "MULTIADDR")]
	pub store_listen: Option<String>,

	/// Another partner's store address, `/ip4/…/tcp/PORT/p2p/PEER_ID`, to find the others
	/// through (repeatable).
	#[arg(long = "store-bootnode", value_name = "MULTIADDR")]
	pub store_bootnodes: Vec<String>,

	/// How many failed or lying replicas an item survives: each is stored on 2k+1 partner
	/// nodes (fewer when the consortium has fewer).
	#[arg(long, value_name = "K", default_value_t = 1)]
	pub store_replication: usize,

	/// How many MiB of blocks that nothing on chain refers to yet this node keeps per
	/// organisation (what its members uploaded and have not registered yet). Must exceed
	/// the largest document a member uploads at once.
	#[arg(long, value_name = "MIB", default_value_t = 8192)]
	pub store_quota_mib: u64,

	/// How long (seconds) a block that nothing on chain refers to is kept after its upload
	/// before it is removed. Keep it above 900 s: a signed put stays valid for 15 minutes.
	#[arg(long, value_name = "SECONDS", default_value_t = 86_400)]
	pub store_grace_period_secs: u64,
}

impl StoreNetworkParams {
	/// The quota and grace period of uploaded blocks (`--store-quota-mib`,
	/// `--store-grace-period-secs`).
	pub fn upload_limits(&self) -> UploadLimits {
		if self.store_grace_period_secs < 900 {
			log::warn!(
				target: "dt-offchain",
				"--store-grace-period-secs {} is shorter than a signed put stays valid (900 s): \
				 a collected block can be put again, and charged again, with its old request",
				self.store_grace_period_secs
			);
		}
		UploadLimits {
			quota_bytes: self.store_quota_mib.saturating_mul(1 << 20),
			grace_ms: self.store_grace_period_secs.saturating_mul(1000),
		}
	}
}

/// The runtime APIs through which the store's network, and the node following the chain
/// for it, read the chain.
pub trait StoreChainApi:
	ConsortiumApi<Block, AccountId>
	+ FeedsApi<Block, AccountId, BlockNumber>
	+ AccessApi<Block, AccountId>
	+ DocumentsApi<Block, AccountId, BlockNumber>
	+ TwinSpecApi<Block, AccountId, BlockNumber>
	+ AvailabilityApi<Block, BlockNumber>
{
}

impl<T> StoreChainApi for T where
	T: ConsortiumApi<Block, AccountId>
		+ FeedsApi<Block, AccountId, BlockNumber>
		+ AccessApi<Block, AccountId>
		+ DocumentsApi<Block, AccountId, BlockNumber>
		+ TwinSpecApi<Block, AccountId, BlockNumber>
		+ AvailabilityApi<Block, BlockNumber>
{
}

/// The chain, as the store's network asks it: the partners, and who may do what.
pub struct ChainView<C> {
	client: Arc<C>,
	partners: Mutex<Option<(Instant, Vec<PeerId>)>>,
}

impl<C> ChainView<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StoreChainApi,
{
	pub fn new(client: Arc<C>) -> Self {
		ChainView { client, partners: Mutex::new(None) }
	}

	fn best(&self) -> <Block as sp_runtime::traits::Block>::Hash {
		self.client.info().best_hash
	}

	fn read_partners(&self) -> Vec<PeerId> {
		match self.client.runtime_api().partner_nodes(self.best()) {
			Ok(ids) => ids.iter().filter_map(|id| PeerId::from_bytes(id).ok()).collect(),
			Err(e) => {
				log::warn!(target: "dt-offchain", "cannot read the partner nodes: {e}");
				Vec::new()
			},
		}
	}
}

impl<C> PartnerDirectory for ChainView<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StoreChainApi,
{
	fn partners(&self) -> Vec<PeerId> {
		let mut cached = self.partners.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		match &*cached {
			Some((read_at, partners)) if read_at.elapsed() < PARTNER_LIST_TTL => partners.clone(),
			_ => {
				let partners = self.read_partners();
				*cached = Some((Instant::now(), partners.clone()));
				partners
			},
		}
	}
}

impl<C> AccessPolicy for ChainView<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StoreChainApi,
{
	/// Who may publish a document's envelopes and change its readers: whoever may add its
	/// versions or manage access on its twin, cleared for the document's level
	/// (`DocumentsApi::may_manage_readers`, one document read at the best block). A feed
	/// epoch's: the device that owns the feed, while the feed is active and the device a
	/// member (it makes every epoch's key and seals it for the readers).
	fn may_manage(&self, account: &sr25519::Public, item: &ItemId) -> bool {
		if let Some((feed, _)) = feed_epoch_of_item(item) {
			return self.feed_appender(feed).as_ref() == Some(account);
		}
		let Some(document) = document_of_item(item) else { return false };
		self.client
			.runtime_api()
			.may_manage_readers(self.best(), document, AccountId::from(*account))
			.unwrap_or(false)
	}

	fn reader_key(&self, account: &sr25519::Public) -> Option<ReaderPublicKey> {
		let der = self
			.client
			.runtime_api()
			.encryption_key(self.best(), AccountId::from(*account))
			.ok()??;
		ReaderPublicKey::from_der(&der).ok()
	}

	fn feed_owner(&self, feed: FeedId) -> Option<sr25519::Public> {
		let record = self.client.runtime_api().feed(self.best(), feed).ok()??;
		let raw: [u8; 32] = record.owner.into();
		Some(sr25519::Public::from_raw(raw))
	}

	/// The feed's owner if, at the best block, the feed is active and its owner a member.
	fn feed_appender(&self, feed: FeedId) -> Option<sr25519::Public> {
		let at = self.best();
		let api = self.client.runtime_api();
		let record = api.feed(at, feed).ok()??;
		if !matches!(record.status, FeedStatus::Active) {
			return None;
		}
		api.organisation_of(at, record.owner.clone()).ok()??;
		let raw: [u8; 32] = record.owner.into();
		Some(sr25519::Public::from_raw(raw))
	}

	fn organisation_of(&self, account: &sr25519::Public) -> Option<OrganisationId> {
		self.client
			.runtime_api()
			.organisation_of(self.best(), AccountId::from(*account))
			.ok()?
	}
}

/// Why the store's network did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
	#[error("--store-listen {0:?} is not a multiaddress: {1}")]
	BadListenAddress(String, String),
	#[error("--store-bootnode {0:?} must be a multiaddress ending in /p2p/PEER_ID")]
	BadBootnode(String),
	#[error("cannot use the node key for the store's network: {0}")]
	NodeKey(String),
	#[error("the off-chain store's network did not start: {0}")]
	Network(String),
}

/// Starts the store's network if `--store-listen` asks for it; `None` otherwise.
pub fn start<C>(
	params: &StoreNetworkParams,
	node_key: sc_network::config::NodeKeyConfig,
	data_dir: PathBuf,
	client: Arc<C>,
) -> Result<Option<StoreHandle>, StartError>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StoreChainApi,
{
	let Some(listen) = &params.store_listen else { return Ok(None) };
	let listen: Multiaddr = listen
		.parse()
		.map_err(|e| StartError::BadListenAddress(listen.clone(), format!("{e}")))?;
	let bootstrap = params
		.store_bootnodes
		.iter()
		.map(|text| parse_bootnode(text).ok_or_else(|| StartError::BadBootnode(text.clone())))
		.collect::<Result<Vec<_>, _>>()?;
	let keypair = store_keypair(node_key)?;
	let view = Arc::new(ChainView::new(client));
	let partners = view.partners().len();
	// Each item on 2k+1 partners: never ask for more replicas than there are partners.
	let k = params.store_replication.min(partners.saturating_sub(1) / 2);
	if k < params.store_replication {
		log::warn!(
			target: "dt-offchain",
			"the consortium has {partners} partner node(s): items are kept on {} of them (k = {k})",
			2 * k + 1
		);
	}
	let genesis = view.client.info().genesis_hash.into();
	let config = StoreConfig {
		listen,
		keypair,
		data_dir,
		k,
		bootstrap,
		directory: view.clone(),
		policy: view,
		genesis,
		uploads: params.upload_limits(),
	};
	let handle = tokio::task::block_in_place(|| {
		tokio::runtime::Handle::current().block_on(StoreNode::start(config))
	})
	.map_err(|e| StartError::Network(e.to_string()))?;
	log::info!(
		"📦 Off-chain store network: peer {} listening on {}, items on {} partner(s)",
		handle.peer_id(),
		handle.listen_addr(),
		2 * k + 1
	);
	Ok(Some(handle))
}

/// The store's identity: the chain's node key, so the store's peer id is the one the
/// consortium registered, and the node signs its availability attestations with it.
pub fn store_keypair(node_key: sc_network::config::NodeKeyConfig) -> Result<Keypair, StartError> {
	let keypair = node_key.into_keypair().map_err(|e| StartError::NodeKey(e.to_string()))?;
	Keypair::ed25519_from_bytes(keypair.to_bytes()[..32].to_vec())
		.map_err(|e| StartError::NodeKey(e.to_string()))
}

/// `/ip4/…/tcp/…/p2p/PEER` as (peer, address without the `/p2p` part).
fn parse_bootnode(text: &str) -> Option<(PeerId, Multiaddr)> {
	let (address, peer) = text.rsplit_once("/p2p/")?;
	Some((peer.parse().ok()?, address.parse().ok()?))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn bootnodes_need_a_peer_id() {
		let peer = PeerId::random();
		let (parsed, address) =
			parse_bootnode(&format!("/ip4/127.0.0.1/tcp/30444/p2p/{peer}")).unwrap();
		assert_eq!(parsed, peer);
		assert_eq!(address.to_string(), "/ip4/127.0.0.1/tcp/30444");
		assert!(parse_bootnode("/ip4/127.0.0.1/tcp/30444").is_none());
		assert!(parse_bootnode("/ip4/127.0.0.1/tcp/30444/p2p/not-a-peer").is_none());
	}
}
