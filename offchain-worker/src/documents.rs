//! A document version end to end: [`put_document`] encrypts a plaintext stream under a
//! fresh key, stores its sealed chunks, key envelope and manifest as blocks, and returns
//! the two content ids the chain registers; [`open_document`] goes back from the
//! manifest's id to the plaintext, a chunk at a time, verifying every block on the way.
//!
//! Both directions hold a few chunks in memory ([`CHUNK_SIZE`] each) plus the manifest (36
//! bytes per chunk: 36 KiB for 1 GiB), whatever the document's size.
//!
//! # Manifest
//!
//! A version's content id on chain is the id of its manifest, a `raw` block (the chain
//! accepts `raw` and `dag-pb`; this is not a UnixFS `dag-pb` node, so `raw` is the honest
//! codec) holding the SCALE encoding of
//!
//! ```text
//! Manifest {
//!     magic: *b"DTM1",
//!     chunk_size: u32,        // CHUNK_SIZE, the plaintext bytes of every chunk but the last
//!     plaintext_len: u64,     // the document's size
//!     envelope: [u8; 36],     // binary CID of the version's key envelope
//!     chunks: Vec<[u8; 36]>,  // binary CIDs of the sealed chunks, in order
//! }
//! ```
//!
//! with `max(1, ceil(plaintext_len / chunk_size))` chunks. The manifest names the key
//! envelope, so its id alone commits to everything a reader needs; the chain's separate
//! `key_envelope` field must equal [`Manifest::envelope`]. Readers refuse manifests that do
//! not decode exactly, use another chunk size, or whose chunk count does not fit the size.

use std::io::{self, Read};

use codec::{Decode, DecodeAll, Encode};

use crate::{
	block_store::{BlockStore, BlockStoreError, MAX_BLOCK_SIZE},
	content_id::{Cid, CID_LEN},
	crypto::{
		CryptoError, Decryptor, DocumentKey, Encryptor, Envelope, ReaderPrivateKey,
		ReaderPublicKey, CHUNK_SIZE, TAG_LEN,
	},
};

/// The first bytes of every encoded manifest (format version 1).
pub const MANIFEST_MAGIC: [u8; 4] = *b"DTM1";

/// Most chunks one manifest lists, so that it fits one block.
pub const MAX_CHUNKS: usize = (MAX_BLOCK_SIZE - 64) / CID_LEN;

/// Largest document: about 113 GiB.
pub const MAX_DOCUMENT_SIZE: u64 = MAX_CHUNKS as u64 * CHUNK_SIZE as u64;

/// Why storing or reading a document failed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
	/// The block store failed, or holds a damaged copy of a block.
	#[error(transparent)]
	Store(#[from] BlockStoreError),
	/// Encryption, key unwrapping or decryption failed.
	#[error(transparent)]
	Crypto(#[from] CryptoError),
	/// A block the document needs is not in the store.
	#[error("block {cid} is not in the store; fetch it from a replica first")]
	MissingBlock {
		/// The missing block.
		cid: Cid,
	},
	/// The manifest's bytes are not a valid manifest.
	#[error("{cid} is not a valid document manifest: {reason}")]
	MalformedManifest {
		/// The manifest's id.
		cid: Cid,
		/// What is wrong.
		reason: String,
	},
	/// The plaintext is larger than one manifest can describe.
	#[error("the document exceeds the largest size a manifest describes, {max} bytes")]
	TooLarge {
		/// [`MAX_DOCUMENT_SIZE`].
		max: u64,
	},
	/// The key envelope given is not the one the manifest names.
	#[error("manifest {manifest} names another key envelope than {given}")]
	WrongEnvelope {
		/// The manifest's id.
		manifest: Cid,
		/// The id of the envelope given.
		given: Cid,
	},
	/// The chunks hold another number of bytes than the manifest says.
	#[error("manifest {cid} announces {expected} bytes but its chunks hold {actual}")]
	LengthMismatch {
		/// The manifest's id.
		cid: Cid,
		/// The size it announces.
		expected: u64,
		/// The size the chunks hold.
		actual: u64,
	},
}

impl DocumentError {
	/// The document error inside an [`io::Error`] returned by [`DocumentReader`]'s `read`,
	/// if it is one (rather than, say, a failing output the plaintext was copied to).
	pub fn from_read_error(error: &io::Error) -> Option<&DocumentError> {
		error.get_ref()?.downcast_ref()
	}
}

/// The wire form of a manifest, decoded before it is checked.
#[derive(Encode, Decode)]
struct ManifestWire {
	magic: [u8; 4],
	chunk_size: u32,
	plaintext_len: u64,
	envelope: Cid,
	chunks: Vec<Cid>,
}

/// What a document version consists of; see the module documentation for its format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
	plaintext_len: u64,
	envelope: Cid,
	chunks: Vec<Cid>,
}

