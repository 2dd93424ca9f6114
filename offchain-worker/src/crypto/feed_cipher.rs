//! Payloads of encrypted feeds: AES-256-GCM under one fresh key per epoch.
//!
//! A feed above Public is written in epochs. Each epoch has its own key, made by the device
//! when the epoch starts and sealed at once in a key envelope for the readers the chain
//! allows at that moment; a change of readers starts the next epoch under a new key. The
//! payload of entry `sequence` of epoch `epoch` of feed `feed` is
//!
//! ```text
//! AES-256-GCM(epoch key,
//!             nonce = u32_le(epoch) || u64_le(sequence),
//!             aad   = FEED_AAD || u64_le(feed) || u64_le(sequence) || u32_le(epoch),
//!             reading)
//!     = ciphertext (as long as the reading) || 16-byte tag
//! ```
//!
//! The nonce is not stored: the entry carries its epoch and sequence number. A nonce must
//! never come twice under one key, and here it cannot: an [`EpochEncryptor`] is made only
//! with a key it generated itself (no key can be given to it, and none leaves it but
//! sealed), and it seals sequence numbers strictly upwards, refusing any it has passed.
//! The associated data binds the ciphertext to its feed, place and epoch, so a replica
//! that moves a payload to another entry or feed makes it fail to open rather than show
//! another reading.

use aes_gcm::{
	aead::{generic_array::GenericArray, AeadInPlace, KeyInit},
	Aes256Gcm,
};
use dt_primitives::feed::FeedId;

use super::{
	chunks::TAG_LEN, CryptoError, DocumentKey, Envelope, ReaderPrivateKey, ReaderPublicKey,
};

/// What the associated data of every feed payload starts with, so that no other ciphertext
/// of this system opens as one.
pub const FEED_AAD: &[u8] = b"dt-ledger/feed-payload/v1";

/// Bytes an encrypted payload adds to the reading: the GCM tag.
pub const FEED_TAG_LEN: usize = TAG_LEN;

fn nonce(epoch: u32, sequence: u64) -> GenericArray<u8, aes_gcm::aead::consts::U12> {
	let mut nonce = [0u8; 12];
	nonce[..4].copy_from_slice(&epoch.to_le_bytes());
	nonce[4..].copy_from_slice(&sequence.to_le_bytes());
	nonce.into()
}

fn associated_data(feed: FeedId, epoch: u32, sequence: u64) -> [u8; FEED_AAD.len() + 20] {
	let mut aad = [0u8; FEED_AAD.len() + 20];
	let (prefix, rest) = aad.split_at_mut(FEED_AAD.len());
	prefix.copy_from_slice(FEED_AAD);
	rest[..8].copy_from_slice(&feed.to_le_bytes());
	rest[8..16].copy_from_slice(&sequence.to_le_bytes());
	rest[16..].copy_from_slice(&epoch.to_le_bytes());
	aad
}

fn cipher(key: &DocumentKey) -> Aes256Gcm {
	Aes256Gcm::new(GenericArray::from_slice(key.as_bytes()))
}

/// The device's side of one epoch: encrypts readings for the readers the epoch's key was
/// sealed for.
pub struct EpochEncryptor {
	cipher: Aes256Gcm,
	feed: FeedId,
	epoch: u32,
	/// The lowest sequence number it may still seal.
	next_sequence: u64,
}

impl std::fmt::Debug for EpochEncryptor {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("EpochEncryptor")
			.field("feed", &self.feed)
			.field("epoch", &self.epoch)
			.field("next_sequence", &self.next_sequence)
			.finish_non_exhaustive()
	}
}

impl EpochEncryptor {
	/// Starts epoch `epoch` of `feed` under a fresh key, sealed for `readers`; the envelope
	/// is the only copy of the key that leaves. The first entry it may seal is
	/// `first_sequence`.
	pub fn start(
		feed: FeedId,
		epoch: u32,
		first_sequence: u64,
		readers: &[ReaderPublicKey],
	) -> Result<(Self, Envelope), CryptoError> {
		let key = DocumentKey::generate()?;
		let envelope = Envelope::seal(&key, readers)?;
		let encryptor = Self { cipher: cipher(&key), feed, epoch, next_sequence: first_sequence };
		Ok((encryptor, envelope))
	}

	/// The epoch.
	pub fn epoch(&self) -> u32 {
		self.epoch
	}

	/// The feed.
	pub fn feed(&self) -> FeedId {
		self.feed
	}

	/// The lowest sequence number it may still seal.
	pub fn next_sequence(&self) -> u64 {
		self.next_sequence
	}

	/// Encrypts the reading of entry `sequence`. Sequence numbers go strictly up: one at or
	/// below a sequence already sealed (or below the epoch's first) is refused, so no nonce
	/// ever comes twice under this key.
	pub fn seal(&mut self, sequence: u64, reading: &[u8]) -> Result<Vec<u8>, CryptoError> {
		if sequence < self.next_sequence {
			return Err(CryptoError::SequenceAlreadySealed { sequence, next: self.next_sequence });
		}
		let aad = associated_data(self.feed, self.epoch, sequence);
		let mut sealed = Vec::with_capacity(reading.len() + FEED_TAG_LEN);
		sealed.extend_from_slice(reading);
		let tag = self
			.cipher
			.encrypt_in_place_detached(&nonce(self.epoch, sequence), &aad, &mut sealed)
			// Only fails for inputs beyond 64 GiB; a payload is at most 64 KiB.
			.map_err(|_| CryptoError::TamperedEntry { sequence })?;
		sealed.extend_from_slice(&tag);
		self.next_sequence = sequence.saturating_add(1);
		Ok(sealed)
	}
}

