//! `dt key register` and `dt doc` as processes against a real `dt-node` (dev chain: Alice is
//! the only partner, Bob a member of her organisation, Charlie nobody): documents encrypted
//! by `dt`, stored in the node's off-chain store, registered on chain and read back byte for
//! byte; and the refusals: bad files, wrong passphrase, unknown twin or document, no role,
//! a reader the key was not sealed for, blocks corrupted or missing in the store.

mod common;

use common::{candy_factory, free_port, Dt, Node};
use dt_offchain::content_id::Cid;
use serde_json::Value;
use sp_core::{sr25519, Pair};
use std::{
	collections::BTreeSet,
	path::{Path, PathBuf},
	str::FromStr,
};

/// Where the chunk ids start in a manifest of fewer than 64 chunks: magic, chunk size,
/// plaintext size, envelope id, then a one-byte SCALE length.
const FIRST_CHUNK_ID: usize = 4 + 4 + 8 + 36 + 1;
const CID_LEN: usize = 36;

/// Deterministic pseudo-random bytes (xorshift), so that every chunk differs.
fn generated(seed: u64, len: usize) -> Vec<u8> {
	let mut state = seed | 1;
	(0..len)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state as u8
		})
		.collect()
}

/// Every block file in the node's store.
fn block_files(node: &Node) -> BTreeSet<PathBuf> {
	let mut files = BTreeSet::new();
	for shard in std::fs::read_dir(node.blocks_dir()).unwrap() {
		for file in std::fs::read_dir(shard.unwrap().path()).unwrap() {
			files.insert(file.unwrap().path());
		}
	}
	files
}

fn named(files: &BTreeSet<PathBuf>, cid: &str) -> PathBuf {
	files
		.iter()
		.find(|path| path.file_name().unwrap() == cid)
		.unwrap_or_else(|| panic!("no block {cid} in the store"))
		.clone()
}

fn leftovers(dir: &Path) -> Vec<String> {
	std::fs::read_dir(dir)
		.unwrap()
		.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
		.filter(|name| name.starts_with(".dt-download"))
		.collect()
}

fn accounts(readers: &Value) -> Vec<String> {
	readers
		.as_array()
		.unwrap()
		.iter()
		.map(|reader| reader["name"].as_str().unwrap_or("?").to_owned())
		.collect()
}

/// Stores `manifest` in the node's store and registers it as Alice's next version of
/// `document` with `envelope`: what a dishonest writer could do with genuine blocks.
fn register_version(node: &Node, document: u64, size: u64, manifest: &[u8], envelope: &str) {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let client = dt_client::Client::connect(&node.url).await.unwrap();
		let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
		let genesis: [u8; 32] = client.block_hash(0).await.unwrap().unwrap().into();
		let put = dt_offchain::network::SignedAction::sign(
			dt_offchain::network::Action::PutBlock { block: Cid::of(manifest) },
			&alice,
			&genesis,
		);
		let stored: String = client
			.request(
				"store_putBlock",
				jsonrpsee::rpc_params![
					format!("0x{}", hex::encode(manifest)),
					format!("0x{}", hex::encode(codec::Encode::encode(&put)))
				],
			)
			.await
			.unwrap();
		assert_eq!(stored, Cid::of(manifest).to_string());
		let id = |text: &str| Cid::from_str(text).unwrap().as_bytes().to_vec().try_into().unwrap();
		let call = pallet_dt_documents::Call::add_version {
			document,
			size,
			content_id: id(&stored),
			key_envelope: id(envelope),
		};
		let finalized =
			client.submit(&alice, dt_runtime::RuntimeCall::Documents(call)).await.unwrap();
		assert_eq!(finalized.dispatch_error, None);
	});
}

