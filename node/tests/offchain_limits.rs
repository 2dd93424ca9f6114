//! What one party can make a node's off-chain store do, on a real `--dev` dt-node started
//! with a small quota (1 MiB per organisation) and a short grace period (20 s):
//!
//! - blocks are stored only for a member's put signed for this chain: no signature, an
//!   outsider's, a signature for another chain, or one naming other bytes are refused;
//! - a member's organisation is refused past its quota, and has room again once the chain
//!   refers to what it uploaded;
//! - a block nothing on chain refers to is removed after the grace period; the blocks a
//!   document on chain refers to stay;
//! - `feed_range` answers in pages of at most about 4 MiB, however many entries are asked;
//! - a feed batch signed for another chain is refused; a closed feed, and a feed whose
//!   device was removed from the consortium, take no more entries;
//! - on a node that serves only safe RPC methods, the store's writing methods are refused.

mod common;

use codec::Encode;
use common::{
	plant::{self, submit_ok, DEVICE, OWNER},
	*,
};
use dt_offchain::{
	content_id::Cid,
	feed::{FeedWriter, SignedBatch},
	network::{Action, SignedAction},
};
use dt_runtime::RuntimeCall;
use jsonrpsee::{
	core::{client::ClientT, ClientError},
	rpc_params,
};
use serde_json::Value;
use sp_core::{crypto::Pair as _, sr25519};
use std::time::Duration;

/// The JSON-RPC error code and message of a refused call.
fn call_error<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (i32, String) {
	match result {
		Err(ClientError::Call(error)) => (error.code(), error.message().to_string()),
		other => panic!("expected a call error, got {other:?}"),
	}
}

fn block(seed: u8, len: usize) -> Vec<u8> {
	(0..len).map(|i| (i as u8).wrapping_mul(17).wrapping_add(seed)).collect()
}

