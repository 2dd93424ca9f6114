//! Key envelopes: a version's document key wrapped for each authorized reader, the only
//! way the key leaves the writer. The format is described in the [parent module](super).

use std::collections::BTreeMap;

use codec::{Decode, DecodeAll, Encode};
use dt_primitives::encryption_key::MAX_RSA_MODULUS_BITS;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{CryptoError, DocumentKey, KeyId, ReaderPrivateKey, ReaderPublicKey, DOCUMENT_KEY_LEN};

/// The first bytes of every encoded envelope (format version 1).
pub const ENVELOPE_MAGIC: [u8; 4] = *b"DTE1";

/// Most readers one envelope lists: with 8192-bit keys that is about 1 MiB, well inside a
/// block; organisations have at most 256 accounts, so this covers several whole partners.
pub const MAX_RECIPIENTS: usize = 1024;

/// Longest wrapped key: the modulus length of the largest key the chain accepts.
const MAX_WRAPPED_KEY_LEN: usize = MAX_RSA_MODULUS_BITS as usize / 8;

/// Domain separation of the key commitment from any other use of SHA-256 on the key.
const COMMITMENT_DOMAIN: &[u8] = b"dt-offchain document key v1";

/// One reader's entry: which key it is for and the document key wrapped with it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Recipient {
	/// The reader's key id.
	pub key_id: KeyId,
	/// RSA-OAEP (SHA-256) ciphertext of the document key under that key.
	pub wrapped_key: Vec<u8>,
}

/// The wire form, decoded before it is checked.
#[derive(Encode, Decode)]
struct EnvelopeWire {
	magic: [u8; 4],
	key_commitment: [u8; 32],
	recipients: Vec<Recipient>,
}

/// A document key wrapped for a set of readers, sorted by key id (one entry each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
	key_commitment: [u8; 32],
	recipients: Vec<Recipient>,
}

fn commitment(key: &DocumentKey) -> [u8; 32] {
	let mut hasher = Sha256::new();
	hasher.update(COMMITMENT_DOMAIN);
	hasher.update(key.as_bytes());
	hasher.finalize().into()
}

impl Envelope {
	/// Wraps `key` for every reader in `readers` (a reader listed twice gets one entry).
	pub fn seal(key: &DocumentKey, readers: &[ReaderPublicKey]) -> Result<Self, CryptoError> {
		let readers: BTreeMap<KeyId, &ReaderPublicKey> =
			readers.iter().map(|reader| (reader.id(), reader)).collect();
		if readers.is_empty() {
			return Err(CryptoError::NoRecipients);
		}
		if readers.len() > MAX_RECIPIENTS {
			return Err(CryptoError::TooManyRecipients {
				count: readers.len(),
				max: MAX_RECIPIENTS,
			});
		}
		let recipients = readers
			.into_iter()
			.map(|(key_id, reader)| {
				Ok(Recipient { key_id, wrapped_key: reader.wrap(key.as_bytes())? })
			})
			.collect::<Result<_, CryptoError>>()?;
		Ok(Self { key_commitment: commitment(key), recipients })
	}

	/// Unwraps the document key with a reader's private key.
	pub fn open(&self, private_key: &ReaderPrivateKey) -> Result<DocumentKey, CryptoError> {
		let key_id = private_key.id();
		let recipient = self
			.recipients
			.binary_search_by(|recipient| recipient.key_id.cmp(&key_id))
			.map(|at| &self.recipients[at])
			.map_err(|_| CryptoError::NotARecipient { key_id })?;
		let unwrapped = private_key
			.unwrap(&recipient.wrapped_key)
			.ok_or(CryptoError::UnwrapFailed { key_id })?;
		let bytes: [u8; DOCUMENT_KEY_LEN] = unwrapped
			.as_slice()
			.try_into()
			.map_err(|_| CryptoError::UnwrapFailed { key_id })?;
		let key = DocumentKey::from_bytes(Zeroizing::new(bytes));
		if commitment(&key) != self.key_commitment {
			return Err(CryptoError::KeyCommitmentMismatch { key_id });
		}
		Ok(key)
	}

