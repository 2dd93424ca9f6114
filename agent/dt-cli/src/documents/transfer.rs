//! Moving a document version between a local stream and a node's off-chain store, a chunk
//! at a time: encrypted and uploaded (with its key envelope and manifest), or fetched,
//! verified and decrypted. Memory stays at a few chunks whatever the size.
//!
//! The blocks are those of `dt_offchain::documents` (same chunks, envelope and manifest),
//! so any dt-offchain reader opens what `dt` writes and the other way round.

use super::store::{Store, StoreError};
use codec::Encode;
use dt_offchain::{
	content_id::Cid,
	crypto::{
		CryptoError, Decryptor, DocumentKey, Encryptor, Envelope, ReaderPrivateKey,
		ReaderPublicKey, CHUNK_SIZE, TAG_LEN,
	},
	documents::{DocumentError, Manifest, MANIFEST_MAGIC, MAX_CHUNKS, MAX_DOCUMENT_SIZE},
};
use indicatif::ProgressBar;
use std::io::{Read, Write};

/// Sealed chunks waiting for their upload: encryption runs ahead of the network by this
/// many chunks at most.
const CHUNKS_AHEAD: usize = 2;

/// Why a version could not be uploaded or read.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
	#[error(transparent)]
	Store(#[from] StoreError),
	#[error("reading the file failed: {0}")]
	ReadPlaintext(std::io::Error),
	#[error("writing the plaintext failed: {0}")]
	WritePlaintext(std::io::Error),
	#[error("encryption failed: {0}")]
	Encrypt(CryptoError),
	#[error("the file is larger than a document version can be ({MAX_DOCUMENT_SIZE} bytes)")]
	TooLarge,
	#[error("block {cid} is not a valid document manifest: {source}")]
	Manifest { cid: Cid, source: DocumentError },
	#[error(
		"the manifest {manifest} names the key envelope {found}, but the chain registered \
		 {registered} for this version: the store's blocks do not belong to it"
	)]
	EnvelopeMismatch { manifest: Cid, found: Cid, registered: Cid },
	#[error(
		"the manifest {manifest} announces {found} bytes, but the chain registered {registered}"
	)]
	SizeMismatch { manifest: Cid, found: u64, registered: u64 },
	#[error("the key envelope {cid} is damaged: {source}")]
	Envelope { cid: Cid, source: CryptoError },
	/// The version's key was not sealed for this reader's key.
	#[error("the document key was not sealed for encryption key {fingerprint}")]
	NotARecipient { fingerprint: String },
	#[error("the key envelope {cid} does not open with this key: {source}")]
	Unwrap { cid: Cid, source: CryptoError },
	#[error(
		"chunk {index} ({cid}) does not decrypt at its place: {source}; the stored version \
		 was altered"
	)]
	Chunk { index: usize, cid: Cid, source: CryptoError },
	#[error(
		"the chunks hold {actual} bytes but the manifest announces {expected}: the stored \
		 version was altered"
	)]
	Length { expected: u64, actual: u64 },
}

/// What was stored for a version: the ids the chain registers.
pub struct Uploaded {
	/// The manifest's id, the version's content id on chain.
	pub content_id: Cid,
	/// The key envelope's id.
	pub key_envelope: Cid,
	/// The key envelope, to publish to the readers.
	pub envelope: Vec<u8>,
	/// The plaintext's size.
	pub size: u64,
	/// How many encrypted chunks were stored.
	pub chunks: usize,
}

/// The manifest as `dt_offchain::documents` encodes it (see its module documentation).
#[derive(Encode)]
struct ManifestWire<'a> {
	magic: [u8; 4],
	chunk_size: u32,
	plaintext_len: u64,
	envelope: Cid,
	chunks: &'a [Cid],
}

