//! Encryption of documents: AES-256-GCM in chunks under a fresh key per version, that key
//! wrapped with RSA-OAEP (SHA-256) for every authorized reader.
//!
//! The store's replicas, and anyone who copies a block, see only ciphertext: a reader
//! needs the document key, and the only copies of it are the wrapped ones in the
//! version's key envelope, each readable with one reader's private key alone. Revoking a
//! reader therefore means writing the next version under a new key (see DESIGN.md).
//!
//! # Chunks ([`Encryptor`], [`Decryptor`])
//!
//! A version's plaintext is cut into chunks of [`CHUNK_SIZE`] bytes (the last may be
//! shorter, and an empty document is one empty chunk), each sealed separately, so any
//! size is encrypted and decrypted in memory bounded by a few chunks. Chunk `i` is
//!
//! ```text
//! AES-256-GCM(key, nonce = u64_be(i) || 0x00 0x00 0x00 || last, aad = CHUNK_AAD, plaintext)
//!     = ciphertext (same length as the plaintext) || 16-byte tag
//! ```
//!
//! where `last` is `0x01` for the final chunk and `0x00` otherwise (the STREAM construction
//! of Hoang, Reyhanitabar, Rogaway and Vizár). Deterministic nonces are safe because the key
//! is fresh for every version and never used for anything else: the API only builds an
//! [`Encryptor`] from a [`DocumentKey`] it takes by value, and keys cannot be cloned. The
//! index in the nonce means a chunk only opens at its own position (no reordering,
//! dropping or duplicating); the final flag means a stream cut after any chunk, or extended
//! past its final chunk, is detected. Every chunk but the last holds exactly
//! [`CHUNK_SIZE`] plaintext bytes.
//!
//! # Key envelope ([`Envelope`])
//!
//! The SCALE encoding of
//!
//! ```text
//! Envelope { magic: *b"DTE1", key_commitment: [u8; 32], recipients: Vec<Recipient> }
//! Recipient { key_id: [u8; 32], wrapped_key: Vec<u8> }
//! ```
//!
//! `key_id` is the SHA-256 of the reader's public key as a DER `SubjectPublicKeyInfo` (the
//! bytes the chain stores); `wrapped_key` is RSA-OAEP with SHA-256 (for the hash and MGF1)
//! and an empty label of the 32-byte document key; `key_commitment` is
//! `SHA-256("dt-offchain document key v1" || key)`. GCM alone does not commit to its key: a
//! dishonest writer could wrap different keys for different readers and craft chunks that
//! open under both, showing each reader another document. With the commitment every reader
//! checks that it got the one key all others got.
//!
//! # Feed payloads ([`EpochEncryptor`], [`EpochDecryptor`])
//!
//! Feeds above Public are encrypted entry by entry under one key per epoch, sealed in the
//! same envelopes; see the `feed_cipher` module for the format.

mod chunks;
mod envelope;
mod feed_cipher;
mod keys;

pub use chunks::{
	Decryptor, Encryptor, OpenedStream, SealedChunks, CHUNK_AAD, CHUNK_SIZE, TAG_LEN,
};
pub use envelope::{Envelope, Recipient, ENVELOPE_MAGIC, MAX_RECIPIENTS};
pub use feed_cipher::{EpochDecryptor, EpochEncryptor, FEED_AAD, FEED_TAG_LEN};
pub use keys::{KeyId, ReaderPrivateKey, ReaderPublicKey};

use std::{fmt, io};

use zeroize::Zeroizing;

/// Length of a document key (AES-256).
pub const DOCUMENT_KEY_LEN: usize = 32;

