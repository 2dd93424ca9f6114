//! Sealing and opening a document's chunks: the STREAM construction over AES-256-GCM, so
//! that any size is handled a chunk at a time and a reordered, dropped or cut chunk shows.

use std::io::{self, Read};

use aes_gcm::{
	aead::{generic_array::GenericArray, AeadInPlace, KeyInit},
	Aes256Gcm,
};

use super::{CryptoError, DocumentKey};

/// Plaintext bytes per chunk (the last chunk may hold fewer). Large enough that the
/// per-chunk costs (a tag, a content id, a file in the block store) stay negligible, small
/// enough that a reader holds only a few of them in memory.
pub const CHUNK_SIZE: usize = 1 << 20;

/// Length of the GCM tag each sealed chunk ends with.
pub const TAG_LEN: usize = 16;

/// Length of a full sealed chunk.
const SEALED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_LEN;

/// Associated data of every chunk, so a chunk of this format never opens as anything else.
pub const CHUNK_AAD: &[u8] = b"dt-offchain chunk v1";

/// The nonce of chunk `index`: the index big-endian, three zero bytes, then the final flag.
fn nonce(index: u64, last: bool) -> GenericArray<u8, aes_gcm::aead::consts::U12> {
	let mut nonce = [0u8; 12];
	nonce[..8].copy_from_slice(&index.to_be_bytes());
	nonce[11] = u8::from(last);
	nonce.into()
}

fn cipher(key: &DocumentKey) -> Aes256Gcm {
	Aes256Gcm::new(GenericArray::from_slice(key.as_bytes()))
}

/// Seals the chunks of one document version, in order.
pub struct Encryptor {
	cipher: Aes256Gcm,
	next_index: u64,
	finished: bool,
}

impl Encryptor {
	/// An encryptor under `key`, which it consumes so the key can seal nothing else.
	pub fn new(key: DocumentKey) -> Self {
		Self { cipher: cipher(&key), next_index: 0, finished: false }
	}

	/// Seals the next chunk in place: `chunk` holds its plaintext and then holds the
	/// ciphertext followed by the tag. A chunk not marked `last` must hold exactly
	/// [`CHUNK_SIZE`] bytes; nothing may follow the `last` chunk. Returns its index.
	pub fn seal_chunk(&mut self, chunk: &mut Vec<u8>, last: bool) -> Result<u64, CryptoError> {
		let index = self.next_index;
		if self.finished {
			return Err(CryptoError::ChunkAfterFinal { index });
		}
		if chunk.len() > CHUNK_SIZE || (!last && chunk.len() != CHUNK_SIZE) {
			return Err(CryptoError::BadChunkLength {
				index,
				len: chunk.len() + TAG_LEN,
				expected: SEALED_CHUNK_SIZE,
			});
		}
		let tag = self
			.cipher
			.encrypt_in_place_detached(&nonce(index, last), CHUNK_AAD, chunk)
			// Only fails for inputs beyond 64 GiB, which the length check excludes.
			.map_err(|_| CryptoError::BadChunkLength {
				index,
				len: chunk.len(),
				expected: SEALED_CHUNK_SIZE,
			})?;
		chunk.extend_from_slice(&tag);
		self.next_index += 1;
		self.finished = last;
		Ok(index)
	}

	/// Reads `plaintext` to its end and yields its sealed chunks, holding at most two
	/// chunks at a time (the one being sealed and the one read ahead to learn whether the
	/// current one is the last).
	pub fn seal_stream<R: Read>(self, plaintext: R) -> SealedChunks<R> {
		SealedChunks { encryptor: self, plaintext, read_ahead: None, done: false }
	}
}

/// The sealed chunks of a plaintext stream, in order; see [`Encryptor::seal_stream`].
pub struct SealedChunks<R> {
	encryptor: Encryptor,
	plaintext: R,
	read_ahead: Option<Vec<u8>>,
	done: bool,
}

