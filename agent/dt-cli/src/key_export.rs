//! `dt key export`: a stored key in the formats a browser reads, so that the web client can
//! sign and decrypt with it without the key ever reaching a node.
//!
//! - The account as a Polkadot.js account JSON (generation 3: PKCS#8-style pair encoding,
//!   scrypt N = 2^15, r = 8, p = 1 and xsalsa20-poly1305), which `@polkadot/keyring`'s
//!   `addFromJson` and the Polkadot.js extension import.
//! - The RSA key as an encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256 with 600,000
//!   iterations and AES-256-CBC), which OpenSSL reads and the browser decrypts with WebCrypto
//!   alone (it has PBKDF2 and AES-CBC, not scrypt).
//!
//! Both are encrypted under the passphrase that unlocks the key in the keystore.

use crate::keystore::{KeyFile, UnlockedKey};
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use crypto_secretbox::{aead::Aead, KeyInit, XSalsa20Poly1305};
use rsa::pkcs8::{
	pkcs5::pbes2, EncodePrivateKey, EncryptedPrivateKeyInfoRef, LineEnding, PrivateKeyInfoRef,
};
use serde_json::{json, Value};
use sp_core::Pair as _;
use std::{
	fs::OpenOptions,
	io::Write,
	path::{Path, PathBuf},
};

/// The start of Polkadot.js's pair encoding (a PKCS#8 header, kept for compatibility).
const PAIR_HEADER: [u8; 16] = [48, 83, 2, 1, 1, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32];
/// What separates the secret key from the public key in that encoding.
const PAIR_DIVIDER: [u8; 5] = [161, 35, 3, 33, 0];
/// Polkadot.js's scrypt parameters for account files: N = 2^15, p = 1, r = 8.
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_P: u32 = 1;
const SCRYPT_R: u32 = 8;

/// The two files written for a key.
pub struct ExportedFiles {
	pub account: PathBuf,
	pub rsa: PathBuf,
}

/// Writes `NAME.account.json` and `NAME.rsa.pem` into `dir`, refusing to replace a file.
pub fn export(
	file: &KeyFile,
	key: &UnlockedKey,
	passphrase: &str,
	dir: &Path,
	created_ms: u64,
) -> Result<ExportedFiles> {
	let files = ExportedFiles {
		account: dir.join(format!("{}.account.json", file.name)),
		rsa: dir.join(format!("{}.rsa.pem", file.name)),
	};
	for path in [&files.account, &files.rsa] {
		if path.exists() {
			bail!("{} exists already: nothing was written (move it away first)", path.display());
		}
	}
	let account = polkadot_js_account(key, &file.account, passphrase, created_ms)?;
	let rsa = encrypted_pkcs8_pem(key, passphrase)?;
	write_private(&files.account, serde_json::to_string_pretty(&account)?.as_bytes())?;
	write_private(&files.rsa, rsa.as_bytes())?;
	Ok(files)
}

/// The account as Polkadot.js encodes a pair with a passphrase (`@polkadot/keyring`'s
/// `encodePair` and `pairToJson`).
pub fn polkadot_js_account(
	key: &UnlockedKey,
	address: &str,
	passphrase: &str,
	created_ms: u64,
) -> Result<Value> {
	// Polkadot.js keeps an sr25519 secret in its ed25519-compatible form (the scalar times the
	// cofactor), followed by the nonce: what schnorrkel's `to_half_ed25519_bytes` gives.
	let keypair: &schnorrkel::Keypair = key.pair.as_ref();
	let half_ed25519 = keypair.to_half_ed25519_bytes();
	let (secret, public) = half_ed25519.split_at(64);
	debug_assert_eq!(public, key.pair.public().0);
	let plaintext = [&PAIR_HEADER[..], secret, &PAIR_DIVIDER, public].concat();

	let salt: [u8; 32] = random()?;
	let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, 64)
		.map_err(|e| anyhow!("bad scrypt parameters: {e}"))?;
	let mut derived = [0u8; 64];
	scrypt::scrypt(passphrase.as_bytes(), &salt, &params, &mut derived)
		.map_err(|e| anyhow!("scrypt failed: {e}"))?;
	let nonce: [u8; 24] = random()?;
	let sealed = XSalsa20Poly1305::new_from_slice(&derived[..32])
		.map_err(|_| anyhow!("bad secretbox key length"))?
		.encrypt(&nonce.into(), &plaintext[..])
		.map_err(|_| anyhow!("sealing the account failed"))?;

	let mut encoded = Vec::with_capacity(32 + 12 + 24 + sealed.len());
	encoded.extend_from_slice(&salt);
	encoded.extend_from_slice(&(1u32 << SCRYPT_LOG_N).to_le_bytes());
	encoded.extend_from_slice(&SCRYPT_P.to_le_bytes());
	encoded.extend_from_slice(&SCRYPT_R.to_le_bytes());
	encoded.extend_from_slice(&nonce);
	encoded.extend_from_slice(&sealed);
	Ok(json!({
		"encoded": base64::engine::general_purpose::STANDARD.encode(&encoded),
		"encoding": {
			"content": ["pkcs8", "sr25519"],
			"type": ["scrypt", "xsalsa20-poly1305"],
			"version": "3",
		},
		"address": address,
		"meta": { "name": key.name, "whenCreated": created_ms },
	}))
}