/// Encrypts `plaintext` under a fresh key sealed for `readers` and stores the chunks and
/// the manifest in `store`, advancing `progress` by plaintext bytes. The envelope is stored
/// as a block too only if `envelope_as_block` (a node without the store's network, where
/// it has no reader list to live behind); otherwise the caller publishes it.
///
/// If it fails midway, the blocks already stored stay behind unreferenced; nothing is
/// registered, so nobody is pointed at them.
pub async fn upload(
	store: &Store,
	plaintext: impl Read + Send + 'static,
	readers: &[ReaderPublicKey],
	envelope_as_block: bool,
	progress: &ProgressBar,
) -> Result<Uploaded, TransferError> {
	let key = DocumentKey::generate().map_err(TransferError::Encrypt)?;
	let envelope = Envelope::seal(&key, readers).map_err(TransferError::Encrypt)?.to_bytes();
	let key_envelope =
		if envelope_as_block { store.put(&envelope).await? } else { Cid::of(&envelope) };

	// Encryption (and reading the file) on a thread of its own, so it overlaps the uploads.
	let (sender, mut receiver) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
	let sealer = std::thread::spawn(move || {
		for sealed in Encryptor::new(key).seal_stream(plaintext) {
			let failed = sealed.is_err();
			if sender.blocking_send(sealed).is_err() || failed {
				return;
			}
		}
	});
	let mut chunks = Vec::new();
	let mut size = 0u64;
	while let Some(sealed) = receiver.recv().await {
		let sealed = sealed.map_err(|error| match error {
			CryptoError::ReadPlaintext(source) => TransferError::ReadPlaintext(source),
			other => TransferError::Encrypt(other),
		})?;
		if chunks.len() == MAX_CHUNKS {
			return Err(TransferError::TooLarge);
		}
		let plain_len = (sealed.len() - TAG_LEN) as u64;
		chunks.push(store.put(&sealed).await?);
		size += plain_len;
		progress.inc(plain_len);
	}
	// The channel closed: the sealer ended (a panic there would be a bug in the library).
	let _ = sealer.join();

	let manifest = ManifestWire {
		magic: MANIFEST_MAGIC,
		chunk_size: CHUNK_SIZE as u32,
		plaintext_len: size,
		envelope: key_envelope,
		chunks: &chunks,
	}
	.encode();
	// What readers will check, checked before anything points at it.
	let content_id = Cid::of(&manifest);
	Manifest::from_bytes(&content_id, &manifest)
		.map_err(|source| TransferError::Manifest { cid: content_id, source })?;
	store.put(&manifest).await?;
	Ok(Uploaded { content_id, key_envelope, envelope, size, chunks: chunks.len() })
}

/// What the chain says a version is; what the store serves must agree.
pub struct Registered {
	pub content_id: Cid,
	pub key_envelope: Cid,
	pub size: u64,
}

/// Fetches the manifest of `version` and checks it against the chain.
pub async fn manifest(store: &Store, version: &Registered) -> Result<Manifest, TransferError> {
	let bytes = store.get(&version.content_id).await?;
	let manifest = Manifest::from_bytes(&version.content_id, &bytes)
		.map_err(|source| TransferError::Manifest { cid: version.content_id, source })?;
	if manifest.envelope() != &version.key_envelope {
		return Err(TransferError::EnvelopeMismatch {
			manifest: version.content_id,
			found: *manifest.envelope(),
			registered: version.key_envelope,
		});
	}
	if manifest.plaintext_len() != version.size {
		return Err(TransferError::SizeMismatch {
			manifest: version.content_id,
			found: manifest.plaintext_len(),
			registered: version.size,
		});
	}
	Ok(manifest)
}

/// Opens the key envelope `cid` (its `bytes`, already checked against the id) with
/// `private_key`.
pub fn open_key(
	cid: Cid,
	bytes: &[u8],
	private_key: &ReaderPrivateKey,
) -> Result<DocumentKey, TransferError> {
	let envelope =
		Envelope::from_bytes(bytes).map_err(|source| TransferError::Envelope { cid, source })?;
	envelope.open(private_key).map_err(|source| match source {
		CryptoError::NotARecipient { key_id } => {
			TransferError::NotARecipient { fingerprint: key_id.to_string() }
		},
		source => TransferError::Unwrap { cid, source },
	})
}

/// Fetches, verifies and decrypts every chunk of `manifest` into `out`, in order, advancing
/// `progress` by plaintext bytes. Only authenticated plaintext is ever written.
pub async fn decrypt_into(
	store: &Store,
	manifest: &Manifest,
	key: DocumentKey,
	out: &mut impl Write,
	progress: &ProgressBar,
) -> Result<u64, TransferError> {
	let mut decryptor = Decryptor::new(key);
	let chunks = manifest.chunks();
	let count = chunks.len();
	let mut written = 0u64;
	let mut chunk = store.get(&chunks[0]).await?;
	for (index, cid) in chunks.iter().enumerate() {
		// The next chunk is requested before this one is decrypted and written, so the
		// node reads it meanwhile.
		let prefetch = async {
			match chunks.get(index + 1) {
				Some(next) => Some(store.get(next).await),
				None => None,
			}
		};
		let open = async {
			decryptor
				.open_chunk(&mut chunk, index + 1 == count)
				.map_err(|source| TransferError::Chunk { index, cid: *cid, source })?;
			out.write_all(&chunk).map_err(TransferError::WritePlaintext)?;
			progress.inc(chunk.len() as u64);
			Ok::<_, TransferError>(chunk.len() as u64)
		};
		let (next, opened) = tokio::join!(prefetch, open);
		written += opened?;
		match next {
			Some(next) => chunk = next?,
			None => break,
		}
	}
	// Chunk lengths are fixed but the last; a manifest whose size disagrees with them lies.
	if written != manifest.plaintext_len() {
		return Err(TransferError::Length { expected: manifest.plaintext_len(), actual: written });
	}
	Ok(written)
}
