//! `dt access`: roles on a twin and what each role may do.

use crate::twin_edit::parse_confidentiality;
use crate::{chain, keystore::Keystore, parse_account, unlock, Output, Signer};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
pub use dt_client::ledger::{permission_name, role_name};
use dt_primitives::access::{Grantee, Permission, Role, TwinId};
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
	/// Shows a role's permissions on a twin, or changes them with --add / --remove.
	///
	/// Permissions: read:LEVEL, write-spec, write-spec:ELEMENT, add-documents,
	/// version-documents, annotate-documents, register-feeds, append-to-feeds, call-programs,
	/// call-programs:PROGRAM, add-external-sources, manage-access, run-programs,
	/// declare-programs (declare programs and their safety bounds, and change the AML that
	/// describes them: the owner's and the manufacturer's by default, not the maintainer's).
	Permissions {
		twin: TwinId,
		role: String,
		/// Permissions to add.
		#[arg(long, num_args = 1..)]
		add: Vec<String>,
		/// Permissions to take away.
		#[arg(long, num_args = 1..)]
		remove: Vec<String>,
		/// The key that signs a change.
		#[arg(long = "as", value_name = "KEY")]
		key: Option<String>,
	},
}

/// A permission as written on the command line (see `dt access permissions --help`).
pub fn parse_permission(text: &str) -> Result<Permission> {
	let (name, argument) = match text.split_once(':') {
		Some((name, argument)) => (name, Some(argument)),
		None => (text, None),
	};
	fn bounded<S: sp_runtime::traits::Get<u32>>(
		value: &str,
	) -> Result<sp_runtime::BoundedVec<u8, S>> {
		value
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| anyhow!("{value:?} is too long"))
	}
	Ok(match (name.to_ascii_lowercase().as_str(), argument) {
		("read", Some(level)) => Permission::Read(parse_confidentiality(level)?),
		("write-spec", None) => Permission::WriteSpecification(None),
		("write-spec", Some(element)) => Permission::WriteSpecification(Some(bounded(element)?)),
		("add-documents", None) => Permission::AddDocuments,
		("version-documents", None) => Permission::VersionDocuments,
		("annotate-documents", None) => Permission::AnnotateDocuments,
		("register-feeds", None) => Permission::RegisterFeeds,
		("append-to-feeds", None) => Permission::AppendToFeeds,
		("call-programs", None) => Permission::CallPrograms(None),
		("call-programs", Some(program)) => Permission::CallPrograms(Some(bounded(program)?)),
		("add-external-sources", None) => Permission::AddExternalSources,
		("manage-access", None) => Permission::ManageAccess,
		("run-programs", None) => Permission::RunPrograms,
		("declare-programs", None) => Permission::DeclarePrograms,
		_ => bail!("unknown permission {text:?}: see `dt access permissions --help` for the list"),
	})
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
		AccessCommand::Permissions { twin, role, add, remove, key } => {
			let role = parse_role(&role)?;
			let add = add.iter().map(|p| parse_permission(p)).collect::<Result<Vec<_>>>()?;
			let remove = remove.iter().map(|p| parse_permission(p)).collect::<Result<Vec<_>>>()?;
			let changing = !add.is_empty() || !remove.is_empty();
			let signer = match (changing, key) {
				(true, Some(key)) => Some(Signer { key }),
				(true, None) => bail!("changing permissions needs --as KEY (an access manager)"),
				(false, _) => None,
			};
			let pair = signer.as_ref().map(|signer| unlock(keystore, signer)).transpose()?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let mut permissions = client
				.runtime_api::<Option<Vec<Permission>>>(
					"AccessApi_role_permissions",
					(twin, role),
					None,
				)
				.await?
				.ok_or_else(|| anyhow!("twin {twin} has no role {}", role_name(&role)))?;
			let mut block = None;
			if let Some(pair) = pair {
				permissions.retain(|permission| !remove.contains(permission));
				permissions.extend(
					add.into_iter().filter(|p| !permissions.contains(p)).collect::<Vec<_>>(),
				);
				let call = RuntimeCall::Access(pallet_dt_access::Call::set_role_permissions {
					twin,
					role,
					permissions: permissions.clone().try_into().map_err(|_| {
						anyhow!("a role holds at most a bounded number of permissions")
					})?,
				});
				let finalized = chain::submit(&client, &pair, call, "set the permissions").await?;
				// The chain stores them sorted and without duplicates: show what it stored.
				permissions = client
					.runtime_api::<Option<Vec<Permission>>>(
						"AccessApi_role_permissions",
						(twin, role),
						Some(finalized.block),
					)
					.await?
					.unwrap_or_default();
				block = Some(finalized.block);
			}
			let names: Vec<String> = permissions.iter().map(permission_name).collect();
			Ok(Output {
				text: format!("{} on twin {twin}: {}", role_name(&role), names.join(", ")),
				json: json!({
					"twin": twin, "role": role_name(&role), "permissions": names, "block": block,
				}),
			})
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn permissions_parse_and_print_back() {
		for text in [
			"read:secret",
			"write-spec",
			"write-spec:fill-level-sensor-1",
			"add-documents",
			"version-documents",
			"annotate-documents",
			"register-feeds",
			"append-to-feeds",
			"call-programs",
			"call-programs:SetFillVolume",
			"add-external-sources",
			"manage-access",
			"run-programs",
			"declare-programs",
		] {
			assert_eq!(permission_name(&parse_permission(text).unwrap()), text);
		}
		for bad in ["read", "fly", "manage-access:x", "read:top"] {
			assert!(parse_permission(bad).is_err(), "{bad}");
		}
	}

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
