//! Reader lists and key envelopes (k-rAC) over dt-node's RPC, in real dt-node processes that
//! ask the chain's RBAC who may manage a document: the local consortium's four partner nodes
//! with the store's network (k = 1, each item on three of them).
//!
//! - the twin's owner adds a reader to a document's list (version 1), read from another
//!   partner's node; a party without `VersionDocuments`/`ManageAccess` cannot change it;
//! - the envelope is served to the listed reader (who opens the key with its RSA key and
//!   decrypts the version) and refused to anyone else;
//! - revocation: after a reader is removed, an envelope still sealed for it is refused, and
//!   it can read neither the old envelope nor the next version's;
//! - replayed, stale, forged, malformed and wrong-kind requests get clear errors and change
//!   nothing;
//! - with two of the item's three replicas stopped, a change fails for lack of quorum and
//!   the list is the same once they are back.
//!
//! A node without the store's network says so.

mod common;

use codec::Encode;
use common::{plant::bounded, *};
use dt_offchain::{
	content_id::Cid,
	crypto::{Decryptor, DocumentKey, Encryptor, Envelope, ReaderPrivateKey, ReaderPublicKey},
	network::{replicas, AclChange, AclOp, Action, ItemId, PeerId, PlacementKey, SignedAction},
};
use dt_primitives::access::{Confidentiality, Grantee, Role, TwinId};
use dt_runtime::{RuntimeCall, RuntimeEvent};
use jsonrpsee::{
	core::{client::ClientT, ClientError},
	rpc_params,
};
use pallet_dt_twin_spec::{DocumentHeader, NewElement};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use std::time::Duration;

/// How long a request is retried while the partners find each other.
const RETRY_FOR: Duration = Duration::from_secs(120);

/// The Owner organisation's admin: creates the twin, so holds the Owner role on it.
const OWNER: Sr25519Keyring = Sr25519Keyring::Bob;
/// The readers: the maintainer's and the manufacturer's admins (no role on the twin).
const MAINTAINER: Sr25519Keyring = Sr25519Keyring::Charlie;
const MANUFACTURER: Sr25519Keyring = Sr25519Keyring::Alice;
/// The auditor's admin: no role on the twin, never on the list.
const AUDITOR: Sr25519Keyring = Sr25519Keyring::Dave;

/// The node index of each party's partner in [`PARTNERS`].
const MANUFACTURER_NODE: usize = 0;
const OWNER_NODE: usize = 1;
const MAINTAINER_NODE: usize = 2;
const AUDITOR_NODE: usize = 3;

fn private_key(pem: &[u8]) -> ReaderPrivateKey {
	ReaderPrivateKey::from_file_contents(pem).expect("the development keys are valid")
}

fn maintainer_key() -> ReaderPrivateKey {
	private_key(include_bytes!("../../runtime/res/dev-keys/charlie.pem"))
}

fn manufacturer_key() -> ReaderPrivateKey {
	private_key(include_bytes!("../../runtime/res/dev-keys/alice.pem"))
}

fn unhex(text: &str) -> Vec<u8> {
	hex::decode(text.trim_start_matches("0x")).expect("hex")
}

fn ss58(party: Sr25519Keyring) -> String {
	party.to_account_id().to_string()
}

/// The chain's genesis hash, once the nodes are up: what requests are signed for.
static GENESIS: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();

fn genesis() -> &'static [u8; 32] {
	GENESIS.get().expect("the genesis hash is read once the nodes are up")
}

/// `action` signed by `party` now for the chain, as the RPC takes it.
fn signed(action: Action, party: Sr25519Keyring) -> String {
	hex0x(&SignedAction::sign(action, &party.pair(), genesis()).encode())
}

fn change(item: ItemId, base_version: u64, op: AclOp) -> Action {
	Action::ChangeAcl(AclChange { item, base_version, op })
}

/// The code, message and data of a refused call.
fn call_error<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (i32, String, Value) {
	match result {
		Err(ClientError::Call(error)) => {
			let data = error
				.data()
				.map(|raw| serde_json::from_str(raw.get()).unwrap())
				.unwrap_or(Value::Null);
			(error.code(), error.message().to_string(), data)
		},
		other => panic!("expected a call error, got {other:?}"),
	}
}

