//! A partner node accepts only the registered partner nodes from the moment it starts, not
//! only once its offchain worker has run: here the workers are off, and an unregistered node
//! still gets nothing.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn unregistered_node_gets_nothing_even_without_offchain_workers() {
	let dir = tempfile::tempdir().unwrap();
	let without_workers = || vec!["--offchain-worker".to_string(), "never".to_string()];
	let manufacturer = Node::start(NodeConfig {
		name: "manufacturer",
		chain: "local",
		dev_account: Some("alice"),
		node_key_index: 1,
		bootnodes: vec![],
		base_path: &dir.path().join("manufacturer"),
		validator: true,
		extra_args: without_workers(),
	});
	let owner = Node::start(NodeConfig {
		name: "owner",
		chain: "local",
		dev_account: Some("bob"),
		node_key_index: 2,
		bootnodes: vec![manufacturer.multiaddr(&local_peer_id(1))],
		base_path: &dir.path().join("owner"),
		validator: true,
		extra_args: without_workers(),
	});
	let manufacturer_rpc = manufacturer.rpc().await;
	let owner_rpc = owner.rpc().await;

	// Two of four validators still author in their slots: the partners share a chain.
	let deadline = std::time::Instant::now() + Duration::from_secs(120);
	while owner_rpc.best_number().await < 2 {
		assert!(std::time::Instant::now() < deadline, "the partners produce no blocks");
		tokio::time::sleep(Duration::from_secs(1)).await;
	}

	let outsider = Node::start(NodeConfig {
		name: "outsider",
		chain: "local",
		dev_account: None,
		node_key_index: 5,
		bootnodes: vec![
			manufacturer.multiaddr(&local_peer_id(1)),
			owner.multiaddr(&local_peer_id(2)),
		],
		base_path: &dir.path().join("outsider"),
		validator: false,
		extra_args: vec![],
	});
	let outsider_rpc = outsider.rpc().await;
	let partners_best = manufacturer_rpc.best_number().await;
	tokio::time::sleep(Duration::from_secs(20)).await;
	assert!(manufacturer_rpc.best_number().await > partners_best, "the partners kept producing");
	assert_eq!(outsider_rpc.best_number().await, 0, "the outsider imported blocks");
	let health: serde_json::Value =
		outsider_rpc.request("system_health", jsonrpsee::rpc_params![]).await;
	assert_eq!(health["peers"], 0, "a partner accepted the outsider: {health}");
}