async fn has_block(rpc: &Rpc, bytes: &[u8]) -> bool {
	rpc.request("store_hasBlock", rpc_params![Cid::of(bytes).to_string()]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_party_cannot_fill_the_store_nor_write_where_it_may_not() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start_dev(
		"limits-node",
		dir.path(),
		&["--store-quota-mib", "1", "--store-grace-period-secs", "20"],
	);
	let rpc = node.rpc().await;
	let genesis = rpc.genesis().await;
	let alice = dev_pair(OWNER);
	let outsider = sr25519::Pair::from_string("//Mallory", None).unwrap();
	let client = dt_client::Client::connect(&node.ws_url()).await.unwrap();
	let twin = plant::set_up(&client).await;

	// --- No signature, an outsider's, another chain's, another block's: nothing stored ---
	let content = block(1, 700 << 10);
	let unsigned = rpc.client.request::<String, _>("store_putBlock", rpc_params![hex0x(&content)]);
	let (code, message) = call_error(unsigned.await);
	assert_eq!(code, -32602, "the signed put is a required parameter: {message}");
	let (code, message) = call_error(
		rpc.client
			.request::<String, _>("store_putBlock", put_params(&content, &outsider, &genesis))
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	assert!(message.contains("no member"), "{message}");
	let (code, message) = call_error(
		rpc.client
			.request::<String, _>("store_putBlock", put_params(&content, &alice, &[0; 32]))
			.await,
	);
	assert_eq!(code, 7302, "a put signed for another chain: {message}");
	let other = signed_put(b"other bytes", &alice, &genesis);
	let (code, message) = call_error(
		rpc.client
			.request::<String, _>("store_putBlock", rpc_params![hex0x(&content), other])
			.await,
	);
	assert_eq!(code, 7301, "{message}");
	assert!(!has_block(&rpc, &content).await);

	// --- Alice's organisation: 700 KiB fit, 700 KiB more do not ---
	let stored: String =
		rpc.request("store_putBlock", put_params(&content, &alice, &genesis)).await;
	assert_eq!(stored, Cid::of(&content).to_string());
	let envelope = block(2, 100);
	let _: String = rpc.request("store_putBlock", put_params(&envelope, &alice, &genesis)).await;
	let unreferenced = block(3, 1000);
	let _: String =
		rpc.request("store_putBlock", put_params(&unreferenced, &alice, &genesis)).await;
	let more = block(4, 700 << 10);
	let (code, message) = call_error(
		rpc.client
			.request::<String, _>("store_putBlock", put_params(&more, &alice, &genesis))
			.await,
	);
	assert_eq!(code, 7107, "{message}");
	assert!(!has_block(&rpc, &more).await);

	// --- A document on chain refers to two of the blocks (registered within the grace
	// period): they stay, the quota frees up, and the third block goes after it ---
	plant::register_document(
		&client,
		OWNER,
		twin,
		700 << 10,
		&Cid::of(&content),
		&Cid::of(&envelope),
	)
	.await;
	let _: String = eventually(
		"store_putBlock once the document is registered",
		Duration::from_secs(60),
		|| rpc.client.request("store_putBlock", put_params(&more, &alice, &genesis)),
	)
	.await;
	let deadline = std::time::Instant::now() + Duration::from_secs(60);
	while has_block(&rpc, &unreferenced).await {
		assert!(std::time::Instant::now() < deadline, "the unreferenced block was never collected");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	// The node logs the collection after removing the blocks: the line may lag the removal.
	let deadline = std::time::Instant::now() + Duration::from_secs(10);
	while !node.log_contains("that nothing on chain refers to") {
		assert!(std::time::Instant::now() < deadline, "{}", node.log_tail());
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
	// Put before the collected one, so past the grace period too: still there.
	assert!(has_block(&rpc, &content).await);
	assert!(has_block(&rpc, &envelope).await);

	// --- feed_range in pages of about 4 MiB ---
	let feed = plant::register_feed(&client, twin).await;
	let bob = dev_pair(DEVICE);
	let mut writer = FeedWriter::new(feed, None);
	let entries: Vec<_> = (0..40u64)
		.map(|i| writer.next_entry(1_000 + i, None, block(i as u8, 60 << 10)))
		.collect();
	let batch = SignedBatch::sign(entries, &bob, &genesis);
	let _: Value = rpc.request("feed_append", rpc_params![feed, hex0x(&batch.encode())]).await;
	let page: Vec<Value> = rpc.request("feed_range", rpc_params![feed, 0, 40, 1000]).await;
	assert!(
		!page.is_empty() && page.len() < 40,
		"one page, not 40 entries of 60 KiB: {}",
		page.len()
	);
	let bytes = serde_json::to_vec(&page).unwrap().len();
	assert!(bytes <= 4 << 20, "a page of {bytes} bytes");
	let mut read = page.len();
	while read < 40 {
		let next: Vec<Value> = rpc.request("feed_range", rpc_params![feed, read, 40, 1000]).await;
		assert!(!next.is_empty());
		assert_eq!(next[0]["sequence"], read);
		read += next.len();
	}

	// --- Feed entries signed for another chain are refused ---
	let next = writer.next_entry(5_000, None, b"250.0".to_vec());
	let test_chain = SignedBatch::sign(vec![next.clone()], &bob, &[0; 32]);
	let (code, message) = call_error(
		rpc.client
			.request::<Value, _>("feed_append", rpc_params![feed, hex0x(&test_chain.encode())])
			.await,
	);
	assert_eq!(code, 7204, "{message}");
	assert!(message.starts_with("BadSignature"), "{message}");

	// --- A closed feed takes no more entries ---
	let close = RuntimeCall::Feeds(pallet_dt_feeds::Call::close_feed { feed });
	submit_ok(&client, OWNER, close).await;
	let closed = SignedBatch::sign(vec![next], &bob, &genesis);
	let (code, message) = call_error(
		rpc.client
			.request::<Value, _>("feed_append", rpc_params![feed, hex0x(&closed.encode())])
			.await,
	);
	assert_eq!(code, 7202, "{message}");

	// --- A device removed from the consortium appends to none of its feeds ---
	let second = plant::register_feed(&client, twin).await;
	let mut writer = FeedWriter::new(second, None);
	let first = SignedBatch::sign(vec![writer.next_entry(1, None, b"1".to_vec())], &bob, &genesis);
	let _: Value = rpc.request("feed_append", rpc_params![second, hex0x(&first.encode())]).await;
	let remove = RuntimeCall::Consortium(pallet_dt_consortium::Call::remove_member {
		who: DEVICE.to_account_id(),
	});
	submit_ok(&client, OWNER, remove).await;
	let after = SignedBatch::sign(vec![writer.next_entry(2, None, b"2".to_vec())], &bob, &genesis);
	let (code, message) = call_error(
		rpc.client
			.request::<Value, _>("feed_append", rpc_params![second, hex0x(&after.encode())])
			.await,
	);
	assert_eq!(code, 7206, "{message}");
	let latest: Value = rpc.request("feed_latest", rpc_params![second]).await;
	assert_eq!(latest["sequence"], 0, "nothing refused reached the log");

	// --- Safe methods only: the store's writing methods are refused ---
	drop((rpc, client));
	assert!(node.terminate(Duration::from_secs(30)));
	let safe = Node::start_dev("safe-node", dir.path(), &["--rpc-methods", "safe"]);
	let rpc = safe.rpc().await;
	let small = block(9, 10);
	let (code, message) = call_error(
		rpc.client
			.request::<String, _>("store_putBlock", put_params(&small, &alice, &genesis))
			.await,
	);
	assert_eq!(code, -32601, "{message}");
	let change = SignedAction::sign(Action::PutBlock { block: Cid::of(&small) }, &alice, &genesis);
	let (code, message) = call_error(
		rpc.client
			.request::<Value, _>("store_changeAcl", rpc_params![hex0x(&change.encode())])
			.await,
	);
	assert_eq!(code, -32601, "{message}");
	let (code, message) = call_error(
		rpc.client.request::<Value, _>("feed_append", rpc_params![second, "0x00"]).await,
	);
	assert_eq!(code, -32601, "{message}");
	// Reading stays open.
	let read: String =
		rpc.request("store_getBlock", rpc_params![Cid::of(&content).to_string()]).await;
	assert_eq!(read, hex0x(&content));
}
