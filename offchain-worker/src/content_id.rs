//! Content ids of the blocks the off-chain store holds.
//!
//! Every block (a sealed chunk, a document manifest, a key envelope) is addressed by the
//! IPFS CID of its bytes: CIDv1, multicodec `raw` (0x55), multihash SHA-256, 36 bytes in
//! binary form, exactly what [`dt_primitives::content_id`] accepts on chain. Because the
//! id is the hash of the bytes, a reader can take a block from any replica, however
//! little it trusts it, and check it with [`verify`] before use.
//!
//! The text form is the usual multibase base32 (`b` + RFC 4648 lowercase, no padding),
//! e.g. `bafkrei…`, as `ipfs cid format` prints it; the block store names files by it.

use core::{fmt, str::FromStr};

use codec::{Decode, Encode, Input};
use dt_primitives::content_id::{
	raw_sha256_content_id, validate_content_id, ContentIdError as ChainContentIdError, SHA2_256_LEN,
};
use sha2::{Digest, Sha256};

/// Length of a binary SHA-256 CIDv1 (version, codec, hash code, digest length, digest).
pub const CID_LEN: usize = 4 + SHA2_256_LEN;

/// Why bytes or a string are not a content id, or not the id of some bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContentIdError {
	/// The bytes are not a binary CIDv1 with a SHA-256 multihash.
	#[error("not a CIDv1 with a SHA-256 multihash: {reason:?}")]
	Invalid {
		/// What the chain's validator found wrong.
		reason: ChainContentIdError,
	},
	/// The string is not a multibase base32 CID (`b` followed by RFC 4648 lowercase).
	#[error("not a base32 CID string: {text:?}")]
	BadText {
		/// The string given (cut to 100 characters).
		text: String,
	},
	/// The bytes hash to another id than the one they were fetched or stored under.
	#[error("content does not match its id {expected}: it hashes to {actual}")]
	Mismatch {
		/// The id the bytes were expected to have.
		expected: Cid,
		/// The raw id the bytes actually have.
		actual: Cid,
	},
}

/// A binary CIDv1 with a SHA-256 multihash (codec `raw` or `dag-pb`).
///
/// Only valid ids can be constructed, so a `Cid` is always accepted by the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid([u8; CID_LEN]);

impl Cid {
	/// The id of `bytes` as a single `raw` block.
	pub fn of(bytes: &[u8]) -> Self {
		Self::from_digest(Sha256::digest(bytes).into())
	}

	/// The `raw` id of content whose SHA-256 digest is `digest` (for hashing while streaming).
	pub fn from_digest(digest: [u8; SHA2_256_LEN]) -> Self {
		Self(raw_sha256_content_id(&digest))
	}

	/// Parses a binary id, accepting exactly what the chain accepts.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, ContentIdError> {
		validate_content_id(bytes).map_err(|reason| ContentIdError::Invalid { reason })?;
		// A valid id with a SHA-256 multihash is always `CID_LEN` bytes long.
		let array = bytes.try_into().map_err(|_| ContentIdError::Invalid {
			reason: ChainContentIdError::WrongDigestLength,
		})?;
		Ok(Self(array))
	}

	/// The binary form, as the chain stores it.
	pub fn as_bytes(&self) -> &[u8; CID_LEN] {
		&self.0
	}

	/// The SHA-256 digest of the content.
	pub fn digest(&self) -> &[u8; SHA2_256_LEN] {
		self.0[4..]
			.try_into()
			.expect("a Cid is 4 header bytes and a 32-byte digest; qed")
	}
}

/// Checks that `bytes` are the content `cid` names.
///
/// Only the digest is compared, so a `dag-pb` id also verifies the block it names.
pub fn verify(cid: &Cid, bytes: &[u8]) -> Result<(), ContentIdError> {
	let actual = Cid::of(bytes);
	if actual.digest() == cid.digest() {
		Ok(())
	} else {
		Err(ContentIdError::Mismatch { expected: *cid, actual })
	}
}

impl fmt::Display for Cid {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("b")?;
		f.write_str(&base32::encode(&self.0))
	}
}

impl fmt::Debug for Cid {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "Cid({self})")
	}
}

impl FromStr for Cid {
	type Err = ContentIdError;

	fn from_str(text: &str) -> Result<Self, Self::Err> {
		let bad_text = || ContentIdError::BadText { text: text.chars().take(100).collect() };
		let encoded = text.strip_prefix('b').ok_or_else(bad_text)?;
		let bytes = base32::decode(encoded).ok_or_else(bad_text)?;
		Self::from_bytes(&bytes)
	}
}

