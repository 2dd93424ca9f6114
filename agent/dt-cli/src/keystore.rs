//! Keys at rest: one JSON file per key, the secrets (the account's secret URI and the RSA
//! private key) encrypted with AES-256-GCM under a key derived from a passphrase by scrypt;
//! the public parts in clear, and bound to the ciphertext as associated data so that a
//! tampered file is refused.

use aes_gcm::{
	aead::{Aead, KeyInit, Payload},
	Aes256Gcm, Nonce,
};
use anyhow::{anyhow, bail, Context, Result};
use rsa::{
	pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey},
	sha2::{Digest, Sha256},
	PrivateKey, PublicKey,
};
use serde::{Deserialize, Serialize};
use sp_core::{
	crypto::{Pair as _, Ss58Codec},
	sr25519,
};
use std::{
	io::Write,
	path::{Path, PathBuf},
};

/// The RSA modulus size: the chain refuses encryption keys below 3072 bits.
pub const RSA_BITS: usize = 3072;
/// scrypt cost: 2^15 iterations, r = 8, p = 1 (the usual interactive parameters).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// A key file as stored.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct KeyFile {
	pub version: u32,
	pub name: String,
	/// The account's SS58 address.
	pub account: String,
	/// The account's public key, hex.
	pub account_public: String,
	/// The RSA public key, SubjectPublicKeyInfo DER, hex.
	pub rsa_public_der: String,
	/// SHA-256 of the RSA public key's DER, hex.
	pub rsa_fingerprint: String,
	pub kdf: Kdf,
	pub cipher: String,
	pub nonce: String,
	pub ciphertext: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Kdf {
	pub name: String,
	pub log_n: u8,
	pub r: u32,
	pub p: u32,
	pub salt: String,
}

/// What is encrypted.
#[derive(Serialize, Deserialize)]
struct Secrets {
	/// The account's secret URI: a mnemonic, a raw seed or `//Alice`.
	suri: String,
	/// The RSA private key, PKCS#8 DER, hex.
	rsa_private_der: String,
}

/// A key decrypted. (`name` and `rsa` serve the document commands to come.)
#[allow(dead_code)]
pub struct UnlockedKey {
	pub name: String,
	pub pair: sr25519::Pair,
	pub rsa: PrivateKey,
}

/// Generates an RSA key pair of [`RSA_BITS`] bits.
pub fn generate_rsa() -> Result<PrivateKey> {
	PrivateKey::new(&mut getrandom::SysRng, RSA_BITS).context("generating the RSA key failed")
}

/// The keystore directory.
pub struct Keystore {
	dir: PathBuf,
}

pub fn check_name(name: &str) -> Result<()> {
	if name.is_empty()
		|| name.len() > 64
		|| !name
			.chars()
			.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
		|| name.starts_with('.')
	{
		bail!(
			"bad key name {name:?}: use letters, digits, '-', '_' and '.' (not first), at most 64"
		);
	}
	Ok(())
}

impl Keystore {
	pub fn new(dir: impl Into<PathBuf>) -> Keystore {
		Keystore { dir: dir.into() }
	}

	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn path(&self, name: &str) -> PathBuf {
		self.dir.join(format!("{name}.json"))
	}

	/// Stores a new key `name` from the account's secret URI and an RSA key.
	pub fn create(
		&self,
		name: &str,
		suri: &str,
		rsa: &PrivateKey,
		passphrase: &str,
	) -> Result<KeyFile> {
		check_name(name)?;
		let path = self.path(name);
		if path.exists() {
			bail!(
				"a key named {name} exists already in {}: choose another name",
				self.dir.display()
			);
		}
		let pair = sr25519::Pair::from_string(suri, None)
			.map_err(|e| anyhow!("bad secret URI for key {name}: {e:?}"))?;
		let rsa_public = PublicKey::from(rsa)
			.to_public_key_der()
			.context("encoding the RSA public key")?;
		let rsa_private = rsa.to_pkcs8_der().context("encoding the RSA private key")?;
		let secrets =
			Secrets { suri: suri.to_owned(), rsa_private_der: hex::encode(rsa_private.as_bytes()) };
		let mut salt = [0u8; 16];
		let mut nonce = [0u8; 12];
		getrandom::fill(&mut salt).map_err(|e| anyhow!("no randomness: {e}"))?;
		getrandom::fill(&mut nonce).map_err(|e| anyhow!("no randomness: {e}"))?;
		let public = pair.public();
		let mut file = KeyFile {
			version: 1,
			name: name.to_owned(),
			account: public.to_ss58check(),
			account_public: hex::encode(public.0),
			rsa_public_der: hex::encode(rsa_public.as_bytes()),
			rsa_fingerprint: hex::encode(Sha256::digest(rsa_public.as_bytes())),
			kdf: Kdf {
				name: "scrypt".into(),
				log_n: SCRYPT_LOG_N,
				r: SCRYPT_R,
				p: SCRYPT_P,
				salt: hex::encode(salt),
			},
			cipher: "aes-256-gcm".into(),
			nonce: hex::encode(nonce),
			ciphertext: String::new(),
		};
		let key = derive(passphrase, &file.kdf)?;
		let plaintext = serde_json::to_vec(&secrets)?;
		let ciphertext = Aes256Gcm::new(&key.into())
			.encrypt(
				Nonce::from_slice(&nonce),
				Payload { msg: &plaintext, aad: &associated_data(&file) },
			)
			.map_err(|_| anyhow!("encryption failed"))?;
		file.ciphertext = hex::encode(ciphertext);
		self.write(&path, &file)?;
		Ok(file)
	}

