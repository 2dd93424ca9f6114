// Documents written from the page, as `dt doc upload`, `version` and `annotate` write them:
// sealed here for every account cleared for the document's level (the chain's rule,
// readers.ts), chunks and manifest stored with signed puts, registered on chain, then the
// reader list set and the key envelope published on the store network (or stored as a
// block where there is none).

import type { ApiPromise } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { cidOf } from './crypto/cid';
import { sealVersion, type SealedVersion } from './crypto/document';
import { documentItem, hasNetwork, putBlock, putEnvelope, setReaders } from './offchain/store';
import { clearedReaders, type Level, type Readers } from './readers';
import type { Session } from './session';
import { chainText } from './text';
import { eventNumber, submit } from './tx';

export interface NewDocument {
  twin: number;
  title: string;
  mediaType: string;
  confidentiality: Level;
  element: string | null;
  contents: Uint8Array;
}

export interface Uploaded {
  document: number;
  block: string;
  readers: string[];
  skipped: { account: string; reason: string }[];
}

export type UploadProgress = (step: string) => void;


/** A document, as the chain registered it: what a version or an annotation is sealed for. */
export interface DocumentTarget {
  id: number;
  twin: number;
  confidentiality: Level;
}

export interface AddedVersion {
  version: number;
  block: string;
  readers: string[];
  skipped: { account: string; reason: string }[];
}

export interface AddedAnnotation {
  annotation: number;
  block: string;
}

/** What sealAndStore leaves: the sealed version, stored, and whom it was sealed for. */
interface Stored {
  sealed: SealedVersion;
  network: boolean;
  readers: Readers;
}

export async function uploadDocument(api: ApiPromise, you: Session, request: NewDocument, progress: UploadProgress): Promise<Uploaded> {
  const { sealed, network, readers } = await sealAndStore(api, you, request.twin, request.confidentiality, request.contents, progress);
  const call = api.tx.documents.registerDocument(
    request.twin,
    chainText(request.title),
    chainText(request.mediaType),
    request.contents.length,
    u8aToHex(sealed.contentId),
    u8aToHex(sealed.keyEnvelope),
    request.confidentiality,
    request.element === null ? null : chainText(request.element),
  );
  const finalized = await submit(api, you.signer, call, (status) => progress(`registering: ${status}`));
  const document = eventNumber(finalized, api.events.documents.DocumentRegistered, 'document');
  if (network) await publishVersion(api, you, document, sealed, readers, progress);
  return { document, block: finalized.block, readers: readers.included.map((reader) => reader.account), skipped: readers.skipped };
}

/**
 * Adds the next version of `document` from the page, as `dt doc version` does: sealed for
 * the accounts cleared for its level now, stored, added on chain, then the reader list
 * brought to those readers and the version's envelope published.
 */
export async function addVersion(api: ApiPromise, you: Session, document: DocumentTarget, contents: Uint8Array, progress: UploadProgress): Promise<AddedVersion> {
  const { sealed, network, readers } = await sealAndStore(api, you, document.twin, document.confidentiality, contents, progress);
  const call = api.tx.documents.addVersion(document.id, contents.length, u8aToHex(sealed.contentId), u8aToHex(sealed.keyEnvelope));
  const finalized = await submit(api, you.signer, call, (status) => progress(`adding the version: ${status}`));
  const version = eventNumber(finalized, api.events.documents.DocumentVersionAdded, 'version');
  if (network) await publishVersion(api, you, document.id, sealed, readers, progress);
  return { version, block: finalized.block, readers: readers.included.map((reader) => reader.account), skipped: readers.skipped };
}

/**
 * Annotates `version` of `document` with `text`, sealed like the document, as `dt doc
 * annotate` does. Its envelope is published behind the document's reader list where this
 * party may manage it; a reader who may not keeps it as a block, which only the accounts it
 * is sealed for can open.
 */
export async function annotateVersion(api: ApiPromise, you: Session, document: DocumentTarget, version: number, text: string, progress: UploadProgress): Promise<AddedAnnotation> {
  if (!text.trim()) throw new Error('the annotation is empty: write its text');
  const { sealed, network } = await sealAndStore(api, you, document.twin, document.confidentiality, new TextEncoder().encode(text), progress);
  if (network) {
    progress('publishing the key envelope');
    const item = await documentItem(api, document.id);
    try {
      await putEnvelope(api, you.signer, item, sealed.envelope, sealed.keyEnvelope);
    } catch (error) {
      if (!ENVELOPE_KEPT_AS_BLOCK.test(error instanceof Error ? error.message : '')) throw error;
      await putBlock(api, you.signer, sealed.envelope, sealed.keyEnvelope);
    }
  }
  const call = api.tx.documents.annotate(document.id, version, u8aToHex(sealed.contentId));
  const finalized = await submit(api, you.signer, call, (status) => progress(`annotating: ${status}`));
  const annotation = eventNumber(finalized, api.events.documents.DocumentAnnotated, 'annotation');
  return { annotation, block: finalized.block };
}

/** The replicas would not keep this party's envelope behind the list: not a manager (7302), or sealed for someone off the list (7307). */
const ENVELOPE_KEPT_AS_BLOCK = /^(7302|7307)\b/;

async function sealAndStore(api: ApiPromise, you: Session, twin: number, level: Level, contents: Uint8Array, progress: UploadProgress): Promise<Stored> {
  progress('finding who may read it');
  const readers = await clearedReaders(api, twin, level);
  if (!readers.included.some((reader) => reader.account === you.address)) {
    // The author reads what it wrote (as dt): with its own registered key.
    readers.included.push({ account: you.address, key: you.rsa.publicKeyDer });
  }
  progress(`sealing for ${readers.included.length} reader(s)`);
  const sealed = await sealVersion(contents, readers.included.map((reader) => reader.key));
  const network = await hasNetwork(api);
  const blocks = [...sealed.chunks, sealed.manifest, ...(network ? [] : [sealed.envelope])];
  for (const [index, block] of blocks.entries()) {
    progress(`storing block ${index + 1} of ${blocks.length}`);
    await putBlock(api, you.signer, block, await cidOf(block));
  }
  return { sealed, network, readers };
}

async function publishVersion(api: ApiPromise, you: Session, document: number, sealed: SealedVersion, readers: Readers, progress: UploadProgress): Promise<void> {
  progress('setting the reader list');
  const item = await documentItem(api, document);
  await setReaders(api, you.signer, item, readers.included.map((reader) => reader.account), (account) => decodeAddress(account));
  progress('publishing the key envelope');
  await putEnvelope(api, you.signer, item, sealed.envelope, sealed.keyEnvelope);
}
