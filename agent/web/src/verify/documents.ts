// A twin's documents checked in the page against the chain, as `dt verify` does, without
// decrypting: each version's and annotation's manifest, and every chunk it lists, are
// fetched and hashed here; the manifest must name the key envelope and size the chain
// records. Key envelopes kept behind the store network's reader lists are served to readers
// only, so they are not counted as missing; without the network they are blocks, checked too.

import type { ApiPromise } from '@polkadot/api';
import { FormatError, equal } from '../crypto/bytes';
import { cidText, holds } from '../crypto/cid';
import { decode as decodeManifest } from '../crypto/manifest';
import { readDocument } from '../documents';
import { getBlock, hasNetwork } from '../offchain/store';
import { errorText } from '../text';

export interface DocumentVerdict {
  document: number;
  title: string;
  blocks: number;
  problems: string[];
}

type Json = Record<string, any>;

/** `cid`'s block, fetched and hashed here; the problem instead if it is missing or altered. */
async function block(api: ApiPromise, cid: Uint8Array, what: string): Promise<Uint8Array | string> {
  let bytes: Uint8Array;
  try {
    bytes = await getBlock(api, cid);
  } catch (error) {
    return `${what} (${cidText(cid)}) is missing: ${errorText(error)}`;
  }
  return (await holds(cid, bytes)) ? bytes : `${what} (${cidText(cid)}) is not the block its id names`;
}

/** One stored version or annotation: its manifest and chunks. */
async function checkStored(api: ApiPromise, what: string, contentId: Uint8Array, expect: { keyEnvelope?: Uint8Array; size?: number }, network: boolean, problems: string[]): Promise<number> {
  const manifestBytes = await block(api, contentId, `the manifest of ${what}`);
  if (typeof manifestBytes === 'string') {
    problems.push(manifestBytes);
    return 0;
  }
  let manifest;
  try {
    manifest = decodeManifest(manifestBytes);
  } catch (error) {
    problems.push(`the manifest of ${what} does not decode: ${error instanceof FormatError ? error.message : error}`);
    return 1;
  }
  if (expect.keyEnvelope && !equal(manifest.envelope, expect.keyEnvelope)) problems.push(`the manifest of ${what} names another key envelope than the chain`);
  if (expect.size !== undefined && manifest.size !== expect.size) problems.push(`the manifest of ${what} says ${manifest.size} bytes, the chain ${expect.size}`);
  let checked = 1;
  if (!network) {
    const envelope = await block(api, manifest.envelope, `the key envelope of ${what}`);
    if (typeof envelope === 'string') problems.push(envelope);
    checked++;
  }
  for (const [index, cid] of manifest.chunks.entries()) {
    const chunk = await block(api, cid, `chunk ${index} of ${what}`);
    if (typeof chunk === 'string') problems.push(chunk);
    checked++;
  }
  return checked;
}

export async function verifyDocuments(api: ApiPromise, twin: number, reader: string | null, progress: (done: number, total: number) => void): Promise<DocumentVerdict[]> {
  const documents = (await api.call.documentsApi.documentsOfTwin(twin, reader)).toJSON() as Json[];
  const network = await hasNetwork(api);
  const verdicts: DocumentVerdict[] = [];
  for (const [done, listed] of documents.entries()) {
    progress(done, documents.length);
    const document = await readDocument(api, Number(listed.id), reader);
    if (!document) continue;
    const problems: string[] = [];
    let blocks = 0;
    for (const version of document.versions) {
      blocks += await checkStored(api, `version ${version.number}`, version.contentId, { keyEnvelope: version.keyEnvelope, size: version.size }, network, problems);
      for (const [index, annotation] of version.annotations.entries()) {
        blocks += await checkStored(api, `annotation ${index} of version ${version.number}`, annotation.contentId, {}, network, problems);
      }
    }
    verdicts.push({ document: document.id, title: document.title, blocks, problems });
  }
  progress(documents.length, documents.length);
  return verdicts;
}