/// The list as `store_acl` gives it on `rpc`: (version, readers).
async fn list(rpc: &Rpc, item: &str) -> (u64, Vec<String>) {
	let acl: Value = rpc.request("store_acl", rpc_params![item]).await;
	let readers = acl["readers"]
		.as_array()
		.unwrap()
		.iter()
		.map(|reader| reader.as_str().unwrap().to_owned())
		.collect();
	(acl["version"].as_u64().unwrap(), readers)
}

fn sorted(mut accounts: Vec<String>) -> Vec<String> {
	accounts.sort();
	accounts
}

/// A document version's key, its envelope for `readers` and one sealed chunk of `text`.
struct SealedVersion {
	envelope: Vec<u8>,
	chunk: Vec<u8>,
}

fn seal_version(text: &[u8], readers: &[&ReaderPrivateKey]) -> SealedVersion {
	let key = DocumentKey::generate().unwrap();
	let public: Vec<ReaderPublicKey> =
		readers.iter().map(|reader| reader.public_key().clone()).collect();
	let envelope = Envelope::seal(&key, &public).unwrap().to_bytes();
	let mut chunk = text.to_vec();
	Encryptor::new(key).seal_chunk(&mut chunk, true).unwrap();
	SealedVersion { envelope, chunk }
}

/// Opens `envelope` with `reader`'s key and decrypts `chunk` with what it unwraps.
fn open_version(envelope: &[u8], chunk: &[u8], reader: &ReaderPrivateKey) -> Vec<u8> {
	let key = Envelope::from_bytes(envelope).unwrap().open(reader).expect("the key unwraps");
	let mut plaintext = chunk.to_vec();
	Decryptor::new(key)
		.open_chunk(&mut plaintext, true)
		.expect("the chunk decrypts");
	plaintext
}

/// The owner creates a twin and registers a document on it, with `content` and `envelope`
/// as its first version; returns the twin's and the document's ids.
async fn register_document(
	client: &dt_client::Client,
	content: &Cid,
	envelope: &Cid,
) -> (TwinId, u64) {
	let elements: Vec<NewElement<_>> = vec![NewElement {
		id: bounded("/CAEXFile"),
		parent: None,
		previous_sibling: None,
		fragment: bounded(r#"<CAEXFile FileName="line.aml"><?dt-children?></CAEXFile>"#),
	}];
	let create = RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::create_twin {
		header: DocumentHeader::default(),
		elements: elements.try_into().unwrap(),
		complete: true,
	});
	let created = plant::submit_ok(client, OWNER, create).await;
	let twin: TwinId = created
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::TwinCreated { twin, .. }) => {
				Some(*twin)
			},
			_ => None,
		})
		.expect("the twin is created");
	(twin, plant::register_document(client, OWNER, twin, 64, content, envelope).await)
}

