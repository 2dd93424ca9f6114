//! Validation of the public encryption keys that parties register on chain.
//!
//! Every account of the consortium registers an RSA public key, encoded as a DER
//! `SubjectPublicKeyInfo` (the format of `openssl rsa -pubout -outform DER`). Off-chain
//! code wraps each item's symmetric key with these keys (RSA-OAEP, SHA-256), so a key
//! that does not parse, or is too weak, must never reach the chain: it would silently
//! make documents unreadable for its owner, or readable to anyone who factors it.
//!
//! A registered key must also come with a proof that whoever registers it holds its
//! private half ([`verify_key_proof`]): otherwise an account could register another
//! party's public key as its own, and every item sealed "for" it would be sealed for that
//! party instead, or an admin could add a member under a key the member never saw.
//!
//! The key's structure is checked by a small strict DER reader for the one structure we
//! accept:
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

/// Largest accepted public exponent, 2^33 - 1: the RSA library the off-chain code wraps keys
/// with refuses larger ones, so a key with a larger exponent could never be used. It also
/// bounds the cost of verifying a [key proof](verify_key_proof).
pub const MAX_RSA_PUBLIC_EXPONENT: u64 = (1 << 33) - 1;

/// Longest [key proof](verify_key_proof): an RSA signature is as long as the modulus.
pub const MAX_KEY_PROOF_LEN: u32 = MAX_RSA_MODULUS_BITS / 8;

/// What a key proof signs before the genesis hash and the account: keeps these signatures
/// apart from anything else the key might ever sign.
pub const KEY_PROOF_CONTEXT: &[u8] = b"dt-ledger encryption key proof v1";

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
	/// The public exponent is even, smaller than 3 or larger than [`MAX_RSA_PUBLIC_EXPONENT`].
	BadExponent,
}

/// Why a key proof was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProofError {
	/// The key itself is not acceptable.
	Key(EncryptionKeyError),
	/// The proof is not a signature of the expected message under the key: whoever made it
	/// does not hold the private key, or signed for another account or chain.
	Invalid,
}

impl From<EncryptionKeyError> for KeyProofError {
	fn from(error: EncryptionKeyError) -> Self {
		KeyProofError::Key(error)
	}
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
	parse_rsa_public_key(der).map(|(info, _)| info)
}

/// The message a key proof signs for `account` (its SCALE encoding) on the chain whose
/// genesis block hash is `genesis_hash`: [`KEY_PROOF_CONTEXT`], the hash, the account.
///
/// Binding the account keeps one party from replaying another's proof to claim its key;
/// binding the chain keeps a proof made for a test network from serving on another.
pub fn key_proof_message(genesis_hash: &[u8], account: &[u8]) -> alloc::vec::Vec<u8> {
	[KEY_PROOF_CONTEXT, genesis_hash, account].concat()
}

/// Checks that `proof` is an RSASSA-PKCS1-v1_5 signature with SHA-256 of `message` (see
/// [`key_proof_message`]) under the RSA key `der`, which must be an acceptable key. Only
/// the holder of the private key can make one.
///
/// Its cost grows with the modulus length and the exponent's bit length; both are bounded
/// ([`MAX_RSA_MODULUS_BITS`], [`MAX_RSA_PUBLIC_EXPONENT`]).
pub fn verify_key_proof(der: &[u8], message: &[u8], proof: &[u8]) -> Result<(), KeyProofError> {
	use rsa::{sha2::Digest, BoxedUint};
	let (info, modulus) = parse_rsa_public_key(der)?;
	let n = BoxedUint::from_be_slice(modulus, info.modulus_bits)
		.map_err(|_| EncryptionKeyError::Malformed)?;
	let key = rsa::PublicKey::new(n, BoxedUint::from(info.exponent))
		.map_err(|_| EncryptionKeyError::Malformed)?;
	let digest = rsa::sha2::Sha256::digest(message);
	key.verify(rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha256>(), &digest, proof)
		.map_err(|_| KeyProofError::Invalid)
}

/// Makes a key proof for `message` (see [`key_proof_message`]) with the private key: what a
/// party hands over with its public key (the client, and tests and benchmarks).
pub fn sign_key_proof(
	private_key: &rsa::PrivateKey,
	message: &[u8],
) -> Result<alloc::vec::Vec<u8>, KeyProofError> {
	use rsa::sha2::{Digest, Sha256};
	private_key
		.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
		.map_err(|_| KeyProofError::Invalid)
}