/// The RSA private key as an `ENCRYPTED PRIVATE KEY` PEM: PBES2 with PBKDF2-HMAC-SHA256
/// (600,000 iterations, random salt) and AES-256-CBC (random IV).
pub fn encrypted_pkcs8_pem(key: &UnlockedKey, passphrase: &str) -> Result<String> {
	let der = key.rsa.to_pkcs8_der().context("cannot encode the RSA key as PKCS#8")?;
	let info = PrivateKeyInfoRef::try_from(der.as_bytes())
		.map_err(|e| anyhow!("cannot read back the RSA key's PKCS#8 encoding: {e}"))?;
	let params = pbes2::Parameters::generate_pbkdf2(&mut getrandom::SysRng)
		.map_err(|e| anyhow!("cannot draw the PBES2 salt and IV: {e}"))?;
	let encrypted = info
		.encrypt_with_params(params, passphrase.as_bytes())
		.map_err(|e| anyhow!("encrypting the RSA key failed: {e}"))?;
	encrypted
		.to_pem(
			<EncryptedPrivateKeyInfoRef<'_> as rsa::pkcs8::der::pem::PemLabel>::PEM_LABEL,
			LineEnding::LF,
		)
		.map(|pem| pem.to_string())
		.map_err(|e| anyhow!("cannot write the encrypted key as PEM: {e}"))
}

fn random<const N: usize>() -> Result<[u8; N]> {
	let mut bytes = [0u8; N];
	getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness from the system: {e}"))?;
	Ok(bytes)
}