	/// The readers it is wrapped for, in key id order.
	pub fn recipients(&self) -> &[Recipient] {
		&self.recipients
	}

	/// Whether a key with this id can open it.
	pub fn has_recipient(&self, key_id: &KeyId) -> bool {
		self.recipients
			.binary_search_by(|recipient| recipient.key_id.cmp(key_id))
			.is_ok()
	}

	/// The SCALE form stored in the off-chain store, starting with [`ENVELOPE_MAGIC`].
	pub fn to_bytes(&self) -> Vec<u8> {
		EnvelopeWire {
			magic: ENVELOPE_MAGIC,
			key_commitment: self.key_commitment,
			recipients: self.recipients.clone(),
		}
		.encode()
	}

	/// Decodes and checks an envelope fetched from the store: the magic, no bytes after
	/// it, 1 to [`MAX_RECIPIENTS`] entries in strictly increasing key id order (so each
	/// key appears once), wrapped keys no longer than the largest RSA key.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
		let malformed = |reason: &str| CryptoError::MalformedEnvelope { reason: reason.into() };
		if bytes.get(..4) != Some(&ENVELOPE_MAGIC[..]) {
			return Err(malformed("it does not start with the envelope magic DTE1"));
		}
		let wire = EnvelopeWire::decode_all(&mut &bytes[..])
			.map_err(|error| malformed(&format!("SCALE decoding failed: {error}")))?;
		let count = wire.recipients.len();
		if count == 0 || count > MAX_RECIPIENTS {
			return Err(malformed(&format!("{count} recipients, expected 1 to {MAX_RECIPIENTS}")));
		}
		if !wire.recipients.windows(2).all(|pair| pair[0].key_id < pair[1].key_id) {
			return Err(malformed("recipients are not in strictly increasing key id order"));
		}
		if let Some(bad) = wire
			.recipients
			.iter()
			.find(|r| r.wrapped_key.is_empty() || r.wrapped_key.len() > MAX_WRAPPED_KEY_LEN)
		{
			return Err(malformed(&format!(
				"the wrapped key for {} is {} bytes long",
				bad.key_id,
				bad.wrapped_key.len()
			)));
		}
		Ok(Self { key_commitment: wire.key_commitment, recipients: wire.recipients })
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::crypto::test_keys;

	fn readers() -> Vec<ReaderPublicKey> {
		vec![test_keys::alice().public_key().clone(), test_keys::bob().public_key().clone()]
	}

	#[test]
	fn every_recipient_unwraps_the_same_key() {
		let key = DocumentKey::generate().unwrap();
		let envelope = Envelope::seal(&key, &readers()).unwrap();
		let decoded = Envelope::from_bytes(&envelope.to_bytes()).unwrap();
		assert_eq!(decoded, envelope);
		for reader in [test_keys::alice(), test_keys::bob()] {
			assert!(decoded.has_recipient(&reader.id()));
			assert_eq!(decoded.open(reader).unwrap().as_bytes(), key.as_bytes());
		}
	}

	#[test]
	fn others_are_not_recipients() {
		let key = DocumentKey::generate().unwrap();
		let envelope = Envelope::seal(&key, &readers()).unwrap();
		let charlie = test_keys::charlie();
		assert!(!envelope.has_recipient(&charlie.id()));
		assert!(matches!(
			envelope.open(charlie),
			Err(CryptoError::NotARecipient { key_id }) if key_id == charlie.id()
		));
	}

	#[test]
	fn duplicates_are_merged_and_an_empty_list_refused() {
		let key = DocumentKey::generate().unwrap();
		let alice = test_keys::alice().public_key().clone();
		let envelope = Envelope::seal(&key, &[alice.clone(), alice]).unwrap();
		assert_eq!(envelope.recipients().len(), 1);
		assert!(matches!(Envelope::seal(&key, &[]), Err(CryptoError::NoRecipients)));
	}

