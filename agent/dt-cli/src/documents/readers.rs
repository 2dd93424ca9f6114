//! Who may read a document, as the chain decides it: the accounts whose roles on the twin
//! reach the document's confidentiality level (every member for public documents), each
//! with the RSA key it registered on chain. The document key is sealed for exactly these.

use crate::access::role_name;
use anyhow::{Context, Result};
use dt_client::{readers::cleared_readers, Client};
use dt_offchain::crypto::ReaderPublicKey;
use dt_primitives::access::{Confidentiality, Role, TwinId};
use dt_runtime::AccountId;

pub use dt_client::readers::{may, registered_key, Reader, Skipped};

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

/// The readers of a document of `level` on `twin` written by `author`, whose own key
/// (from its keystore) is always included so that it can read back what it wrote.
pub async fn readers_of(
	client: &Client,
	twin: TwinId,
	level: Confidentiality,
	author: &AccountId,
	author_key: &ReaderPublicKey,
) -> Result<Readers> {
	let cleared = cleared_readers(client, twin, level, Some(author))
		.await
		.context("cannot list who may read it")?;
	let author_roles: Vec<Role> =
		client.runtime_api("AccessApi_roles_of", (twin, author.clone()), None).await?;
	let mut included =
		vec![Reader { account: author.clone(), key: author_key.clone(), roles: author_roles }];
	included.extend(cleared.included);
	let author_key_registered = registered_key(client, author)
		.await?
		.and_then(|der| ReaderPublicKey::from_der(&der).ok())
		.is_some_and(|key| key.id() == author_key.id());
	Ok(Readers { included, skipped: cleared.skipped, author_key_registered })
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