/// A store in front of the node's that serves one block with a byte flipped, as a damaged
/// or dishonest replica could; every other block as the node has it.
fn start_hostile_store(
	runtime: &tokio::runtime::Runtime,
	upstream: &str,
	victim: String,
) -> (jsonrpsee::server::ServerHandle, String) {
	use jsonrpsee::{core::client::ClientT, types::ErrorObjectOwned, ws_client::WsClientBuilder};
	let upstream = upstream.to_owned();
	runtime.block_on(async move {
		let client = WsClientBuilder::default()
			.max_response_size(16 << 20)
			.build(&upstream)
			.await
			.unwrap();
		let server = jsonrpsee::server::Server::builder()
			.max_response_body_size(16 << 20)
			.build("127.0.0.1:0")
			.await
			.unwrap();
		let url = format!("ws://{}", server.local_addr().unwrap());
		let mut module = jsonrpsee::RpcModule::new((client, victim));
		module
			.register_async_method("store_getBlock", |params, context, _| async move {
				let (client, victim) = &*context;
				let cid: String = params.one()?;
				let block: String = client
					.request("store_getBlock", jsonrpsee::rpc_params![&cid])
					.await
					.map_err(|e| ErrorObjectOwned::owned(7106, e.to_string(), None::<()>))?;
				if cid != *victim {
					return Ok::<_, ErrorObjectOwned>(block);
				}
				let mut bytes = hex::decode(block.trim_start_matches("0x")).unwrap();
				bytes[10] ^= 0x01;
				Ok(format!("0x{}", hex::encode(bytes)))
			})
			.unwrap();
		// The genesis hash, which a store connection asks for first, is passed on untouched.
		module
			.register_async_method("chain_getBlockHash", |params, context, _| async move {
				let (client, _) = &*context;
				let number: u32 = params.one()?;
				client
					.request::<String, _>("chain_getBlockHash", jsonrpsee::rpc_params![number])
					.await
					.map_err(|e| ErrorObjectOwned::owned(7106, e.to_string(), None::<()>))
			})
			.unwrap();
		(server.start(module), url)
	})
}