	fn write(&self, path: &Path, file: &KeyFile) -> Result<()> {
		std::fs::create_dir_all(&self.dir)
			.with_context(|| format!("cannot create the keystore {}", self.dir.display()))?;
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
		}
		let mut options = std::fs::OpenOptions::new();
		options.write(true).create_new(true);
		#[cfg(unix)]
		{
			use std::os::unix::fs::OpenOptionsExt;
			options.mode(0o600);
		}
		let mut out = options
			.open(path)
			.with_context(|| format!("cannot create {}", path.display()))?;
		out.write_all(serde_json::to_string_pretty(file)?.as_bytes())?;
		out.write_all(b"\n")?;
		Ok(())
	}

	/// The stored key `name`, without decrypting it.
	pub fn read(&self, name: &str) -> Result<KeyFile> {
		check_name(name)?;
		let path = self.path(name);
		let text = std::fs::read_to_string(&path).map_err(|e| {
			if e.kind() == std::io::ErrorKind::NotFound {
				anyhow!(
					"no key named {name} in {}: create it with `dt key create {name}` or \
					 `dt key import {name} --suri …`, or point --keystore / DT_KEYSTORE elsewhere",
					self.dir.display()
				)
			} else {
				anyhow!("cannot read {}: {e}", path.display())
			}
		})?;
		serde_json::from_str(&text)
			.with_context(|| format!("the key file {} is damaged", path.display()))
	}

	/// All stored keys, by name.
	pub fn list(&self) -> Result<Vec<KeyFile>> {
		let entries = match std::fs::read_dir(&self.dir) {
			Ok(entries) => entries,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
			Err(e) => bail!("cannot read the keystore {}: {e}", self.dir.display()),
		};
		let mut keys = Vec::new();
		for entry in entries {
			let path = entry?.path();
			if path.extension().is_some_and(|ext| ext == "json") {
				if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
					keys.push(self.read(name)?);
				}
			}
		}
		keys.sort_by(|a, b| a.name.cmp(&b.name));
		Ok(keys)
	}

	/// Decrypts the key `name`.
	#[cfg_attr(not(test), allow(dead_code))]
	pub fn unlock(&self, name: &str, passphrase: &str) -> Result<UnlockedKey> {
		let file = self.read(name)?;
		unlock(&file, passphrase)
	}
}

/// Decrypts a key file and checks its public parts against the secrets.
pub fn unlock(file: &KeyFile, passphrase: &str) -> Result<UnlockedKey> {
	let name = &file.name;
	if file.version != 1 || file.kdf.name != "scrypt" || file.cipher != "aes-256-gcm" {
		bail!("the key file of {name} has an unknown format (version {})", file.version);
	}
	let key = derive(passphrase, &file.kdf)?;
	let nonce = hex::decode(&file.nonce).ok().filter(|n| n.len() == 12);
	let nonce = nonce.ok_or_else(|| anyhow!("the key file of {name} is damaged (nonce)"))?;
	let ciphertext = hex::decode(&file.ciphertext)
		.map_err(|_| anyhow!("the key file of {name} is damaged (ciphertext)"))?;
	// A wrong passphrase and a tampered file cannot be told apart by AES-GCM.
	let plaintext =
		Aes256Gcm::new(&key.into())
			.decrypt(
				Nonce::from_slice(&nonce),
				Payload { msg: &ciphertext, aad: &associated_data(file) },
			)
			.map_err(|_| {
				anyhow!("wrong passphrase for key {name} (or its key file was altered); nothing changed")
			})?;
	let secrets: Secrets = serde_json::from_slice(&plaintext)
		.map_err(|_| anyhow!("the key file of {name} is damaged (secrets)"))?;
	let pair = sr25519::Pair::from_string(&secrets.suri, None)
		.map_err(|e| anyhow!("the key file of {name} is damaged (account: {e:?})"))?;
	let der = hex::decode(&secrets.rsa_private_der)
		.map_err(|_| anyhow!("the key file of {name} is damaged (RSA key)"))?;
	let rsa = PrivateKey::from_pkcs8_der(&der)
		.map_err(|_| anyhow!("the key file of {name} is damaged (RSA key)"))?;
	if hex::encode(pair.public().0) != file.account_public {
		bail!("the key file of {name} is damaged: the account does not match its secret");
	}
	Ok(UnlockedKey { name: name.clone(), pair, rsa })
}

