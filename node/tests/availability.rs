//! The partner nodes follow the finalized chain, hold what they are replicas of and attest
//! it on chain (four real dt-node processes with the store's network, k = 1):
//!
//! - a document version (manifest, chunks and key envelope put through the manufacturer's
//!   node), an annotation and a feed with an anchored checkpoint are each held by exactly
//!   the three partners the store places them on, every block on their disks, and the chain
//!   names those three as holders;
//! - a feed whose anchored checkpoint does not match its log is noticed and held by nobody;
//! - attestations the chain must refuse are refused by the pool: signed by a node key that is
//!   not a partner's, for an item the chain does not refer to, with a tampered item list,
//!   replayed, and a general transaction that no call authorizes.

mod common;

use codec::Encode;
use common::{
	plant::{self, submit_ok, DEVICE, OWNER},
	*,
};
use dt_offchain::{
	block_store::BlockStore,
	content_id::Cid,
	crypto::{ReaderPrivateKey, CHUNK_SIZE},
	documents,
	feed::{FeedWriter, SignedBatch},
};
use dt_primitives::{
	availability::{Attestation, StoredItem},
	feed::Checkpoint,
};
use dt_runtime::{BlockNumber, RuntimeCall, UncheckedExtrinsic};
use jsonrpsee::{
	core::{client::ClientT, ClientError},
	rpc_params,
};
use serde_json::Value;
use sp_core::{ed25519, Pair};
use std::{
	collections::BTreeSet,
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

/// Where a node keeps block `cid` on disk.
fn block_path(base_path: &Path, cid: &Cid) -> PathBuf {
	base_path
		.join("offchain/blocks/blocks")
		.join(format!("{:02x}", cid.digest()[0]))
		.join(cid.to_string())
}

/// The partners the chain records to hold `item`, as indexes 1..=4 of their node keys.
async fn holders(client: &dt_client::Client, item: StoredItem) -> BTreeSet<u8> {
	let holders: Vec<(Vec<u8>, BlockNumber)> =
		client.runtime_api("AvailabilityApi_holders", item, None).await.unwrap();
	holders
		.iter()
		.map(|(peer_id, _)| {
			(1..=4)
				.find(|index| {
					dt_runtime::genesis_config_presets::LOCAL_PARTNER_NODES[usize::from(*index) - 1]
						== peer_id.as_slice()
				})
				.expect("every holder is a partner node")
		})
		.collect()
}

/// Waits until the chain records three holders of `item`.
async fn three_holders(client: &dt_client::Client, item: StoredItem) -> BTreeSet<u8> {
	let deadline = Instant::now() + Duration::from_secs(180);
	loop {
		let holders = holders(client, item).await;
		if holders.len() >= 3 || Instant::now() > deadline {
			return holders;
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

/// The ed25519 key of `--node-key 00..0N`.
fn node_pair(index: u8) -> ed25519::Pair {
	let mut seed = [0u8; 32];
	seed[31] = index;
	ed25519::Pair::from_seed(&seed)
}

/// The peer id libp2p derives from an ed25519 key (identity multihash of its protobuf).
fn peer_id_of(pair: &ed25519::Pair) -> Vec<u8> {
	[&[0x00u8, 0x24, 0x08, 0x01, 0x12, 0x20][..], &pair.public().0[..]].concat()
}

/// An attestation of `items` by the node of `pair`, at block `at`, as a general transaction.
fn attestation(
	pair: &ed25519::Pair,
	items: Vec<StoredItem>,
	at: BlockNumber,
	genesis: [u8; 32],
	tamper: impl FnOnce(&mut pallet_dt_availability::AttestationOf<dt_runtime::Runtime>),
) -> Vec<u8> {
	let mut attestation = Attestation {
		node: peer_id_of(pair).try_into().unwrap(),
		items: items.try_into().unwrap(),
		at,
	};
	let signature = pair.sign(&attestation.signing_payload(&genesis));
	tamper(&mut attestation);
	let call = RuntimeCall::Availability(pallet_dt_availability::Call::attest_availability {
		attestation,
		signature,
	});
	UncheckedExtrinsic::new_transaction(call, dt_runtime::tx_extension(0)).encode()
}

/// Submits `extrinsic` and returns the pool's refusal.
async fn refused(rpc: &Rpc, extrinsic: Vec<u8>) -> String {
	let answer: Result<Value, ClientError> = rpc
		.client
		.request("author_submitExtrinsic", rpc_params![hex0x(&extrinsic)])
		.await;
	match answer {
		Err(ClientError::Call(error)) => format!("{}: {:?}", error.message(), error.data()),
		other => panic!("the attestation was accepted: {other:?}"),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn partners_hold_and_attest_what_the_chain_refers_to() {
	let dir = tempfile::tempdir().unwrap();
	let nodes = start_store_consortium(dir.path());
	let manufacturer = nodes[0].rpc().await;
	manufacturer.wait_finalized(1, STARTUP_TIMEOUT).await;
	let client = dt_client::Client::connect(&nodes[0].ws_url()).await.unwrap();

	// --- A document sealed on the writer's machine, every block put through one node ---
	let genesis = manufacturer.genesis().await;
	let sealed = tempfile::tempdir().unwrap();
	let blocks = BlockStore::open(sealed.path().join("blocks")).unwrap();
	let envelopes = BlockStore::open(sealed.path().join("envelopes")).unwrap();
	let reader = ReaderPrivateKey::from_file_contents(include_bytes!(
		"../../runtime/res/dev-keys/charlie.pem"
	))
	.unwrap();
	let plaintext: Vec<u8> = (0..3 * CHUNK_SIZE / 2).map(|i| i as u8).collect();
	let stored = documents::put_document_with(
		&blocks,
		&envelopes,
		&plaintext[..],
		&[reader.public_key().clone()],
	)
	.unwrap();
	let manifest = documents::read_manifest(&blocks, &stored.content_id).unwrap();
	assert!(manifest.chunks().len() >= 2, "a document of several chunks");
	let mut document_blocks: Vec<(Cid, Vec<u8>)> = manifest
		.chunks()
		.iter()
		.chain([&stored.content_id])
		.map(|cid| (*cid, blocks.get(cid).unwrap().unwrap()))
		.collect();
	document_blocks
		.push((stored.key_envelope, envelopes.get(&stored.key_envelope).unwrap().unwrap()));
	let annotation = b"checked the wiring on site: conforms".to_vec();
	let annotation_cid = Cid::of(&annotation);
	for (cid, bytes) in document_blocks.iter().chain([&(annotation_cid, annotation.clone())]) {
		let stored_as: String = eventually("store_putBlock", Duration::from_secs(90), || {
			manufacturer
				.client
				.request("store_putBlock", put_params(bytes, &dev_pair(OWNER), &genesis))
		})
		.await;
		assert_eq!(stored_as, cid.to_string());
	}

	// --- On chain: the document, an annotation of its version, a feed and a checkpoint ---
	let twin = plant::set_up(&client).await;
	let content_id = |cid: &Cid| cid.as_bytes().to_vec().try_into().unwrap();
	let document = plant::register_document(
		&client,
		OWNER,
		twin,
		plaintext.len() as u64,
		&stored.content_id,
		&stored.key_envelope,
	)
	.await;
	submit_ok(
		&client,
		OWNER,
		RuntimeCall::Documents(pallet_dt_documents::Call::annotate {
			document,
			version: 0,
			content_id: content_id(&annotation_cid),
		}),
	)
	.await;
	let feed = plant::register_feed(&client, twin).await;
	let mut writer = FeedWriter::new(feed, None);
	let entries: Vec<_> = ["250.1", "249.8", "250.4"]
		.iter()
		.enumerate()
		.map(|(index, value)| {
			writer.next_entry(1_000 * index as u64, None, value.as_bytes().to_vec())
		})
		.collect();
	let last = entries.last().unwrap().clone();
	let batch = SignedBatch::sign(entries, &dev_pair(DEVICE), &genesis);
	// Every node answers for the feed once it imported its registration.
	let _: Value = eventually("feed_append", Duration::from_secs(60), || {
		manufacturer
			.client
			.request("feed_append", rpc_params![feed, hex0x(&batch.encode())])
	})
	.await;
	let checkpoint: Checkpoint = last.checkpoint();
	submit_ok(
		&client,
		DEVICE,
		RuntimeCall::Feeds(pallet_dt_feeds::Call::anchor_checkpoint { feed, checkpoint }),
	)
	.await;

	// A second feed whose owner anchored a checkpoint its log does not have: nobody may
	// attest holding it.
	let forged_feed = plant::register_feed(&client, twin).await;
	let mut forged_writer = FeedWriter::new(forged_feed, None);
	let entry = forged_writer.next_entry(0, None, b"250.0".to_vec());
	let mut wrong = entry.checkpoint();
	wrong.entry_hash[0] ^= 1;
	let batch = SignedBatch::sign(vec![entry], &dev_pair(DEVICE), &genesis);
	let _: Value = manufacturer
		.request("feed_append", rpc_params![forged_feed, hex0x(&batch.encode())])
		.await;
	submit_ok(
		&client,
		DEVICE,
		RuntimeCall::Feeds(pallet_dt_feeds::Call::anchor_checkpoint {
			feed: forged_feed,
			checkpoint: wrong,
		}),
	)
	.await;

	// --- Each item held by exactly three partners, on their disks and on chain ---
	let version = StoredItem::DocumentVersion { document, version: 0 };
	let annotated = StoredItem::Annotation { document, version: 0, annotation: 0 };
	let feed_item = StoredItem::Feed(feed);
	for item in [version, annotated, feed_item] {
		let holders = three_holders(&client, item).await;
		assert_eq!(holders.len(), 3, "{item:?} is held by 2k+1 = 3 partners: {holders:?}");
	}
	for holder in holders(&client, version).await {
		let base_path = &nodes[usize::from(holder) - 1].base_path;
		for (cid, _) in &document_blocks {
			assert!(block_path(base_path, cid).exists(), "node {holder} holds block {cid}");
		}
	}
	for holder in holders(&client, annotated).await {
		let base_path = &nodes[usize::from(holder) - 1].base_path;
		assert!(block_path(base_path, &annotation_cid).exists(), "node {holder} holds it");
	}
	for holder in holders(&client, feed_item).await {
		let log_dir = nodes[usize::from(holder) - 1]
			.base_path
			.join("offchain/feeds")
			.join(feed.to_string());
		assert!(log_dir.exists(), "node {holder} keeps the feed's log");
	}

	let forged = StoredItem::Feed(forged_feed);
	let deadline = Instant::now() + Duration::from_secs(60);
	while !nodes.iter().any(|node| node.log_contains("does not match checkpoint 0")) {
		assert!(Instant::now() < deadline, "the forged checkpoint is noticed");
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
	assert!(holders(&client, forged).await.is_empty(), "a log that does not match is not held");

	// --- Attestations the chain refuses ---
	let genesis: [u8; 32] = client.block_hash(0).await.unwrap().unwrap().into();
	let at = manufacturer.finalized_number().await;
	assert_eq!(
		peer_id_of(&node_pair(1)),
		dt_runtime::genesis_config_presets::LOCAL_PARTNER_NODES[0],
		"the chain's partner peer ids embed the node keys"
	);
	let outsider = ed25519::Pair::from_seed(&[9u8; 32]);
	let refusal =
		refused(&manufacturer, attestation(&outsider, vec![version], at, genesis, |_| {})).await;
	assert!(refusal.contains("Invalid signing address"), "not a partner: {refusal}");

	let unknown = StoredItem::Feed(feed + 100);
	let refusal =
		refused(&manufacturer, attestation(&node_pair(1), vec![unknown], at, genesis, |_| {}))
			.await;
	assert!(refusal.contains("Custom error: 1"), "unknown item: {refusal}");

	let tampered = attestation(&node_pair(1), vec![unknown], at, genesis, |attestation| {
		attestation.items = vec![version].try_into().unwrap();
	});
	let refusal = refused(&manufacturer, tampered).await;
	assert!(refusal.contains("bad signature"), "tampered: {refusal}");

	let holder = *holders(&client, version).await.iter().next().unwrap();
	let replay = attestation(&node_pair(holder), vec![version], at, genesis, |_| {});
	let refusal = refused(&manufacturer, replay).await;
	assert!(refusal.contains("Custom error: 2"), "nothing new: {refusal}");

	let unauthorized = UncheckedExtrinsic::new_transaction(
		RuntimeCall::System(frame_system::Call::remark { remark: b"free ride".to_vec() }),
		dt_runtime::tx_extension(0),
	);
	let refusal = refused(&manufacturer, unauthorized.encode()).await;
	assert!(refusal.contains("did not authorize any origin"), "no authorization: {refusal}");
	assert_eq!(holders(&client, version).await.len(), 3, "nothing changed");
}
