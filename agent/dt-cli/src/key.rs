//! `dt key`: the party's account and encryption keys, encrypted at rest.

use crate::{chain, key_export, keystore, passphrase, unlock_key, Output};
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use dt_primitives::OrganisationId;
use dt_runtime::{AccountId, RuntimeCall};
use keystore::Keystore;
use serde_json::{json, Value};
use sp_core::{
	crypto::{Pair as _, Ss58Codec},
	sr25519,
};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
	/// Generates an account key and an RSA-3072 encryption key, stored encrypted with a
	/// passphrase (from DT_PASSPHRASE, else asked).
	Create { name: String },
	/// Stores an existing account (e.g. a development account `//Alice`) with a new RSA key.
	Import {
		name: String,
		/// The account's secret URI: a mnemonic, a 0x seed or `//Alice`.
		#[arg(long)]
		suri: String,
	},
	/// The stored keys.
	List,
	/// A key's account address and RSA key fingerprint.
	Show { name: String },
	/// Registers the key's RSA public key on chain as its account's encryption key, the one
	/// documents are sealed for (replacing the key registered before). The account must be
	/// a member of the consortium and signs itself, with a proof made with the RSA key.
	Register { name: String },
	/// Prints the proof (hex) that the key's account holds its RSA key, for the chain at
	/// --node: what an admin needs, with the public key (`dt key show NAME --json`), to add
	/// the account as a member (`dt member add ADDRESS --rsa-key FILE --key-proof FILE`).
	Proof {
		name: String,
		/// Make it for the chain with this genesis block hash (0x…) instead of asking --node.
		#[arg(long, value_name = "HASH")]
		genesis: Option<String>,
	},
	/// Writes the key for the web client (or any Polkadot.js wallet): NAME.account.json, a
	/// Polkadot.js account file, and NAME.rsa.pem, the RSA key as encrypted PKCS#8; both
	/// encrypted under the key's passphrase. Refuses to replace a file.
	Export {
		name: String,
		/// The directory to write the two files into.
		#[arg(long, value_name = "DIR", default_value = ".")]
		out: std::path::PathBuf,
	},
}

fn key_json(file: &keystore::KeyFile) -> Value {
	json!({
		"name": file.name,
		"account": file.account,
		"rsa_fingerprint": file.rsa_fingerprint,
		"rsa_public_key": file.rsa_public_der,
	})
}

pub async fn key_command(
	keystore: &Keystore,
	node: &str,
	command: KeyCommand,
	json: bool,
) -> Result<Output> {
	match command {
		KeyCommand::Create { name } | KeyCommand::Import { name, .. }
			if keystore.read(&name).is_ok() =>
		{
			bail!(
				"a key named {name} exists already in {}: choose another name",
				keystore.dir().display()
			)
		},
		KeyCommand::Create { name } => {
			keystore::check_name(&name)?;
			let passphrase = passphrase(&format!("Passphrase for the new key {name}: "), true)?;
			let (_, phrase, _) = sr25519::Pair::generate_with_phrase(None);
			if !json {
				eprintln!("generating an RSA-{} key (this takes a moment)…", keystore::RSA_BITS);
			}
			let rsa = keystore::generate_rsa()?;
			let file = keystore.create(&name, &phrase, &rsa, &passphrase)?;
			Ok(Output {
				text: format!(
					"created key {name}\naccount:         {}\nRSA fingerprint: {}\nstored in {}",
					file.account,
					file.rsa_fingerprint,
					keystore.dir().display()
				),
				json: key_json(&file),
			})
		},
		KeyCommand::Import { name, suri } => {
			keystore::check_name(&name)?;
			sr25519::Pair::from_string(&suri, None).map_err(|e| {
				anyhow!("bad secret URI: {e:?} (expected e.g. //Alice or a mnemonic)")
			})?;
			let passphrase = passphrase(&format!("Passphrase for the key {name}: "), true)?;
			if !json {
				eprintln!("generating an RSA-{} key (this takes a moment)…", keystore::RSA_BITS);
			}
			let rsa = keystore::generate_rsa()?;
			let file = keystore.create(&name, &suri, &rsa, &passphrase)?;
			Ok(Output {
				text: format!(
					"imported key {name}\naccount:         {}\nRSA fingerprint: {}",
					file.account, file.rsa_fingerprint
				),
				json: key_json(&file),
			})
		},
		KeyCommand::List => {
			let keys = keystore.list()?;
			let text = if keys.is_empty() {
				format!(
					"no keys in {} (create one with `dt key create NAME`)",
					keystore.dir().display()
				)
			} else {
				keys.iter()
					.map(|key| format!("{:<16} {}", key.name, key.account))
					.collect::<Vec<_>>()
					.join("\n")
			};
			Ok(Output { text, json: Value::Array(keys.iter().map(key_json).collect()) })
		},
		KeyCommand::Show { name } => {
			let file = keystore.read(&name)?;
			Ok(Output {
				text: format!(
					"key:             {}\naccount:         {}\nRSA fingerprint: {}",
					file.name, file.account, file.rsa_fingerprint
				),
				json: key_json(&file),
			})
		},
		KeyCommand::Register { name } => register(keystore, node, &name).await,
		KeyCommand::Proof { name, genesis } => proof(keystore, node, &name, genesis).await,
		KeyCommand::Export { name, out } => export(keystore, &name, &out),
	}
}