/// SCALE form: the 36 binary bytes, without a length prefix (the length is fixed).
impl Encode for Cid {
	fn size_hint(&self) -> usize {
		CID_LEN
	}

	fn encode_to<T: codec::Output + ?Sized>(&self, dest: &mut T) {
		dest.write(&self.0);
	}
}

impl Decode for Cid {
	fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
		let mut bytes = [0u8; CID_LEN];
		input.read(&mut bytes)?;
		Self::from_bytes(&bytes).map_err(|_| "invalid content id".into())
	}
}

/// RFC 4648 base32, lowercase, without padding: the multibase `b` alphabet.
mod base32 {
	const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

	pub fn encode(bytes: &[u8]) -> String {
		let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
		let mut buffer: u16 = 0;
		let mut bits = 0;
		for byte in bytes {
			buffer = (buffer << 8) | u16::from(*byte);
			bits += 8;
			while bits >= 5 {
				bits -= 5;
				out.push(char::from(ALPHABET[usize::from((buffer >> bits) & 0x1f)]));
			}
		}
		if bits > 0 {
			out.push(char::from(ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)]));
		}
		out
	}

	/// Decodes strictly: only the alphabet, and the unused low bits of the last
	/// character must be zero, so every id has exactly one text form.
	pub fn decode(text: &str) -> Option<Vec<u8>> {
		let mut out = Vec::with_capacity(text.len() * 5 / 8);
		let mut buffer: u16 = 0;
		let mut bits = 0;
		for c in text.bytes() {
			let value = ALPHABET.iter().position(|a| *a == c)? as u16;
			buffer = (buffer << 5) | value;
			bits += 5;
			if bits >= 8 {
				bits -= 8;
				out.push((buffer >> bits) as u8);
			}
		}
		// Leftover bits are padding: fewer than 5 of them, all zero.
		if bits >= 5 || buffer & ((1 << bits) - 1) != 0 {
			return None;
		}
		Some(out)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// "hello world" as a raw block, the id every IPFS implementation gives it.
	const HELLO_WORLD: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

	#[test]
	fn matches_ipfs_for_a_known_block() {
		let cid = Cid::of(b"hello world");
		assert_eq!(cid.to_string(), HELLO_WORLD);
		assert_eq!(HELLO_WORLD.parse::<Cid>(), Ok(cid));
		assert!(validate_content_id(cid.as_bytes()).is_ok());
		assert_eq!(Cid::from_bytes(cid.as_bytes()), Ok(cid));
	}

	#[test]
	fn verify_detects_other_content() {
		let cid = Cid::of(b"hello world");
		assert_eq!(verify(&cid, b"hello world"), Ok(()));
		assert_eq!(
			verify(&cid, b"hello world!"),
			Err(ContentIdError::Mismatch { expected: cid, actual: Cid::of(b"hello world!") })
		);
	}

	#[test]
	fn scale_form_is_the_fixed_binary_id() {
		let cid = Cid::of(b"x");
		assert_eq!(cid.encode(), cid.as_bytes().to_vec());
		assert_eq!(Cid::decode(&mut &cid.encode()[..]), Ok(cid));
		let mut bad = cid.encode();
		bad[2] = 0x13;
		assert!(Cid::decode(&mut &bad[..]).is_err());
		assert!(Cid::decode(&mut &cid.encode()[..20]).is_err());
	}

	#[test]
	fn rejects_malformed_text() {
		for text in [
			"",
			"b",
			"zQm",
			&HELLO_WORLD[1..],
			&HELLO_WORLD[..40],
			&HELLO_WORLD.to_uppercase(),
			// Same bits but a non-zero padding bit in the last character.
			&format!("{}f", &HELLO_WORLD[..HELLO_WORLD.len() - 1]),
			"b!!!",
		] {
			assert!(text.parse::<Cid>().is_err(), "{text:?} was accepted");
		}
	}

	#[test]
	fn base32_round_trips_every_length() {
		let data: Vec<u8> = (0..=40u8).map(|i| i.wrapping_mul(37)).collect();
		for len in 0..data.len() {
			let text = base32::encode(&data[..len]);
			assert_eq!(base32::decode(&text).as_deref(), Some(&data[..len]), "length {len}");
		}
	}
}
