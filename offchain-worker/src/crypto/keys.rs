//! Readers' RSA keys: parsing the public keys the chain holds and the private keys readers
//! keep, and the key ids an envelope names its recipients by.

use std::fmt;

use dt_primitives::encryption_key::{
	validate_rsa_public_key, EncryptionKeyError, MAX_RSA_MODULUS_BITS, MIN_RSA_MODULUS_BITS,
};
use rsa::{
	pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey},
	pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey},
	sha2::Sha256,
	traits::PublicKeyParts,
	PrivateKey, PublicKey,
};
use sha2::Digest;
use zeroize::Zeroizing;

use super::CryptoError;

/// The id of a reader's key: SHA-256 of its DER `SubjectPublicKeyInfo`.
///
/// For a key registered on chain (the output of `openssl rsa -pubout -outform DER`) this is
/// simply the SHA-256 of the registered bytes; keys given in another form are re-encoded
/// first, so the same key always has the same id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, codec::Encode, codec::Decode)]
pub struct KeyId(pub [u8; 32]);

impl fmt::Display for KeyId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
	}
}

impl fmt::Debug for KeyId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "KeyId({self})")
	}
}

/// An authorized reader's RSA public key, checked as the chain checks it (3072 to 8192 bits).
#[derive(Clone)]
pub struct ReaderPublicKey {
	key: PublicKey,
	id: KeyId,
}

impl ReaderPublicKey {
	/// Parses a DER `SubjectPublicKeyInfo` (the chain's form) or a DER PKCS#1 `RSAPublicKey`.
	pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
		let key = PublicKey::from_public_key_der(der)
			.or_else(|spki_error| {
				PublicKey::from_pkcs1_der(der).map_err(|pkcs1_error| {
					format!("as SubjectPublicKeyInfo: {spki_error}; as PKCS#1: {pkcs1_error}")
				})
			})
			.map_err(|reason| CryptoError::BadPublicKey { reason })?;
		Self::from_key(key)
	}

	fn from_key(key: PublicKey) -> Result<Self, CryptoError> {
		let spki = key
			.to_public_key_der()
			.map_err(|error| CryptoError::BadPublicKey { reason: error.to_string() })?;
		let id = KeyId(Sha256::digest(spki.as_bytes()).into());
		// The chain's own validator, so that we never wrap for a key it would refuse.
		match validate_rsa_public_key(spki.as_bytes()) {
			Ok(_) => Ok(Self { key, id }),
			Err(EncryptionKeyError::TooShort | EncryptionKeyError::TooLong) => {
				Err(CryptoError::KeySize {
					key_id: id,
					bits: key.n().bit_width(),
					min: MIN_RSA_MODULUS_BITS,
					max: MAX_RSA_MODULUS_BITS,
				})
			},
			Err(other) => Err(CryptoError::BadPublicKey {
				reason: format!("refused by the chain's key validator: {other:?}"),
			}),
		}
	}

	/// The key's id, as envelopes name it.
	pub fn id(&self) -> KeyId {
		self.id
	}

	/// RSA-OAEP (SHA-256, empty label) encryption with the operating system's RNG.
	pub(super) fn wrap(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
		self.key
			.oaep_encrypt::<Sha256>(secret)
			.map_err(|error| CryptoError::WrapFailed { key_id: self.id, reason: error.to_string() })
	}
}

impl fmt::Debug for ReaderPublicKey {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "ReaderPublicKey({})", self.id)
	}
}

/// A reader's RSA private key, used only to unwrap document keys.
pub struct ReaderPrivateKey {
	key: PrivateKey,
	public: ReaderPublicKey,
}