	#[test]
	fn a_changed_wrapped_key_fails_to_unwrap() {
		let key = DocumentKey::generate().unwrap();
		let mut envelope = Envelope::seal(&key, &readers()).unwrap();
		let alice = test_keys::alice();
		let at = envelope.recipients.iter().position(|r| r.key_id == alice.id()).unwrap();
		envelope.recipients[at].wrapped_key[100] ^= 0x80;
		assert!(matches!(
			envelope.open(alice),
			Err(CryptoError::UnwrapFailed { key_id }) if key_id == alice.id()
		));
		// The other reader is unaffected.
		assert!(envelope.open(test_keys::bob()).is_ok());
	}

	#[test]
	fn an_entry_moved_to_another_key_id_fails() {
		let key = DocumentKey::generate().unwrap();
		let alice = test_keys::alice();
		let charlie = test_keys::charlie();
		let mut envelope = Envelope::seal(&key, &[alice.public_key().clone()]).unwrap();
		// Relabel Alice's entry as Charlie's: Charlie cannot unwrap it, Alice finds no entry.
		envelope.recipients[0].key_id = charlie.id();
		assert!(matches!(envelope.open(charlie), Err(CryptoError::UnwrapFailed { .. })));
		assert!(matches!(envelope.open(alice), Err(CryptoError::NotARecipient { .. })));
	}

	#[test]
	fn a_key_from_another_envelope_breaks_the_commitment() {
		let alice = test_keys::alice();
		let readers = [alice.public_key().clone()];
		let first = Envelope::seal(&DocumentKey::generate().unwrap(), &readers).unwrap();
		let mut second = Envelope::seal(&DocumentKey::generate().unwrap(), &readers).unwrap();
		second.recipients[0] = first.recipients[0].clone();
		assert!(matches!(
			second.open(alice),
			Err(CryptoError::KeyCommitmentMismatch { key_id }) if key_id == alice.id()
		));
	}

	#[test]
	fn malformed_bytes_are_refused_without_panicking() {
		let key = DocumentKey::generate().unwrap();
		let bytes = Envelope::seal(&key, &readers()).unwrap().to_bytes();
		for end in 0..bytes.len() {
			assert!(Envelope::from_bytes(&bytes[..end]).is_err(), "cut at {end}");
		}
		let mut trailing = bytes.clone();
		trailing.push(0);
		assert!(Envelope::from_bytes(&trailing).is_err());
		let mut magic = bytes.clone();
		magic[3] = b'2';
		assert!(Envelope::from_bytes(&magic).is_err());

		let envelope = Envelope::from_bytes(&bytes).unwrap();
		let mut reversed = envelope.clone();
		reversed.recipients.reverse();
		assert!(Envelope::from_bytes(&reversed.to_bytes()).is_err());
		let mut duplicated = envelope.clone();
		duplicated.recipients[1].key_id = duplicated.recipients[0].key_id;
		assert!(Envelope::from_bytes(&duplicated.to_bytes()).is_err());
		let mut empty = envelope.clone();
		empty.recipients.clear();
		assert!(Envelope::from_bytes(&empty.to_bytes()).is_err());
		let mut huge = envelope;
		huge.recipients[0].wrapped_key = vec![0; MAX_WRAPPED_KEY_LEN + 1];
		assert!(Envelope::from_bytes(&huge.to_bytes()).is_err());

		// A length prefix claiming a billion entries must not allocate for them.
		let mut lying = ENVELOPE_MAGIC.to_vec();
		lying.extend_from_slice(&[0; 32]);
		lying.extend_from_slice(&codec::Compact(1_000_000_000u32).encode());
		assert!(Envelope::from_bytes(&lying).is_err());
	}
}
