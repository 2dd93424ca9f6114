use crate::{mock::*, pallet::*, refusal, Attestation, StoredItem};
use frame_support::{
	assert_noop, assert_ok, assert_storage_noop,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::{Authorize, UnfilteredDispatchable},
};
use sp_core::{ed25519, Pair};
use sp_runtime::{traits::BadOrigin, DispatchResult};

/// A partner node's key and the peer id libp2p derives from it.
struct Node {
	pair: ed25519::Pair,
	peer_id: Vec<u8>,
}

impl Node {
	fn new(seed: u8) -> Self {
		let pair = ed25519::Pair::from_seed(&[seed; 32]);
		let mut peer_id = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
		peer_id.extend_from_slice(&pair.public().0);
		Node { pair, peer_id }
	}

	fn partner(seed: u8) -> Self {
		let node = Self::new(seed);
		MockPartners::add(node.peer_id.clone());
		node
	}

	fn attestation(&self, items: &[StoredItem]) -> AttestationOf<Test> {
		Attestation {
			node: self.peer_id.clone().try_into().unwrap(),
			items: items.to_vec().try_into().unwrap(),
			at: System::block_number(),
		}
	}

	fn sign(&self, attestation: &AttestationOf<Test>) -> ed25519::Signature {
		let genesis: [u8; 32] = System::block_hash(0).into();
		self.pair.sign(&attestation.signing_payload(&genesis))
	}

	fn call(&self, items: &[StoredItem]) -> Call<Test> {
		let attestation = self.attestation(items);
		let signature = self.sign(&attestation);
		Call::attest_availability { attestation, signature }
	}
}

/// What the runtime's `AuthorizeCall` extension does with a general transaction: authorize
/// the call, then dispatch it with the `Authorized` origin.
fn submit(call: Call<Test>) -> Result<DispatchResult, TransactionValidityError> {
	call.authorize(TransactionSource::External).expect("the call is authorizable")?;
	Ok(call
		.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|error| error.error))
}

fn refused(call: Call<Test>) -> TransactionValidityError {
	let error;
	assert_storage_noop!(error = submit(call).err());
	error.expect("the attestation is refused")
}

fn custom(code: u8) -> TransactionValidityError {
	InvalidTransaction::Custom(code).into()
}

const FEED: StoredItem = StoredItem::Feed(7);
const VERSION: StoredItem = StoredItem::DocumentVersion { document: 2, version: 1 };
const ANNOTATION: StoredItem = StoredItem::Annotation { document: 2, version: 1, annotation: 0 };

#[test]
fn a_partner_node_records_the_items_it_holds() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		System::set_block_number(5);
		assert_ok!(submit(node.call(&[FEED, VERSION, ANNOTATION])).unwrap());

		for item in [FEED, VERSION, ANNOTATION] {
			assert_eq!(Availability::holders(&item), vec![(node.peer_id.clone(), 5)]);
		}
		System::assert_last_event(
			Event::AvailabilityAttested {
				node: node.peer_id.clone().try_into().unwrap(),
				items: vec![FEED, VERSION, ANNOTATION].try_into().unwrap(),
			}
			.into(),
		);
		assert!(Availability::holders(&StoredItem::Feed(8)).is_empty());
	});
}

#[test]
fn each_partner_counts_once() {
	new_test_ext().execute_with(|| {
		let first = Node::partner(1);
		let second = Node::partner(2);
		assert_ok!(submit(first.call(&[FEED])).unwrap());
		System::set_block_number(2);
		assert_ok!(submit(second.call(&[FEED, VERSION])).unwrap());

		let mut holders = Availability::holders(&FEED);
		holders.sort();
		let mut expected = vec![(first.peer_id.clone(), 1), (second.peer_id.clone(), 2)];
		expected.sort();
		assert_eq!(holders, expected);
		assert_eq!(Availability::holders(&VERSION), vec![(second.peer_id.clone(), 2)]);
	});
}

#[test]
fn a_replayed_attestation_changes_nothing() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let call = node.call(&[FEED, VERSION]);
		assert_ok!(submit(call.clone()).unwrap());
		System::set_block_number(3);

		assert_eq!(refused(call), custom(refusal::NOTHING_NEW));
		assert_eq!(Availability::holders(&FEED), vec![(node.peer_id.clone(), 1)]);
	});
}

#[test]
fn only_new_items_are_recorded_and_announced() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		assert_ok!(submit(node.call(&[FEED])).unwrap());
		System::set_block_number(4);
		assert_ok!(submit(node.call(&[FEED, ANNOTATION])).unwrap());

		assert_eq!(Availability::holders(&FEED), vec![(node.peer_id.clone(), 1)]);
		assert_eq!(Availability::holders(&ANNOTATION), vec![(node.peer_id.clone(), 4)]);
		System::assert_last_event(
			Event::AvailabilityAttested {
				node: node.peer_id.clone().try_into().unwrap(),
				items: vec![ANNOTATION].try_into().unwrap(),
			}
			.into(),
		);
	});
}