impl<R: Read> SealedChunks<R> {
	/// Reads up to one chunk of plaintext; fewer bytes only at the end of the stream.
	fn read_chunk(&mut self) -> Result<Vec<u8>, CryptoError> {
		let mut chunk = Vec::with_capacity(SEALED_CHUNK_SIZE);
		(&mut self.plaintext)
			.take(CHUNK_SIZE as u64)
			.read_to_end(&mut chunk)
			.map_err(CryptoError::ReadPlaintext)?;
		Ok(chunk)
	}

	fn next_sealed(&mut self) -> Result<Vec<u8>, CryptoError> {
		let mut chunk = match self.read_ahead.take() {
			Some(chunk) => chunk,
			None => self.read_chunk()?,
		};
		let last = if chunk.len() < CHUNK_SIZE {
			true
		} else {
			let ahead = self.read_chunk()?;
			let last = ahead.is_empty();
			if !last {
				self.read_ahead = Some(ahead);
			}
			last
		};
		self.encryptor.seal_chunk(&mut chunk, last)?;
		self.done = last;
		Ok(chunk)
	}
}

impl<R: Read> Iterator for SealedChunks<R> {
	type Item = Result<Vec<u8>, CryptoError>;

	fn next(&mut self) -> Option<Self::Item> {
		if self.done {
			return None;
		}
		let sealed = self.next_sealed();
		if sealed.is_err() {
			self.done = true;
		}
		Some(sealed)
	}
}

/// Opens the chunks of one document version, in order, and notices a stream that was
/// reordered, cut short or extended.
pub struct Decryptor {
	cipher: Aes256Gcm,
	next_index: u64,
	finished: bool,
}

impl Decryptor {
	/// A decryptor under `key` (as unwrapped from the version's envelope).
	pub fn new(key: DocumentKey) -> Self {
		Self { cipher: cipher(&key), next_index: 0, finished: false }
	}

	/// Opens the next chunk in place: `sealed` holds ciphertext and tag and then holds the
	/// plaintext. `last` says whether the framing around the chunks (the end of the stream,
	/// the manifest's chunk count) makes this the final chunk; the chunk itself must agree.
	/// On error `sealed` is left empty or as it was, never partly decrypted.
	pub fn open_chunk(&mut self, sealed: &mut Vec<u8>, last: bool) -> Result<(), CryptoError> {
		let index = self.next_index;
		if self.finished {
			return Err(CryptoError::ChunkAfterFinal { index });
		}
		let len = sealed.len();
		if !(TAG_LEN..=SEALED_CHUNK_SIZE).contains(&len) || (!last && len != SEALED_CHUNK_SIZE) {
			return Err(CryptoError::BadChunkLength { index, len, expected: SEALED_CHUNK_SIZE });
		}
		let (body, tag) = sealed.split_at_mut(len - TAG_LEN);
		let tag = GenericArray::from_slice(tag);
		if self
			.cipher
			.decrypt_in_place_detached(&nonce(index, last), CHUNK_AAD, body, tag)
			.is_ok()
		{
			sealed.truncate(len - TAG_LEN);
			self.next_index += 1;
			self.finished = last;
			return Ok(());
		}
		// Tell a cut or extended stream from an altered chunk: a chunk that opens with the
		// other final flag is genuine but in the wrong place relative to the stream's end.
		let genuine_elsewhere = self
			.cipher
			.decrypt_in_place_detached(&nonce(index, !last), CHUNK_AAD, body, tag)
			.is_ok();
		if genuine_elsewhere {
			sealed.clear();
			return Err(if last {
				CryptoError::Truncated { chunks: index + 1 }
			} else {
				CryptoError::ChunkAfterFinal { index: index + 1 }
			});
		}
		Err(CryptoError::TamperedChunk { index })
	}

	/// Whether the final chunk has been opened.
	pub fn is_finished(&self) -> bool {
		self.finished
	}

	/// Checks that the stream ended with its final chunk. Call at the end of the input:
	/// without it, a stream cut right after a chunk boundary would go unnoticed.
	pub fn finish(&self) -> Result<(), CryptoError> {
		if self.finished {
			Ok(())
		} else {
			Err(CryptoError::Truncated { chunks: self.next_index })
		}
	}

