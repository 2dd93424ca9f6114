//! The genesis presets built into the runtime: `development` (one partner, `--dev`) and
//! `local_testnet` (the four-partner consortium of the bottling-plant scenario on loopback).
//!
//! Both use the well-known development keys (`//Alice`, ...) and development RSA keys whose
//! private halves are in `runtime/res/dev-keys/`: never use them for a real deployment.
//! Real consortia generate their chain specification with `dt-node consortium-spec`.

use crate::{session_keys, AccountId, RuntimeGenesisConfig, SessionKeys};
use alloc::{string::String, vec, vec::Vec};
use dt_primitives::LifecycleRole;
use frame_support::build_struct_json_patch;
use pallet_dt_consortium::GenesisOrganisation;
use serde_json::Value;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Public halves of the development RSA encryption keys (DER).
pub mod dev_encryption_keys {
	pub const ALICE: &[u8] = include_bytes!("../res/dev-keys/alice.der");
	pub const BOB: &[u8] = include_bytes!("../res/dev-keys/bob.der");
	pub const CHARLIE: &[u8] = include_bytes!("../res/dev-keys/charlie.der");
	pub const DAVE: &[u8] = include_bytes!("../res/dev-keys/dave.der");
	pub const EVE: &[u8] = include_bytes!("../res/dev-keys/eve.der");
	pub const FERDIE: &[u8] = include_bytes!("../res/dev-keys/ferdie.der");
}

/// Peer ids (binary multihash) of the `local_testnet` partner nodes, which start with
/// `--node-key` 0x00..01, 0x00..02, 0x00..03 and 0x00..04 (see `scripts/local-network.sh`).
pub const LOCAL_PARTNER_NODES: [[u8; 38]; 4] = [
	hex_literal(b"0024080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"),
	hex_literal(b"0024080112207422b9887598068e32c4448a949adb290d0f4e35b9e01b0ee5f1a1e600fe2674"),
	hex_literal(b"002408011220f381626e41e7027ea431bfe3009e94bdd25a746beec468948d6c3c7c5dc9a54b"),
	hex_literal(b"002408011220fd50b8e3b144ea244fbf7737f550bc8dd0c2650bbc1aada833ca17ff8dbf329b"),
];

/// Decodes a hex string at compile time.
const fn hex_literal<const N: usize>(hex: &[u8]) -> [u8; N] {
	const fn nibble(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => panic!("not a lowercase hex digit"),
		}
	}
	assert!(hex.len() == 2 * N, "hex literal of the wrong length");
	let mut out = [0u8; N];
	let mut i = 0;
	while i < N {
		out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
		i += 1;
	}
	out
}

/// A founding organisation with one admin, the development key of that admin, and nodes.
fn organisation(
	name: &str,
	role: LifecycleRole,
	admin: Sr25519Keyring,
	encryption_key: &[u8],
	partner_nodes: Vec<Vec<u8>>,
) -> GenesisOrganisation<AccountId> {
	GenesisOrganisation {
		name: String::from(name),
		role,
		admins: vec![(admin.to_account_id(), encryption_key.to_vec().into())],
		members: vec![],
		partner_nodes: partner_nodes.into_iter().map(Into::into).collect(),
	}
}

/// Account, validator id and session keys of a development validator.
fn validator(
	account: Sr25519Keyring,
	grandpa: Ed25519Keyring,
) -> (AccountId, AccountId, SessionKeys) {
	let keys = session_keys(account.public().into(), grandpa.public().into());
	(account.to_account_id(), account.to_account_id(), keys)
}

fn genesis(
	organisations: Vec<GenesisOrganisation<AccountId>>,
	validators: Vec<(AccountId, AccountId, SessionKeys)>,
	sudo: Option<AccountId>,
) -> Value {
	let validator_accounts: Vec<AccountId> = validators.iter().map(|(a, _, _)| a.clone()).collect();
	build_struct_json_patch!(RuntimeGenesisConfig {
		consortium: pallet_dt_consortium::GenesisConfig {
			organisations,
			validators: validator_accounts,
		},
		session: pallet_session::GenesisConfig { keys: validators },
		sudo: pallet_sudo::GenesisConfig { key: sudo },
	})
}

/// One partner, Alice, who validates and holds the sudo key; Bob is a member of her
/// organisation.
pub fn development_config_genesis() -> Value {
	let mut partner = organisation(
		"Development Partner",
		LifecycleRole::Owner,
		Sr25519Keyring::Alice,
		dev_encryption_keys::ALICE,
		vec![],
	);
	partner
		.members
		.push((Sr25519Keyring::Bob.to_account_id(), dev_encryption_keys::BOB.to_vec().into()));
	genesis(
		vec![partner],
		vec![validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Some(Sr25519Keyring::Alice.to_account_id()),
	)
}

/// The bottling plant's four partners, each an organisation with one admin, one validator
/// and one partner node; no sudo key.
pub fn local_testnet_genesis() -> Value {
	let node = |i: usize| vec![LOCAL_PARTNER_NODES[i].to_vec()];
	genesis(
		vec![
			organisation(
				"Manufacturer",
				LifecycleRole::Manufacturer,
				Sr25519Keyring::Alice,
				dev_encryption_keys::ALICE,
				node(0),
			),
			organisation(
				"Owner",
				LifecycleRole::Owner,
				Sr25519Keyring::Bob,
				dev_encryption_keys::BOB,
				node(1),
			),
			organisation(
				"Maintainer",
				LifecycleRole::Maintainer,
				Sr25519Keyring::Charlie,
				dev_encryption_keys::CHARLIE,
				node(2),
			),
			organisation(
				"Auditor",
				LifecycleRole::Auditor,
				Sr25519Keyring::Dave,
				dev_encryption_keys::DAVE,
				node(3),
			),
		],
		vec![
			validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			validator(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		None,
	)
}

/// The genesis patch of the preset `id`, JSON-encoded.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
