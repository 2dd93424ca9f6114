//! Validation of the public encryption keys that parties register on chain.
//!
//! Every account of the consortium registers an RSA public key, encoded as a DER
//! `SubjectPublicKeyInfo` (the format of `openssl rsa -pubout -outform DER`). Off-chain
//! code wraps each item's symmetric key with these keys (RSA-OAEP, SHA-256), so a key
//! that does not parse, or is too weak, must never reach the chain: it would silently
//! make documents unreadable for its owner, or readable to anyone who factors it.
//!
//! The runtime cannot link an RSA library, so this is a small strict DER reader for the
//! one structure we accept:
//!
//! ```text
//! SubjectPublicKeyInfo ::= SEQUENCE {
//!     algorithm        SEQUENCE { OID 1.2.840.113549.1.1.1, NULL },
//!     subjectPublicKey BIT STRING (no unused bits) containing
//!         RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } }
//! ```

/// Smallest accepted modulus. NIST SP 800-57 rates 3072-bit RSA at 128-bit security.
pub const MIN_RSA_MODULUS_BITS: u32 = 3072;

/// Largest accepted modulus; larger keys only cost every writer time and every block space.
pub const MAX_RSA_MODULUS_BITS: u32 = 8192;

/// Upper bound of the DER encoding of any acceptable key (an 8192-bit modulus plus framing).
pub const MAX_ENCRYPTION_KEY_LEN: u32 = 1100;

/// DER encoding of the object identifier `rsaEncryption` (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// Why a submitted encryption key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptionKeyError {
	/// The bytes are not a DER `SubjectPublicKeyInfo`.
	Malformed,
	/// The key is well formed but not an RSA key.
	NotRsa,
	/// The RSA modulus is shorter than [`MIN_RSA_MODULUS_BITS`].
	TooShort,
	/// The RSA modulus is longer than [`MAX_RSA_MODULUS_BITS`].
	TooLong,
	/// The public exponent is even, smaller than 3 or larger than 2^64.
	BadExponent,
}

/// Facts about a validated RSA public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsaKeyInfo {
	/// Length of the modulus in bits.
	pub modulus_bits: u32,
	/// The public exponent.
	pub exponent: u64,
}

/// Checks that `der` is an RSA `SubjectPublicKeyInfo` with an acceptable modulus and exponent.
pub fn validate_rsa_public_key(der: &[u8]) -> Result<RsaKeyInfo, EncryptionKeyError> {
	use EncryptionKeyError::*;

	let mut outer = DerReader::new(der);
	let spki = outer.read(TAG_SEQUENCE)?;
	outer.finish()?;

	let mut spki = DerReader::new(spki);
	let algorithm = spki.read(TAG_SEQUENCE)?;
	let key_bits = spki.read(TAG_BIT_STRING)?;
	spki.finish()?;

	let mut algorithm = DerReader::new(algorithm);
	if algorithm.read(TAG_OID)? != RSA_ENCRYPTION_OID {
		return Err(NotRsa);
	}
	// The parameters of rsaEncryption are NULL; some encoders omit them.
	if !algorithm.is_empty() {
		if !algorithm.read(TAG_NULL)?.is_empty() {
			return Err(Malformed);
		}
		algorithm.finish()?;
	}

	// A BIT STRING starts with the count of unused bits in its last byte: here always 0.
	let (&unused_bits, rsa_public_key) = key_bits.split_first().ok_or(Malformed)?;
	if unused_bits != 0 {
		return Err(Malformed);
	}
	let mut wrapper = DerReader::new(rsa_public_key);
	let rsa_public_key = wrapper.read(TAG_SEQUENCE)?;
	wrapper.finish()?;

	let mut fields = DerReader::new(rsa_public_key);
	let modulus = positive_integer(fields.read(TAG_INTEGER)?)?;
	let exponent = positive_integer(fields.read(TAG_INTEGER)?)?;
	fields.finish()?;

	let modulus_bits = bit_length(modulus);
	if modulus_bits < MIN_RSA_MODULUS_BITS {
		return Err(TooShort);
	}
	if modulus_bits > MAX_RSA_MODULUS_BITS {
		return Err(TooLong);
	}
	// An even modulus cannot be the product of two large primes.
	if modulus.last().is_none_or(|b| b & 1 == 0) {
		return Err(Malformed);
	}

	if exponent.len() > 8 {
		return Err(BadExponent);
	}
	let exponent = exponent.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
	if exponent < 3 || exponent % 2 == 0 {
		return Err(BadExponent);
	}

	Ok(RsaKeyInfo { modulus_bits, exponent })
}

/// Returns the magnitude bytes of a DER INTEGER that must be positive and minimally encoded.
fn positive_integer(content: &[u8]) -> Result<&[u8], EncryptionKeyError> {
	match content {
		[] => Err(EncryptionKeyError::Malformed),
		// Negative numbers have the high bit set.
		[first, ..] if first & 0x80 != 0 => Err(EncryptionKeyError::Malformed),
		// A leading zero is only allowed (and required) before a byte with the high bit set.
		[0, second, ..] if second & 0x80 == 0 => Err(EncryptionKeyError::Malformed),
		[0] => Err(EncryptionKeyError::Malformed),
		[0, rest @ ..] => Ok(rest),
		_ => Ok(content),
	}
}

fn bit_length(magnitude: &[u8]) -> u32 {
	match magnitude.first() {
		None => 0,
		Some(first) => (magnitude.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
	}
}

/// Reads consecutive DER elements from a byte slice, rejecting anything not strictly DER.
struct DerReader<'a> {
	rest: &'a [u8],
}