/// Chunks a document of `plaintext_len` bytes is cut into (an empty one has one).
fn chunk_count(plaintext_len: u64) -> u64 {
	plaintext_len.div_ceil(CHUNK_SIZE as u64).max(1)
}

impl Manifest {
	/// The document's size in bytes.
	pub fn plaintext_len(&self) -> u64 {
		self.plaintext_len
	}

	/// The id of the version's key envelope.
	pub fn envelope(&self) -> &Cid {
		&self.envelope
	}

	/// The ids of the sealed chunks, in order.
	pub fn chunks(&self) -> &[Cid] {
		&self.chunks
	}

	/// The SCALE form stored as the manifest block.
	pub fn to_bytes(&self) -> Vec<u8> {
		ManifestWire {
			magic: MANIFEST_MAGIC,
			chunk_size: CHUNK_SIZE as u32,
			plaintext_len: self.plaintext_len,
			envelope: self.envelope,
			chunks: self.chunks.clone(),
		}
		.encode()
	}

	/// Decodes and checks the manifest block `cid` (whose bytes the caller verified).
	pub fn from_bytes(cid: &Cid, bytes: &[u8]) -> Result<Self, DocumentError> {
		let malformed = |reason: String| DocumentError::MalformedManifest { cid: *cid, reason };
		if bytes.get(..4) != Some(&MANIFEST_MAGIC[..]) {
			return Err(malformed("it does not start with the manifest magic DTM1".into()));
		}
		let wire = ManifestWire::decode_all(&mut &bytes[..])
			.map_err(|error| malformed(format!("SCALE decoding failed: {error}")))?;
		if wire.chunk_size as usize != CHUNK_SIZE {
			return Err(malformed(format!(
				"chunk size {} is not the supported {CHUNK_SIZE}",
				wire.chunk_size
			)));
		}
		let expected = chunk_count(wire.plaintext_len);
		if wire.chunks.len() as u64 != expected {
			return Err(malformed(format!(
				"{} chunks listed, {expected} hold {} bytes",
				wire.chunks.len(),
				wire.plaintext_len
			)));
		}
		Ok(Self { plaintext_len: wire.plaintext_len, envelope: wire.envelope, chunks: wire.chunks })
	}
}

/// The ids the chain registers for a stored version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredDocument {
	/// The manifest's id: the version's `content_id` on chain.
	pub content_id: Cid,
	/// The key envelope's id: the version's `key_envelope` on chain.
	pub key_envelope: Cid,
	/// The plaintext's size.
	pub plaintext_len: u64,
}

/// Encrypts `plaintext` (read to its end) under a fresh key for `readers`, stores every
/// block of the version durably in `store`, and returns the ids to register on chain.
///
/// If it fails midway, the blocks already stored stay behind unreferenced.
pub fn put_document(
	store: &BlockStore,
	plaintext: impl Read,
	readers: &[ReaderPublicKey],
) -> Result<StoredDocument, DocumentError> {
	put_document_with(store, store, plaintext, readers)
}

