// A whole document version sealed and opened as `dt doc upload` and `dt doc download` do:
// a fresh key, the sealed chunks, the envelope and the manifest; opening checks every id,
// the envelope the chain names and the size it records before anything is returned.

import { FormatError, equal } from './bytes';
import { cidOf, holds } from './cid';
import { importDocumentKey, openChunk, sealChunk, split } from './chunks';
import * as envelopes from './envelope';
import * as manifests from './manifest';

/** What uploading a version puts in the store, and the ids the chain records. */
export interface SealedVersion {
  size: number;
  envelope: Uint8Array;
  chunks: Uint8Array[];
  manifest: Uint8Array;
  /** The version's content id on chain: the manifest's id. */
  contentId: Uint8Array;
  /** The version's key envelope id on chain. */
  keyEnvelope: Uint8Array;
}

export async function sealVersion(plaintext: Uint8Array, readers: envelopes.PublicKeyDer[]): Promise<SealedVersion> {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const key = await importDocumentKey(rawKey, 'encrypt');
  const parts = split(plaintext);
  const chunks = await Promise.all(parts.map((part, i) => sealChunk(key, i, i === parts.length - 1, part)));
  const envelope = await envelopes.seal(rawKey, readers);
  rawKey.fill(0);
  const keyEnvelope = await cidOf(envelope);
  const manifest = manifests.encode({
    size: plaintext.length,
    envelope: keyEnvelope,
    chunks: await Promise.all(chunks.map(cidOf)),
  });
  return { size: plaintext.length, envelope, chunks, manifest, contentId: await cidOf(manifest), keyEnvelope };
}

/** Where opening a version reads its blocks from (the store, by id). */
export type BlockSource = (cid: Uint8Array) => Promise<Uint8Array>;

/** The version the chain records as (`contentId`, `keyEnvelope`, `size`), opened as `reader`. */
export async function openVersion(
  chain: { contentId: Uint8Array; keyEnvelope: Uint8Array; size: number },
  blocks: BlockSource,
  envelope: Uint8Array,
  reader: { privateKey: CryptoKey; publicKey: envelopes.PublicKeyDer },
  progress: (done: number, total: number) => void = () => undefined,
): Promise<Uint8Array> {
  const manifestBytes = await verified(blocks, chain.contentId, 'the manifest');
  const manifest = manifests.decode(manifestBytes);
  if (!equal(manifest.envelope, chain.keyEnvelope)) {
    throw new FormatError('the manifest names another key envelope than the chain records');
  }
  if (manifest.size !== chain.size) {
    throw new FormatError(`the manifest says ${manifest.size} bytes, the chain ${chain.size}`);
  }
  if (!(await holds(chain.keyEnvelope, envelope))) {
    throw new FormatError('the key envelope is not the one the chain records');
  }
  const key = await importDocumentKey(await envelopes.open(envelope, reader.privateKey, reader.publicKey), 'decrypt');
  const out = new Uint8Array(manifest.size);
  let offset = 0;
  for (const [index, cid] of manifest.chunks.entries()) {
    const sealed = await verified(blocks, cid, `chunk ${index}`);
    const chunk = await openChunk(key, index, manifest.chunks.length, sealed);
    if (offset + chunk.length > out.length) throw new FormatError('the chunks hold more than the recorded size');
    out.set(chunk, offset);
    offset += chunk.length;
    progress(index + 1, manifest.chunks.length);
  }
  if (offset !== manifest.size) throw new FormatError(`the chunks hold ${offset} bytes, not ${manifest.size}`);
  return out;
}

async function verified(blocks: BlockSource, cid: Uint8Array, what: string): Promise<Uint8Array> {
  const bytes = await blocks(cid);
  if (!(await holds(cid, bytes))) throw new FormatError(`${what} is not the block its id names`);
  return bytes;
}
