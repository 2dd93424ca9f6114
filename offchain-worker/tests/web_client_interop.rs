//! The web client (agent/web) seals and opens documents in the browser with WebCrypto; this
//! checks that its format is dt-offchain's both ways: a version the browser sealed
//! (`agent/web/test/fixtures/browser-sealed.json`, written by agent/web's tests) opens here,
//! and the version dt-offchain sealed for the browser's tests
//! (`agent/web/test/fixtures/rust-sealed.json`) is one. Both are sealed for the test key
//! `pallets/primitives/test-keys/rsa3072`.
//!
//! `cargo test -p dt-offchain --test web_client_interop -- --ignored` writes rust-sealed.json
//! anew.

use dt_offchain::{
	block_store::BlockStore,
	content_id::Cid,
	crypto::{ReaderPrivateKey, ReaderPublicKey},
	documents::{open_document, put_document},
};
use serde_json::{json, Value};
use std::{io::Read, path::PathBuf, str::FromStr};

fn fixture(name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR"))
		.join("../agent/web/test/fixtures")
		.join(name)
}

fn test_key(name: &str) -> Vec<u8> {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
		.join("../pallets/primitives/test-keys")
		.join(name);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Puts the fixture's blocks in a fresh store and opens its version with the test key.
fn open_fixture(name: &str) -> (String, Value) {
	let sealed: Value = serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap();
	let dir = tempfile::tempdir().unwrap();
	let store = BlockStore::open(dir.path()).unwrap();
	for (cid, hex) in sealed["blocks"].as_object().expect("blocks by id") {
		let stored = store.put(&hex::decode(hex.as_str().unwrap()).unwrap()).unwrap();
		assert_eq!(stored.to_string(), *cid, "{name}: a block is filed under another id");
	}
	let content_id = Cid::from_str(sealed["content_id"].as_str().unwrap()).unwrap();
	let private_key = ReaderPrivateKey::from_der(&test_key("rsa3072.pk8")).unwrap();
	let mut reader = open_document(&store, &content_id, &private_key).unwrap();
	assert_eq!(reader.manifest().envelope().to_string(), sealed["key_envelope"].as_str().unwrap());
	assert_eq!(reader.manifest().plaintext_len(), sealed["size"].as_u64().unwrap());
	let mut plaintext = String::new();
	reader.read_to_string(&mut plaintext).unwrap();
	(plaintext, sealed)
}

#[test]
fn a_version_the_browser_sealed_opens_with_dt_offchain() {
	let (plaintext, sealed) = open_fixture("browser-sealed.json");
	assert_eq!(plaintext, sealed["plaintext"].as_str().unwrap());
}

#[test]
fn the_version_sealed_for_the_browser_is_dt_offchains() {
	let (plaintext, sealed) = open_fixture("rust-sealed.json");
	assert_eq!(plaintext, sealed["plaintext"].as_str().unwrap());
}

#[test]
#[ignore = "writes agent/web/test/fixtures/rust-sealed.json"]
fn write_the_version_sealed_for_the_browser() {
	let plaintext =
		"Maintenance report, sealed by dt-offchain for the web client's tests. ".repeat(40);
	let dir = tempfile::tempdir().unwrap();
	let store = BlockStore::open(dir.path()).unwrap();
	let reader = ReaderPublicKey::from_der(&test_key("rsa3072.der")).unwrap();
	let stored = put_document(&store, plaintext.as_bytes(), &[reader]).unwrap();
	let blocks: serde_json::Map<String, Value> = store
		.iter()
		.map(|cid| {
			let cid = cid.unwrap();
			(cid.to_string(), Value::String(hex::encode(store.get(&cid).unwrap().unwrap())))
		})
		.collect();
	let sealed = json!({
		"plaintext": plaintext,
		"content_id": stored.content_id.to_string(),
		"key_envelope": stored.key_envelope.to_string(),
		"size": stored.plaintext_len,
		"blocks": blocks,
	});
	std::fs::write(fixture("rust-sealed.json"), serde_json::to_string_pretty(&sealed).unwrap())
		.unwrap();
}
