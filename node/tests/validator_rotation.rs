//! A validator change decided by governance reaches Aura and GRANDPA on real processes:
//! the auditor's validator is voted out, both authority sets shrink to three, GRANDPA
//! switches to a new authority set, and the chain keeps finalizing.

mod common;

use common::*;
use dt_runtime::{ConsortiumCall, RuntimeCall};
use pallet_dt_consortium::Action;
use sp_io::hashing::twox_128;
use sp_keyring::Sr25519Keyring;
use std::time::{Duration, Instant};

/// Two sessions of 10 blocks of 2 seconds, with room to spare.
const ROTATION_TIMEOUT: Duration = Duration::from_secs(150);

fn storage_key(pallet: &str, item: &str) -> Vec<u8> {
	[twox_128(pallet.as_bytes()), twox_128(item.as_bytes())].concat()
}

async fn authorities(rpc: &Rpc) -> (usize, usize, u64) {
	let aura: Vec<sp_consensus_aura::sr25519::AuthorityId> =
		rpc.storage(storage_key("Aura", "Authorities"), None).await.unwrap_or_default();
	let grandpa: Vec<(sp_consensus_grandpa::AuthorityId, u64)> = rpc
		.storage(storage_key("Grandpa", "Authorities"), None)
		.await
		.unwrap_or_default();
	let set_id: u64 = rpc.storage(storage_key("Grandpa", "CurrentSetId"), None).await.unwrap_or(0);
	(aura.len(), grandpa.len(), set_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn governance_removes_a_validator_from_aura_and_grandpa() {
	let consortium = LocalConsortium::start();
	let rpc = consortium.nodes[0].rpc().await;
	rpc.wait_finalized(1, ROTATION_TIMEOUT).await;
	assert_eq!(authorities(&rpc).await, (4, 4, 0));

	let dave = Sr25519Keyring::Dave.to_account_id();
	let action = Action::RemoveValidator { validator: dave };
	let proposed = rpc
		.submit_finalized(
			&dev_pair(Sr25519Keyring::Alice),
			RuntimeCall::Consortium(ConsortiumCall::propose { action }),
		)
		.await;
	assert!(succeeded(&proposed.events));
	let proposal = 0;
	for voter in [Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
		let vote = RuntimeCall::Consortium(ConsortiumCall::vote { proposal, approve: true });
		assert!(succeeded(&rpc.submit_finalized(&dev_pair(voter), vote).await.events));
	}
	let execute = RuntimeCall::Consortium(ConsortiumCall::execute_proposal { proposal });
	let executed = rpc.submit_finalized(&dev_pair(Sr25519Keyring::Dave), execute).await;
	assert!(succeeded(&executed.events), "{:?}", executed.events);

	let deadline = Instant::now() + ROTATION_TIMEOUT;
	let (aura, grandpa, set_id) = loop {
		let current = authorities(&rpc).await;
		if current.0 == 3 && current.1 == 3 {
			break current;
		}
		assert!(Instant::now() < deadline, "authorities still {current:?}");
		tokio::time::sleep(Duration::from_secs(1)).await;
	};
	assert_eq!((aura, grandpa), (3, 3));
	assert!(set_id >= 1, "GRANDPA did not switch to a new authority set");

	// The new GRANDPA set finalizes blocks.
	let finalized = rpc.finalized_number().await;
	rpc.wait_finalized(finalized + 3, ROTATION_TIMEOUT).await;
	let auditor = consortium.nodes[3].rpc().await;
	auditor.wait_finalized(finalized + 3, ROTATION_TIMEOUT).await;
}
