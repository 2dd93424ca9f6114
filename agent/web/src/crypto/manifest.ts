// A document version's manifest ("DTM1"): its size, its envelope's id and its chunks' ids;
// its own id is the version's content id on chain (dt-offchain's documents.rs).

import { FormatError, Reader, compact, concat, equal, u32le, u64le, utf8 } from './bytes';
import { CHUNK_SIZE } from './chunks';

const MAGIC = utf8('DTM1');
const CID_LENGTH = 36;

export interface Manifest {
  size: number;
  envelope: Uint8Array;
  chunks: Uint8Array[];
}

/** How many chunks a document of `size` bytes has. */
export const chunkCount = (size: number): number => Math.max(1, Math.ceil(size / CHUNK_SIZE));

export function encode(manifest: Manifest): Uint8Array {
  return concat(
    MAGIC,
    u32le(CHUNK_SIZE),
    u64le(manifest.size),
    manifest.envelope,
    compact(manifest.chunks.length),
    ...manifest.chunks,
  );
}

export function decode(bytes: Uint8Array): Manifest {
  const reader = new Reader(bytes, 'manifest');
  if (!equal(reader.take(4, 'its magic'), MAGIC)) throw new FormatError('not a document manifest (no DTM1)');
  const chunkSize = reader.u32le('the chunk size');
  if (chunkSize !== CHUNK_SIZE) throw new FormatError(`chunks of ${chunkSize} bytes, not ${CHUNK_SIZE}`);
  const size = reader.u64le('the size');
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`a document of ${size} bytes`);
  const envelope = reader.take(CID_LENGTH, "the envelope's id").slice();
  const count = reader.compact('the number of chunks');
  const chunks = Array.from({ length: count }, (_, i) => reader.take(CID_LENGTH, `chunk ${i}'s id`).slice());
  reader.end();
  if (count !== chunkCount(Number(size))) {
    throw new FormatError(`${count} chunks for ${size} bytes, not ${chunkCount(Number(size))}`);
  }
  return { size: Number(size), envelope, chunks };
}
