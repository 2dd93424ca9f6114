//! The four-partner `local` chain on real processes: common finality, member transactions
//! across nodes, the pool refusing outsiders, a burst far beyond a block finalized whole, an
//! outsider node kept out, and a validator that crashes and catches up.

mod common;

use codec::Encode;
use common::*;
use dt_runtime::{
	genesis_config_presets::dev_encryption_keys, ConsortiumCall, Runtime, RuntimeCall,
};
use jsonrpsee::rpc_params;
use pallet_dt_consortium::Membership;
use sp_core::{crypto::Pair as _, H256};
use sp_keyring::Sr25519Keyring;
use std::{
	collections::HashSet,
	time::{Duration, Instant},
};

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

	// 2,000 remarks, several blocks' worth, from all four partners' accounts into one node:
	// every one the pool accepted is finalized, on another partner's node too.
	burst_is_finalized(&consortium, &rpcs[2], 500).await;

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

/// Submits `per_account` remarks of each partner's account to the manufacturer's node, each
/// account's in nonce order and the accounts side by side, and waits until every remark the
/// pool accepted is in a finalized block of `watcher`'s node. A refusal must be an error
/// the submitter saw; a remark accepted and never finalized fails the test.
async fn burst_is_finalized(consortium: &LocalConsortium, watcher: &Rpc, per_account: u32) {
	let submitter = dt_client::Client::connect(&consortium.nodes[0].ws_url()).await.unwrap();
	let context = submitter.signing_context().await.unwrap();
	let from_block = watcher.finalized_number().await + 1;
	let accounts =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave];
	let submissions = accounts.iter().map(|account| {
		let (submitter, signer) = (&submitter, dev_pair(*account));
		async move {
			let first = submitter.next_nonce(&signer.public().into()).await.unwrap();
			let (mut accepted, mut refused) = (Vec::new(), Vec::new());
			for nonce in first..first + per_account {
				let remark = format!("burst {account:?} {nonce}").into_bytes();
				let call = RuntimeCall::System(frame_system::Call::remark { remark });
				let extrinsic = context.sign(&signer, call, nonce).encode();
				match submitter.submit_only(&extrinsic).await {
					Ok(hash) => accepted.push(hash),
					Err(error) => refused.push(error.to_string()),
				}
			}
			(accepted, refused)
		}
	});
	let mut pending: HashSet<H256> = HashSet::new();
	let mut refusals = Vec::new();
	for (accepted, refused) in futures::future::join_all(submissions).await {
		pending.extend(accepted);
		refusals.extend(refused);
	}
	let accepted = pending.len();
	assert!(accepted >= 1000, "the pool took only {accepted} of 2,000 remarks: {refusals:?}");

	// Follow the watcher's finalized blocks until every accepted remark is in one; give up
	// once none more has been finalized for two minutes.
	let (mut next_block, mut progress) = (from_block, Instant::now());
	while !pending.is_empty() && progress.elapsed() < Duration::from_secs(120) {
		let finalized = watcher.finalized_number().await;
		while next_block <= finalized {
			let hash = watcher.block_hash(next_block).await.expect("a finalized block");
			let block: serde_json::Value =
				watcher.request("chain_getBlock", rpc_params![hash]).await;
			for extrinsic in block["block"]["extrinsics"].as_array().unwrap() {
				let bytes =
					hex::decode(extrinsic.as_str().unwrap().trim_start_matches("0x")).unwrap();
				if pending.remove(&H256::from(sp_io::hashing::blake2_256(&bytes))) {
					progress = Instant::now();
				}
			}
			next_block += 1;
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	assert!(
		pending.is_empty(),
		"{} of the {accepted} accepted remarks were never finalized (refused at submission: {})",
		pending.len(),
		refusals.len()
	);
}