impl<'a> DerReader<'a> {
	fn new(bytes: &'a [u8]) -> Self {
		Self { rest: bytes }
	}

	fn is_empty(&self) -> bool {
		self.rest.is_empty()
	}

	fn finish(&self) -> Result<(), EncryptionKeyError> {
		if self.rest.is_empty() {
			Ok(())
		} else {
			Err(EncryptionKeyError::Malformed)
		}
	}

	/// Reads one element with the expected tag and returns its content.
	fn read(&mut self, expected_tag: u8) -> Result<&'a [u8], EncryptionKeyError> {
		use EncryptionKeyError::Malformed;

		let (&tag, rest) = self.rest.split_first().ok_or(Malformed)?;
		if tag != expected_tag {
			return Err(Malformed);
		}
		let (&first_length_byte, mut rest) = rest.split_first().ok_or(Malformed)?;
		let length = if first_length_byte < 0x80 {
			usize::from(first_length_byte)
		} else {
			let count = usize::from(first_length_byte & 0x7f);
			// Two length bytes already allow 64 KiB, far beyond any key we accept.
			if count == 0 || count > 2 || rest.len() < count {
				return Err(Malformed);
			}
			let (length_bytes, after) = rest.split_at(count);
			rest = after;
			if length_bytes[0] == 0 {
				return Err(Malformed);
			}
			let length = length_bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
			// DER requires the short form for lengths below 128.
			if length < 0x80 {
				return Err(Malformed);
			}
			length
		};
		if rest.len() < length {
			return Err(Malformed);
		}
		let (content, after) = rest.split_at(length);
		self.rest = after;
		Ok(content)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const RSA_2048: &[u8] = include_bytes!("../test-keys/rsa2048.der");
	const RSA_3072: &[u8] = include_bytes!("../test-keys/rsa3072.der");
	const RSA_4096: &[u8] = include_bytes!("../test-keys/rsa4096.der");
	const RSA_8192: &[u8] = include_bytes!("../test-keys/rsa8192.der");
	const EC_P256: &[u8] = include_bytes!("../test-keys/ec-p256.der");

	#[test]
	fn accepts_keys_from_3072_to_8192_bits() {
		assert_eq!(
			validate_rsa_public_key(RSA_3072),
			Ok(RsaKeyInfo { modulus_bits: 3072, exponent: 65537 })
		);
		assert_eq!(
			validate_rsa_public_key(RSA_4096),
			Ok(RsaKeyInfo { modulus_bits: 4096, exponent: 65537 })
		);
		assert_eq!(
			validate_rsa_public_key(RSA_8192),
			Ok(RsaKeyInfo { modulus_bits: 8192, exponent: 65537 })
		);
		assert!(RSA_8192.len() <= MAX_ENCRYPTION_KEY_LEN as usize);
	}

	#[test]
	fn rejects_short_key() {
		assert_eq!(validate_rsa_public_key(RSA_2048), Err(EncryptionKeyError::TooShort));
	}

	#[test]
	fn rejects_other_algorithms() {
		assert_eq!(validate_rsa_public_key(EC_P256), Err(EncryptionKeyError::NotRsa));
	}

	#[test]
	fn rejects_garbage_truncation_and_trailing_bytes() {
		assert_eq!(validate_rsa_public_key(&[]), Err(EncryptionKeyError::Malformed));
		assert_eq!(validate_rsa_public_key(b"not a key"), Err(EncryptionKeyError::Malformed));
		for cut in [1, 10, RSA_3072.len() / 2, RSA_3072.len() - 1] {
			assert_eq!(
				validate_rsa_public_key(&RSA_3072[..cut]),
				Err(EncryptionKeyError::Malformed),
				"truncated at {cut}"
			);
		}
		let mut trailing = RSA_3072.to_vec();
		trailing.push(0);
		assert_eq!(validate_rsa_public_key(&trailing), Err(EncryptionKeyError::Malformed));
	}

	#[test]
	fn rejects_even_exponent() {
		// The exponent 65537 is encoded as 02 03 01 00 01 at the very end of the key.
		let mut key = RSA_3072.to_vec();
		let last = key.len() - 1;
		key[last] = 0x02;
		assert_eq!(validate_rsa_public_key(&key), Err(EncryptionKeyError::BadExponent));
	}

	#[test]
	fn rejects_even_modulus() {
		// The modulus' last byte sits just before the exponent (02 03 01 00 01).
		let mut key = RSA_3072.to_vec();
		let modulus_last = key.len() - 6;
		key[modulus_last] &= 0xfe;
		assert_eq!(validate_rsa_public_key(&key), Err(EncryptionKeyError::Malformed));
	}

	#[test]
	fn integer_encoding_rules() {
		assert_eq!(positive_integer(&[0x01]), Ok(&[0x01][..]));
		assert_eq!(positive_integer(&[0x00, 0x80]), Ok(&[0x80][..]));
		assert_eq!(positive_integer(&[0x00, 0x7f]), Err(EncryptionKeyError::Malformed));
		assert_eq!(positive_integer(&[0x80]), Err(EncryptionKeyError::Malformed));
		assert_eq!(positive_integer(&[]), Err(EncryptionKeyError::Malformed));
		assert_eq!(bit_length(&[0x01, 0x00]), 9);
	}

	#[test]
	fn rejects_non_minimal_length() {
		// A SEQUENCE of length 1 in the long form: 30 81 01 00.
		assert_eq!(
			DerReader::new(&[0x30, 0x81, 0x01, 0x00]).read(TAG_SEQUENCE),
			Err(EncryptionKeyError::Malformed)
		);
	}
}