/// `dt key export`: the key in the formats the web client imports.
fn export(keystore: &Keystore, name: &str, out: &std::path::Path) -> Result<Output> {
	let file = keystore.read(name)?;
	if !out.is_dir() {
		bail!("--out {}: no such directory", out.display());
	}
	let passphrase = passphrase(&format!("Passphrase for key {name}: "), false)?;
	let key = keystore::unlock(&file, &passphrase)?;
	let now_ms = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|elapsed| elapsed.as_millis() as u64)
		.unwrap_or(0);
	let files = key_export::export(&file, &key, &passphrase, out, now_ms)?;
	Ok(Output {
		text: format!(
			"exported key {name} ({}), encrypted under its passphrase:\n  account: {}\n  RSA key: \
			 {}\nimport both in the web client's Keys page",
			file.account,
			files.account.display(),
			files.rsa.display()
		),
		json: json!({
			"name": name,
			"account": file.account,
			"account_file": files.account,
			"rsa_file": files.rsa,
		}),
	})
}

/// `dt key proof`: the proof that the key's account holds its RSA key.
async fn proof(
	keystore: &Keystore,
	node: &str,
	name: &str,
	genesis: Option<String>,
) -> Result<Output> {
	let file = keystore.read(name)?;
	let account = AccountId::from_ss58check(&file.account)
		.map_err(|e| anyhow!("the key file of {name} is damaged: {e:?}"))?;
	let genesis = match genesis {
		Some(hash) => {
			let bytes = hex::decode(hash.trim_start_matches("0x"))
				.ok()
				.filter(|bytes| bytes.len() == 32)
				.ok_or_else(|| anyhow!("--genesis takes a block hash: 0x and 64 hex digits"))?;
			sp_core::H256::from_slice(&bytes)
		},
		None => chain::connect(node)
			.await?
			.block_hash(0)
			.await
			.context("cannot read the chain's genesis hash")?
			.ok_or_else(|| anyhow!("the node has no genesis block"))?,
	};
	let key = unlock_key(keystore, name)?;
	let proof = chain::key_proof_for(genesis.as_ref(), &account, &key.rsa)?;
	Ok(Output {
		text: hex::encode(&proof),
		json: json!({
			"name": name,
			"account": account.to_string(),
			"genesis": format!("{genesis:?}"),
			"rsa_public_key": file.rsa_public_der,
			"key_proof": hex::encode(&proof),
		}),
	})
}

/// `dt key register`: the key's RSA public key becomes its account's encryption key.
async fn register(keystore: &Keystore, node: &str, name: &str) -> Result<Output> {
	let file = keystore.read(name)?;
	let account = AccountId::from_ss58check(&file.account)
		.map_err(|e| anyhow!("the key file of {name} is damaged: {e:?}"))?;
	let der = hex::decode(&file.rsa_public_der)
		.map_err(|_| anyhow!("the key file of {name} is damaged (RSA public key)"))?;
	let client = chain::connect(node).await?;
	let organisation: Option<OrganisationId> = client
		.runtime_api("ConsortiumApi_organisation_of", account.clone(), None)
		.await?;
	let Some(organisation) = organisation else {
		bail!(
			"{name} ({account}) is not a member of the consortium, so it has no encryption key \
			 to register: ask an admin of your organisation to add the account as a member with \
			 this key (`dt key show {name} --json` prints it as rsa_public_key, DER hex)"
		);
	};
	let registered = |key: Option<Vec<u8>>| key.as_deref() == Some(&der[..]);
	let before: Option<Vec<u8>> = client
		.runtime_api("ConsortiumApi_encryption_key", account.clone(), None)
		.await?;
	let output = |block: Option<sp_core::H256>| {
		let done = match block {
			Some(block) => format!("registered in block {block:?}"),
			None => "already registered: nothing to do".to_owned(),
		};
		Output {
			text: format!(
				"encryption key of {name} ({account}), organisation {organisation}: RSA \
				 fingerprint {}, {done}",
				file.rsa_fingerprint
			),
			json: json!({
				"name": name,
				"account": account.to_string(),
				"organisation": organisation,
				"rsa_fingerprint": file.rsa_fingerprint,
				"changed": block.is_some(),
				"block": block,
			}),
		}
	};
	if registered(before) {
		return Ok(output(None));
	}
	let key = unlock_key(keystore, name)?;
	let key_proof = chain::key_proof(&client, &account, &key.rsa).await?;
	let pair = key.pair;
	let call = pallet_dt_consortium::Call::rotate_encryption_key {
		encryption_key: der.clone(),
		key_proof,
	};
	let finalized =
		chain::submit(&client, &pair, RuntimeCall::Consortium(call), "register the encryption key")
			.await?;
	let after: Option<Vec<u8>> = client
		.runtime_api("ConsortiumApi_encryption_key", account.clone(), Some(finalized.block))
		.await
		.context("cannot read the registered key back")?;
	if !registered(after) {
		bail!("the chain accepted the key but does not return it for {account}: try again");
	}
	Ok(output(Some(finalized.block)))
}