#[test]
fn a_node_that_is_not_a_partner_is_refused() {
	new_test_ext().execute_with(|| {
		let outsider = Node::new(9);
		assert_eq!(refused(outsider.call(&[FEED])), InvalidTransaction::BadSigner.into());
	});
}

#[test]
fn a_signature_by_another_key_is_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let impostor = Node::new(2);
		let attestation = node.attestation(&[FEED]);
		let signature = impostor.sign(&attestation);
		assert_eq!(
			refused(Call::attest_availability { attestation, signature }),
			InvalidTransaction::BadProof.into()
		);
	});
}

#[test]
fn items_changed_after_signing_are_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let mut attestation = node.attestation(&[FEED]);
		let signature = node.sign(&attestation);
		attestation.items = vec![VERSION].try_into().unwrap();
		assert_eq!(
			refused(Call::attest_availability { attestation, signature }),
			InvalidTransaction::BadProof.into()
		);
	});
}

#[test]
fn an_attestation_signed_for_another_chain_is_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let attestation = node.attestation(&[FEED]);
		let signature = node.pair.sign(&attestation.signing_payload(&[1u8; 32]));
		assert_eq!(
			refused(Call::attest_availability { attestation, signature }),
			InvalidTransaction::BadProof.into()
		);
	});
}

#[test]
fn an_item_the_chain_does_not_refer_to_is_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let unknown = [
			StoredItem::Feed(FEEDS),
			StoredItem::DocumentVersion { document: DOCUMENTS, version: 0 },
			StoredItem::DocumentVersion { document: 0, version: VERSIONS },
			StoredItem::Annotation { document: 0, version: 0, annotation: ANNOTATIONS },
		];
		for item in unknown {
			assert_eq!(refused(node.call(&[FEED, item])), custom(refusal::UNKNOWN_ITEM));
		}
		assert!(Availability::holders(&FEED).is_empty());
	});
}

#[test]
fn old_and_future_attestations_are_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let stale = node.call(&[FEED]);
		System::set_block_number(1 + ATTESTATION_LONGEVITY);
		assert_eq!(refused(stale), InvalidTransaction::Stale.into());

		let mut attestation = node.attestation(&[FEED]);
		attestation.at += 1;
		let signature = node.sign(&attestation);
		assert_eq!(
			refused(Call::attest_availability { attestation, signature }),
			InvalidTransaction::Future.into()
		);
	});
}

#[test]
fn the_last_block_of_an_attestations_life_still_takes_it() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let call = node.call(&[FEED]);
		System::set_block_number(ATTESTATION_LONGEVITY);
		assert_ok!(submit(call).unwrap());
	});
}

#[test]
fn an_empty_attestation_is_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		assert_eq!(refused(node.call(&[])), custom(refusal::NO_ITEMS));
	});
}

#[test]
fn a_partner_whose_peer_id_embeds_no_ed25519_key_is_refused() {
	new_test_ext().execute_with(|| {
		let node = Node::new(1);
		let hashed_peer_id = [&[0x12u8, 0x20][..], &[5u8; 32][..]].concat();
		MockPartners::add(hashed_peer_id.clone());
		let attestation = AttestationOf::<Test> {
			node: hashed_peer_id.try_into().unwrap(),
			items: vec![FEED].try_into().unwrap(),
			at: 1,
		};
		let signature = node.sign(&attestation);
		assert_eq!(
			refused(Call::attest_availability { attestation, signature }),
			custom(refusal::NOT_AN_ED25519_PEER_ID)
		);
	});
}

#[test]
fn the_call_needs_its_authorization() {
	new_test_ext().execute_with(|| {
		let node = Node::partner(1);
		let attestation = node.attestation(&[FEED]);
		let signature = node.sign(&attestation);
		assert_noop!(
			Availability::attest_availability(
				RuntimeOrigin::signed(1),
				attestation.clone(),
				signature
			),
			BadOrigin
		);
		assert_noop!(
			Availability::attest_availability(RuntimeOrigin::none(), attestation, signature),
			BadOrigin
		);
	});
}

#[test]
fn a_removed_partner_no_longer_counts() {
	new_test_ext().execute_with(|| {
		let staying = Node::partner(1);
		let leaving = Node::partner(2);
		assert_ok!(submit(staying.call(&[FEED])).unwrap());
		assert_ok!(submit(leaving.call(&[FEED])).unwrap());
		MockPartners::remove(&leaving.peer_id);

		assert_eq!(Availability::holders(&FEED), vec![(staying.peer_id.clone(), 1)]);
		assert_eq!(refused(leaving.call(&[VERSION])), InvalidTransaction::BadSigner.into());
	});
}

#[test]
fn attestations_are_bounded() {
	let too_many = vec![FEED; MAX_ITEMS_PER_ATTESTATION as usize + 1];
	assert!(AttestedItemsOf::<Test>::try_from(too_many).is_err());
}
