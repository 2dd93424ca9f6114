//! `dt key`: the party's account and encryption keys, encrypted at rest.

use crate::{keystore, passphrase, Output};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use keystore::Keystore;
use serde_json::{json, Value};
use sp_core::{crypto::Pair as _, sr25519};

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
}

fn key_json(file: &keystore::KeyFile) -> Value {
	json!({
		"name": file.name,
		"account": file.account,
		"rsa_fingerprint": file.rsa_fingerprint,
		"rsa_public_key": file.rsa_public_der,
	})
}

pub fn key_command(keystore: &Keystore, command: KeyCommand, json: bool) -> Result<Output> {
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
	}
}
