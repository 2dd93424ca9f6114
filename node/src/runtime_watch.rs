//! Keeps the node's own use of the runtime in step with the runtime the chain runs.
//!
//! The node's RPC methods, its store and its availability attestations call the runtime's
//! APIs with the argument and answer types of the runtime crate the node was built with, but
//! the runtime itself comes from the chain's state: a runtime upgrade changes it under the
//! running node. At start and at every finalized block whose runtime is another than the
//! last one seen, the node reads the runtime's version, logs an upgrade, and checks that every
//! API it calls is there at the version it was built for, naming each one that is not and
//! what to do (its callers would otherwise fail with decode errors).

use dt_runtime::{opaque::Block, AccountId, BlockNumber};
use futures::StreamExt;
use sc_client_api::BlockchainEvents;
use sp_api::{Core, ProvideRuntimeApi, RuntimeApiInfo};
use sp_blockchain::HeaderBackend;
use sp_version::{ApiId, RuntimeVersion};
use std::sync::Arc;

const LOG_TARGET: &str = "dt-node";

/// Every runtime API this node calls: its name, id and the version the node was built for.
fn apis_called() -> [(&'static str, ApiId, u32); 7] {
	use pallet_dt_access::runtime_api::AccessApi;
	use pallet_dt_availability::runtime_api::AvailabilityApi;
	use pallet_dt_consortium::runtime_api::ConsortiumApi;
	use pallet_dt_documents::runtime_api::DocumentsApi;
	use pallet_dt_feeds::runtime_api::FeedsApi;
	use pallet_dt_twin_spec::runtime_api::TwinSpecApi;
	type Nonces = dyn substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, u32>;
	fn api<A: RuntimeApiInfo + ?Sized>(name: &'static str) -> (&'static str, ApiId, u32) {
		(name, A::ID, A::VERSION)
	}
	[
		api::<dyn ConsortiumApi<Block, AccountId>>("ConsortiumApi"),
		api::<dyn AccessApi<Block, AccountId>>("AccessApi"),
		api::<dyn TwinSpecApi<Block, AccountId, BlockNumber>>("TwinSpecApi"),
		api::<dyn DocumentsApi<Block, AccountId, BlockNumber>>("DocumentsApi"),
		api::<dyn FeedsApi<Block, AccountId, BlockNumber>>("FeedsApi"),
		api::<dyn AvailabilityApi<Block, BlockNumber>>("AvailabilityApi"),
		api::<Nonces>("AccountNonceApi"),
	]
}

/// The APIs this node calls that `runtime` lacks or has at another version than the node's.
pub fn apis_changed(runtime: &RuntimeVersion) -> Vec<String> {
	apis_called()
		.into_iter()
		.filter_map(|(name, id, built_for)| match runtime.api_version(&id) {
			Some(version) if version == built_for => None,
			Some(version) => Some(format!("{name} {version} (this node calls {built_for})")),
			None => Some(format!("{name} (missing)")),
		})
		.collect()
}

/// Follows the finalized chain for as long as the node runs.
pub async fn follow<C>(client: Arc<C>)
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + BlockchainEvents<Block> + Send + Sync,
	C::Api: Core<Block>,
{
	let mut finalized = client.finality_notification_stream();
	let mut seen = None;
	check(&*client, client.info().finalized_hash, &mut seen);
	while let Some(notification) = finalized.next().await {
		check(&*client, notification.hash, &mut seen);
	}
}

fn check<C>(client: &C, at: <Block as sp_runtime::traits::Block>::Hash, seen: &mut Option<u32>)
where
	C: ProvideRuntimeApi<Block>,
	C::Api: Core<Block>,
{
	let runtime = match client.runtime_api().version(at) {
		Ok(runtime) => runtime,
		Err(e) => {
			log::warn!(target: LOG_TARGET, "cannot read the runtime version at {at:?}: {e}");
			return;
		},
	};
	if *seen == Some(runtime.spec_version) {
		return;
	}
	if let Some(previous) = seen.replace(runtime.spec_version) {
		log::info!(
			target: LOG_TARGET,
			"the consortium upgraded the runtime from spec version {previous} to {} (finalized at {at:?})",
			runtime.spec_version
		);
	}
	let changed = apis_changed(&runtime);
	if changed.is_empty() {
		log::info!(
			target: LOG_TARGET,
			"runtime {} spec version {}: every runtime API this node calls is as it was built for",
			runtime.spec_name,
			runtime.spec_version
		);
	} else {
		log::error!(
			target: LOG_TARGET,
			"runtime {} spec version {} changed runtime APIs this node calls: {}; its RPC \
			 methods and store fail where they use them. Run the dt-node of the release that \
			 brought spec version {}",
			runtime.spec_name,
			runtime.spec_version,
			changed.join(", "),
			runtime.spec_version
		);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_runtime_built_with_the_node_has_every_api_it_calls() {
		assert_eq!(apis_changed(&dt_runtime::VERSION), Vec::<String>::new());
	}

	#[test]
	fn a_changed_or_missing_api_is_named() {
		let mut runtime = dt_runtime::VERSION;
		let (feeds, _, built_for) = apis_called()[4];
		let apis: Vec<(ApiId, u32)> = runtime
			.apis
			.iter()
			.filter(|(id, _)| *id != apis_called()[3].1)
			.map(|(id, version)| {
				(*id, if *id == apis_called()[4].1 { version + 1 } else { *version })
			})
			.collect();
		runtime.apis = apis.into();
		assert_eq!(
			apis_changed(&runtime),
			vec![
				"DocumentsApi (missing)".to_string(),
				format!("{feeds} {} (this node calls {built_for})", built_for + 1)
			]
		);
	}
}
