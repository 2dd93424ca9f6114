//! The off-chain store's network inside real dt-node processes: the local consortium's four
//! partner nodes, each with `--store-listen`, so every block and feed is kept on three of
//! them (k = 1) and read from any:
//!
//! - a block put through the manufacturer's node is read through the maintainer's;
//! - a copy damaged on one node's disk is detected there and a good copy read from another
//!   replica;
//! - with one node killed, blocks stay readable and feeds writable on the others;
//! - feed entries appended through the manufacturer's node reach a subscriber on the
//!   auditor's node live and in order, and the auditor's node serves their range;
//! - batches from the wrong key are refused on any node; a node restarted on its base path
//!   still serves what it holds.

mod common;

use codec::Encode;
use common::{
	plant::{DEVICE, OWNER},
	*,
};
use dt_offchain::{
	content_id::Cid,
	feed::{FeedWriter, SignedBatch},
};
use jsonrpsee::{
	core::{
		client::{ClientT, Subscription, SubscriptionClientT},
		ClientError,
	},
	rpc_params,
};
use serde_json::Value;
use std::time::Duration;

/// How long a request is retried while the partners find each other.
const RETRY_FOR: Duration = Duration::from_secs(90);

fn call_error(result: Result<Value, ClientError>) -> (i32, String) {
	match result {
		Err(ClientError::Call(error)) => (error.code(), error.message().to_string()),
		other => panic!("expected a call error, got {other:?}"),
	}
}

async fn next_item(subscription: &mut Subscription<Value>) -> Value {
	tokio::time::timeout(Duration::from_secs(60), subscription.next())
		.await
		.expect("an entry arrives in time")
		.expect("the subscription is open")
		.expect("the item decodes")
}

