//! `dt member`: an organisation's admin adds and removes its members (people, services, the
//! device agent's account); `dt member show` tells whom an account belongs to.

use crate::{chain, keystore::Keystore, parse_account, unlock, unlock_key, Output, Signer};
use anyhow::{anyhow, Context, Result};
use dt_runtime::RuntimeCall;
use pallet_dt_consortium::Call as ConsortiumCall;
use serde_json::json;
use sp_core::crypto::Ss58Codec;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum MemberCommand {
	/// Adds an account to the signer's organisation, with its RSA public key (the key
	/// documents are encrypted to) and the member's proof that it holds that key.
	Add {
		/// A key name from the keystore (its RSA key is used and it makes the proof: its
		/// passphrase is asked), or an SS58 address together with --rsa-key and --key-proof.
		account: String,
		/// The member's RSA public key as a DER (SubjectPublicKeyInfo) file.
		#[arg(long, requires = "key_proof")]
		rsa_key: Option<PathBuf>,
		/// A file with the member's key proof in hex, as `dt key proof NAME` prints it on the
		/// member's side.
		#[arg(long, requires = "rsa_key")]
		key_proof: Option<PathBuf>,
		#[command(flatten)]
		signer: Signer,
	},
	/// Removes an account from the signer's organisation.
	Remove {
		account: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// The organisation an account belongs to and whether its encryption key is registered.
	Show { account: String },
}

pub async fn member_command(
	keystore: &Keystore,
	node: &str,
	command: MemberCommand,
) -> Result<Output> {
	match command {
		MemberCommand::Add { account, rsa_key, key_proof, signer } => {
			let who = parse_account(keystore, &account)?;
			let client = chain::connect(node).await?;
			let (encryption_key, key_proof) = match (rsa_key, key_proof) {
				(Some(key), Some(proof)) => {
					let der = std::fs::read(&key)
						.with_context(|| format!("cannot read the RSA key {}", key.display()))?;
					let text = std::fs::read_to_string(&proof).with_context(|| {
						format!("cannot read the key proof {}", proof.display())
					})?;
					let proof =
						hex::decode(text.trim().trim_start_matches("0x")).map_err(|_| {
							anyhow!("{} does not hold a key proof in hex", proof.display())
						})?;
					(der, proof)
				},
				_ => {
					let file = keystore.read(&account).map_err(|_| {
						anyhow!(
							"{account} is not a key in {}: pass the member's RSA public key \
							 with --rsa-key FILE.der and its proof (`dt key proof` on the \
							 member's side) with --key-proof FILE",
							keystore.dir().display()
						)
					})?;
					let der = hex::decode(&file.rsa_public_der)
						.map_err(|_| anyhow!("the key file of {account} is damaged"))?;
					let member = unlock_key(keystore, &account)?;
					(der, chain::key_proof(&client, &who, &member.rsa).await?)
				},
			};
			let pair = unlock(keystore, &signer)?;
			let call = RuntimeCall::Consortium(ConsortiumCall::add_member {
				who: who.clone(),
				encryption_key,
				key_proof,
			});
			let finalized = chain::submit(&client, &pair, call, "add the member").await?;
			Ok(Output {
				text: format!("{who} is now a member of {}'s organisation", signer.key),
				json: json!({ "account": who.to_ss58check(), "added": true, "block": finalized.block }),
			})
		},
		MemberCommand::Remove { account, signer } => {
			let who = parse_account(keystore, &account)?;
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			let call = RuntimeCall::Consortium(ConsortiumCall::remove_member { who: who.clone() });
			let finalized = chain::submit(&client, &pair, call, "remove the member").await?;
			Ok(Output {
				text: format!("{who} is no longer a member"),
				json: json!({ "account": who.to_ss58check(), "removed": true, "block": finalized.block }),
			})
		},
		MemberCommand::Show { account } => {
			let who = parse_account(keystore, &account)?;
			let client = chain::connect(node).await?;
			let organisation: Option<u32> =
				client.runtime_api("ConsortiumApi_organisation_of", who.clone(), None).await?;
			let key: Option<Vec<u8>> =
				client.runtime_api("ConsortiumApi_encryption_key", who.clone(), None).await?;
			let text = match organisation {
				Some(organisation) => format!(
					"{who} is a member of organisation {organisation}; encryption key {}",
					if key.is_some() { "registered" } else { "missing" }
				),
				None => format!("{who} is not a member of the consortium"),
			};
			Ok(Output {
				text,
				json: json!({
					"account": who.to_ss58check(),
					"organisation": organisation,
					"encryption_key": key.map(hex::encode),
				}),
			})
		},
	}
}