	/// Decrypts a stream of sealed chunks written back to back (as [`SealedChunks`] yields
	/// them), holding one chunk at a time. Reading fails with an [`io::Error`] of kind
	/// `InvalidData` wrapping the [`CryptoError`] when the stream was tampered with; no
	/// plaintext of an unauthenticated chunk is ever returned.
	pub fn open_stream<R: Read>(self, sealed: R) -> OpenedStream<R> {
		OpenedStream { decryptor: self, sealed, peeked: None, plain: Vec::new(), position: 0 }
	}
}

/// The plaintext of a sealed stream; see [`Decryptor::open_stream`].
pub struct OpenedStream<R> {
	decryptor: Decryptor,
	sealed: R,
	/// A byte read past a full chunk to learn whether the stream ends there.
	peeked: Option<u8>,
	plain: Vec<u8>,
	position: usize,
}

impl<R: Read> OpenedStream<R> {
	fn read_exactly_or_to_end(&mut self, buffer: &mut Vec<u8>, limit: usize) -> io::Result<()> {
		(&mut self.sealed).take(limit as u64).read_to_end(buffer).map(|_| ())
	}

	/// Reads and opens the next chunk into `self.plain`.
	fn next_chunk(&mut self) -> io::Result<()> {
		let mut sealed = std::mem::take(&mut self.plain);
		sealed.clear();
		sealed.extend(self.peeked.take());
		let wanted = SEALED_CHUNK_SIZE - sealed.len();
		self.read_exactly_or_to_end(&mut sealed, wanted)?;
		let last = if sealed.len() < SEALED_CHUNK_SIZE {
			true
		} else {
			let mut byte = [0u8; 1];
			let more = loop {
				match self.sealed.read(&mut byte) {
					Ok(n) => break n,
					Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
					Err(error) => return Err(error),
				}
			};
			self.peeked = (more == 1).then_some(byte[0]);
			more == 0
		};
		if sealed.is_empty() {
			// The stream ended exactly after a non-final chunk (or was empty).
			self.decryptor.finish().map_err(invalid_data)?;
		}
		self.decryptor.open_chunk(&mut sealed, last).map_err(invalid_data)?;
		self.plain = sealed;
		self.position = 0;
		Ok(())
	}
}

fn invalid_data(error: CryptoError) -> io::Error {
	io::Error::new(io::ErrorKind::InvalidData, error)
}

impl<R: Read> Read for OpenedStream<R> {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		while self.position == self.plain.len() {
			if self.decryptor.is_finished() || out.is_empty() {
				return Ok(0);
			}
			self.next_chunk()?;
		}
		let n = out.len().min(self.plain.len() - self.position);
		out[..n].copy_from_slice(&self.plain[self.position..self.position + n]);
		self.position += n;
		Ok(n)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn key_pair() -> (DocumentKey, DocumentKey) {
		let key = DocumentKey::generate().unwrap();
		let copy = DocumentKey::from_bytes(zeroize::Zeroizing::new(*key.as_bytes()));
		(key, copy)
	}

	fn data(len: usize) -> Vec<u8> {
		(0..len).map(|i| (i % 251) as u8).collect()
	}

	fn seal(key: DocumentKey, plaintext: &[u8]) -> Vec<Vec<u8>> {
		Encryptor::new(key).seal_stream(plaintext).collect::<Result<_, _>>().unwrap()
	}

	fn open(key: DocumentKey, chunks: &[Vec<u8>]) -> Result<Vec<u8>, CryptoError> {
		let mut decryptor = Decryptor::new(key);
		let mut plain = Vec::new();
		for (i, chunk) in chunks.iter().enumerate() {
			let mut chunk = chunk.clone();
			decryptor.open_chunk(&mut chunk, i + 1 == chunks.len())?;
			plain.extend_from_slice(&chunk);
		}
		decryptor.finish()?;
		Ok(plain)
	}

	fn open_stream(key: DocumentKey, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
		let mut plain = Vec::new();
		match Decryptor::new(key).open_stream(sealed).read_to_end(&mut plain) {
			Ok(_) => Ok(plain),
			Err(error) => Err(*error.into_inner().unwrap().downcast::<CryptoError>().unwrap()),
		}
	}

