//! Content ids of what the off-chain store holds, as the chain records them.
//!
//! Documents, key envelopes and feed entries live encrypted in the off-chain store; the
//! chain keeps their content id, so any reader can check that the bytes it fetched are the
//! ones registered. Content ids are binary IPFS CIDs, version 1, with a SHA-256 multihash:
//! `varint(1) varint(codec) varint(0x12) varint(32) digest[32]`, 36 bytes for the codecs
//! accepted here (`raw` for single blocks, `dag-pb` for chunked files). [`validate_content_id`]
//! checks one strictly (minimal varints, nothing after the digest), without allocation.

use bounded_collections::{BoundedVec, ConstU32};

/// Longest content id accepted, in bytes (a SHA-256 CIDv1 has 36).
pub const MAX_CONTENT_ID_LEN: u32 = 64;

/// A binary CIDv1 with a SHA-256 multihash.
pub type ContentId = BoundedVec<u8, ConstU32<MAX_CONTENT_ID_LEN>>;

/// The CID version the chain accepts.
pub const CID_VERSION: u64 = 1;
/// Multicodec of a single block of bytes.
pub const CODEC_RAW: u64 = 0x55;
/// Multicodec of a UnixFS (chunked file) node.
pub const CODEC_DAG_PB: u64 = 0x70;
/// Multihash code of SHA-256.
pub const HASH_SHA2_256: u64 = 0x12;
/// Length of a SHA-256 digest.
pub const SHA2_256_LEN: usize = 32;

/// Why bytes are not an acceptable content id.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub enum ContentIdError {
	/// A varint is cut short, longer than 9 bytes or not minimally encoded.
	MalformedVarint,
	/// Not a version 1 CID (a bare CIDv0 multihash, say).
	UnsupportedVersion,
	/// A codec other than `raw` and `dag-pb`.
	UnsupportedCodec,
	/// A hash other than SHA-256.
	UnsupportedHash,
	/// The digest is not 32 bytes long.
	WrongDigestLength,
	/// Bytes after the digest.
	TrailingBytes,
}

/// What a valid content id says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentIdInfo<'a> {
	/// Its multicodec ([`CODEC_RAW`] or [`CODEC_DAG_PB`]).
	pub codec: u64,
	/// The SHA-256 digest of the content.
	pub digest: &'a [u8],
}

/// Reads an unsigned LEB128 varint as multiformats define it: at most 9 bytes, minimal.
fn read_varint(input: &[u8]) -> Result<(u64, &[u8]), ContentIdError> {
	let mut value: u64 = 0;
	for (index, byte) in input.iter().enumerate().take(9) {
		value |= u64::from(byte & 0x7f) << (7 * index);
		if byte & 0x80 == 0 {
			// A last byte of zero after others would be a longer encoding than needed.
			if index > 0 && *byte == 0 {
				return Err(ContentIdError::MalformedVarint);
			}
			return Ok((value, &input[index + 1..]));
		}
	}
	Err(ContentIdError::MalformedVarint)
}

/// Checks that `bytes` are a binary CIDv1 (`raw` or `dag-pb`) with a SHA-256 multihash.
pub fn validate_content_id(bytes: &[u8]) -> Result<ContentIdInfo<'_>, ContentIdError> {
	let (version, rest) = read_varint(bytes)?;
	if version != CID_VERSION {
		return Err(ContentIdError::UnsupportedVersion);
	}
	let (codec, rest) = read_varint(rest)?;
	if codec != CODEC_RAW && codec != CODEC_DAG_PB {
		return Err(ContentIdError::UnsupportedCodec);
	}
	let (hash, rest) = read_varint(rest)?;
	if hash != HASH_SHA2_256 {
		return Err(ContentIdError::UnsupportedHash);
	}
	let (length, digest) = read_varint(rest)?;
	if length != SHA2_256_LEN as u64 || digest.len() < SHA2_256_LEN {
		return Err(ContentIdError::WrongDigestLength);
	}
	if digest.len() > SHA2_256_LEN {
		return Err(ContentIdError::TrailingBytes);
	}
	Ok(ContentIdInfo { codec, digest })
}

/// The content id of bytes whose SHA-256 digest is `digest`, as a single `raw` block.
pub fn raw_sha256_content_id(digest: &[u8; SHA2_256_LEN]) -> [u8; 4 + SHA2_256_LEN] {
	let mut cid = [0u8; 4 + SHA2_256_LEN];
	cid[..4].copy_from_slice(&[CID_VERSION as u8, CODEC_RAW as u8, HASH_SHA2_256 as u8, 32]);
	cid[4..].copy_from_slice(digest);
	cid
}

#[cfg(test)]
mod tests {
	use super::*;

	/// `bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e`: "hello world" as a raw
	/// block, the id every IPFS implementation gives it.
	const HELLO_WORLD: &str =
		"01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

	fn bytes(hex: &str) -> Vec<u8> {
		(0..hex.len())
			.step_by(2)
			.map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
			.collect()
	}

	#[test]
	fn accepts_a_known_cid_and_builds_the_same() {
		let cid = bytes(HELLO_WORLD);
		let info = validate_content_id(&cid).unwrap();
		assert_eq!(info.codec, CODEC_RAW);
		let digest: [u8; 32] = info.digest.try_into().unwrap();
		assert_eq!(raw_sha256_content_id(&digest).to_vec(), cid);
		let mut dag_pb = cid.clone();
		dag_pb[1] = CODEC_DAG_PB as u8;
		assert_eq!(validate_content_id(&dag_pb).unwrap().codec, CODEC_DAG_PB);
	}

	#[test]
	fn rejects_everything_else_with_a_reason() {
		let cid = bytes(HELLO_WORLD);
		let with = |at: usize, byte: u8| {
			let mut changed = cid.clone();
			changed[at] = byte;
			changed
		};
		assert_eq!(validate_content_id(&[]), Err(ContentIdError::MalformedVarint));
		// CIDv0 is a bare multihash: 0x12 0x20 digest.
		assert_eq!(validate_content_id(&cid[2..]), Err(ContentIdError::UnsupportedVersion));
		assert_eq!(validate_content_id(&with(1, 0x71)), Err(ContentIdError::UnsupportedCodec));
		assert_eq!(validate_content_id(&with(2, 0x13)), Err(ContentIdError::UnsupportedHash));
		assert_eq!(validate_content_id(&with(3, 31)), Err(ContentIdError::WrongDigestLength));
		assert_eq!(validate_content_id(&cid[..35]), Err(ContentIdError::WrongDigestLength));
		let mut longer = cid.clone();
		longer.push(0);
		assert_eq!(validate_content_id(&longer), Err(ContentIdError::TrailingBytes));
		// 0x81 0x00 is a non-minimal encoding of 1; 0x80 alone is cut short.
		let mut padded = vec![0x81, 0x00];
		padded.extend_from_slice(&cid[1..]);
		assert_eq!(validate_content_id(&padded), Err(ContentIdError::MalformedVarint));
		assert_eq!(validate_content_id(&[0x80]), Err(ContentIdError::MalformedVarint));
		assert_eq!(validate_content_id(&[0xff; 12]), Err(ContentIdError::MalformedVarint));
	}

	#[test]
	fn never_panics_on_truncations() {
		let cid = bytes(HELLO_WORLD);
		for end in 0..cid.len() {
			assert!(validate_content_id(&cid[..end]).is_err());
		}
	}
}
