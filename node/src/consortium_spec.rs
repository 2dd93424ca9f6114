//! `dt-node consortium-spec`: the chain specification of a real consortium, generated from
//! a file that lists its partners.
//!
//! The partners file is JSON:
//!
//! ```json
//! {
//!   "name": "Bottling plant consortium",
//!   "id": "bottling_plant",
//!   "partners": [
//!     {
//!       "organisation": "Manufacturer",
//!       "role": "Manufacturer",
//!       "admin": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
//!       "encryptionKeyFile": "keys/manufacturer-admin.der",
//!       "validator": {
//!         "aura": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
//!         "grandpa": "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"
//!       },
//!       "peerId": "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"
//!     }
//!   ]
//! }
//! ```
//!
//! `encryptionKeyFile` is relative to the partners file and holds the admin's RSA public key
//! as DER (`openssl pkey -pubout -outform DER`). `validator` is optional: a partner without
//! it joins without authoring blocks; with it, the admin account is the validator and the
//! keys are the ones its node holds (`dt-node key insert`). The chain has no sudo key.

use crate::chain_spec::{properties, wasm_binary, ChainSpec};
use dt_primitives::{encryption_key::validate_rsa_public_key, LifecycleRole};
use dt_runtime::{session_keys, AccountId};
use pallet_dt_consortium::GenesisOrganisation;
use sc_network_types::PeerId;
use sc_service::ChainType;
use serde::Deserialize;
use sp_core::{crypto::Ss58Codec, ed25519, sr25519};
use std::{
	path::{Path, PathBuf},
	str::FromStr,
};

/// Generate the chain specification of a consortium from a file listing its partners.
#[derive(Debug, clap::Parser)]
pub struct ConsortiumSpecCmd {
	/// The partners file (JSON; format in docs/operator-guide.md).
	#[arg(long, value_name = "FILE")]
	pub partners: PathBuf,

	/// Write the specification in raw form (storage keys and values), as nodes load it.
	#[arg(long)]
	pub raw: bool,
}

