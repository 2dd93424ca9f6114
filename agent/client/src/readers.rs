//! Who may read what on a twin, as the chain decides it: the accounts whose roles reach a
//! confidentiality level (every member for public data), each with the RSA key it
//! registered on chain. A document's key and a feed epoch's key are sealed for exactly
//! these; `dt` and the device agent ask the same question the same way.

use crate::{Client, ClientError};
use codec::Encode;
use dt_offchain::crypto::ReaderPublicKey;
use dt_primitives::{
	access::{Action, Confidentiality, Grantee, Permission, Role, TwinId},
	OrganisationId,
};
use dt_runtime::{AccountId, Runtime};
use frame_support::{storage::StoragePrefixedMap, StorageHasher, Twox64Concat};
use jsonrpsee::rpc_params;
use std::collections::{BTreeMap, BTreeSet};

/// Storage keys read per page when listing members.
const KEYS_PER_PAGE: u32 = 1000;

/// A reader a key is sealed for.
#[derive(Clone, Debug)]
pub struct Reader {
	pub account: AccountId,
	pub key: ReaderPublicKey,
	/// The roles through which it may read (empty: a member reading public data, or a
	/// writer included for itself).
	pub roles: Vec<Role>,
}

/// An account that may read but cannot be sealed for.
#[derive(Clone, Debug)]
pub struct Skipped {
	pub account: AccountId,
	pub reason: String,
}

/// The readers of data of one level on one twin.
#[derive(Clone, Debug, Default)]
pub struct ClearedReaders {
	pub included: Vec<Reader>,
	pub skipped: Vec<Skipped>,
}

/// Whether `who` may do `action` on `twin`, by the same rule the runtime applies: a member
/// reads public data; otherwise one of its roles must have a permission that allows it.
pub async fn may(
	client: &Client,
	twin: TwinId,
	who: &AccountId,
	action: Action<'_>,
) -> Result<bool, ClientError> {
	if action == Action::Read(Confidentiality::Public)
		&& organisation_of(client, who).await?.is_some()
	{
		return Ok(true);
	}
	let roles: Vec<Role> =
		client.runtime_api("AccessApi_roles_of", (twin, who.clone()), None).await?;
	for role in roles {
		let permissions: Option<Vec<Permission>> =
			client.runtime_api("AccessApi_role_permissions", (twin, role), None).await?;
		if permissions.unwrap_or_default().iter().any(|p| p.allows(&action)) {
			return Ok(true);
		}
	}
	Ok(false)
}

/// The organisation of `who`, if it is a member of the consortium.
pub async fn organisation_of(
	client: &Client,
	who: &AccountId,
) -> Result<Option<OrganisationId>, ClientError> {
	client.runtime_api("ConsortiumApi_organisation_of", who.clone(), None).await
}

/// The RSA public key (DER) `who` registered on chain, if it is a member.
pub async fn registered_key(
	client: &Client,
	who: &AccountId,
) -> Result<Option<Vec<u8>>, ClientError> {
	client.runtime_api("ConsortiumApi_encryption_key", who.clone(), None).await
}

/// The accounts cleared to read data of `level` on `twin`, but `except` (a writer that
/// adds itself), with their keys; those without a usable key are listed as skipped.
pub async fn cleared_readers(
	client: &Client,
	twin: TwinId,
	level: Confidentiality,
	except: Option<&AccountId>,
) -> Result<ClearedReaders, ClientError> {
	let grants: Vec<(Grantee<AccountId>, Vec<Role>)> =
		client.runtime_api("AccessApi_grants", twin, None).await?;
	let mut roles: BTreeMap<AccountId, BTreeSet<Role>> = BTreeMap::new();
	for (grantee, granted) in grants {
		let accounts = match grantee {
			Grantee::Account(account) => vec![account],
			Grantee::Organisation(organisation) => {
				organisation_members(client, organisation).await?
			},
		};
		for account in accounts {
			roles.entry(account).or_default().extend(granted.iter().copied());
		}
	}
	let mut candidates: BTreeSet<AccountId> = roles.keys().cloned().collect();
	if level == Confidentiality::Public {
		candidates.extend(all_members(client).await?);
	}
	if let Some(except) = except {
		candidates.remove(except);
	}
	let mut readers = ClearedReaders::default();
	for account in candidates {
		if !may(client, twin, &account, Action::Read(level)).await? {
			continue;
		}
		let account_roles = roles_of(&roles, &account);
		match registered_key(client, &account).await? {
			None => readers.skipped.push(Skipped {
				account,
				reason: "no encryption key on chain (not a member of the consortium)".into(),
			}),
			Some(der) => match ReaderPublicKey::from_der(&der) {
				Ok(key) => readers.included.push(Reader { account, key, roles: account_roles }),
				Err(e) => readers.skipped.push(Skipped {
					account,
					reason: format!("its registered encryption key is unusable: {e}"),
				}),
			},
		}
	}
	Ok(readers)
}

/// The roles `account` holds through `grants`, in order.
fn roles_of(grants: &BTreeMap<AccountId, BTreeSet<Role>>, account: &AccountId) -> Vec<Role> {
	grants
		.get(account)
		.map(|roles| roles.iter().copied().collect())
		.unwrap_or_default()
}

/// Every account of the consortium (the keys of `Consortium::Members`).
async fn all_members(client: &Client) -> Result<Vec<AccountId>, ClientError> {
	let prefix = pallet_dt_consortium::Members::<Runtime>::final_prefix().to_vec();
	accounts_under(client, prefix).await
}

/// The accounts of one organisation (the keys of `Consortium::OrganisationMembers`).
async fn organisation_members(
	client: &Client,
	organisation: OrganisationId,
) -> Result<Vec<AccountId>, ClientError> {
	let mut prefix = pallet_dt_consortium::OrganisationMembers::<Runtime>::final_prefix().to_vec();
	prefix.extend(Twox64Concat::hash(&organisation.encode()));
	accounts_under(client, prefix).await
}

/// The accounts ending the storage keys under `prefix` (maps whose last key is an account
/// hashed with `Blake2_128Concat`, so the account's 32 bytes end the key).
async fn accounts_under(client: &Client, prefix: Vec<u8>) -> Result<Vec<AccountId>, ClientError> {
	let prefix_hex = format!("0x{}", hex::encode(&prefix));
	let mut accounts = Vec::new();
	let mut start: Option<String> = None;
	let malformed = |key: &str| ClientError::Decode {
		what: "storage key",
		reason: format!("{key} does not end with an account"),
	};
	loop {
		let keys: Vec<String> = client
			.request("state_getKeysPaged", rpc_params![&prefix_hex, KEYS_PER_PAGE, &start])
			.await?;
		for key in &keys {
			let bytes = hex::decode(key.trim_start_matches("0x")).map_err(|_| malformed(key))?;
			let raw: [u8; 32] = bytes
				.len()
				.checked_sub(32)
				.filter(|start| *start >= prefix.len())
				.and_then(|start| bytes[start..].try_into().ok())
				.ok_or_else(|| malformed(key))?;
			accounts.push(AccountId::from(raw));
		}
		if keys.len() < KEYS_PER_PAGE as usize {
			return Ok(accounts);
		}
		start = keys.last().cloned();
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn member_keys_end_with_the_account() {
		// The prefix is the pallet's and map's names hashed, as the runtime lays them out.
		let prefix = pallet_dt_consortium::Members::<Runtime>::final_prefix();
		assert_eq!(&prefix[..16], &frame_support::Twox128::hash(b"Consortium"));
		assert_eq!(&prefix[16..], &frame_support::Twox128::hash(b"Members"));
	}
}
