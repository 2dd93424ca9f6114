// A document version's content: 1 MiB plaintext chunks, each sealed with AES-256-GCM under
// the version's key, its nonce binding the chunk's place and whether it is the last, so no
// chunk can be moved, dropped or appended without the tag failing (dt-offchain's chunks.rs).

import { FormatError, buffer, concat, u64be, utf8 } from './bytes';

export const CHUNK_SIZE = 1024 * 1024;
export const TAG_LENGTH = 16;
const CHUNK_AAD = utf8('dt-offchain chunk v1');

/** The 12-byte nonce of chunk `index`: its index (big-endian), three zeros, the last flag. */
export function chunkNonce(index: number, last: boolean): Uint8Array {
  return concat(u64be(index), new Uint8Array([0, 0, 0, last ? 1 : 0]));
}

/** The plaintext split as the store splits it: at least one chunk, only the last short. */
export function split(plaintext: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < plaintext.length; offset += CHUNK_SIZE) {
    chunks.push(plaintext.subarray(offset, offset + CHUNK_SIZE));
  }
  return chunks.length ? chunks : [new Uint8Array()];
}

export async function importDocumentKey(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  if (key.length !== 32) throw new FormatError(`a document key has 32 bytes, not ${key.length}`);
  return crypto.subtle.importKey('raw', buffer(key), 'AES-GCM', false, [usage]);
}

export async function sealChunk(key: CryptoKey, index: number, last: boolean, plaintext: Uint8Array): Promise<Uint8Array> {
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: buffer(chunkNonce(index, last)), additionalData: buffer(CHUNK_AAD), tagLength: 128 },
    key,
    buffer(plaintext),
  );
  return new Uint8Array(sealed);
}

/** Chunk `index` of `count`, opened; an error if it is not that chunk of that version. */
export async function openChunk(key: CryptoKey, index: number, count: number, sealed: Uint8Array): Promise<Uint8Array> {
  const last = index === count - 1;
  const expected = last ? `${TAG_LENGTH} to ${CHUNK_SIZE + TAG_LENGTH}` : `${CHUNK_SIZE + TAG_LENGTH}`;
  if (sealed.length < TAG_LENGTH || sealed.length > CHUNK_SIZE + TAG_LENGTH || (!last && sealed.length !== CHUNK_SIZE + TAG_LENGTH)) {
    throw new FormatError(`chunk ${index} has ${sealed.length} bytes, not ${expected}`);
  }
  try {
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: buffer(chunkNonce(index, last)), additionalData: buffer(CHUNK_AAD), tagLength: 128 },
      key,
      buffer(sealed),
    );
    return new Uint8Array(opened);
  } catch {
    throw new FormatError(`chunk ${index} does not open: it was changed, moved or sealed under another key`);
  }
}
