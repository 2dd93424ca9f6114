//! Who may read a document: the accounts the chain clears for its level on its twin
//! ([`dt_client::readers`]) whose registered RSA key is usable, and its author. The
//! document key is sealed for exactly these.

use crate::access::role_name;
use anyhow::{Context, Result};
use dt_client::{
	readers::{cleared_readers, ClearedReader},
	Client,
};
use dt_offchain::crypto::ReaderPublicKey;
use dt_primitives::access::{Confidentiality, Role, TwinId};
use dt_runtime::AccountId;

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

pub use dt_client::readers::{may, registered_key};

/// The readers of a document of `level` on `twin` written by `author`, whose own key
/// (from its keystore) is always included so that it can read back what it wrote.
pub async fn readers_of(
	client: &Client,
	twin: TwinId,
	level: Confidentiality,
	author: &AccountId,
	author_key: &ReaderPublicKey,
) -> Result<Readers> {
	let cleared = cleared_readers(client, twin, level)
		.await
		.context("cannot list the accounts cleared for the document")?;
	let author_roles = cleared
		.iter()
		.find(|reader| reader.account == *author)
		.map(|reader| reader.roles.clone())
		.unwrap_or_default();
	let mut included =
		vec![Reader { account: author.clone(), key: author_key.clone(), roles: author_roles }];
	let mut skipped = Vec::new();
	for ClearedReader { account, roles, encryption_key } in cleared {
		if account == *author {
			continue;
		}
		match encryption_key {
			None => skipped.push(Skipped {
				account,
				reason: "no encryption key on chain (not a member of the consortium)".into(),
			}),
			Some(der) => match ReaderPublicKey::from_der(&der) {
				Ok(key) => included.push(Reader { account, key, roles }),
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
}