	#[test]
	fn round_trips_at_every_boundary() {
		for len in [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17] {
			let plaintext = data(len);
			let (key, copy) = key_pair();
			let chunks = seal(key, &plaintext);
			assert_eq!(chunks.len(), len.div_ceil(CHUNK_SIZE).max(1), "length {len}");
			assert!(chunks[..chunks.len() - 1].iter().all(|c| c.len() == SEALED_CHUNK_SIZE));
			assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), len + TAG_LEN * chunks.len());
			assert_eq!(open(copy, &chunks).unwrap(), plaintext, "length {len}");

			let (key, copy) = key_pair();
			let stream = seal(key, &plaintext).concat();
			assert_eq!(open_stream(copy, &stream).unwrap(), plaintext, "length {len}");
		}
	}

	#[test]
	fn ciphertext_differs_from_plaintext_and_between_keys() {
		let plaintext = data(1000);
		let a = seal(DocumentKey::generate().unwrap(), &plaintext);
		let b = seal(DocumentKey::generate().unwrap(), &plaintext);
		assert_ne!(a[0][..1000], plaintext[..]);
		assert_ne!(a, b);
	}

	#[test]
	fn wrong_key_fails_on_the_first_chunk() {
		let chunks = seal(DocumentKey::generate().unwrap(), &data(10));
		let other = DocumentKey::generate().unwrap();
		assert!(matches!(open(other, &chunks), Err(CryptoError::TamperedChunk { index: 0 })));
	}

	#[test]
	fn bit_flips_anywhere_are_detected() {
		let plaintext = data(2 * CHUNK_SIZE + 5);
		// The start, middle, tag of chunk 1; the last byte of the short final chunk.
		for (chunk, at) in [(0, 0), (1, CHUNK_SIZE / 2), (1, CHUNK_SIZE + 3), (2, 20)] {
			let (key, copy) = key_pair();
			let mut chunks = seal(key, &plaintext);
			chunks[chunk][at] ^= 0x01;
			let result = open(copy, &chunks);
			assert!(
				matches!(result, Err(CryptoError::TamperedChunk { index }) if index == chunk as u64),
				"flip in chunk {chunk} at {at}: {result:?}"
			);
		}
	}

	#[test]
	fn reordered_dropped_and_duplicated_chunks_are_detected() {
		let plaintext = data(3 * CHUNK_SIZE + 5);
		let (key, copy) = key_pair();
		let chunks = seal(key, &plaintext);
		let mut swapped = chunks.clone();
		swapped.swap(0, 1);
		assert!(matches!(open(copy, &swapped), Err(CryptoError::TamperedChunk { index: 0 })));

		let (key, copy) = key_pair();
		let chunks = seal(key, &plaintext);
		let mut dropped = chunks.clone();
		dropped.remove(1);
		assert!(matches!(open(copy, &dropped), Err(CryptoError::TamperedChunk { index: 1 })));

		let (key, copy) = key_pair();
		let mut duplicated = seal(key, &plaintext);
		duplicated.insert(1, duplicated[0].clone());
		assert!(matches!(open(copy, &duplicated), Err(CryptoError::TamperedChunk { index: 1 })));
	}

	#[test]
	fn truncation_is_detected_at_every_chunk_boundary() {
		let plaintext = data(3 * CHUNK_SIZE);
		let (key, copy) = key_pair();
		let chunks = seal(key, &plaintext);
		assert_eq!(chunks.len(), 3);
		let mut decryptor = Decryptor::new(copy);
		for (i, chunk) in chunks[..2].iter().enumerate() {
			let mut chunk = chunk.clone();
			decryptor.open_chunk(&mut chunk, false).unwrap();
			assert!(
				matches!(decryptor.finish(), Err(CryptoError::Truncated { chunks }) if chunks == i as u64 + 1)
			);
		}

		for keep in 0..3 {
			let (key, copy) = key_pair();
			let chunks = seal(key, &plaintext);
			let result = if keep == 0 {
				// Nothing left: the stream is empty, and even an empty document has a chunk.
				open_stream(copy, &[])
			} else {
				open(copy, &chunks[..keep])
			};
			assert!(
				matches!(result, Err(CryptoError::Truncated { chunks }) if chunks == keep as u64),
				"kept {keep}: {result:?}"
			);
		}

		// Cut inside a chunk, or after it on a concatenated stream.
		let (key, copy) = key_pair();
		let stream = seal(key, &plaintext).concat();
		assert!(matches!(
			open_stream(copy, &stream[..SEALED_CHUNK_SIZE + 100]),
			Err(CryptoError::TamperedChunk { index: 1 })
		));
		let (key, copy) = key_pair();
		let stream = seal(key, &plaintext).concat();
		assert!(matches!(
			open_stream(copy, &stream[..2 * SEALED_CHUNK_SIZE]),
			Err(CryptoError::Truncated { chunks: 2 })
		));
	}

	#[test]
	fn data_after_the_final_chunk_is_detected() {
		let (key, copy) = key_pair();
		let mut chunks = seal(key, &data(CHUNK_SIZE));
		assert_eq!(chunks.len(), 1);
		chunks.push(chunks[0].clone());
		// Framed by a longer list, the genuine final chunk shows up as followed by more.
		assert!(matches!(open(copy, &chunks), Err(CryptoError::ChunkAfterFinal { index: 1 })));

		let (key, copy) = key_pair();
		let mut stream = seal(key, &data(10)).concat();
		stream.push(0);
		assert!(matches!(open_stream(copy, &stream), Err(CryptoError::TamperedChunk { index: 0 })));

		let (key, copy) = key_pair();
		let chunks = seal(key, &data(10));
		let mut decryptor = Decryptor::new(copy);
		let mut chunk = chunks[0].clone();
		decryptor.open_chunk(&mut chunk, true).unwrap();
		let mut again = chunks[0].clone();
		assert!(matches!(
			decryptor.open_chunk(&mut again, true),
			Err(CryptoError::ChunkAfterFinal { index: 1 })
		));
	}

	#[test]
	fn hostile_lengths_are_refused_without_panicking() {
		let (_, copy) = key_pair();
		let mut decryptor = Decryptor::new(copy);
		for len in [0, 1, TAG_LEN - 1, SEALED_CHUNK_SIZE + 1] {
			let mut chunk = vec![0u8; len];
			assert!(matches!(
				decryptor.open_chunk(&mut chunk, true),
				Err(CryptoError::BadChunkLength { .. })
			));
		}
		let mut short = vec![0u8; 100];
		assert!(matches!(
			decryptor.open_chunk(&mut short, false),
			Err(CryptoError::BadChunkLength { index: 0, len: 100, .. })
		));
		let mut just_a_tag = vec![0u8; TAG_LEN];
		assert!(matches!(
			decryptor.open_chunk(&mut just_a_tag, true),
			Err(CryptoError::TamperedChunk { index: 0 })
		));

		let (key, _) = key_pair();
		let mut encryptor = Encryptor::new(key);
		let mut short = vec![0u8; 10];
		assert!(matches!(
			encryptor.seal_chunk(&mut short, false),
			Err(CryptoError::BadChunkLength { .. })
		));
	}

	#[test]
	fn nonces_are_distinct_for_index_and_finality() {
		assert_ne!(nonce(0, false), nonce(0, true));
		assert_ne!(nonce(1, false), nonce(256, false));
		assert_eq!(nonce(1, true).as_slice(), &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
	}

	#[test]
	fn read_errors_are_reported_not_swallowed() {
		struct Failing;
		impl Read for Failing {
			fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
				Err(io::Error::other("disk gone"))
			}
		}
		let (key, _) = key_pair();
		let mut chunks = Encryptor::new(key).seal_stream(Failing);
		assert!(matches!(chunks.next(), Some(Err(CryptoError::ReadPlaintext(_)))));
		assert!(chunks.next().is_none());
	}
}