/// A reader's side of one epoch: opens the payloads of its entries.
pub struct EpochDecryptor {
	cipher: Aes256Gcm,
	feed: FeedId,
	epoch: u32,
}

impl std::fmt::Debug for EpochDecryptor {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("EpochDecryptor")
			.field("feed", &self.feed)
			.field("epoch", &self.epoch)
			.finish_non_exhaustive()
	}
}

impl EpochDecryptor {
	/// Opens the epoch's key from its envelope with a reader's private key. A reader the
	/// epoch was not sealed for gets [`CryptoError::NotARecipient`].
	pub fn open_envelope(
		feed: FeedId,
		epoch: u32,
		envelope: &Envelope,
		private_key: &ReaderPrivateKey,
	) -> Result<Self, CryptoError> {
		let key = envelope.open(private_key)?;
		Ok(Self { cipher: cipher(&key), feed, epoch })
	}

	/// The epoch.
	pub fn epoch(&self) -> u32 {
		self.epoch
	}

	/// Decrypts the payload of entry `sequence` of this epoch. A payload that was altered,
	/// moved to another entry or feed, or sealed under another key does not open.
	pub fn open(&self, sequence: u64, payload: &[u8]) -> Result<Vec<u8>, CryptoError> {
		let tampered = || CryptoError::TamperedEntry { sequence };
		let split = payload.len().checked_sub(FEED_TAG_LEN).ok_or_else(tampered)?;
		let (ciphertext, tag) = payload.split_at(split);
		let aad = associated_data(self.feed, self.epoch, sequence);
		let mut reading = ciphertext.to_vec();
		self.cipher
			.decrypt_in_place_detached(
				&nonce(self.epoch, sequence),
				&aad,
				&mut reading,
				GenericArray::from_slice(tag),
			)
			.map_err(|_| tampered())?;
		Ok(reading)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::crypto::test_keys;

	fn start(epoch: u32, first: u64) -> (EpochEncryptor, Envelope) {
		let readers =
			[test_keys::alice().public_key().clone(), test_keys::bob().public_key().clone()];
		EpochEncryptor::start(7, epoch, first, &readers).unwrap()
	}

	#[test]
	fn readers_open_what_the_device_sealed_and_others_cannot() {
		let (mut encryptor, envelope) = start(3, 100);
		let sealed = encryptor.seal(100, b"250.2").unwrap();
		assert_eq!(sealed.len(), 5 + FEED_TAG_LEN);
		assert!(!sealed.windows(5).any(|window| window == b"250.2"));
		for reader in [test_keys::alice(), test_keys::bob()] {
			let decryptor = EpochDecryptor::open_envelope(7, 3, &envelope, reader).unwrap();
			assert_eq!(decryptor.open(100, &sealed).unwrap(), b"250.2");
		}
		assert!(matches!(
			EpochDecryptor::open_envelope(7, 3, &envelope, test_keys::charlie()),
			Err(CryptoError::NotARecipient { .. })
		));
	}

	#[test]
	fn a_payload_opens_only_at_its_own_feed_place_and_epoch_unaltered() {
		let (mut encryptor, envelope) = start(3, 0);
		let sealed = encryptor.seal(5, b"250.2").unwrap();
		let alice = test_keys::alice();
		let own = EpochDecryptor::open_envelope(7, 3, &envelope, alice).unwrap();
		assert!(matches!(own.open(6, &sealed), Err(CryptoError::TamperedEntry { sequence: 6 })));
		let other_feed = EpochDecryptor::open_envelope(8, 3, &envelope, alice).unwrap();
		assert!(other_feed.open(5, &sealed).is_err());
		let other_epoch = EpochDecryptor::open_envelope(7, 4, &envelope, alice).unwrap();
		assert!(other_epoch.open(5, &sealed).is_err());
		let mut flipped = sealed.clone();
		flipped[0] ^= 1;
		assert!(own.open(5, &flipped).is_err());
		assert!(own.open(5, &sealed[..FEED_TAG_LEN - 1]).is_err(), "shorter than a tag");
		// Another epoch's key, same feed, place and epoch number: a fresh key every time.
		let (_, second) = start(3, 0);
		let fresh = EpochDecryptor::open_envelope(7, 3, &second, alice).unwrap();
		assert!(fresh.open(5, &sealed).is_err());
		assert_eq!(own.open(5, &sealed).unwrap(), b"250.2");
	}

	#[test]
	fn sequence_numbers_are_sealed_strictly_upwards() {
		let (mut encryptor, _) = start(1, 10);
		assert!(matches!(
			encryptor.seal(9, b"x"),
			Err(CryptoError::SequenceAlreadySealed { sequence: 9, next: 10 })
		));
		encryptor.seal(10, b"a").unwrap();
		encryptor.seal(12, b"b").unwrap();
		for again in [10, 11, 12] {
			assert!(matches!(
				encryptor.seal(again, b"c"),
				Err(CryptoError::SequenceAlreadySealed { next: 13, .. })
			));
		}
		assert_eq!(encryptor.next_sequence(), 13);
	}
}
