//! The four-partner `local` chain on real processes: common finality, member transactions
//! across nodes, the pool refusing outsiders, an outsider node kept out, and a validator
//! that crashes and catches up.

mod common;

use common::*;
use dt_runtime::{
	genesis_config_presets::dev_encryption_keys, ConsortiumCall, Runtime, RuntimeCall,
};
use pallet_dt_consortium::Membership;
use sp_keyring::Sr25519Keyring;
use std::time::Duration;

const FINALITY_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn local_consortium_shares_one_chain_and_keeps_outsiders_out() {
	let mut consortium = LocalConsortium::start();
	let mut rpcs = Vec::new();
	for node in &consortium.nodes {
		rpcs.push(node.rpc().await);
	}

	// All four finalize the same block.
	for rpc in &rpcs {
		rpc.wait_finalized(3, FINALITY_TIMEOUT).await;
	}
	let hashes: Vec<_> = futures::future::join_all(rpcs.iter().map(|rpc| rpc.block_hash(3))).await;
	assert!(hashes[0].is_some());
	assert!(hashes.iter().all(|hash| *hash == hashes[0]), "diverging block #3: {hashes:?}");

	// A member's extrinsic sent to the manufacturer's node is finalized and visible on the
	// maintainer's node: the owner's admin (Bob) onboards Eve.
	let eve = Sr25519Keyring::Eve.to_account_id();
	let add_eve = RuntimeCall::Consortium(ConsortiumCall::add_member {
		who: eve.clone(),
		encryption_key: dev_encryption_keys::EVE.to_vec(),
		key_proof: dev_key_proof(&rpcs[0], Sr25519Keyring::Eve).await,
	});
	let outcome = rpcs[0].submit_finalized(&dev_pair(Sr25519Keyring::Bob), add_eve).await;
	assert!(succeeded(&outcome.events), "add_member failed: {:?}", outcome.events);
	let members_key = pallet_dt_consortium::Members::<Runtime>::hashed_key_for(&eve);
	rpcs[2]
		.wait_finalized(rpcs[0].header(Some(outcome.block)).await.number, FINALITY_TIMEOUT)
		.await;
	let on_maintainer_node: Option<Membership> =
		rpcs[2].storage(members_key.clone(), Some(outcome.block)).await;
	assert_eq!(on_maintainer_node.map(|member| member.organisation), Some(1));

	// An unregistered account is refused by the pool with the membership error.
	let ferdie = dev_pair(Sr25519Keyring::Ferdie);
	let remark = RuntimeCall::System(frame_system::Call::remark { remark: b"hello".to_vec() });
	let refused = rpcs[0].sign(&ferdie, remark).await;
	let error = rpcs[0]
		.submit_watch(&refused)
		.await
		.err()
		.expect("the pool refuses an outsider");
	assert!(error.contains("Invalid signing address"), "unexpected refusal: {error}");

	// A fifth node that is not a registered partner never imports a block.
	let outsider = Node::start(NodeConfig {
		name: "outsider",
		chain: "local",
		dev_account: None,
		node_key_index: 5,
		bootnodes: consortium
			.nodes
			.iter()
			.enumerate()
			.map(|(i, n)| n.multiaddr(&local_peer_id(i as u8 + 1)))
			.collect(),
		base_path: &consortium.dir().join("outsider"),
		validator: false,
		extra_args: vec![],
	});
	let outsider_rpc = outsider.rpc().await;
	let partners_best = rpcs[0].best_number().await;
	tokio::time::sleep(Duration::from_secs(20)).await;
	assert!(rpcs[0].best_number().await > partners_best, "the consortium kept producing blocks");
	assert_eq!(outsider_rpc.best_number().await, 0, "the outsider imported blocks");
	drop(outsider);

	// One of four validators crashes: finality goes on without it.
	let before_crash = rpcs[3].finalized_number().await;
	drop(rpcs.pop());
	consortium.nodes[3].kill();
	let finalized = rpcs[0].finalized_number().await;
	rpcs[0].wait_finalized(finalized + 3, FINALITY_TIMEOUT).await;

	// It restarts from its base path and catches up, with its data intact.
	consortium.nodes[3].restart();
	let restarted = consortium.nodes[3].rpc().await;
	let still_known: Option<Membership> =
		restarted.storage(members_key.clone(), Some(outcome.block)).await;
	assert!(still_known.is_some(), "the restarted node lost finalized data");
	assert!(restarted.finalized_number().await >= before_crash);
	let target = rpcs[0].finalized_number().await;
	restarted.wait_finalized(target, FINALITY_TIMEOUT).await;
	assert_eq!(restarted.block_hash(target).await, rpcs[0].block_hash(target).await);
}
