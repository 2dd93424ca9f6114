//! One member must not stall the chain for everyone: on a real dt-node, a member gives one
//! element of its own twin the most children an element may have, then floods the node with
//! removals of that element claiming a subtree of one element. Each removal is refused
//! before it reads more children than its witness pays for, and the chain keeps producing a
//! block in every 2 s slot while the flood is worked through.

mod common;

use common::{
	plant::{bounded, id},
	*,
};
use dt_primitives::access::TwinId;
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent, TwinSpecCall};
use jsonrpsee::rpc_params;
use pallet_dt_twin_spec::{DocumentHeader, NewElement};
use serde_json::Value;
use sp_core::{crypto::Pair as _, H256};
use sp_io::hashing::twox_128;
use sp_keyring::Sr25519Keyring;
use sp_runtime::DispatchError;
use std::time::{Duration, Instant};

/// The most children an element may have (the runtime's `MaxChildrenPerElement`).
const CHILDREN: u32 = 4096;
/// The most elements one import call carries (the runtime's `MaxElementsPerCall`).
const ELEMENTS_PER_CALL: usize = 500;
/// Removals queued at once by the attacker.
const FLOOD: u32 = 300;

fn new_element(
	name: &str,
	parent: Option<&str>,
	previous: Option<&str>,
) -> NewElement<<Runtime as pallet_dt_twin_spec::Config>::MaxFragmentLength> {
	NewElement {
		id: id(name),
		parent: parent.map(id),
		previous_sibling: previous.map(id),
		fragment: bounded(&format!(r#"<InternalElement Name="{name}" ID="{name}" />"#)),
	}
}

/// The twin: the root `/CAEXFile` holding `crowded`, which holds `CHILDREN` elements,
/// imported in calls of `ELEMENTS_PER_CALL` elements as `attacker`.
async fn crowded_twin(rpc: &Rpc, attacker: &sp_core::sr25519::Pair) -> TwinId {
	let mut elements = vec![
		NewElement {
			id: id("/CAEXFile"),
			parent: None,
			previous_sibling: None,
			fragment: bounded(r#"<CAEXFile FileName="crowded.aml"><?dt-children?></CAEXFile>"#),
		},
		NewElement {
			id: id("crowded"),
			parent: Some(id("/CAEXFile")),
			previous_sibling: None,
			fragment: bounded(
				r#"<InternalElement Name="crowded" ID="crowded"><?dt-children?></InternalElement>"#,
			),
		},
	];
	let children: Vec<String> = (0..CHILDREN).map(|index| format!("child-{index}")).collect();
	for (index, child) in children.iter().enumerate() {
		let previous = index.checked_sub(1).map(|before| children[before].as_str());
		elements.push(new_element(child, Some("crowded"), previous));
	}
	let header = DocumentHeader::default();
	let chunks: Vec<_> = elements.chunks(ELEMENTS_PER_CALL).collect();
	let twin: TwinId = 0;
	for (index, chunk) in chunks.iter().enumerate() {
		let complete = index + 1 == chunks.len();
		let elements = chunk.to_vec().try_into().unwrap();
		let call = if index == 0 {
			TwinSpecCall::create_twin { header: header.clone(), elements, complete }
		} else {
			TwinSpecCall::import_elements { twin, elements, complete }
		};
		let outcome = rpc.submit_finalized(attacker, RuntimeCall::TwinSpec(call)).await;
		assert!(succeeded(&outcome.events), "import call {index}: {:?}", outcome.events);
	}
	twin
}

async fn element_count(rpc: &Rpc, twin: TwinId) -> u64 {
	let twins: Vec<Value> = rpc.request("twin_listTwins", rpc_params![]).await;
	let twin = twins.iter().find(|t| t["id"] == twin).expect("the twin is listed");
	twin["elementCount"].as_u64().unwrap()
}

/// The Aura slot the block was authored in (`Aura::CurrentSlot`): one slot every 2 s.
async fn slot(rpc: &Rpc, at: H256) -> u64 {
	let key = [twox_128(b"Aura"), twox_128(b"CurrentSlot")].concat();
	rpc.storage(key, Some(at)).await.expect("every block has a slot")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_refused_removals_does_not_stall_block_production() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start_dev("flooded-node", dir.path(), &[]);
	let rpc = node.rpc().await;
	let attacker = dev_pair(Sr25519Keyring::Alice);
	let twin = crowded_twin(&rpc, &attacker).await;
	let elements = element_count(&rpc, twin).await;
	assert_eq!(elements, u64::from(CHILDREN) + 2);

	// The flood: every removal claims the crowded element's subtree holds one element.
	let first_nonce = rpc.next_nonce(&attacker.public().into()).await;
	let removal = RuntimeCall::TwinSpec(TwinSpecCall::remove_element {
		twin,
		element: id("crowded"),
		subtree_size: 1,
	});
	let started_at = rpc.best_number().await;
	for offset in 0..FLOOD {
		let extrinsic = rpc.sign_with_nonce(&attacker, removal.clone(), first_nonce + offset).await;
		let hex_xt = format!("0x{}", hex::encode(codec::Encode::encode(&extrinsic)));
		let _: H256 = rpc.request("author_submitExtrinsic", rpc_params![hex_xt]).await;
	}

	// Wait until every removal is in a block.
	let deadline = Instant::now() + Duration::from_secs(300);
	loop {
		let pending: Vec<String> = rpc.request("author_pendingExtrinsics", rpc_params![]).await;
		if pending.is_empty() {
			break;
		}
		assert!(Instant::now() < deadline, "{} removals still pending", pending.len());
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
	let ended_at = rpc.best_number().await;

	// Every removal was refused for its witness, and nothing was removed.
	let too_large: DispatchError =
		pallet_dt_twin_spec::Error::<Runtime>::SubtreeLargerThanWitness.into();
	let mut refused = 0;
	let mut previous_slot = None;
	let mut blocks_with_removals = 0;
	for number in started_at..=ended_at {
		let hash = rpc.block_hash(number).await.expect("the block exists");
		let events = rpc.events(hash).await;
		let in_block = events
			.iter()
			.filter(|event| {
				matches!(
					event,
					RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. })
						if *dispatch_error == too_large
				)
			})
			.count();
		refused += in_block;
		blocks_with_removals += usize::from(in_block > 0);
		// No slot without a block: each block was authored in the slot after the one before.
		let now = slot(&rpc, hash).await;
		if let Some(before) = previous_slot {
			assert_eq!(now, before + 1, "block {number} skipped {} slots", now - before - 1);
		}
		previous_slot = Some(now);
	}
	assert_eq!(refused, FLOOD as usize, "every removal refused for its witness");
	assert!(blocks_with_removals >= 1);
	assert_eq!(element_count(&rpc, twin).await, elements, "nothing was removed");
	eprintln!(
		"{FLOOD} refused removals in {blocks_with_removals} blocks ({started_at}..={ended_at}), \
		 one block per slot"
	);
}
