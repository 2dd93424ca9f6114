//! Who may read a document, as the chain decides it: the accounts whose roles on the twin
//! reach the document's confidentiality level (every member for public documents), each
//! with the RSA key it registered on chain. The document key is sealed for exactly these.

use crate::access::role_name;
use anyhow::{Context, Result};
use codec::Encode;
use dt_client::Client;
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

/// A reader the document key is sealed for.
pub struct Reader {
	pub account: AccountId,
	pub key: ReaderPublicKey,
	/// The roles through which it may read (empty: a member reading a public document, or
	/// the author).
	pub roles: Vec<Role>,
}

/// An account that may read the document but cannot be sealed for.
pub struct Skipped {
	pub account: AccountId,
	pub reason: String,
}

/// The readers of a document of one level on one twin.
pub struct Readers {
	pub included: Vec<Reader>,
	pub skipped: Vec<Skipped>,
	/// Whether the author's key on chain is the one it sealed with; if not, what others
	/// write is sealed for a key its keystore cannot open.
	pub author_key_registered: bool,
}

impl Readers {
	/// The keys to seal the document key for.
	pub fn keys(&self) -> Vec<ReaderPublicKey> {
		self.included.iter().map(|reader| reader.key.clone()).collect()
	}
}

/// The chain's levels, lowest first, as `dt` names them.
pub fn level_name(level: Confidentiality) -> &'static str {
	match level {
		Confidentiality::Public => "public",
		Confidentiality::Internal => "internal",
		Confidentiality::Confidential => "confidential",
		Confidentiality::Secret => "secret",
	}
}

/// Parses a level name as `--confidentiality` takes it.
pub fn parse_level(text: &str) -> Result<Confidentiality, String> {
	match text.to_ascii_lowercase().as_str() {
		"public" => Ok(Confidentiality::Public),
		"internal" => Ok(Confidentiality::Internal),
		"confidential" => Ok(Confidentiality::Confidential),
		"secret" => Ok(Confidentiality::Secret),
		_ => Err(format!("unknown level {text:?}: use public, internal, confidential or secret")),
	}
}