/// [`put_document`] with the key envelope stored in `envelope_store` rather than with the
/// chunks and the manifest: a replica serves chunks and manifests to any partner (they are
/// ciphertext), but an envelope only to the readers on the item's access list, so the two
/// live apart.
pub fn put_document_with(
	store: &BlockStore,
	envelope_store: &BlockStore,
	plaintext: impl Read,
	readers: &[ReaderPublicKey],
) -> Result<StoredDocument, DocumentError> {
	let key = DocumentKey::generate()?;
	let envelope = Envelope::seal(&key, readers)?;
	let key_envelope = envelope_store.put(&envelope.to_bytes())?;

	let mut chunks = Vec::new();
	let mut plaintext_len = 0u64;
	for sealed in Encryptor::new(key).seal_stream(plaintext) {
		if chunks.len() == MAX_CHUNKS {
			return Err(DocumentError::TooLarge { max: MAX_DOCUMENT_SIZE });
		}
		let sealed = sealed?;
		plaintext_len += (sealed.len() - TAG_LEN) as u64;
		chunks.push(store.put(&sealed)?);
	}
	let manifest = Manifest { plaintext_len, envelope: key_envelope, chunks };
	let content_id = store.put(&manifest.to_bytes())?;
	Ok(StoredDocument { content_id, key_envelope, plaintext_len })
}

fn fetch(store: &BlockStore, cid: &Cid) -> Result<Vec<u8>, DocumentError> {
	store.get(cid)?.ok_or(DocumentError::MissingBlock { cid: *cid })
}

/// Fetches, verifies and decodes the manifest `content_id`.
pub fn read_manifest(store: &BlockStore, content_id: &Cid) -> Result<Manifest, DocumentError> {
	Manifest::from_bytes(content_id, &fetch(store, content_id)?)
}

/// Opens the version whose manifest is `content_id` for the holder of `private_key`: the
/// key is unwrapped now (so an unauthorized reader fails here), the chunks are fetched,
/// verified and decrypted as the returned reader is read.
pub fn open_document<'a>(
	store: &'a BlockStore,
	content_id: &Cid,
	private_key: &ReaderPrivateKey,
) -> Result<DocumentReader<'a>, DocumentError> {
	let manifest = read_manifest(store, content_id)?;
	let envelope = Envelope::from_bytes(&fetch(store, manifest.envelope())?)?;
	open_document_with(store, content_id, &envelope, private_key)
}

/// [`open_document`] with the key envelope given (fetched from the item's replicas by a
/// signed request) instead of read from `store`. The envelope must be the one the manifest
/// names; any other is refused before its key is used.
pub fn open_document_with<'a>(
	store: &'a BlockStore,
	content_id: &Cid,
	envelope: &Envelope,
	private_key: &ReaderPrivateKey,
) -> Result<DocumentReader<'a>, DocumentError> {
	let manifest = read_manifest(store, content_id)?;
	let given = Cid::of(&envelope.to_bytes());
	if given.digest() != manifest.envelope().digest() {
		return Err(DocumentError::WrongEnvelope { manifest: *content_id, given });
	}
	let key = envelope.open(private_key)?;
	Ok(DocumentReader {
		store,
		content_id: *content_id,
		manifest,
		decryptor: Decryptor::new(key),
		next_chunk: 0,
		plain: Vec::new(),
		position: 0,
	})
}

/// The plaintext of a document version; see [`open_document`]. A read fails with an
/// [`io::Error`] wrapping a [`DocumentError`] (see [`DocumentError::from_read_error`]) on
/// any missing, damaged or tampered block; no unauthenticated plaintext is ever returned.
pub struct DocumentReader<'a> {
	store: &'a BlockStore,
	content_id: Cid,
	manifest: Manifest,
	decryptor: Decryptor,
	next_chunk: usize,
	plain: Vec<u8>,
	position: usize,
}

impl DocumentReader<'_> {
	/// The version's manifest.
	pub fn manifest(&self) -> &Manifest {
		&self.manifest
	}

	/// Fetches and opens the next chunk into `self.plain`.
	fn load_next_chunk(&mut self) -> Result<(), DocumentError> {
		let index = self.next_chunk;
		let count = self.manifest.chunks.len();
		let mut chunk = fetch(self.store, &self.manifest.chunks[index])?;
		let last = index + 1 == count;
		self.decryptor.open_chunk(&mut chunk, last)?;
		if last {
			let actual = (count as u64 - 1) * CHUNK_SIZE as u64 + chunk.len() as u64;
			if actual != self.manifest.plaintext_len {
				return Err(DocumentError::LengthMismatch {
					cid: self.content_id,
					expected: self.manifest.plaintext_len,
					actual,
				});
			}
		}
		self.next_chunk += 1;
		self.plain = chunk;
		self.position = 0;
		Ok(())
	}
}