/// Validates an RSA `SubjectPublicKeyInfo` and returns its facts and modulus (big-endian,
/// without leading zeros).
fn parse_rsa_public_key(der: &[u8]) -> Result<(RsaKeyInfo, &[u8]), EncryptionKeyError> {
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
	if exponent < 3 || exponent % 2 == 0 || exponent > MAX_RSA_PUBLIC_EXPONENT {
		return Err(BadExponent);
	}

	Ok((RsaKeyInfo { modulus_bits, exponent }, modulus))
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
	const RSA_3072_PRIVATE: &[u8] = include_bytes!("../test-keys/rsa3072.pk8");
	const OTHER_3072: &[u8] = include_bytes!("../test-keys/rsa3072-second.der");
	const OTHER_3072_PRIVATE: &[u8] = include_bytes!("../test-keys/rsa3072-second.pk8");
	const SLOWEST: &[u8] = include_bytes!("../test-keys/rsa8192-slowest.der");
	const SLOWEST_PRIVATE: &[u8] = include_bytes!("../test-keys/rsa8192-slowest.pk8");
	const GENESIS: [u8; 32] = [7; 32];
	const ALICE: &[u8] = &[1; 32];
	const MALLORY: &[u8] = &[2; 32];

	fn prove(private_der: &[u8], genesis: &[u8], account: &[u8]) -> Vec<u8> {
		use rsa::pkcs8::DecodePrivateKey;
		let key = rsa::PrivateKey::from_pkcs8_der(private_der).unwrap();
		sign_key_proof(&key, &key_proof_message(genesis, account)).unwrap()
	}

	#[test]
	fn proof_made_with_the_private_key_verifies() {
		let proof = prove(RSA_3072_PRIVATE, &GENESIS, ALICE);
		assert_eq!(verify_key_proof(RSA_3072, &key_proof_message(&GENESIS, ALICE), &proof), Ok(()));
		// The largest modulus with the largest exponent: the slowest proof to check.
		let proof = prove(SLOWEST_PRIVATE, &GENESIS, ALICE);
		assert_eq!(validate_rsa_public_key(SLOWEST).unwrap().exponent, MAX_RSA_PUBLIC_EXPONENT);
		assert_eq!(verify_key_proof(SLOWEST, &key_proof_message(&GENESIS, ALICE), &proof), Ok(()));
	}

	#[test]
	fn anothers_public_key_cannot_be_claimed() {
		// Mallory signs with her own private key but presents Alice's public key.
		let proof = prove(OTHER_3072_PRIVATE, &GENESIS, MALLORY);
		assert_eq!(
			verify_key_proof(RSA_3072, &key_proof_message(&GENESIS, MALLORY), &proof),
			Err(KeyProofError::Invalid)
		);
		// Nor can she replay Alice's proof (made for Alice's account) for her own account.
		let alices = prove(RSA_3072_PRIVATE, &GENESIS, ALICE);
		assert_eq!(
			verify_key_proof(RSA_3072, &key_proof_message(&GENESIS, MALLORY), &alices),
			Err(KeyProofError::Invalid)
		);
	}

	#[test]
	fn proof_serves_one_chain_only() {
		let proof = prove(RSA_3072_PRIVATE, &[8; 32], ALICE);
		assert_eq!(
			verify_key_proof(RSA_3072, &key_proof_message(&GENESIS, ALICE), &proof),
			Err(KeyProofError::Invalid)
		);
	}

	#[test]
	fn malformed_proofs_and_keys_are_refused() {
		let message = key_proof_message(&GENESIS, ALICE);
		let proof = prove(RSA_3072_PRIVATE, &GENESIS, ALICE);
		assert_eq!(verify_key_proof(RSA_3072, &message, &[]), Err(KeyProofError::Invalid));
		assert_eq!(verify_key_proof(RSA_3072, &message, &proof[1..]), Err(KeyProofError::Invalid));
		let mut flipped = proof.clone();
		flipped[10] ^= 1;
		assert_eq!(verify_key_proof(RSA_3072, &message, &flipped), Err(KeyProofError::Invalid));
		// A value above the modulus is no signature.
		assert_eq!(verify_key_proof(RSA_3072, &message, &[0xff; 384]), Err(KeyProofError::Invalid));
		assert_eq!(
			verify_key_proof(RSA_2048, &message, &proof),
			Err(KeyProofError::Key(EncryptionKeyError::TooShort))
		);
		assert_eq!(verify_key_proof(OTHER_3072, &message, &proof), Err(KeyProofError::Invalid));
	}

	#[test]
	fn exponent_above_the_bound_is_refused() {
		// The exponent 65537 is encoded as 02 03 01 00 01 at the very end of the key; make it
		// 02 05 02 00 00 00 01 (2^33 + 1), one byte longer in each enclosing length.
		let key = RSA_3072.to_vec();
		let mut longer = key[..key.len() - 5].to_vec();
		longer.extend_from_slice(&[0x02, 0x05, 0x02, 0x00, 0x00, 0x00, 0x01]);
		// SPKI, BIT STRING and RSAPublicKey lengths each grow by 2 (two-byte long forms).
		for offset in [2usize, 2 + 2 + 15 + 2, 2 + 2 + 15 + 2 + 2 + 1 + 2] {
			let length = u16::from_be_bytes([longer[offset], longer[offset + 1]]) + 2;
			longer[offset..offset + 2].copy_from_slice(&length.to_be_bytes());
		}
		assert_eq!(validate_rsa_public_key(&longer), Err(EncryptionKeyError::BadExponent));
	}

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