/// Why a partners file could not be turned into a chain specification.
#[derive(Debug, thiserror::Error)]
pub enum ConsortiumSpecError {
	#[error("cannot read {path}: {source}")]
	Read { path: PathBuf, source: std::io::Error },
	#[error("{path} is not a valid partners file: {source}")]
	Parse { path: PathBuf, source: serde_json::Error },
	#[error("the partners file lists no partner")]
	NoPartners,
	#[error("no partner has a validator: at least one must author blocks")]
	NoValidators,
	#[error("partner {partner}: {field} {value:?} is not a valid SS58 address")]
	BadAddress { partner: String, field: &'static str, value: String },
	#[error("partner {partner}: peerId {value:?} is not a libp2p peer id")]
	BadPeerId { partner: String, value: String },
	#[error("partner {partner}: encryption key {path}: {reason}")]
	BadEncryptionKey { partner: String, path: PathBuf, reason: String },
	#[error("{0}")]
	ChainSpec(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PartnersFile {
	name: String,
	id: String,
	partners: Vec<Partner>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Partner {
	organisation: String,
	role: LifecycleRole,
	admin: String,
	encryption_key_file: PathBuf,
	validator: Option<ValidatorKeys>,
	peer_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidatorKeys {
	aura: String,
	grandpa: String,
}

impl ConsortiumSpecCmd {
	/// Prints the chain specification to stdout.
	pub fn run(&self) -> Result<(), ConsortiumSpecError> {
		let spec = chain_spec_from_file(&self.partners)?;
		// Building the genesis state catches what only the runtime checks (e.g. an account
		// listed twice) before anyone starts a node with the specification.
		let raw = spec.as_json(true).map_err(ConsortiumSpecError::ChainSpec)?;
		let json = if self.raw {
			raw
		} else {
			spec.as_json(false).map_err(ConsortiumSpecError::ChainSpec)?
		};
		println!("{json}");
		Ok(())
	}
}

/// Reads a partners file and builds the consortium's chain specification.
pub fn chain_spec_from_file(path: &Path) -> Result<ChainSpec, ConsortiumSpecError> {
	let text = std::fs::read_to_string(path)
		.map_err(|source| ConsortiumSpecError::Read { path: path.into(), source })?;
	let file: PartnersFile = serde_json::from_str(&text)
		.map_err(|source| ConsortiumSpecError::Parse { path: path.into(), source })?;
	let base = path.parent().unwrap_or_else(|| Path::new("."));
	let genesis = genesis_patch(&file, base)?;
	Ok(ChainSpec::builder(wasm_binary().map_err(ConsortiumSpecError::ChainSpec)?, None)
		.with_name(&file.name)
		.with_id(&file.id)
		.with_chain_type(ChainType::Live)
		.with_genesis_config_patch(genesis)
		.with_properties(properties())
		.build())
}

fn genesis_patch(
	file: &PartnersFile,
	base: &Path,
) -> Result<serde_json::Value, ConsortiumSpecError> {
	if file.partners.is_empty() {
		return Err(ConsortiumSpecError::NoPartners);
	}
	let mut organisations = Vec::new();
	let mut session_keys_of_validators = Vec::new();
	let mut validators = Vec::new();
	for partner in &file.partners {
		let name = &partner.organisation;
		let admin = parse_ss58::<AccountId>(name, "admin", &partner.admin)?;
		let key_path = base.join(&partner.encryption_key_file);
		let key = std::fs::read(&key_path).map_err(|e| ConsortiumSpecError::BadEncryptionKey {
			partner: name.clone(),
			path: key_path.clone(),
			reason: e.to_string(),
		})?;
		validate_rsa_public_key(&key).map_err(|e| ConsortiumSpecError::BadEncryptionKey {
			partner: name.clone(),
			path: key_path.clone(),
			reason: format!(
				"{e:?} (need an RSA key of 3072 to 8192 bits as DER SubjectPublicKeyInfo)"
			),
		})?;
		let peer_id = PeerId::from_str(&partner.peer_id).map_err(|_| {
			ConsortiumSpecError::BadPeerId { partner: name.clone(), value: partner.peer_id.clone() }
		})?;
		if let Some(keys) = &partner.validator {
			let aura = parse_ss58::<sr25519::Public>(name, "validator.aura", &keys.aura)?;
			let grandpa = parse_ss58::<ed25519::Public>(name, "validator.grandpa", &keys.grandpa)?;
			session_keys_of_validators.push((
				admin.clone(),
				admin.clone(),
				session_keys(aura.into(), grandpa.into()),
			));
			validators.push(admin.clone());
		}
		organisations.push(GenesisOrganisation {
			name: name.clone(),
			role: partner.role,
			admins: vec![(admin, key.into())],
			members: vec![],
			partner_nodes: vec![peer_id.to_bytes().into()],
		});
	}
	if validators.is_empty() {
		return Err(ConsortiumSpecError::NoValidators);
	}
	Ok(serde_json::json!({
		"consortium": { "organisations": organisations, "validators": validators },
		"session": { "keys": session_keys_of_validators },
	}))
}

fn parse_ss58<T: Ss58Codec>(
	partner: &str,
	field: &'static str,
	value: &str,
) -> Result<T, ConsortiumSpecError> {
	T::from_ss58check(value).map_err(|_| ConsortiumSpecError::BadAddress {
		partner: partner.into(),
		field,
		value: value.into(),
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use dt_runtime::genesis_config_presets::{dev_encryption_keys, LOCAL_PARTNER_NODES};
	use sc_chain_spec::ChainSpec as _;

	const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
	const ALICE_GRANDPA: &str = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu";
	const PEER: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";

	/// Writes a partners file (and the keys it names) into a temporary directory.
	fn partners_file(partners: serde_json::Value) -> (tempfile::TempDir, PathBuf) {
		let dir = tempfile::tempdir().unwrap();
		std::fs::write(dir.path().join("alice.der"), dev_encryption_keys::ALICE).unwrap();
		std::fs::write(dir.path().join("short.der"), b"\x30\x03\x02\x01\x01").unwrap();
		let path = dir.path().join("partners.json");
		let file =
			serde_json::json!({ "name": "Test consortium", "id": "test", "partners": partners });
		std::fs::write(&path, file.to_string()).unwrap();
		(dir, path)
	}

	fn partner(key_file: &str, peer_id: &str, validator: bool) -> serde_json::Value {
		let mut partner = serde_json::json!({
			"organisation": "Manufacturer",
			"role": "Manufacturer",
			"admin": ALICE,
			"encryptionKeyFile": key_file,
			"peerId": peer_id,
		});
		if validator {
			partner["validator"] = serde_json::json!({ "aura": ALICE, "grandpa": ALICE_GRANDPA });
		}
		partner
	}

	#[test]
	fn partners_file_becomes_a_chain_spec_without_sudo() {
		let (_dir, path) = partners_file(serde_json::json!([partner("alice.der", PEER, true)]));
		let spec = chain_spec_from_file(&path).unwrap();
		assert_eq!(spec.id(), "test");
		assert_eq!(spec.chain_type(), ChainType::Live);
		let json: serde_json::Value = serde_json::from_str(&spec.as_json(false).unwrap()).unwrap();
		let patch = &json["genesis"]["runtimeGenesis"]["patch"];
		let organisation = &patch["consortium"]["organisations"][0];
		assert_eq!(organisation["name"], "Manufacturer");
		assert_eq!(organisation["admins"][0][0], ALICE);
		assert_eq!(patch["consortium"]["validators"][0], ALICE);
		assert!(patch.get("sudo").is_none());
		// The raw form (what nodes load) builds the genesis state, so the patch is valid.
		assert!(spec.as_json(true).is_ok());
	}

	#[test]
	fn errors_name_the_partner_and_the_bad_field() {
		let cases = [
			(partner("alice.der", "not-a-peer-id", true), "peerId \"not-a-peer-id\""),
			(partner("short.der", PEER, true), "encryption key"),
			(partner("missing.der", PEER, true), "missing.der"),
			(partner("alice.der", PEER, false), "no partner has a validator"),
		];
		for (partner, expected) in cases {
			let (_dir, path) = partners_file(serde_json::json!([partner]));
			let error = chain_spec_from_file(&path).err().expect("the file is refused").to_string();
			assert!(error.contains(expected), "{error:?} should mention {expected:?}");
		}
		let mut bad_admin = partner("alice.der", PEER, true);
		bad_admin["admin"] = serde_json::json!("5NotAnAddress");
		let (_dir, path) =
			partners_file(serde_json::json!([bad_admin, partner("alice.der", PEER, true)]));
		let error = chain_spec_from_file(&path).err().expect("the file is refused").to_string();
		assert!(error.contains("partner Manufacturer: admin"), "{error}");
		let (_dir, path) = partners_file(serde_json::json!([]));
		assert!(matches!(chain_spec_from_file(&path), Err(ConsortiumSpecError::NoPartners)));
	}

	#[test]
	fn local_partner_node_ids_match_their_node_keys() {
		for (index, expected) in LOCAL_PARTNER_NODES.iter().enumerate() {
			let mut secret = [0u8; 32];
			secret[31] = index as u8 + 1;
			let keypair = sc_network_types::ed25519::Keypair::from(
				sc_network_types::ed25519::SecretKey::try_from_bytes(&mut secret).unwrap(),
			);
			let peer_id = keypair.public().to_peer_id();
			assert_eq!(peer_id.to_bytes(), expected.to_vec(), "node key {}", index + 1);
		}
	}
}