impl Read for DocumentReader<'_> {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		while self.position == self.plain.len() {
			if self.next_chunk == self.manifest.chunks.len() || out.is_empty() {
				return Ok(0);
			}
			self.load_next_chunk().map_err(|error| {
				let kind = match &error {
					DocumentError::Store(BlockStoreError::Io { source, .. }) => source.kind(),
					DocumentError::MissingBlock { .. } => io::ErrorKind::NotFound,
					_ => io::ErrorKind::InvalidData,
				};
				io::Error::new(kind, error)
			})?;
		}
		let n = out.len().min(self.plain.len() - self.position);
		out[..n].copy_from_slice(&self.plain[self.position..self.position + n]);
		self.position += n;
		Ok(n)
	}
}

#[cfg(test)]
mod tests {
	use std::fs;

	use sha2::{Digest, Sha256};

	use super::*;
	use crate::crypto::test_keys;

	/// Deterministic pseudo-random bytes, generated as they are read: a large "file" that
	/// never sits in memory.
	struct Generated {
		state: u64,
		left: u64,
	}

	impl Generated {
		fn new(seed: u64, len: u64) -> Self {
			Self { state: seed | 1, left: len }
		}
	}

	impl Read for Generated {
		fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
			let n = out.len().min(self.left as usize);
			for byte in &mut out[..n] {
				self.state ^= self.state << 13;
				self.state ^= self.state >> 7;
				self.state ^= self.state << 17;
				*byte = self.state as u8;
			}
			self.left -= n as u64;
			Ok(n)
		}
	}

	fn sha256_of(mut reader: impl Read) -> io::Result<[u8; 32]> {
		let mut hasher = Sha256::new();
		let mut buffer = vec![0u8; 64 * 1024];
		loop {
			let n = reader.read(&mut buffer)?;
			if n == 0 {
				return Ok(hasher.finalize().into());
			}
			hasher.update(&buffer[..n]);
		}
	}

	fn store() -> (tempfile::TempDir, BlockStore) {
		let dir = tempfile::tempdir().unwrap();
		let store = BlockStore::open(dir.path()).unwrap();
		(dir, store)
	}

	fn alice_and_bob() -> Vec<ReaderPublicKey> {
		vec![test_keys::alice().public_key().clone(), test_keys::bob().public_key().clone()]
	}

	fn read_all(
		store: &BlockStore,
		cid: &Cid,
		key: &ReaderPrivateKey,
	) -> Result<Vec<u8>, DocumentError> {
		let mut reader = open_document(store, cid, key)?;
		let mut plain = Vec::new();
		match reader.read_to_end(&mut plain) {
			Ok(_) => Ok(plain),
			Err(error) => Err(match error.into_inner().map(|inner| inner.downcast()) {
				Some(Ok(document_error)) => *document_error,
				other => panic!("not a document error: {other:?}"),
			}),
		}
	}

	fn generated(len: usize) -> Vec<u8> {
		let mut data = Vec::new();
		Generated::new(len as u64, len as u64).read_to_end(&mut data).unwrap();
		data
	}

	#[test]
	fn round_trips_for_every_reader_at_every_size() {
		let (_dir, store) = store();
		for len in [0, 1, CHUNK_SIZE, 2 * CHUNK_SIZE + 12345] {
			let plaintext = generated(len);
			let stored = put_document(&store, &plaintext[..], &alice_and_bob()).unwrap();
			assert_eq!(stored.plaintext_len, len as u64);
			let manifest = read_manifest(&store, &stored.content_id).unwrap();
			assert_eq!(manifest.envelope(), &stored.key_envelope);
			assert_eq!(manifest.chunks().len() as u64, chunk_count(len as u64));
			for reader in [test_keys::alice(), test_keys::bob()] {
				assert_eq!(read_all(&store, &stored.content_id, reader).unwrap(), plaintext);
			}
		}
	}

	#[test]
	fn ids_are_what_the_chain_accepts() {
		let (_dir, store) = store();
		let stored = put_document(&store, &b"report"[..], &alice_and_bob()).unwrap();
		for cid in [stored.content_id, stored.key_envelope] {
			let info = dt_primitives::content_id::validate_content_id(cid.as_bytes()).unwrap();
			assert_eq!(info.codec, dt_primitives::content_id::CODEC_RAW);
		}
	}

	#[test]
	fn nobody_outside_the_envelope_can_read() {
		let (_dir, store) = store();
		let stored = put_document(&store, &b"maintenance report"[..], &alice_and_bob()).unwrap();
		let charlie = test_keys::charlie();
		assert!(matches!(
			read_all(&store, &stored.content_id, charlie),
			Err(DocumentError::Crypto(CryptoError::NotARecipient { key_id })) if key_id == charlie.id()
		));
		// Nor is the plaintext anywhere in the store.
		for cid in store.iter() {
			let block = store.get(&cid.unwrap()).unwrap().unwrap();
			assert!(!block.windows(11).any(|w| w == b"maintenance"));
		}
	}

	#[test]
	fn a_damaged_chunk_on_disk_is_reported_by_id() {
		let (_dir, store) = store();
		let plaintext = generated(2 * CHUNK_SIZE + 1);
		let stored = put_document(&store, &plaintext[..], &alice_and_bob()).unwrap();
		let manifest = read_manifest(&store, &stored.content_id).unwrap();
		let victim = manifest.chunks()[1];
		let path = store.path_of(&victim);
		let mut bytes = fs::read(&path).unwrap();
		bytes[1000] ^= 0x04;
		fs::write(&path, bytes).unwrap();
		assert!(matches!(
			read_all(&store, &stored.content_id, test_keys::alice()),
			Err(DocumentError::Store(BlockStoreError::Corrupted { cid, .. })) if cid == victim
		));
		store.quarantine(&victim).unwrap();
		assert!(matches!(
			read_all(&store, &stored.content_id, test_keys::alice()),
			Err(DocumentError::MissingBlock { cid }) if cid == victim
		));
	}

	/// What a dishonest writer or replica could build from genuine blocks: manifests with
	/// altered, reordered or missing chunks, which get new ids of their own. Decryption
	/// must refuse each of them.
	#[test]
	fn manifests_rebuilt_from_tampered_chunks_are_refused() {
		let (_dir, store) = store();
		let plaintext = generated(3 * CHUNK_SIZE + 10);
		let stored = put_document(&store, &plaintext[..], &alice_and_bob()).unwrap();
		let original = read_manifest(&store, &stored.content_id).unwrap();
		let alice = test_keys::alice();
		let rebuilt = |manifest: &Manifest| {
			let cid = store.put(&manifest.to_bytes()).unwrap();
			read_all(&store, &cid, alice)
		};

		// A bit flipped in chunk 2, stored as a block of its own.
		let mut flipped = store.get(&original.chunks[2]).unwrap().unwrap();
		flipped[7] ^= 0x01;
		let mut manifest = original.clone();
		manifest.chunks[2] = store.put(&flipped).unwrap();
		assert!(matches!(
			rebuilt(&manifest),
			Err(DocumentError::Crypto(CryptoError::TamperedChunk { index: 2 }))
		));

		let mut swapped = original.clone();
		swapped.chunks.swap(1, 2);
		assert!(matches!(
			rebuilt(&swapped),
			Err(DocumentError::Crypto(CryptoError::TamperedChunk { index: 1 }))
		));

		// The last chunk dropped and the size adjusted to match.
		let mut truncated = original.clone();
		truncated.chunks.pop();
		truncated.plaintext_len = 3 * CHUNK_SIZE as u64;
		assert!(matches!(
			rebuilt(&truncated),
			Err(DocumentError::Crypto(CryptoError::Truncated { chunks: 3 }))
		));

		// The size changed within the last chunk.
		let mut resized = original.clone();
		resized.plaintext_len -= 1;
		assert!(matches!(rebuilt(&resized), Err(DocumentError::LengthMismatch { .. })));

		// A chunk of another document, sealed under another key.
		let other = put_document(&store, &generated(100)[..], &alice_and_bob()).unwrap();
		let other = read_manifest(&store, &other.content_id).unwrap();
		let mut foreign = original.clone();
		*foreign.chunks.last_mut().unwrap() = other.chunks[0];
		assert!(matches!(
			rebuilt(&foreign),
			Err(DocumentError::Crypto(CryptoError::TamperedChunk { index: 3 }))
		));

		// Another version's envelope: a different key, so the first chunk fails.
		let mut other_key = original.clone();
		other_key.envelope = *other.envelope();
		assert!(matches!(
			rebuilt(&other_key),
			Err(DocumentError::Crypto(CryptoError::TamperedChunk { index: 0 }))
		));

		// The untouched original still reads.
		assert_eq!(read_all(&store, &stored.content_id, alice).unwrap(), plaintext);
	}

	#[test]
	fn a_tampered_envelope_is_refused() {
		let (_dir, store) = store();
		let stored = put_document(&store, &b"secret"[..], &alice_and_bob()).unwrap();
		let original = read_manifest(&store, &stored.content_id).unwrap();
		let mut envelope = store.get(&stored.key_envelope).unwrap().unwrap();
		// The last byte belongs to the last recipient's wrapped key.
		let last = envelope.len() - 1;
		envelope[last] ^= 0x01;
		let mut manifest = original.clone();
		manifest.envelope = store.put(&envelope).unwrap();
		let cid = store.put(&manifest.to_bytes()).unwrap();
		let last_reader = [test_keys::alice(), test_keys::bob()]
			.into_iter()
			.max_by_key(|reader| reader.id())
			.unwrap();
		assert!(matches!(
			read_all(&store, &cid, last_reader),
			Err(DocumentError::Crypto(CryptoError::UnwrapFailed { .. }))
		));

		manifest.envelope = store.put(b"DTE1 but nothing else").unwrap();
		let cid = store.put(&manifest.to_bytes()).unwrap();
		assert!(matches!(
			read_all(&store, &cid, last_reader),
			Err(DocumentError::Crypto(CryptoError::MalformedEnvelope { .. }))
		));
	}

	#[test]
	fn malformed_manifests_are_refused_without_panicking() {
		let (_dir, store) = store();
		let stored =
			put_document(&store, &generated(CHUNK_SIZE + 1)[..], &alice_and_bob()).unwrap();
		let bytes = store.get(&stored.content_id).unwrap().unwrap();
		let cid = stored.content_id;
		for end in 0..bytes.len() {
			assert!(Manifest::from_bytes(&cid, &bytes[..end]).is_err(), "cut at {end}");
		}
		let mut trailing = bytes.clone();
		trailing.push(0);
		assert!(Manifest::from_bytes(&cid, &trailing).is_err());
		let mut chunk_size = bytes.clone();
		chunk_size[4] ^= 1;
		assert!(Manifest::from_bytes(&cid, &chunk_size).is_err());
		// Size 0 but two chunks listed.
		let mut size = bytes.clone();
		size[8..16].fill(0);
		assert!(Manifest::from_bytes(&cid, &size).is_err());
		// An invalid id in the chunk list (hash code changed).
		let mut bad_cid = bytes.clone();
		bad_cid[16 + CID_LEN + 1 + 2] = 0x13;
		assert!(Manifest::from_bytes(&cid, &bad_cid).is_err());
		// The manifest id names a chunk, not a manifest.
		let manifest = read_manifest(&store, &cid).unwrap();
		assert!(matches!(
			read_manifest(&store, &manifest.chunks()[0]),
			Err(DocumentError::MalformedManifest { .. })
		));
		assert!(matches!(
			read_manifest(&store, &Cid::of(b"absent")),
			Err(DocumentError::MissingBlock { .. })
		));
	}

	/// 64 MiB through encrypt, store and decrypt without ever being in memory: the input is
	/// generated as it is read and the output hashed as it is produced.
	#[test]
	fn streams_a_large_document() {
		const LEN: u64 = 64 << 20;
		let (_dir, store) = store();
		let stored = put_document(&store, Generated::new(7, LEN), &alice_and_bob()).unwrap();
		assert_eq!(stored.plaintext_len, LEN);
		let reader = open_document(&store, &stored.content_id, test_keys::bob()).unwrap();
		assert_eq!(reader.manifest().chunks().len(), 64);
		assert_eq!(sha256_of(reader).unwrap(), sha256_of(Generated::new(7, LEN)).unwrap());
	}
}