/// Whether `who` may do `action` on `twin`, by the same rule the runtime applies: a member
/// reads public data; otherwise one of its roles must have a permission that allows it.
pub async fn may(
	client: &Client,
	twin: TwinId,
	who: &AccountId,
	action: Action<'_>,
) -> Result<bool> {
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
pub async fn organisation_of(client: &Client, who: &AccountId) -> Result<Option<OrganisationId>> {
	Ok(client.runtime_api("ConsortiumApi_organisation_of", who.clone(), None).await?)
}

/// The RSA public key (DER) `who` registered on chain, if it is a member.
pub async fn registered_key(client: &Client, who: &AccountId) -> Result<Option<Vec<u8>>> {
	Ok(client.runtime_api("ConsortiumApi_encryption_key", who.clone(), None).await?)
}

/// The readers of a document of `level` on `twin` written by `author`, whose own key
/// (from its keystore) is always included so that it can read back what it wrote.
pub async fn readers_of(
	client: &Client,
	twin: TwinId,
	level: Confidentiality,
	author: &AccountId,
	author_key: &ReaderPublicKey,
) -> Result<Readers> {
	let grants: Vec<(Grantee<AccountId>, Vec<Role>)> =
		client.runtime_api("AccessApi_grants", twin, None).await?;
	let mut roles: BTreeMap<AccountId, BTreeSet<Role>> = BTreeMap::new();
	for (grantee, granted) in grants {
		let accounts = match grantee {
			Grantee::Account(account) => vec![account],
			Grantee::Organisation(organisation) => {
				organisation_members(client, organisation).await.with_context(|| {
					format!("cannot list the members of organisation {organisation}")
				})?
			},
		};
		for account in accounts {
			roles.entry(account).or_default().extend(granted.iter().copied());
		}
	}
	let mut candidates: BTreeSet<AccountId> = roles.keys().cloned().collect();
	if level == Confidentiality::Public {
		candidates
			.extend(all_members(client).await.context("cannot list the consortium's members")?);
	}
	candidates.remove(author);

	let mut included = vec![Reader {
		account: author.clone(),
		key: author_key.clone(),
		roles: roles.get(author).map(|r| r.iter().copied().collect()).unwrap_or_default(),
	}];
	let mut skipped = Vec::new();
	for account in candidates {
		if !may(client, twin, &account, Action::Read(level)).await? {
			continue;
		}
		let account_roles =
			roles.get(&account).map(|r| r.iter().copied().collect()).unwrap_or_default();
		match registered_key(client, &account).await? {
			None => skipped.push(Skipped {
				account,
				reason: "no encryption key on chain (not a member of the consortium)".into(),
			}),
			Some(der) => match ReaderPublicKey::from_der(&der) {
				Ok(key) => included.push(Reader { account, key, roles: account_roles }),
				Err(e) => skipped.push(Skipped {
					account,
					reason: format!("its registered encryption key is unusable: {e}"),
				}),
			},
		}
	}
	let author_key_registered = registered_key(client, author)
		.await?
		.and_then(|der| ReaderPublicKey::from_der(&der).ok())
		.is_some_and(|key| key.id() == author_key.id());
	Ok(Readers { included, skipped, author_key_registered })
}

/// Every account of the consortium (the keys of `Consortium::Members`).
async fn all_members(client: &Client) -> Result<Vec<AccountId>> {
	let prefix = pallet_dt_consortium::Members::<Runtime>::final_prefix().to_vec();
	accounts_under(client, prefix).await
}

/// The accounts of one organisation (the keys of `Consortium::OrganisationMembers`).
async fn organisation_members(
	client: &Client,
	organisation: OrganisationId,
) -> Result<Vec<AccountId>> {
	let mut prefix = pallet_dt_consortium::OrganisationMembers::<Runtime>::final_prefix().to_vec();
	prefix.extend(Twox64Concat::hash(&organisation.encode()));
	accounts_under(client, prefix).await
}

/// The accounts ending the storage keys under `prefix` (maps whose last key is an account
/// hashed with `Blake2_128Concat`, so the account's 32 bytes end the key).
async fn accounts_under(client: &Client, prefix: Vec<u8>) -> Result<Vec<AccountId>> {
	let prefix_hex = format!("0x{}", hex::encode(&prefix));
	let mut accounts = Vec::new();
	let mut start: Option<String> = None;
	loop {
		let keys: Vec<String> = client
			.request("state_getKeysPaged", rpc_params![&prefix_hex, KEYS_PER_PAGE, &start])
			.await?;
		for key in &keys {
			let bytes = hex::decode(key.trim_start_matches("0x")).with_context(|| {
				format!("the node answered a storage key that is not hex: {key}")
			})?;
			if bytes.len() < prefix.len() + 32 {
				anyhow::bail!("the node answered a storage key too short for an account: {key}");
			}
			let raw: [u8; 32] = bytes[bytes.len() - 32..].try_into().expect("32 bytes");
			accounts.push(AccountId::from(raw));
		}
		if keys.len() < KEYS_PER_PAGE as usize {
			return Ok(accounts);
		}
		start = keys.last().cloned();
	}
}

/// Roles as `dt` prints them, comma separated.
pub fn roles_text(roles: &[Role]) -> String {
	roles.iter().map(role_name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn levels_parse_and_print_back() {
		for level in [
			Confidentiality::Public,
			Confidentiality::Internal,
			Confidentiality::Confidential,
			Confidentiality::Secret,
		] {
			assert_eq!(parse_level(level_name(level)), Ok(level));
		}
		assert_eq!(parse_level("Secret"), Ok(Confidentiality::Secret));
		assert!(parse_level("top-secret").unwrap_err().contains("public, internal"));
	}

	#[test]
	fn member_keys_end_with_the_account() {
		// The prefix is the pallet's and map's names hashed, as the runtime lays them out.
		let prefix = pallet_dt_consortium::Members::<Runtime>::final_prefix();
		assert_eq!(&prefix[..16], &frame_support::Twox128::hash(b"Consortium"));
		assert_eq!(&prefix[16..], &frame_support::Twox128::hash(b"Members"));
	}
}
