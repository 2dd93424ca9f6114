//! The embedded off-chain store on a real `--dev` dt-node: blocks put and read back through
//! `store_*`, and a sensor feed registered on chain with Bob as its device, appended to with
//! batches signed by Bob's key through `feed_append`, read back and delivered live to a
//! subscriber; batches from the wrong key, with a gap, or for an unknown feed are refused;
//! a kill -9 and restart keep what was stored.

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

/// The JSON-RPC error code and message of a refused call.
fn call_error(result: Result<Value, ClientError>) -> (i32, String) {
	match result {
		Err(ClientError::Call(error)) => (error.code(), error.message().to_string()),
		other => panic!("expected a call error, got {other:?}"),
	}
}

fn batch_hex(batch: &SignedBatch) -> String {
	format!("0x{}", hex::encode(batch.encode()))
}

async fn next_item(subscription: &mut Subscription<Value>) -> Value {
	tokio::time::timeout(Duration::from_secs(30), subscription.next())
		.await
		.expect("an entry arrives in time")
		.expect("the subscription is open")
		.expect("the item decodes")
}

#[tokio::test(flavor = "multi_thread")]
async fn blocks_and_a_signed_feed_are_stored_and_served_over_rpc() {
	let dir = tempfile::tempdir().unwrap();
	let mut node = Node::start_dev("offchain-node", dir.path(), &[]);
	let rpc = node.rpc().await;
	let genesis = rpc.genesis().await;
	assert!(dir.path().join("offchain/blocks").is_dir());
	assert!(dir.path().join("offchain/feeds").is_dir());

	// --- Blocks ---
	let block = b"ciphertext of a document chunk".to_vec();
	let cid: String = rpc
		.request("store_putBlock", put_params(&block, &dev_pair(OWNER), &genesis))
		.await;
	assert!(cid.starts_with("bafkrei"), "{cid}");
	assert_eq!(cid, Cid::of(&block).to_string());
	let read: String = rpc.request("store_getBlock", rpc_params![cid.clone()]).await;
	assert_eq!(read, format!("0x{}", hex::encode(&block)));
	assert!(rpc.request::<bool>("store_hasBlock", rpc_params![cid.clone()]).await);

	let unknown = Cid::of(b"never stored").to_string();
	assert!(!rpc.request::<bool>("store_hasBlock", rpc_params![unknown.clone()]).await);
	let (code, message) =
		call_error(rpc.client.request("store_getBlock", rpc_params![unknown]).await);
	assert_eq!(code, 7104, "{message}");
	let (code, _) = call_error(rpc.client.request("store_getBlock", rpc_params!["bnotacid"]).await);
	assert_eq!(code, 7102);
	let (code, _) = call_error(
		rpc.client
			.request(
				"store_putBlock",
				rpc_params!["0xzz", signed_put(&block, &dev_pair(OWNER), &genesis)],
			)
			.await,
	);
	assert_eq!(code, 7101);

	// --- A feed on chain, owned by Bob ---
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let twin = plant::set_up(&client).await;
	let feed = plant::register_feed(&client, twin).await;

	// A subscriber on its own connection.
	let subscriber = node.rpc().await;
	let mut live: Subscription<Value> = subscriber
		.client
		.subscribe("feed_subscribe", rpc_params![feed], "feed_unsubscribe")
		.await
		.expect("the feed can be subscribed to");

	let bob = dev_pair(DEVICE);
	let alice = dev_pair(OWNER);
	let mut writer = FeedWriter::new(feed, None);
	let first = SignedBatch::sign(
		vec![
			writer.next_entry(1_000, None, b"fill 10".to_vec()),
			writer.next_entry(1_500, None, b"fill 11".to_vec()),
		],
		&bob,
		&genesis,
	);
	let second = SignedBatch::sign(
		vec![writer.next_entry(2_000, None, b"fill 12".to_vec())],
		&bob,
		&genesis,
	);

	let appended: Value = rpc.request("feed_append", rpc_params![feed, batch_hex(&first)]).await;
	assert_eq!(appended["head"]["sequence"], 1, "{appended}");
	assert_eq!(appended["alreadyStored"], false);
	assert_eq!(appended["stored"], 2);
	let appended: Value = rpc.request("feed_append", rpc_params![feed, batch_hex(&second)]).await;
	assert_eq!(appended["head"]["sequence"], 2, "{appended}");
	assert_eq!(
		appended["head"]["hash"],
		format!("0x{}", hex::encode(second.entries[0].hash())).as_str()
	);
	// A re-send is acknowledged without change.
	let again: Value = rpc.request("feed_append", rpc_params![feed, batch_hex(&second)]).await;
	assert_eq!(again["alreadyStored"], true, "{again}");

	// Delivered live, in order.
	for (sequence, payload) in [(0, "fill 10"), (1, "fill 11"), (2, "fill 12")] {
		let item = next_item(&mut live).await;
		assert_eq!(item["sequence"], sequence, "{item}");
		assert_eq!(item["payload"], format!("0x{}", hex::encode(payload)).as_str());
		assert_eq!(item["feed"], feed);
	}

	// Latest and ranges.
	let latest: Value = rpc.request("feed_latest", rpc_params![feed]).await;
	assert_eq!(latest["sequence"], 2, "{latest}");
	assert_eq!(latest["timestamp"], 2_000);
	assert_eq!(latest["previous"], format!("0x{}", hex::encode(first.entries[1].hash())).as_str());
	let range: Vec<Value> = rpc.request("feed_range", rpc_params![feed, 0, 10, 100]).await;
	assert_eq!(range.len(), 3);
	assert_eq!(range[0]["previous"], format!("0x{}", hex::encode([0u8; 32])).as_str());
	let limited: Vec<Value> = rpc.request("feed_range", rpc_params![feed, 1, 10, 1]).await;
	assert_eq!(limited.len(), 1);
	assert_eq!(limited[0]["sequence"], 1);
	let by_time: Vec<Value> =
		rpc.request("feed_rangeByTime", rpc_params![feed, 1_200, 2_000, 100]).await;
	assert_eq!(by_time.len(), 1, "{by_time:?}");
	assert_eq!(by_time[0]["sequence"], 1);

	// --- Refusals ---
	// Signed by Alice, who does not own the feed.
	let mut forged_writer = writer.clone();
	let by_alice = SignedBatch::sign(
		vec![forged_writer.next_entry(3_000, None, b"x".to_vec())],
		&alice,
		&genesis,
	);
	let (code, message) = call_error(
		rpc.client.request("feed_append", rpc_params![feed, batch_hex(&by_alice)]).await,
	);
	assert_eq!(code, 7204);
	assert!(message.starts_with("WrongSigner"), "{message}");

	// A gap: entry 4 while 3 is expected.
	let mut gap_writer = writer.clone();
	gap_writer.next_entry(3_000, None, b"skipped".to_vec());
	let gap =
		SignedBatch::sign(vec![gap_writer.next_entry(3_500, None, b"y".to_vec())], &bob, &genesis);
	let (code, message) =
		call_error(rpc.client.request("feed_append", rpc_params![feed, batch_hex(&gap)]).await);
	assert_eq!(code, 7204);
	assert!(message.starts_with("Gap"), "{message}");
	assert!(message.contains("expected entry 3 next, got entry 4"), "{message}");

	// An unknown feed.
	let unknown_feed = feed + 1000;
	let mut other = FeedWriter::new(unknown_feed, None);
	let stray = SignedBatch::sign(vec![other.next_entry(1, None, b"z".to_vec())], &bob, &genesis);
	let (code, message) = call_error(
		rpc.client
			.request("feed_append", rpc_params![unknown_feed, batch_hex(&stray)])
			.await,
	);
	assert_eq!(code, 7201, "{message}");
	let (code, _) = call_error(rpc.client.request("feed_latest", rpc_params![unknown_feed]).await);
	assert_eq!(code, 7201);

	// Garbage is not a batch.
	let (code, _) =
		call_error(rpc.client.request("feed_append", rpc_params![feed, "0x0102"]).await);
	assert_eq!(code, 7203);

	// Nothing refused reached the log.
	let latest: Value = rpc.request("feed_latest", rpc_params![feed]).await;
	assert_eq!(latest["sequence"], 2);

	// A kill -9 and restart keep the acknowledged blocks and entries (the kernel releases the
	// stores' directory locks).
	drop((live, subscriber, client, rpc));
	node.restart();
	let rpc = node.rpc().await;
	let latest: Value = rpc.request("feed_latest", rpc_params![feed]).await;
	assert_eq!(latest["sequence"], 2, "{latest}");
	let read: String = rpc.request("store_getBlock", rpc_params![cid]).await;
	assert_eq!(read, format!("0x{}", hex::encode(&block)));
}