/// The clear parts of a key file bound to its ciphertext.
fn associated_data(file: &KeyFile) -> Vec<u8> {
	format!(
		"dt-key-v{}\n{}\n{}\n{}\n{}",
		file.version, file.name, file.account, file.account_public, file.rsa_public_der
	)
	.into_bytes()
}

fn derive(passphrase: &str, kdf: &Kdf) -> Result<[u8; 32]> {
	let salt = hex::decode(&kdf.salt).map_err(|_| anyhow!("the key file is damaged (salt)"))?;
	if kdf.log_n > 20 || kdf.r > 64 || kdf.p > 16 {
		bail!("the key file asks for an unreasonable scrypt cost");
	}
	let params = scrypt::Params::new(kdf.log_n, kdf.r, kdf.p, 32)
		.map_err(|e| anyhow!("bad scrypt parameters: {e}"))?;
	let mut key = [0u8; 32];
	scrypt::scrypt(passphrase.as_bytes(), &salt, &params, &mut key)
		.map_err(|e| anyhow!("scrypt failed: {e}"))?;
	Ok(key)
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::sync::OnceLock;

	fn rsa() -> &'static PrivateKey {
		static KEY: OnceLock<PrivateKey> = OnceLock::new();
		KEY.get_or_init(|| generate_rsa().unwrap())
	}

	#[test]
	fn a_key_round_trips_and_its_file_is_private() {
		let dir = tempfile::tempdir().unwrap();
		let store = Keystore::new(dir.path().join("keys"));
		let file = store.create("alice", "//Alice", rsa(), "secret").unwrap();
		assert_eq!(file.account, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		let text = std::fs::read_to_string(dir.path().join("keys/alice.json")).unwrap();
		assert!(!text.contains("//Alice"), "the secret is in clear: {text}");
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let mode = std::fs::metadata(dir.path().join("keys/alice.json"))
				.unwrap()
				.permissions()
				.mode();
			assert_eq!(mode & 0o777, 0o600);
		}
		let unlocked = store.unlock("alice", "secret").unwrap();
		assert_eq!(unlocked.pair.public().to_ss58check(), file.account);
		assert_eq!(&unlocked.rsa, rsa());
		assert_eq!(store.list().unwrap(), vec![file]);
		// A second key of the same name is refused, the first kept.
		let error = store.create("alice", "//Bob", rsa(), "other").unwrap_err();
		assert!(error.to_string().contains("exists already"), "{error}");
		assert!(store.unlock("alice", "secret").is_ok());
	}

	#[test]
	fn a_wrong_passphrase_is_named() {
		let dir = tempfile::tempdir().unwrap();
		let store = Keystore::new(dir.path());
		store.create("bob", "//Bob", rsa(), "right").unwrap();
		let before = std::fs::read(dir.path().join("bob.json")).unwrap();
		let error = store.unlock("bob", "wrong").err().unwrap().to_string();
		assert!(error.starts_with("wrong passphrase for key bob"), "{error}");
		assert_eq!(std::fs::read(dir.path().join("bob.json")).unwrap(), before);
	}

	#[test]
	fn a_tampered_file_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let store = Keystore::new(dir.path());
		let file = store.create("carol", "//Charlie", rsa(), "pass").unwrap();
		// Public parts swapped for another account's: the ciphertext no longer matches.
		let mut swapped = file.clone();
		swapped.account = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty".into();
		assert!(unlock(&swapped, "pass").is_err());
		// A flipped ciphertext bit.
		let mut flipped = file.clone();
		let mut bytes = hex::decode(&flipped.ciphertext).unwrap();
		bytes[3] ^= 1;
		flipped.ciphertext = hex::encode(bytes);
		assert!(unlock(&flipped, "pass").is_err());
		// Garbage instead of JSON.
		std::fs::write(dir.path().join("carol.json"), "{not json").unwrap();
		let error = store.unlock("carol", "pass").err().unwrap().to_string();
		assert!(error.contains("damaged"), "{error}");
		assert!(unlock(&file, "pass").is_ok());
	}

	#[test]
	fn key_names_are_checked() {
		for bad in ["", "../x", ".hidden", "a/b", "sp ace"] {
			assert!(check_name(bad).is_err(), "{bad:?}");
		}
		assert!(check_name("alice-2.test_1").is_ok());
	}
}