/// Why an encryption, key-wrapping or decryption step failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
	/// The operating system's random number generator failed.
	#[error("the system random number generator failed: {0}")]
	Rng(getrandom::Error),
	/// Reading the plaintext to encrypt failed.
	#[error("reading the plaintext failed: {0}")]
	ReadPlaintext(#[source] io::Error),
	/// Reading the sealed stream to decrypt failed.
	#[error("reading the sealed stream failed: {0}")]
	ReadSealed(#[source] io::Error),
	/// A public key is neither DER `SubjectPublicKeyInfo` nor PKCS#1 of an RSA key.
	#[error("not an RSA public key (DER SubjectPublicKeyInfo or PKCS#1): {reason}")]
	BadPublicKey {
		/// What the parser said.
		reason: String,
	},
	/// A private key is neither PKCS#8 nor PKCS#1 of an RSA key, in DER or PEM.
	#[error("not an RSA private key (PKCS#8 or PKCS#1, DER or PEM): {reason}")]
	BadPrivateKey {
		/// What the parser said.
		reason: String,
	},
	/// An RSA key's modulus is outside what the chain accepts.
	#[error("RSA key {key_id} has a {bits}-bit modulus; the chain accepts {min} to {max} bits")]
	KeySize {
		/// The key's id.
		key_id: KeyId,
		/// Its modulus length.
		bits: u32,
		/// The smallest modulus accepted.
		min: u32,
		/// The largest modulus accepted.
		max: u32,
	},
	/// An envelope must name at least one reader, or nobody could ever read the document.
	#[error("a key envelope needs at least one recipient")]
	NoRecipients,
	/// More readers than an envelope may list.
	#[error("{count} recipients, at most {max} fit one key envelope")]
	TooManyRecipients {
		/// Readers given.
		count: usize,
		/// [`MAX_RECIPIENTS`].
		max: usize,
	},
	/// RSA-OAEP encryption of the document key for a reader failed.
	#[error("wrapping the document key for {key_id} failed: {reason}")]
	WrapFailed {
		/// The reader's key.
		key_id: KeyId,
		/// What the RSA implementation said.
		reason: String,
	},
	/// The envelope has no entry for this private key: it was not authorized.
	#[error("the key envelope has no entry for key {key_id}: not a recipient")]
	NotARecipient {
		/// The id of the private key tried.
		key_id: KeyId,
	},
	/// The entry for this key does not decrypt with it (tampered or wrapped for another key).
	#[error("the wrapped key for {key_id} does not decrypt with that private key")]
	UnwrapFailed {
		/// The id of the private key tried.
		key_id: KeyId,
	},
	/// The unwrapped key is not the one the envelope commits to.
	#[error("the document key unwrapped for {key_id} does not match the envelope's commitment")]
	KeyCommitmentMismatch {
		/// The id of the private key used.
		key_id: KeyId,
	},
	/// The envelope bytes do not decode as an envelope.
	#[error("malformed key envelope: {reason}")]
	MalformedEnvelope {
		/// What is wrong.
		reason: String,
	},
	/// A chunk does not authenticate at its position: altered, moved, or from another
	/// document.
	#[error("chunk {index} was altered, moved or sealed under another key")]
	TamperedChunk {
		/// Position of the chunk in the stream (from 0).
		index: u64,
	},
	/// The stream ends before its final chunk.
	#[error(
		"the sealed stream is truncated: it ends after {chunks} chunks without its final chunk"
	)]
	Truncated {
		/// Chunks that were read.
		chunks: u64,
	},
	/// More data after the final chunk.
	#[error("chunk {index} follows the final chunk")]
	ChunkAfterFinal {
		/// Position of the extra chunk.
		index: u64,
	},
	/// A chunk has a length the format does not allow at its position.
	#[error("chunk {index} is {len} bytes sealed; a non-final chunk is exactly {expected}, a final one at most that")]
	BadChunkLength {
		/// Position of the chunk.
		index: u64,
		/// Its sealed length.
		len: usize,
		/// The sealed length of a full chunk.
		expected: usize,
	},
	/// A feed entry's payload does not open: altered, moved to another entry or feed, or
	/// sealed under another epoch's key.
	#[error("the payload of entry {sequence} was altered, moved or sealed under another key")]
	TamperedEntry {
		/// The entry's sequence number.
		sequence: u64,
	},
	/// An epoch's encryptor was asked to seal a sequence number it has passed; sealing it
	/// again would repeat a nonce.
	#[error(
		"entry {sequence} cannot be sealed: this epoch has sealed up to entry {next} (exclusive)"
	)]
	SequenceAlreadySealed {
		/// The sequence number asked for.
		sequence: u64,
		/// The lowest one it may still seal.
		next: u64,
	},
}

/// A version's fresh AES-256 key. Not `Clone`: handing it to an [`Encryptor`] consumes it,
/// so one key can never seal two streams (the chunk nonces would repeat). Wiped on drop.
pub struct DocumentKey(Zeroizing<[u8; DOCUMENT_KEY_LEN]>);

impl DocumentKey {
	/// A new key from the operating system's random number generator.
	pub fn generate() -> Result<Self, CryptoError> {
		let mut key = Zeroizing::new([0u8; DOCUMENT_KEY_LEN]);
		getrandom::fill(key.as_mut_slice()).map_err(CryptoError::Rng)?;
		Ok(Self(key))
	}

	fn from_bytes(bytes: Zeroizing<[u8; DOCUMENT_KEY_LEN]>) -> Self {
		Self(bytes)
	}

	fn as_bytes(&self) -> &[u8; DOCUMENT_KEY_LEN] {
		&self.0
	}
}

impl fmt::Debug for DocumentKey {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("DocumentKey(..)")
	}
}

/// The development keys of `runtime/res/dev-keys/`, parsed once per test binary.
#[cfg(test)]
pub(crate) mod test_keys {
	use std::sync::OnceLock;

	use super::ReaderPrivateKey;

	pub const ALICE_DER: &[u8] = include_bytes!("../../runtime/res/dev-keys/alice.der");

	macro_rules! dev_key {
		($name:ident, $file:literal) => {
			pub fn $name() -> &'static ReaderPrivateKey {
				static KEY: OnceLock<ReaderPrivateKey> = OnceLock::new();
				KEY.get_or_init(|| {
					ReaderPrivateKey::from_file_contents(include_bytes!(concat!(
						"../../runtime/res/dev-keys/",
						$file
					)))
					.expect("the development keys are valid PKCS#8 PEM")
				})
			}
		};
	}

	dev_key!(alice, "alice.pem");
	dev_key!(bob, "bob.pem");
	dev_key!(charlie, "charlie.pem");
}