impl ReaderPrivateKey {
	/// Parses a DER PKCS#8 `PrivateKeyInfo` (what `openssl genpkey` writes) or PKCS#1
	/// `RSAPrivateKey`.
	pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
		let key = PrivateKey::from_pkcs8_der(der)
			.or_else(|pkcs8_error| {
				PrivateKey::from_pkcs1_der(der).map_err(|pkcs1_error| {
					format!("as PKCS#8: {pkcs8_error}; as PKCS#1: {pkcs1_error}")
				})
			})
			.map_err(|reason| CryptoError::BadPrivateKey { reason })?;
		Self::from_key(key)
	}

	/// Parses PEM: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY` (PKCS#1).
	pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
		let key = PrivateKey::from_pkcs8_pem(pem)
			.or_else(|pkcs8_error| {
				PrivateKey::from_pkcs1_pem(pem).map_err(|pkcs1_error| {
					format!("as PKCS#8: {pkcs8_error}; as PKCS#1: {pkcs1_error}")
				})
			})
			.map_err(|reason| CryptoError::BadPrivateKey { reason })?;
		Self::from_key(key)
	}

	/// Parses the contents of a key file, PEM or DER, whichever it is.
	pub fn from_file_contents(bytes: &[u8]) -> Result<Self, CryptoError> {
		let text = std::str::from_utf8(bytes).ok().filter(|text| text.contains("-----BEGIN"));
		match text {
			Some(pem) => Self::from_pem(pem),
			None => Self::from_der(bytes),
		}
	}

	fn from_key(key: PrivateKey) -> Result<Self, CryptoError> {
		let public = ReaderPublicKey::from_key(key.to_public_key())?;
		Ok(Self { key, public })
	}

	/// The public half, as it should be registered on chain.
	pub fn public_key(&self) -> &ReaderPublicKey {
		&self.public
	}

	/// The id of this key pair.
	pub fn id(&self) -> KeyId {
		self.public.id
	}

	/// RSA-OAEP (SHA-256, empty label) decryption, blinded with the operating system's RNG.
	pub(super) fn unwrap(&self, wrapped: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
		self.key.oaep_decrypt::<Sha256>(wrapped).ok().map(Zeroizing::new)
	}
}

impl fmt::Debug for ReaderPrivateKey {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "ReaderPrivateKey({})", self.public.id)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::crypto::test_keys;

	#[test]
	fn key_id_is_the_hash_of_the_registered_bytes() {
		let alice = ReaderPublicKey::from_der(test_keys::ALICE_DER).unwrap();
		assert_eq!(alice.id(), KeyId(Sha256::digest(test_keys::ALICE_DER).into()));
		let private = test_keys::alice();
		assert_eq!(private.id(), alice.id());
		assert_ne!(test_keys::bob().id(), alice.id());
	}

	#[test]
	fn pkcs1_and_pem_forms_give_the_same_key() {
		use rsa::pkcs1::EncodeRsaPublicKey;
		let alice = ReaderPublicKey::from_der(test_keys::ALICE_DER).unwrap();
		let pkcs1 = alice.key.to_pkcs1_der().unwrap();
		assert_eq!(ReaderPublicKey::from_der(pkcs1.as_bytes()).unwrap().id(), alice.id());

		use rsa::pkcs8::EncodePrivateKey;
		let private = test_keys::alice();
		let der = private.key.to_pkcs8_der().unwrap();
		assert_eq!(ReaderPrivateKey::from_der(der.as_bytes()).unwrap().id(), alice.id());
		assert_eq!(ReaderPrivateKey::from_file_contents(der.as_bytes()).unwrap().id(), alice.id());
	}

	#[test]
	fn refuses_what_the_chain_refuses() {
		let short = include_bytes!("../../../pallets/primitives/test-keys/rsa2048.der");
		assert!(matches!(
			ReaderPublicKey::from_der(short),
			Err(CryptoError::KeySize { bits: 2048, min: 3072, .. })
		));
		let ec = include_bytes!("../../../pallets/primitives/test-keys/ec-p256.der");
		assert!(matches!(ReaderPublicKey::from_der(ec), Err(CryptoError::BadPublicKey { .. })));
		assert!(matches!(ReaderPublicKey::from_der(&[]), Err(CryptoError::BadPublicKey { .. })));
		assert!(matches!(
			ReaderPrivateKey::from_file_contents(b"-----BEGIN PRIVATE KEY-----\nAAAA\n"),
			Err(CryptoError::BadPrivateKey { .. })
		));
		assert!(matches!(
			ReaderPrivateKey::from_der(test_keys::ALICE_DER),
			Err(CryptoError::BadPrivateKey { .. })
		));
	}
}
