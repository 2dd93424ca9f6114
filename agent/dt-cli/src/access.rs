//! `dt access`: roles on a twin.

use crate::{chain, keystore::Keystore, parse_account, unlock, Output, Signer};
use anyhow::{bail, Result};
use clap::Subcommand;
use dt_primitives::access::{Grantee, Role, TwinId};
use dt_runtime::RuntimeCall;
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum AccessCommand {
	/// Grants a role on a twin to an account.
	Grant {
		twin: TwinId,
		/// SS58 address, key name or secret URI such as //Bob.
		account: String,
		/// owner, manufacturer, maintainer, auditor, device or custom:ID.
		role: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// Revokes a role on a twin from an account.
	Revoke {
		twin: TwinId,
		account: String,
		role: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// The roles an account holds on a twin.
	Roles { twin: TwinId, account: String },
}

pub fn parse_role(text: &str) -> Result<Role> {
	Ok(match text.to_ascii_lowercase().as_str() {
		"owner" => Role::Owner,
		"manufacturer" => Role::Manufacturer,
		"maintainer" => Role::Maintainer,
		"auditor" => Role::Auditor,
		"device" => Role::Device,
		other => match other.strip_prefix("custom:").map(str::parse) {
			Some(Ok(id)) => Role::Custom(id),
			_ => bail!(
				"unknown role {text:?}: use owner, manufacturer, maintainer, auditor, device or custom:ID"
			),
		},
	})
}

pub fn role_name(role: &Role) -> String {
	match role {
		Role::Custom(id) => format!("custom:{id}"),
		other => format!("{other:?}").to_lowercase(),
	}
}

pub async fn access_command(
	keystore: &Keystore,
	node: &str,
	command: AccessCommand,
) -> Result<Output> {
	let grant = matches!(command, AccessCommand::Grant { .. });
	match command {
		AccessCommand::Grant { twin, account, role, signer }
		| AccessCommand::Revoke { twin, account, role, signer } => {
			let who = parse_account(keystore, &account)?;
			let role = parse_role(&role)?;
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let grantee = Grantee::Account(who.clone());
			let (call, what) = if grant {
				(pallet_dt_access::Call::grant_role { twin, grantee, role }, "grant the role")
			} else {
				(pallet_dt_access::Call::revoke_role { twin, grantee, role }, "revoke the role")
			};
			let finalized = chain::submit(&client, &pair, RuntimeCall::Access(call), what).await?;
			let verb = if grant { "granted" } else { "revoked" };
			Ok(Output {
				text: format!(
					"{verb} {} on twin {twin} {} {who}",
					role_name(&role),
					if grant { "to" } else { "from" }
				),
				json: json!({
					"twin": twin, "account": who.to_string(), "role": role_name(&role),
					verb: true, "block": finalized.block,
				}),
			})
		},
		AccessCommand::Roles { twin, account } => {
			let who = parse_account(keystore, &account)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let roles: Vec<Role> =
				client.runtime_api("AccessApi_roles_of", (twin, who.clone()), None).await?;
			let names: Vec<String> = roles.iter().map(role_name).collect();
			Ok(Output {
				text: if names.is_empty() {
					format!("{who} holds no role on twin {twin}")
				} else {
					format!("{who} on twin {twin}: {}", names.join(", "))
				},
				json: json!({ "twin": twin, "account": who.to_string(), "roles": names }),
			})
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn roles_parse_and_print_back() {
		for role in Role::BUILT_IN.into_iter().chain([Role::Custom(7)]) {
			assert_eq!(parse_role(&role_name(&role)).unwrap(), role);
		}
		assert_eq!(parse_role("Maintainer").unwrap(), Role::Maintainer);
		let error = parse_role("boss").unwrap_err().to_string();
		assert!(error.contains("owner, manufacturer"), "{error}");
	}
}