/// Creates `path` readable by its owner only (it holds a key, even if encrypted).
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
	let mut options = OpenOptions::new();
	options.write(true).create_new(true);
	#[cfg(unix)]
	std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
	let mut file = options
		.open(path)
		.with_context(|| format!("cannot create {}", path.display()))?;
	file.write_all(contents)
		.with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::keystore::Keystore;
	use rsa::pkcs8::{DecodePrivateKey, EncryptedPrivateKeyInfo};
	use sp_core::sr25519;

	const PASSPHRASE: &str = "correct horse battery staple";

	fn stored_alice(dir: &Path) -> (KeyFile, UnlockedKey) {
		let keystore = Keystore::new(dir.join("keys"));
		let rsa = crate::keystore::generate_rsa().unwrap();
		let file = keystore.create("alice", "//Alice", &rsa, PASSPHRASE).unwrap();
		let key = keystore.unlock("alice", PASSPHRASE).unwrap();
		(file, key)
	}

	/// Opens a Polkadot.js account JSON as `@polkadot/keyring`'s `decodePair` does.
	fn open_account(json: &Value, passphrase: &str) -> Result<(Vec<u8>, Vec<u8>)> {
		let encoded = base64::engine::general_purpose::STANDARD
			.decode(json["encoded"].as_str().unwrap())
			.unwrap();
		let (salt, rest) = encoded.split_at(32);
		let n = u32::from_le_bytes(rest[0..4].try_into().unwrap());
		let p = u32::from_le_bytes(rest[4..8].try_into().unwrap());
		let r = u32::from_le_bytes(rest[8..12].try_into().unwrap());
		let (nonce, sealed) = rest[12..].split_at(24);
		let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, 64).unwrap();
		let mut derived = [0u8; 64];
		scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut derived).unwrap();
		let plain = XSalsa20Poly1305::new_from_slice(&derived[..32])
			.unwrap()
			.decrypt(nonce.into(), sealed)
			.map_err(|_| anyhow!("wrong passphrase"))?;
		assert_eq!(plain[..16], PAIR_HEADER);
		assert_eq!(plain[80..85], PAIR_DIVIDER);
		Ok((plain[16..80].to_vec(), plain[85..].to_vec()))
	}

	#[test]
	fn the_account_file_holds_the_pair_in_polkadot_js_form() {
		let dir = tempfile::tempdir().unwrap();
		let (file, key) = stored_alice(dir.path());
		let json = polkadot_js_account(&key, &file.account, PASSPHRASE, 1).unwrap();
		assert_eq!(json["address"], file.account);
		assert_eq!(json["encoding"]["content"], json!(["pkcs8", "sr25519"]));
		let (secret, public) = open_account(&json, PASSPHRASE).unwrap();
		assert_eq!(public, key.pair.public().0.to_vec());
		// The secret in ed25519 form is the same key: it signs what Alice's public key verifies.
		let secret = schnorrkel::SecretKey::from_ed25519_bytes(&secret).unwrap();
		let pair = sr25519::Pair::from(schnorrkel::Keypair::from(secret));
		assert_eq!(pair.public(), sr25519::Pair::from_string("//Alice", None).unwrap().public());
		let signature = pair.sign(b"dt-ledger");
		assert!(sr25519::Pair::verify(&signature, b"dt-ledger", &key.pair.public()));
		assert!(open_account(&json, "wrong").is_err(), "opened with a wrong passphrase");
	}

	#[test]
	fn the_rsa_file_is_pbes2_pbkdf2_sha256_aes256cbc_and_opens_to_the_same_key() {
		let dir = tempfile::tempdir().unwrap();
		let (_, key) = stored_alice(dir.path());
		let pem = encrypted_pkcs8_pem(&key, PASSPHRASE).unwrap();
		assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
		let (_, der) = rsa::pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
		let info =
			EncryptedPrivateKeyInfo::<&rsa::pkcs8::der::asn1::OctetStringRef>::try_from(&der[..])
				.unwrap();
		let scheme = info.encryption_algorithm.pbes2().expect("not PBES2");
		let pbes2::Kdf::Pbkdf2(kdf) = &scheme.kdf else { panic!("not PBKDF2: {:?}", scheme.kdf) };
		assert_eq!(kdf.iteration_count, 600_000);
		assert!(matches!(scheme.encryption, pbes2::EncryptionScheme::Aes256Cbc { .. }));
		let opened = rsa::PrivateKey::from_pkcs8_encrypted_pem(&pem, PASSPHRASE).unwrap();
		assert_eq!(opened, key.rsa);
		assert!(rsa::PrivateKey::from_pkcs8_encrypted_pem(&pem, "wrong").is_err());
	}

	#[test]
	fn export_refuses_to_replace_a_file_and_writes_owner_only_files() {
		let dir = tempfile::tempdir().unwrap();
		let (file, key) = stored_alice(dir.path());
		let out = dir.path().join("out");
		std::fs::create_dir(&out).unwrap();
		std::fs::write(out.join("alice.rsa.pem"), "mine").unwrap();
		let error = export(&file, &key, PASSPHRASE, &out, 1).err().unwrap().to_string();
		assert!(error.contains("alice.rsa.pem exists already"), "{error}");
		assert!(!out.join("alice.account.json").exists(), "wrote half an export");
		assert_eq!(std::fs::read_to_string(out.join("alice.rsa.pem")).unwrap(), "mine");

		std::fs::remove_file(out.join("alice.rsa.pem")).unwrap();
		let files = export(&file, &key, PASSPHRASE, &out, 1).unwrap();
		#[cfg(unix)]
		for path in [&files.account, &files.rsa] {
			use std::os::unix::fs::PermissionsExt;
			assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
		}
	}
}
