//! Who may read a twin's data of one confidentiality level, as the chain decides it: the
//! accounts whose roles on the twin reach the level (every member of the consortium for
//! public data), each with the RSA key it registered on chain. Document keys and feed epoch
//! keys are sealed for exactly these, by `dt` and by the device agent alike.

use crate::{hex_string, Client, ClientError};
use codec::Encode;
use dt_primitives::{
	access::{Action, Confidentiality, Grantee, Permission, Role, TwinId},
	OrganisationId,
};
use dt_runtime::{AccountId, Runtime};
use frame_support::{storage::StoragePrefixedMap, StorageHasher, Twox64Concat};
use std::collections::{BTreeMap, BTreeSet};

/// An account the chain clears to read data of one level on one twin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClearedReader {
	pub account: AccountId,
	/// The roles through which it may read (empty: a member reading public data).
	pub roles: Vec<Role>,
	/// The RSA public key (DER) it registered on chain; `None` if it has none (an account
	/// granted a role that is not, or no longer, a member of the consortium).
	pub encryption_key: Option<Vec<u8>>,
}

/// Every account cleared to read data of `level` on `twin`, ordered by account.
pub async fn cleared_readers(
	client: &Client,
	twin: TwinId,
	level: Confidentiality,
) -> Result<Vec<ClearedReader>, ClientError> {
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
	let mut cleared = Vec::new();
	for account in candidates {
		if !may(client, twin, &account, Action::Read(level)).await? {
			continue;
		}
		cleared.push(ClearedReader {
			roles: roles.get(&account).map(|r| r.iter().copied().collect()).unwrap_or_default(),
			encryption_key: registered_key(client, &account).await?,
			account,
		});
	}
	Ok(cleared)
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
	client
		.storage_keys(&prefix, None)
		.await?
		.into_iter()
		.map(|key| {
			key.len()
				.checked_sub(32)
				.filter(|start| *start >= prefix.len())
				.map(|start| {
					AccountId::from(<[u8; 32]>::try_from(&key[start..]).expect("32 bytes"))
				})
				.ok_or_else(|| {
					ClientError::decode("an account from a storage key", hex_string(&key))
				})
		})
		.collect()
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
