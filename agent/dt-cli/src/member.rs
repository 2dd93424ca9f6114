//! `dt member`: an organisation's admin adds and removes its members (people, services, the
//! device agent's account); `dt member show` tells whom an account belongs to.

use crate::{chain, keystore::Keystore, parse_account, unlock, Output, Signer};
use anyhow::{anyhow, Context, Result};
use dt_runtime::RuntimeCall;
use pallet_dt_consortium::Call as ConsortiumCall;
use serde_json::json;
use sp_core::crypto::Ss58Codec;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum MemberCommand {
	/// Adds an account to the signer's organisation, with its RSA public key (the key
	/// documents are encrypted to).
	Add {
		/// A key name from the keystore (its RSA key is used), or an SS58 address together
		/// with --rsa-key.
		account: String,
		/// The member's RSA public key as a DER (SubjectPublicKeyInfo) file.
		#[arg(long)]
		rsa_key: Option<PathBuf>,
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
		MemberCommand::Add { account, rsa_key, signer } => {
			let who = parse_account(keystore, &account)?;
			let encryption_key = match rsa_key {
				Some(path) => std::fs::read(&path)
					.with_context(|| format!("cannot read the RSA key {}", path.display()))?,
				None => {
					let file = keystore.read(&account).map_err(|_| {
						anyhow!(
							"{account} is not a key in {}: pass the member's RSA public key \
							 with --rsa-key FILE.der",
							keystore.dir().display()
						)
					})?;
					hex::decode(&file.rsa_public_der)
						.map_err(|_| anyhow!("the key file of {account} is damaged"))?
				},
			};
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			let call = RuntimeCall::Consortium(ConsortiumCall::add_member {
				who: who.clone(),
				encryption_key,
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
