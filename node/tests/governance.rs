//! Governance end to end on the four-partner `local` chain: a fifth organisation is
//! proposed, approved by a majority through real extrinsics, and its member transacts.

mod common;

use common::*;
use dt_primitives::LifecycleRole;
use dt_runtime::{
	genesis_config_presets::dev_encryption_keys, ConsortiumCall, RuntimeCall, RuntimeEvent,
};
use pallet_dt_consortium::{Action, Event as ConsortiumEvent};
use sp_keyring::Sr25519Keyring;

#[tokio::test(flavor = "multi_thread")]
async fn majority_admits_a_fifth_organisation_whose_member_then_transacts() {
	let consortium = LocalConsortium::start();
	let manufacturer = consortium.nodes[0].rpc().await;
	let owner = consortium.nodes[1].rpc().await;
	let ferdie = dev_pair(Sr25519Keyring::Ferdie);
	let remark = || RuntimeCall::System(frame_system::Call::remark { remark: b"insurer".to_vec() });

	// Before: Ferdie is nobody.
	let refused = manufacturer.sign(&ferdie, remark()).await;
	assert!(manufacturer.submit_watch(&refused).await.is_err());

	// The manufacturer proposes the insurer with Ferdie as its admin.
	let action = Action::AddOrganisation {
		name: b"Insurer".to_vec().try_into().unwrap(),
		role: LifecycleRole::Other,
		admin: Sr25519Keyring::Ferdie.to_account_id(),
		admin_encryption_key: dev_encryption_keys::FERDIE.to_vec().try_into().unwrap(),
		admin_key_proof: dev_key_proof(&manufacturer, Sr25519Keyring::Ferdie)
			.await
			.try_into()
			.unwrap(),
	};
	let proposed = manufacturer
		.submit_finalized(
			&dev_pair(Sr25519Keyring::Alice),
			RuntimeCall::Consortium(ConsortiumCall::propose { action }),
		)
		.await;
	let proposal = proposed
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Consortium(ConsortiumEvent::ProposalCreated { proposal, .. }) => {
				Some(*proposal)
			},
			_ => None,
		})
		.expect("ProposalCreated event");

	// One approval more is 2 of 4: not a majority, execution fails.
	let vote = |approve| RuntimeCall::Consortium(ConsortiumCall::vote { proposal, approve });
	let execute = || RuntimeCall::Consortium(ConsortiumCall::execute_proposal { proposal });
	assert!(succeeded(
		&owner.submit_finalized(&dev_pair(Sr25519Keyring::Bob), vote(true)).await.events
	));
	let early = owner.submit_finalized(&dev_pair(Sr25519Keyring::Bob), execute()).await;
	assert!(failed(&early.events), "executed without majority");

	// The maintainer's approval makes 3 of 4; the auditor executes it from its own node.
	let maintainer = consortium.nodes[2].rpc().await;
	assert!(succeeded(
		&maintainer
			.submit_finalized(&dev_pair(Sr25519Keyring::Charlie), vote(true))
			.await
			.events
	));
	let auditor = consortium.nodes[3].rpc().await;
	let executed = auditor.submit_finalized(&dev_pair(Sr25519Keyring::Dave), execute()).await;
	assert!(executed.events.iter().any(|event| matches!(
		event,
		RuntimeEvent::Consortium(ConsortiumEvent::OrganisationAdded { organisation: 4, .. })
	)));

	// Now the insurer's admin transacts.
	let accepted = manufacturer.submit_finalized(&ferdie, remark()).await;
	assert!(succeeded(&accepted.events));
}
