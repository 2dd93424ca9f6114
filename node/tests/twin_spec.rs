//! A twin on a real dt-node: CandyFactory.aml imported through signed extrinsics, edited by
//! id, and read back over the `twin_*` RPC at the latest and at earlier blocks.

mod common;

use common::*;
use dt_primitives::access::{ElementId, TwinId};
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent, TwinSpecCall};
use jsonrpsee::{core::client::ClientT, rpc_params};
use pallet_dt_twin_spec::{DocumentHeader, NewElement};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring;

const PHYSICAL_NETWORK: &str = "e47a5b4c-572f-47d2-b73e-ba4d8f0f8c21";
const WIRE_1: &str = "17d9f113-ecd7-4c92-8892-fc9d609e604f";
const NEW_WIRE: &str = "b0771e5a-0000-4000-8000-000000000007";
/// Elements per import call, well below the runtime's 500 so every call fits in a block.
const ELEMENTS_PER_CALL: usize = 120;

fn candy_factory() -> String {
	let path = dt_aml::examples::example_file("CandyFactory.aml");
	std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn element_id(text: &str) -> ElementId {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn bounded<S: sp_runtime::traits::Get<u32>>(text: &str) -> sp_runtime::BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn same_element_tree(expected: &str, actual: &str) -> bool {
	match dt_aml::first_difference(expected.as_bytes(), actual.as_bytes()).unwrap() {
		None => true,
		Some(difference) => {
			eprintln!("documents differ: {difference}");
			false
		},
	}
}

async fn get_aml(rpc: &Rpc, twin: TwinId, at: Option<H256>) -> String {
	rpc.request("twin_getAml", rpc_params![twin, at]).await
}

/// Submits `call` as Alice and returns the finalized block, asserting success.
async fn submit(rpc: &Rpc, call: RuntimeCall) -> H256 {
	let outcome = rpc.submit_finalized(&dev_pair(Sr25519Keyring::Alice), call).await;
	assert!(succeeded(&outcome.events), "call failed: {:?}", outcome.events);
	outcome.block
}

#[tokio::test(flavor = "multi_thread")]
async fn candy_factory_is_imported_edited_and_read_back_at_any_block() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start_dev("twin-node", dir.path(), &["--state-pruning", "archive"]);
	let rpc = node.rpc().await;

	// Import: the client splits the file into elements and sends them in document order.
	let original = candy_factory();
	let mut tree = dt_aml::AmlTree::parse_str(&original).unwrap();
	let header = DocumentHeader {
		prolog: bounded(&tree.header().prolog),
		epilog: bounded(&tree.header().epilog),
	};
	let elements: Vec<_> = tree
		.records()
		.map(|record| NewElement {
			id: element_id(&record.id),
			parent: record.parent.as_deref().map(element_id),
			previous_sibling: record.previous_sibling.as_deref().map(element_id),
			fragment: bounded(record.fragment.as_str()),
		})
		.collect();
	let chunks: Vec<_> = elements.chunks(ELEMENTS_PER_CALL).collect();
	assert!(chunks.len() > 1, "the import is spread over several calls");
	let twin: TwinId = 0;
	let mut imported_at = H256::zero();
	for (index, chunk) in chunks.iter().enumerate() {
		let complete = index + 1 == chunks.len();
		let elements = chunk.to_vec().try_into().unwrap();
		let call = if index == 0 {
			TwinSpecCall::create_twin { header: header.clone(), elements, complete }
		} else {
			TwinSpecCall::import_elements { twin, elements, complete }
		};
		imported_at = submit(&rpc, RuntimeCall::TwinSpec(call)).await;
	}
	let twins: Vec<Value> = rpc.request("twin_listTwins", rpc_params![]).await;
	assert_eq!(twins.len(), 1);
	assert_eq!(twins[0]["elementCount"], elements.len());
	assert_eq!(twins[0]["importing"], false);
	let as_imported = get_aml(&rpc, twin, None).await;
	assert!(same_element_tree(&original, &as_imported));
	assert_eq!(as_imported, original, "the consistently indented file comes back byte for byte");

	// Insert a wire after Wire1, then remove Wire1 with its subtree.
	let wire = r#"<InternalElement Name="Wire7" ID="b0771e5a-0000-4000-8000-000000000007" RefBaseSystemUnitPath="PhysicalConnectionSystemUnitClassLib/PhysicalConnection" />"#;
	let inserted_at = submit(
		&rpc,
		RuntimeCall::TwinSpec(TwinSpecCall::insert_element {
			twin,
			element: element_id(NEW_WIRE),
			parent: element_id(PHYSICAL_NETWORK),
			previous_sibling: Some(element_id(WIRE_1)),
			fragment: bounded(wire),
		}),
	)
	.await;
	tree.insert(
		NEW_WIRE,
		Some(PHYSICAL_NETWORK),
		Some(WIRE_1),
		dt_aml::Fragment::parse(wire).unwrap(),
	)
	.unwrap();
	let after_insert = tree.to_xml_string().unwrap();

	let removed = tree.remove(WIRE_1).unwrap();
	assert!(removed.len() > 1, "Wire1 has interfaces below it");
	let removed_at = submit(
		&rpc,
		RuntimeCall::TwinSpec(TwinSpecCall::remove_element {
			twin,
			element: element_id(WIRE_1),
			subtree_size: removed.len() as u32,
		}),
	)
	.await;
	let after_remove = tree.to_xml_string().unwrap();

	// Latest and earlier blocks.
	let latest = get_aml(&rpc, twin, None).await;
	assert!(same_element_tree(&after_remove, &latest));
	assert!(!latest.contains(WIRE_1) && latest.contains(NEW_WIRE));
	assert!(same_element_tree(&after_insert, &get_aml(&rpc, twin, Some(inserted_at)).await));
	assert!(same_element_tree(&original, &get_aml(&rpc, twin, Some(imported_at)).await));
	assert_eq!(get_aml(&rpc, twin, Some(imported_at)).await, original);
	assert!(get_aml(&rpc, twin, Some(removed_at)).await == latest);

	// An element and its history: the new wire replaced once.
	let renamed = wire.replace("Wire7", "Wire7b");
	submit(
		&rpc,
		RuntimeCall::TwinSpec(TwinSpecCall::replace_fragment {
			twin,
			element: element_id(NEW_WIRE),
			fragment: bounded(&renamed),
		}),
	)
	.await;
	let element: Value = rpc.request("twin_getElement", rpc_params![twin, NEW_WIRE]).await;
	assert_eq!(element["version"], 2);
	assert_eq!(element["parent"], PHYSICAL_NETWORK);
	assert_eq!(element["fragment"], renamed);
	let history: Vec<Value> = rpc.request("twin_elementHistory", rpc_params![twin, NEW_WIRE]).await;
	assert_eq!(history.len(), 2, "{history:?}");
	assert_eq!(history[0]["lastChange"], "FragmentReplaced");
	assert_eq!(history[1]["lastChange"], "Inserted");
	assert_eq!(history[1]["fragment"], wire);
	let inserted_number = rpc.header(Some(inserted_at)).await.number;
	assert_eq!(history[1]["changedAt"], inserted_number);
	let alice = serde_json::to_value(Sr25519Keyring::Alice.to_account_id()).unwrap();
	assert_eq!(history[0]["changedBy"], alice);

	// A member without a role on the twin is refused, and nothing changes.
	let refused = rpc
		.submit_finalized(
			&dev_pair(Sr25519Keyring::Bob),
			RuntimeCall::TwinSpec(TwinSpecCall::remove_element {
				twin,
				element: element_id(NEW_WIRE),
				subtree_size: 1,
			}),
		)
		.await;
	let not_authorized: sp_runtime::DispatchError =
		pallet_dt_twin_spec::Error::<Runtime>::NotAuthorized.into();
	let refused_for = refused.events.iter().find_map(|event| match event {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
			Some(*dispatch_error)
		},
		_ => None,
	});
	match (refused_for, not_authorized) {
		(
			Some(sp_runtime::DispatchError::Module(got)),
			sp_runtime::DispatchError::Module(expected),
		) => assert_eq!((got.index, got.error), (expected.index, expected.error)),
		other => panic!("Bob removed an element without a role: {other:?}"),
	}
	assert!(get_aml(&rpc, twin, None).await.contains("Wire7b"));

	// Unknown twins and elements are named in the error.
	let unknown_twin = rpc
		.client
		.request::<String, _>("twin_getAml", rpc_params![7, None::<H256>])
		.await;
	let message = unknown_twin.unwrap_err().to_string();
	assert!(message.contains("no twin 7"), "{message}");
	let unknown_element = rpc
		.client
		.request::<Value, _>("twin_getElement", rpc_params![twin, "no-such-element"])
		.await;
	let message = unknown_element.unwrap_err().to_string();
	assert!(message.contains("no-such-element"), "{message}");
}