#[test]
fn documents_round_trip_through_the_store_and_the_chain() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start(dir.path());
	let dt = Dt { node: &node, keystore: dir.path().join("keys") };
	let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();

	dt.ok(&["key", "import", "alice", "--suri", "//Alice"]);
	dt.ok(&["key", "import", "bob", "--suri", "//Bob"]);
	dt.ok(&["key", "import", "charlie", "--suri", "//Charlie"]);
	dt.wait_for_node();

	// Encryption keys: the dev chain has development keys registered; replace them with
	// the keystore's. Charlie is not a member and has nothing to register.
	let registered = dt.json(&["key", "register", "alice"]);
	assert_eq!(registered["changed"], true, "{registered}");
	let again = dt.ok(&["key", "register", "alice"]);
	assert!(again.contains("already registered"), "{again}");
	let error = dt.fails(&["key", "register", "charlie"]);
	assert!(error.contains("is not a member of the consortium"), "{error}");
	let error = dt.fails_with("not it", &["key", "register", "charlie"]);
	assert!(error.contains("is not a member"), "refused before the passphrase: {error}");

	let created = dt.json(&["twin", "create", candy_factory().to_str().unwrap(), "--as", "alice"]);
	let twin = created["twin"].as_u64().unwrap().to_string();
	let tree = dt.json(&["twin", "show", &twin]);
	let element = tree["elements"][1]["id"].as_str().unwrap().to_owned();

	// A confidential manual of 3.5 MiB: four chunks.
	let manual = generated(1, 3 * 1024 * 1024 + 512 * 1024);
	std::fs::write(path("manual.pdf"), &manual).unwrap();

	// Bad input is refused before anything is sent.
	let error = dt.fails(&["doc", "upload", &twin, "/nonexistent/manual.pdf", "--as", "alice"]);
	assert!(error.contains("cannot read /nonexistent/manual.pdf"), "{error}");
	let error = dt.fails(&["doc", "upload", &twin, dir.path().to_str().unwrap(), "--as", "alice"]);
	assert!(error.contains("is a directory"), "{error}");
	let error = dt.fails(&[
		"doc",
		"upload",
		&twin,
		&path("manual.pdf"),
		"--as",
		"alice",
		"--confidentiality",
		"top",
	]);
	assert!(error.contains("unknown level"), "{error}");
	let error =
		dt.fails_with("not it", &["doc", "upload", &twin, &path("manual.pdf"), "--as", "alice"]);
	assert!(error.contains("wrong passphrase for key alice"), "{error}");
	let error = dt.fails(&["doc", "upload", "999", &path("manual.pdf"), "--as", "alice"]);
	assert!(error.contains("twin 999 does not exist"), "{error}");
	let error = dt.fails(&[
		"doc",
		"upload",
		&twin,
		&path("manual.pdf"),
		"--element",
		"no-such-element",
		"--as",
		"alice",
	]);
	assert!(error.contains("has no element no-such-element"), "{error}");
	let error = dt.fails(&[
		"doc",
		"upload",
		&twin,
		&path("manual.pdf"),
		"--as",
		"alice",
		"--store",
		&format!("ws://127.0.0.1:{}", free_port()),
	]);
	assert!(error.contains("cannot connect to the off-chain store"), "{error}");
	// Bob is a member but holds no role on the twin.
	let before = block_files(&node);
	let error = dt.fails(&["doc", "upload", &twin, &path("manual.pdf"), "--as", "bob"]);
	assert!(error.contains("may not add documents to twin"), "{error}");
	assert!(error.contains("Nothing was uploaded"), "{error}");
	assert_eq!(block_files(&node), before, "a refused upload stored blocks");
	assert_eq!(dt.json(&["doc", "list", &twin]), Value::Array(vec![]));

	// Alice uploads it: sealed for her alone, as nobody else may read confidential data yet.
	let uploaded = dt.json(&[
		"doc",
		"upload",
		&twin,
		&path("manual.pdf"),
		"--title",
		"Filler manual",
		"--confidentiality",
		"confidential",
		"--as",
		"alice",
		"--store",
		&node.url,
	]);
	let document = uploaded["document"].as_u64().unwrap().to_string();
	assert_eq!(uploaded["version"], 0);
	assert_eq!(uploaded["size"], manual.len());
	assert_eq!(uploaded["chunks"], 4);
	assert_eq!(uploaded["media_type"], "application/pdf");
	assert_eq!(accounts(&uploaded["readers"]), ["alice"]);
	assert_eq!(uploaded["skipped"], Value::Array(vec![]));
	let content_id = uploaded["content_id"].as_str().unwrap().to_owned();
	assert!(content_id.starts_with("bafkrei"), "{content_id}");
	let files = block_files(&node);
	// Envelope, four chunks, manifest; none holds the plaintext.
	let new: Vec<_> = files.difference(&before).cloned().collect();
	assert_eq!(new.len(), 6, "{new:?}");
	for file in &new {
		let bytes = std::fs::read(file).unwrap();
		assert!(!bytes.windows(64).any(|w| w == &manual[..64]), "{file:?} holds plaintext");
	}

	// Round trip, byte for byte.
	let text =
		dt.ok(&["doc", "download", &twin, &document, "-o", &path("copy.pdf"), "--as", "alice"]);
	assert!(text.contains(&content_id), "{text}");
	assert_eq!(std::fs::read(path("copy.pdf")).unwrap(), manual);

	// Bob is not cleared, and the key was not sealed for him.
	let error =
		dt.fails(&["doc", "download", &twin, &document, "-o", &path("bob.pdf"), "--as", "bob"]);
	assert!(error.contains("bob") && error.contains("has no access to version 0"), "{error}");
	assert!(error.contains("not cleared for confidential data"), "{error}");
	assert!(!Path::new(&path("bob.pdf")).exists());
	// ... nor may he annotate: the chain refuses.
	let error = dt.fails(&["doc", "annotate", &twin, &document, "looks fine", "--as", "bob"]);
	assert!(error.contains("refused by the chain: documents.NotAuthorized"), "{error}");
	// Charlie is no member at all.
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"-o",
		&path("charlie.pdf"),
		"--as",
		"charlie",
	]);
	assert!(error.contains("has no access"), "{error}");
	assert!(dt
		.json(&["doc", "list", &twin, "--as", "charlie"])
		.as_array()
		.unwrap()
		.is_empty());

	// Bob becomes maintainer: cleared now, but version 0 was sealed before.
	dt.ok(&["access", "grant", &twin, "bob", "maintainer", "--as", "alice"]);
	let error =
		dt.fails(&["doc", "download", &twin, &document, "-o", &path("bob.pdf"), "--as", "bob"]);
	assert!(error.contains("has no access to version 0"), "{error}");
	assert!(error.contains("add a new version"), "{error}");
	assert!(error.contains("run `dt key register bob`"), "{error}");
	// Bob has not registered his keystore's key yet: told so.
	let annotated =
		dt.json(&["doc", "annotate", &twin, &document, "torque values checked", "--as", "bob"]);
	assert_eq!(
		(annotated["version"].clone(), annotated["annotation"].clone()),
		(0.into(), 0.into())
	);
	assert_eq!(annotated["author_key_registered"], false);
	dt.ok(&["key", "register", "bob"]);

	// A new version is sealed for every current reader.
	let revised = generated(2, 2 * 1024 * 1024 + 77);
	std::fs::write(path("manual-v1.pdf"), &revised).unwrap();
	let version =
		dt.json(&["doc", "version", &twin, &document, &path("manual-v1.pdf"), "--as", "alice"]);
	assert_eq!(version["version"], 1);
	assert_eq!(accounts(&version["readers"]), ["alice", "bob"]);
	dt.ok(&["doc", "download", &twin, &document, "-o", &path("bob.pdf"), "--as", "bob"]);
	assert_eq!(std::fs::read(path("bob.pdf")).unwrap(), revised);
	dt.ok(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"0",
		"-o",
		&path("v0.pdf"),
		"--as",
		"alice",
	]);
	assert_eq!(std::fs::read(path("v0.pdf")).unwrap(), manual);
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"7",
		"-o",
		&path("v7.pdf"),
		"--as",
		"alice",
	]);
	assert!(error.contains("has no version 7"), "{error}");
	dt.ok(&["doc", "annotate", &twin, &document, "approved for line 2", "--as", "alice"]);

	// A public note on an element: every member reads it, Bob without needing a role.
	std::fs::write(path("note.txt"), b"Valve V2 replaced on 2026-11-20.").unwrap();
	let note = dt.json(&[
		"doc",
		"upload",
		&twin,
		&path("note.txt"),
		"--element",
		&element,
		"--confidentiality",
		"public",
		"--as",
		"bob",
	]);
	assert_eq!(accounts(&note["readers"]), ["bob", "alice"]);
	assert_eq!(note["media_type"], "text/plain");
	let note_id = note["document"].as_u64().unwrap().to_string();

	// Lists and history.
	let list = dt.json(&["doc", "list", &twin]);
	assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
	assert_eq!(list[0]["title"], "Filler manual");
	assert_eq!(list[0]["versions"], 2);
	assert_eq!(list[0]["confidentiality"], "confidential");
	let on_element = dt.json(&["doc", "list", &twin, "--element", &element]);
	assert_eq!(on_element.as_array().unwrap().len(), 1, "{on_element}");
	assert_eq!(on_element[0]["document"].to_string(), note_id);
	let text = dt.ok(&["doc", "list", &twin, "--as", "bob"]);
	assert!(text.contains("Filler manual") && text.contains("note.txt"), "{text}");
	let shown = dt.json(&["doc", "show", &twin, &document, "--as", "bob"]);
	let history = shown["history"].as_array().unwrap();
	assert_eq!(history.len(), 2);
	assert_eq!(history[0]["content_id"], content_id.as_str());
	assert_eq!(history[0]["author_name"], "alice");
	assert_eq!(history[0]["annotations"][0]["text"], "torque values checked");
	assert_eq!(history[0]["annotations"][0]["author_name"], "bob");
	assert_eq!(history[1]["annotations"][0]["text"], "approved for line 2");
	assert!(history[1]["block"].as_u64().unwrap() > history[0]["block"].as_u64().unwrap());
	let text = dt.ok(&["doc", "show", &twin, &document]);
	assert!(
		text.contains("v0") && text.contains("v1") && text.contains("annotation 0 by bob"),
		"{text}"
	);
	let error = dt.fails(&["doc", "show", &twin, &document, "--as", "charlie"]);
	assert!(error.contains("is not cleared to read document"), "{error}");
	// What dt stored is what `dt verify` checks against the chain.
	dt.ok(&["verify", &twin]);

	// The note moves to the whole twin and back; retired, it takes no new version.
	let error = dt.fails(&["doc", "attach", &twin, &note_id, "--element", "nope", "--as", "bob"]);
	assert!(error.contains("has no element nope"), "{error}");
	dt.ok(&["doc", "attach", &twin, &note_id, "--whole-twin", "--as", "bob"]);
	assert!(dt
		.json(&["doc", "list", &twin, "--element", &element])
		.as_array()
		.unwrap()
		.is_empty());
	let attached =
		dt.json(&["doc", "attach", &twin, &note_id, "--element", &element, "--as", "bob"]);
	assert_eq!(attached["element"], element.as_str());
	assert_eq!(dt.json(&["doc", "list", &twin, "--element", &element])[0]["title"], "note.txt");
	dt.ok(&["doc", "retire", &twin, &note_id, "--as", "alice"]);
	let error = dt.fails(&["doc", "version", &twin, &note_id, &path("note.txt"), "--as", "alice"]);
	assert!(error.contains("was retired by") && error.contains("takes no new versions"), "{error}");
	let error = dt.fails(&["doc", "retire", &twin, &note_id, "--as", "alice"]);
	assert!(error.contains("refused by the chain: documents.AlreadyRetired"), "{error}");
	let shown = dt.ok(&["doc", "show", &twin, &note_id]);
	assert!(shown.contains("retired by alice"), "{shown}");

	// Unknown documents and twins.
	for command in [
		vec!["doc", "show", &twin, "99"],
		vec!["doc", "annotate", &twin, "99", "hello", "--as", "alice"],
	] {
		let error = dt.fails(&command);
		assert!(error.contains("document 99 does not exist"), "{error}");
	}
	let error = dt.fails(&["doc", "download", &twin, "99", "-o", &path("x"), "--as", "alice"]);
	assert!(error.contains("document 99 does not exist"), "{error}");
	let error = dt.fails(&["doc", "list", "999"]);
	assert!(error.contains("twin 999 does not exist"), "{error}");

	// Versions registered with genuine blocks put together wrongly: a chunk of version 0
	// in version 1's manifest (sealed under another key), and version 1's manifest with
	// version 0's envelope. Each is refused, nothing written.
	let files = block_files(&node);
	let manifest_v0 = std::fs::read(named(&files, &content_id)).unwrap();
	let manifest_v1 =
		std::fs::read(named(&files, version["content_id"].as_str().unwrap())).unwrap();
	let mut forged = manifest_v1.clone();
	let at = FIRST_CHUNK_ID + CID_LEN;
	forged[at..at + CID_LEN].copy_from_slice(&manifest_v0[at..at + CID_LEN]);
	let size = revised.len() as u64;
	register_version(
		&node,
		document.parse().unwrap(),
		size,
		&forged,
		version["key_envelope"].as_str().unwrap(),
	);
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"2",
		"-o",
		&path("forged.pdf"),
		"--as",
		"alice",
	]);
	assert!(
		error.contains("chunk 1 (") && error.contains("the stored version was altered"),
		"{error}"
	);
	assert!(error.contains("nothing was written"), "{error}");
	assert!(!Path::new(&path("forged.pdf")).exists());
	register_version(
		&node,
		document.parse().unwrap(),
		size,
		&manifest_v1,
		uploaded["key_envelope"].as_str().unwrap(),
	);
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"3",
		"-o",
		&path("forged.pdf"),
		"--as",
		"alice",
	]);
	assert!(error.contains("but the chain registered"), "{error}");
	assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
	let listed = dt.json(&["doc", "list", &twin]);
	assert_eq!(listed[0]["versions"], 4);

	// A store that alters a block in transit is caught by dt itself.
	let chunk_v1 = Cid::from_bytes(&manifest_v1[FIRST_CHUNK_ID..FIRST_CHUNK_ID + CID_LEN])
		.unwrap()
		.to_string();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (hostile, hostile_url) = start_hostile_store(&runtime, &node.url, chunk_v1.clone());
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"1",
		"-o",
		&path("hostile.pdf"),
		"--store",
		&hostile_url,
		"--as",
		"alice",
	]);
	assert!(
		error.contains(&format!("answered block {chunk_v1} with bytes that hash to")),
		"{error}"
	);
	assert!(!Path::new(&path("hostile.pdf")).exists());
	hostile.stop().unwrap();

	// A chunk corrupted on the store's disk is caught; nothing is written.
	let chunk = new
		.iter()
		.find(|file| {
			let name = file.file_name().unwrap().to_str().unwrap();
			name != content_id && name != uploaded["key_envelope"].as_str().unwrap()
		})
		.unwrap()
		.clone();
	let mut bytes = std::fs::read(&chunk).unwrap();
	bytes[100] ^= 0x20;
	std::fs::write(&chunk, &bytes).unwrap();
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"0",
		"-o",
		&path("bad.pdf"),
		"--as",
		"alice",
	]);
	assert!(error.contains("is corrupted in the off-chain store"), "{error}");
	assert!(error.contains("nothing was written"), "{error}");
	assert!(!Path::new(&path("bad.pdf")).exists());
	assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
	// The manifest gone from the store: its id is named.
	std::fs::remove_file(named(&files, &content_id)).unwrap();
	let error = dt.fails(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"0",
		"-o",
		&path("bad.pdf"),
		"--as",
		"alice",
	]);
	assert!(
		error.contains(&format!("block {content_id} is not in the off-chain store")),
		"{error}"
	);
	// The other version still reads.
	dt.ok(&[
		"doc",
		"download",
		&twin,
		&document,
		"--version",
		"1",
		"-o",
		&path("again.pdf"),
		"--as",
		"alice",
	]);
	assert_eq!(std::fs::read(path("again.pdf")).unwrap(), revised);
}