#[tokio::test(flavor = "multi_thread")]
async fn reader_lists_and_key_envelopes_over_rpc_on_four_partner_nodes() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let mut nodes = start_store_consortium(dir.path());
	let mut rpcs = Vec::new();
	for node in &nodes {
		rpcs.push(node.rpc().await);
	}
	rpcs[OWNER_NODE].wait_finalized(1, STARTUP_TIMEOUT).await;
	let _ = GENESIS.set(rpcs[OWNER_NODE].genesis().await);

	// --- The document on chain, its first version sealed for the maintainer ---
	let first = seal_version(b"wiring diagram, revision A", &[&maintainer_key()]);
	let chunk_cid: String = eventually("store_putBlock", RETRY_FOR, || {
		rpcs[OWNER_NODE]
			.client
			.request("store_putBlock", put_params(&first.chunk, &OWNER.pair(), genesis()))
	})
	.await;
	let first_envelope = Cid::of(&first.envelope);
	let client = dt_client::Client::connect(&nodes[OWNER_NODE].ws_url()).await.unwrap();
	let (twin, document) =
		register_document(&client, &chunk_cid.parse().unwrap(), &first_envelope).await;
	// The maintainer may add versions of the twin's documents (Maintainer role), cleared up
	// to Confidential; a secret document's readers are not its to manage.
	let grant = RuntimeCall::Access(pallet_dt_access::Call::grant_role {
		twin,
		grantee: Grantee::Account(MAINTAINER.to_account_id()),
		role: Role::Maintainer,
	});
	plant::submit_ok(&client, OWNER, grant).await;
	let secret = plant::register_document_at(
		&client,
		OWNER,
		twin,
		Confidentiality::Secret,
		64,
		&chunk_cid.parse().unwrap(),
		&first_envelope,
	)
	.await;
	let finalized = rpcs[OWNER_NODE].finalized_number().await;
	for rpc in &rpcs {
		rpc.wait_finalized(finalized, STARTUP_TIMEOUT).await;
	}

	let item_text: String =
		rpcs[AUDITOR_NODE].request("store_documentItem", rpc_params![document]).await;
	let other: String =
		rpcs[OWNER_NODE].request("store_documentItem", rpc_params![document + 1]).await;
	assert_eq!(item_text.len(), 66, "0x and 32 bytes: {item_text}");
	assert_ne!(item_text, other, "each document has its own item");
	let item = ItemId(unhex(&item_text).try_into().unwrap());
	let prefix = &sp_io::hashing::blake2_256(b"dt-document")[..24];
	assert_eq!(item.0[..24], *prefix, "as docs/rpc.md says");
	assert_eq!(item.0[24..], document.to_le_bytes(), "as docs/rpc.md says");
	let item_text = item_text.as_str();
	let initial: Value = eventually("store_acl", RETRY_FOR, || {
		rpcs[AUDITOR_NODE].client.request("store_acl", rpc_params![item_text])
	})
	.await;
	assert_eq!(initial, serde_json::json!({ "version": 0, "readers": [] }), "no list yet");

	// --- A party without VersionDocuments/ManageAccess cannot change the list ---
	let by_auditor = signed(change(item, 0, AclOp::AddReader(AUDITOR.public())), AUDITOR);
	let (code, message, _) = call_error(
		rpcs[AUDITOR_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![by_auditor])
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	assert!(message.contains("not allowed"), "{message}");
	assert_eq!(list(&rpcs[AUDITOR_NODE], item_text).await, (0, vec![]), "nothing changed");

	// --- A writer not cleared for the document's level cannot change its list ---
	let secret_item: String =
		rpcs[MAINTAINER_NODE].request("store_documentItem", rpc_params![secret]).await;
	let secret_item = ItemId(unhex(&secret_item).try_into().unwrap());
	let by_maintainer =
		signed(change(secret_item, 0, AclOp::AddReader(MAINTAINER.public())), MAINTAINER);
	let (code, message, _) = call_error(
		rpcs[MAINTAINER_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![by_maintainer])
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	assert!(message.contains("not allowed"), "{message}");

	// --- The owner adds the maintainer: version 1, seen from another partner's node ---
	// Signed again for each attempt: a signed request is taken once, even if it fails.
	let mut add_maintainer = String::new();
	let changed: Value = eventually("store_changeAcl", RETRY_FOR, || {
		add_maintainer = signed(change(item, 0, AclOp::AddReader(MAINTAINER.public())), OWNER);
		let params = rpc_params![add_maintainer.clone()];
		rpcs[OWNER_NODE].client.request("store_changeAcl", params)
	})
	.await;
	assert_eq!(changed["version"], 1, "{changed}");
	assert_eq!(changed["readers"], serde_json::json!([ss58(MAINTAINER)]), "{changed}");
	assert_eq!(list(&rpcs[AUDITOR_NODE], item_text).await, (1, vec![ss58(MAINTAINER)]));
	assert_eq!(list(&rpcs[MANUFACTURER_NODE], item_text).await, (1, vec![ss58(MAINTAINER)]));

	// --- The owner publishes the envelope on the item's replicas ---
	let partners: Vec<PeerId> =
		(1..=4).map(|index| local_peer_id(index).parse().unwrap()).collect();
	let item_replicas = replicas(&PlacementKey::item(&item), &partners, 1);
	assert_eq!(item_replicas.len(), 3);
	let publish = |envelope: &[u8], party: Sr25519Keyring| {
		let action = Action::WriteEnvelope { item, envelope: Cid::of(envelope) };
		rpc_params![hex0x(envelope), signed(action, party)]
	};
	let receipt: Value = rpcs[OWNER_NODE]
		.request("store_putEnvelope", publish(&first.envelope, OWNER))
		.await;
	assert_eq!(receipt["cid"], first_envelope.to_string(), "{receipt}");
	let stored_on = receipt["storedOn"].as_array().unwrap();
	assert!(stored_on.len() >= 2, "a quorum stored it: {receipt}");
	for peer in stored_on {
		let peer: PeerId = peer.as_str().unwrap().parse().unwrap();
		assert!(item_replicas.contains(&peer), "{peer} is a replica of the item");
	}

	// --- Only a listed reader gets the envelope, and opens it with its RSA key ---
	let read = |envelope: &Cid, party: Sr25519Keyring| {
		signed(Action::ReadEnvelope { item, envelope: *envelope }, party)
	};
	let (code, message, _) = call_error(
		rpcs[AUDITOR_NODE]
			.client
			.request::<String, _>("store_getEnvelope", rpc_params![read(&first_envelope, AUDITOR)])
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	assert!(message.contains("reader list"), "{message}");
	let maintainer_read = read(&first_envelope, MAINTAINER);
	let served: String = rpcs[MAINTAINER_NODE]
		.request("store_getEnvelope", rpc_params![maintainer_read.clone()])
		.await;
	let served = unhex(&served);
	assert_eq!(Cid::of(&served), first_envelope);
	let chunk: String = rpcs[MAINTAINER_NODE]
		.request("store_getBlock", rpc_params![chunk_cid.clone()])
		.await;
	assert_eq!(
		open_version(&served, &unhex(&chunk), &maintainer_key()),
		b"wiring diagram, revision A"
	);

	// --- Replayed, stale, forged, malformed and wrong-kind requests change nothing ---
	let (code, message, data) = call_error(
		rpcs[MAINTAINER_NODE]
			.client
			.request::<String, _>("store_getEnvelope", rpc_params![maintainer_read.clone()])
			.await,
	);
	assert_eq!((code, data["reason"].as_str()), (7304, Some("Replayed")), "{message}");
	// Through another node: the replica that served it refuses it a second time.
	let (code, message, data) = call_error(
		rpcs[MANUFACTURER_NODE]
			.client
			.request::<String, _>("store_getEnvelope", rpc_params![maintainer_read])
			.await,
	);
	assert_eq!((code, data["reason"].as_str()), (7304, Some("Replayed")), "{message}");
	let (code, message, data) = call_error(
		rpcs[OWNER_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![add_maintainer.clone()])
			.await,
	);
	assert_eq!((code, data["reason"].as_str()), (7304, Some("Replayed")), "{message}");
	// Through another node the change names a version the list has left.
	let (code, message, _) = call_error(
		rpcs[AUDITOR_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![add_maintainer])
			.await,
	);
	assert_eq!(code, 7305, "{message}");
	assert!(message.contains("version 0") && message.contains("version 1"), "{message}");

	let ten_minutes_ago = dt_offchain::network::auth::now_ms() - 600_000;
	let stale = SignedAction::sign_at(
		change(item, 1, AclOp::AddReader(AUDITOR.public())),
		&OWNER.pair(),
		genesis(),
		ten_minutes_ago,
		[7; 16],
	);
	let (code, message, data) = call_error(
		rpcs[OWNER_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![hex0x(&stale.encode())])
			.await,
	);
	assert_eq!((code, data["reason"].as_str()), (7304, Some("Stale")), "{message}");

	// The owner's signature over another change.
	let mut forged = SignedAction::sign(
		change(item, 1, AclOp::RemoveReader(MAINTAINER.public())),
		&OWNER.pair(),
		genesis(),
	);
	forged.action = change(item, 1, AclOp::AddReader(AUDITOR.public()));
	let (code, message, _) = call_error(
		rpcs[AUDITOR_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![hex0x(&forged.encode())])
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	assert!(message.contains("does not verify"), "{message}");

	// The owner's own change, signed for another chain (a test network's genesis).
	let test_chain = SignedAction::sign(
		change(item, 1, AclOp::AddReader(AUDITOR.public())),
		&OWNER.pair(),
		&[0; 32],
	);
	let (code, message, _) = call_error(
		rpcs[OWNER_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![hex0x(&test_chain.encode())])
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	assert!(message.contains("does not verify"), "{message}");

	let already = signed(change(item, 1, AclOp::AddReader(MAINTAINER.public())), OWNER);
	let (code, message, _) = call_error(
		rpcs[OWNER_NODE]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![already])
			.await,
	);
	assert_eq!(code, 7305, "{message}");
	assert!(message.contains("already a reader"), "{message}");

	let owner_node = &rpcs[OWNER_NODE].client;
	let (code, message, _) =
		call_error(owner_node.request::<Value, _>("store_changeAcl", rpc_params!["0xzz"]).await);
	assert_eq!(code, 7101, "{message}");
	let (code, message, _) =
		call_error(owner_node.request::<Value, _>("store_changeAcl", rpc_params!["0x0102"]).await);
	assert_eq!(code, 7301, "{message}");
	assert!(message.contains("SignedAction"), "{message}");
	let (code, message, _) = call_error(
		owner_node
			.request::<Value, _>("store_changeAcl", rpc_params![read(&first_envelope, OWNER)])
			.await,
	);
	assert_eq!(code, 7301, "{message}");
	assert!(message.contains("ReadEnvelope") && message.contains("ChangeAcl"), "{message}");
	let (code, message, _) = call_error(
		owner_node
			.request::<String, _>(
				"store_getEnvelope",
				rpc_params![signed(change(item, 1, AclOp::AddReader(AUDITOR.public())), OWNER)],
			)
			.await,
	);
	assert_eq!(code, 7301, "{message}");
	let (code, message, _) =
		call_error(owner_node.request::<Value, _>("store_acl", rpc_params!["0x1234"]).await);
	assert_eq!(code, 7301, "{message}");
	assert!(message.contains("32 bytes"), "{message}");
	let mismatched = {
		let action = Action::WriteEnvelope { item, envelope: Cid::of(b"another envelope") };
		rpc_params![hex0x(&first.envelope), signed(action, OWNER)]
	};
	let (code, message, _) =
		call_error(owner_node.request::<Value, _>("store_putEnvelope", mismatched).await);
	assert_eq!(code, 7301, "{message}");
	assert!(message.contains("hash to"), "{message}");
	assert_eq!(list(&rpcs[MANUFACTURER_NODE], item_text).await, (1, vec![ss58(MAINTAINER)]));

	// --- Revocation: the manufacturer added, the maintainer removed ---
	let add_manufacturer = signed(change(item, 1, AclOp::AddReader(MANUFACTURER.public())), OWNER);
	let changed: Value =
		rpcs[OWNER_NODE].request("store_changeAcl", rpc_params![add_manufacturer]).await;
	assert_eq!(changed["version"], 2, "{changed}");
	let remove_maintainer =
		signed(change(item, 2, AclOp::RemoveReader(MAINTAINER.public())), OWNER);
	let changed: Value = rpcs[OWNER_NODE]
		.request("store_changeAcl", rpc_params![remove_maintainer])
		.await;
	assert_eq!(changed["version"], 3, "{changed}");
	assert_eq!(
		list(&rpcs[MAINTAINER_NODE], item_text).await,
		(3, vec![ss58(MANUFACTURER)]),
		"version 3 lists the manufacturer alone"
	);

	// The next version sealed for the removed reader too is refused...
	let leaky =
		seal_version(b"wiring diagram, revision B", &[&manufacturer_key(), &maintainer_key()]);
	let (code, message, _) = call_error(
		owner_node
			.request::<Value, _>("store_putEnvelope", publish(&leaky.envelope, OWNER))
			.await,
	);
	assert_eq!(code, 7307, "{message}");
	assert!(message.contains("no reader"), "{message}");
	// ... and sealed for the remaining readers, published; by the owner only.
	let second = seal_version(b"wiring diagram, revision B", &[&manufacturer_key()]);
	let second_envelope = Cid::of(&second.envelope);
	let (code, message, _) = call_error(
		rpcs[AUDITOR_NODE]
			.client
			.request::<Value, _>("store_putEnvelope", publish(&second.envelope, AUDITOR))
			.await,
	);
	assert_eq!(code, 7302, "{message}");
	let receipt: Value = rpcs[OWNER_NODE]
		.request("store_putEnvelope", publish(&second.envelope, OWNER))
		.await;
	assert_eq!(receipt["cid"], second_envelope.to_string(), "{receipt}");

	// The removed reader gets neither the new envelope nor the old one.
	for envelope in [&second_envelope, &first_envelope] {
		let (code, message, _) = call_error(
			rpcs[MAINTAINER_NODE]
				.client
				.request::<String, _>("store_getEnvelope", rpc_params![read(envelope, MAINTAINER)])
				.await,
		);
		assert_eq!(code, 7302, "{envelope}: {message}");
	}
	assert!(
		Envelope::from_bytes(&second.envelope).unwrap().open(&maintainer_key()).is_err(),
		"the new key is not sealed for the removed reader"
	);
	let served: String = rpcs[MANUFACTURER_NODE]
		.request("store_getEnvelope", rpc_params![read(&second_envelope, MANUFACTURER)])
		.await;
	assert_eq!(
		open_version(&unhex(&served), &second.chunk, &manufacturer_key()),
		b"wiring diagram, revision B"
	);

	// --- No quorum: two of the item's three replicas stopped ---
	let node_of = |peer: &PeerId| partners.iter().position(|partner| partner == peer).unwrap();
	let stopped = [node_of(&item_replicas[1]), node_of(&item_replicas[2])];
	let asked = (0..4).find(|index| !stopped.contains(index)).unwrap();
	for index in stopped {
		nodes[index].kill();
	}
	let add_auditor = signed(change(item, 3, AclOp::AddReader(AUDITOR.public())), OWNER);
	let (code, message, data) = call_error(
		rpcs[asked]
			.client
			.request::<Value, _>("store_changeAcl", rpc_params![add_auditor])
			.await,
	);
	assert_eq!(code, 7303, "{message}");
	assert_eq!(
		(data["accepted"].as_u64(), data["needed"].as_u64()),
		(Some(1), Some(2)),
		"{message}"
	);
	// One replica's word is not a reader list: with two of three stopped, none is served.
	let (_, message, _) = call_error(
		rpcs[asked]
			.client
			.request::<Value, _>("store_acl", rpc_params![item_text])
			.await,
	);
	assert!(message.contains("that 2 of its replicas agree on"), "{message}");

	for index in stopped {
		nodes[index].restart();
	}
	for index in stopped {
		let restarted = nodes[index].rpc().await;
		let acl: Value = eventually("store_acl after a restart", RETRY_FOR, || {
			restarted.client.request("store_acl", rpc_params![item_text])
		})
		.await;
		assert_eq!(acl["version"], 3, "the aborted change left the list as it was: {acl}");
		assert_eq!(acl["readers"], serde_json::json!([ss58(MANUFACTURER)]), "{acl}");
	}
	// Nothing was left pending: the next change goes through once the replicas are back.
	let changed: Value = eventually("store_changeAcl after the restarts", RETRY_FOR, || {
		let add_auditor = signed(change(item, 3, AclOp::AddReader(AUDITOR.public())), OWNER);
		rpcs[asked].client.request("store_changeAcl", rpc_params![add_auditor])
	})
	.await;
	assert_eq!(changed["version"], 4, "{changed}");
	assert_eq!(
		sorted(
			changed["readers"]
				.as_array()
				.unwrap()
				.iter()
				.map(|reader| reader.as_str().unwrap().to_owned())
				.collect()
		),
		sorted(vec![ss58(MANUFACTURER), ss58(AUDITOR)])
	);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_without_the_store_network_says_so() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start_dev("solo", dir.path(), &[]);
	let rpc = node.rpc().await;
	let item: String = rpc.request("store_documentItem", rpc_params![0]).await;
	assert_eq!(item.len(), 66, "{item}");
	// Signed for this node's own chain (not the four partners' one that `signed` is for).
	let action = change(ItemId([1; 32]), 0, AclOp::AddReader(AUDITOR.public()));
	let request = hex0x(&SignedAction::sign(action, &OWNER.pair(), &rpc.genesis().await).encode());
	let attempts: Vec<Result<Value, ClientError>> = vec![
		rpc.client.request("store_acl", rpc_params![item.clone()]).await,
		rpc.client.request("store_changeAcl", rpc_params![request.clone()]).await,
		rpc.client.request("store_getEnvelope", rpc_params![request.clone()]).await,
		rpc.client.request("store_putEnvelope", rpc_params!["0x00", request]).await,
	];
	for attempt in attempts {
		let (code, message, _) = call_error(attempt);
		assert_eq!(code, 7306, "{message}");
		assert!(message.contains("no store network") && message.contains("--store-listen"));
	}
}
