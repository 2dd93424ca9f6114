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
		let json = spec.as_json(self.raw).map_err(ConsortiumSpecError::ChainSpec)?;
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

fn genesis_patch(file: &PartnersFile, base: &Path) -> Result<serde_json::Value, ConsortiumSpecError> {
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
			reason: format!("{e:?} (need an RSA key of 3072 to 8192 bits as DER SubjectPublicKeyInfo)"),
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
	use dt_runtime::genesis_config_presets::LOCAL_PARTNER_NODES;

	#[test]
	fn local_partner_node_ids_match_their_node_keys() {
		for (index, expected) in LOCAL_PARTNER_NODES.iter().enumerate() {
			let mut secret = [0u8; 32];
			secret[31] = index as u8 + 1;
			let keypair = sc_network_types::ed25519::Keypair::from(
				sc_network_types::ed25519::SecretKey::try_from_bytes(&mut secret).unwrap(),
			);
			let peer_id = PeerId::from_public_key(&keypair.public().into());
			assert_eq!(peer_id.to_bytes(), expected.to_vec(), "node key {}", index + 1);
		}
	}
}