#[tokio::test(flavor = "multi_thread")]
async fn four_partner_nodes_replicate_blocks_and_feeds() {
	let dir = tempfile::tempdir().unwrap();
	let mut nodes = start_store_consortium(dir.path());
	let manufacturer = nodes[0].rpc().await;
	let maintainer = nodes[2].rpc().await;
	let auditor = nodes[3].rpc().await;
	manufacturer.wait_finalized(1, STARTUP_TIMEOUT).await;
	let genesis = manufacturer.genesis().await;
	let uploader = dev_pair(OWNER);
	for node in &nodes {
		assert!(node.log_tail().contains("Off-chain store network"), "{}", node.log_tail());
	}

	// --- Blocks: put on the manufacturer's node, read on the maintainer's ---
	let block = b"sealed chunk of a maintenance report".to_vec();
	let cid: String = eventually("store_putBlock", RETRY_FOR, || {
		manufacturer
			.client
			.request("store_putBlock", put_params(&block, &uploader, &genesis))
	})
	.await;
	assert_eq!(cid, Cid::of(&block).to_string());
	let read: String = maintainer.request("store_getBlock", rpc_params![cid.clone()]).await;
	assert_eq!(read, hex0x(&block));
	assert!(auditor.request::<bool>("store_hasBlock", rpc_params![cid.clone()]).await);
	let never = Cid::of(b"never stored").to_string();
	let (code, message) =
		call_error(maintainer.client.request("store_getBlock", rpc_params![never]).await);
	assert!(code == 7104 || code == 7106, "{code}: {message}");

	// --- A damaged copy on disk is detected and a good copy read from another replica ---
	let parsed: Cid = cid.parse().unwrap();
	let shard = format!("{:02x}", parsed.digest()[0]);
	let block_path =
		|node: &Node| node.base_path.join("offchain/blocks/blocks").join(&shard).join(&cid);
	// Acknowledged once two replicas stored it; the third receives it soon after.
	let deadline = std::time::Instant::now() + Duration::from_secs(60);
	let holders = loop {
		let holders: Vec<usize> =
			(0..4).filter(|index| block_path(&nodes[*index]).exists()).collect();
		if holders.len() >= 3 || std::time::Instant::now() > deadline {
			break holders;
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	};
	assert_eq!(holders.len(), 3, "2k+1 = 3 replicas hold the block: {holders:?}");
	let damaged = holders[0];
	std::fs::write(block_path(&nodes[damaged]), b"sealed chunk of a maintenance rep0rt").unwrap();
	let reader = nodes[damaged].rpc().await;
	let read: String = reader.request("store_getBlock", rpc_params![cid.clone()]).await;
	assert_eq!(read, hex0x(&block), "a good copy from another replica");

	// --- A feed on chain: Alice (a partner's admin) creates the twin, Bob's account owns the
	// feed ---
	let client = dt_client::Client::connect(&nodes[0].ws_url()).await.unwrap();
	let twin = plant::set_up(&client).await;
	let feed = plant::register_feed(&client, twin).await;
	// Every node imports the registration before it is asked about the feed.
	let finalized = manufacturer.finalized_number().await;
	auditor.wait_finalized(finalized, STARTUP_TIMEOUT).await;

	// A subscriber on the auditor's node, entries appended through the manufacturer's.
	let mut live: Subscription<Value> = auditor
		.client
		.subscribe("feed_subscribe", rpc_params![feed], "feed_unsubscribe")
		.await
		.expect("the feed can be subscribed to on any node");
	let bob = dev_pair(DEVICE);
	let mut writer = FeedWriter::new(feed, None);
	let readings = ["250.1", "249.8", "250.4", "251.0"];
	for (index, pair) in readings.chunks(2).enumerate() {
		let entries = pair
			.iter()
			.enumerate()
			.map(|(offset, value)| {
				writer.next_entry(
					1_000 * (2 * index + offset) as u64,
					None,
					value.as_bytes().to_vec(),
				)
			})
			.collect();
		let batch = SignedBatch::sign(entries, &bob, &genesis);
		let appended: Value = manufacturer
			.request("feed_append", rpc_params![feed, hex0x(&batch.encode())])
			.await;
		assert_eq!(appended["head"]["sequence"], 2 * index + 1, "{appended}");
		assert_eq!(appended["stored"], 2, "{appended}");
	}
	for (sequence, value) in readings.iter().enumerate() {
		let item = next_item(&mut live).await;
		assert_eq!(item["sequence"], sequence, "{item}");
		assert_eq!(item["payload"], hex0x(value.as_bytes()).as_str());
	}
	let range: Vec<Value> = auditor.request("feed_range", rpc_params![feed, 0, 10, 100]).await;
	assert_eq!(range.len(), readings.len(), "the auditor's node serves the whole range");

	// The wrong key is refused wherever it is sent, and nothing reaches the log.
	let alice = dev_pair(OWNER);
	let mut forged = writer.clone();
	let by_alice =
		SignedBatch::sign(vec![forged.next_entry(9_000, None, b"0".to_vec())], &alice, &genesis);
	let (code, message) = call_error(
		maintainer
			.client
			.request("feed_append", rpc_params![feed, hex0x(&by_alice.encode())])
			.await,
	);
	assert_eq!(code, 7204, "{message}");

	// --- One node down: blocks readable, the feed writable and delivered ---
	nodes[1].kill();
	let read: String = auditor.request("store_getBlock", rpc_params![cid.clone()]).await;
	assert_eq!(read, hex0x(&block));
	let batch =
		SignedBatch::sign(vec![writer.next_entry(10_000, None, b"250.2".to_vec())], &bob, &genesis);
	let appended: Value = eventually("feed_append with a node down", RETRY_FOR, || {
		maintainer
			.client
			.request("feed_append", rpc_params![feed, hex0x(&batch.encode())])
	})
	.await;
	assert_eq!(appended["head"]["sequence"], readings.len(), "{appended}");
	let item = next_item(&mut live).await;
	assert_eq!(item["sequence"], readings.len(), "{item}");

	// --- A restarted node serves what it holds ---
	drop((live, reader, maintainer));
	nodes[2].restart();
	let maintainer = nodes[2].rpc().await;
	let read: String = eventually("store_getBlock after a restart", RETRY_FOR, || {
		maintainer.client.request("store_getBlock", rpc_params![cid.clone()])
	})
	.await;
	assert_eq!(read, hex0x(&block));
	let latest: Value = maintainer.request("feed_latest", rpc_params![feed]).await;
	assert_eq!(latest["sequence"], readings.len(), "{latest}");
}
