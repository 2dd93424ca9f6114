// A twin's document as the chain records it (DocumentsApi.documentWithHistory), its reader
// list in the store network, and its versions and annotations opened in the page with the
// signed-in party's RSA key (crypto/document.ts checks every block against the chain).

import type { ApiPromise } from '@polkadot/api';
import { hexToU8a } from '@polkadot/util';
import { FormatError } from './crypto/bytes';
import { openVersion } from './crypto/document';
import { decode as decodeManifest } from './crypto/manifest';
import { documentItem, getBlock, getEnvelope, readerList, type ReaderList } from './offchain/store';
import type { Session } from './session';
import { errorText, hexText } from './text';

export interface Annotation {
  contentId: Uint8Array;
  author: string;
  addedAt: number;
}

export interface DocumentVersion {
  number: number;
  contentId: Uint8Array;
  keyEnvelope: Uint8Array;
  size: number;
  author: string;
  addedAt: number;
  annotations: Annotation[];
}

export interface DocumentDetail {
  id: number;
  twin: number;
  title: string;
  mediaType: string;
  confidentiality: string;
  element: string | null;
  registeredBy: string;
  registeredAt: number;
  retired: { by: string; at: number } | null;
  versions: DocumentVersion[];
}

type Json = Record<string, any>;

/** The document with every version, oldest first; `null` if none or not for `reader`. */
export async function readDocument(api: ApiPromise, id: number, reader: string | null): Promise<DocumentDetail | null> {
  const history = (await api.call.documentsApi.documentWithHistory(id, reader)).toJSON() as Json | null;
  if (!history) return null;
  const document = history.document as Json;
  const retired = document.retired as [string, number] | null;
  return {
    id: Number(document.id),
    twin: Number(document.twin),
    title: hexText(document.title),
    mediaType: hexText(document.mediaType),
    confidentiality: String(document.confidentiality),
    element: document.element ? hexText(document.element) : null,
    registeredBy: String(document.registeredBy),
    registeredAt: Number(document.registeredAt),
    retired: retired ? { by: String(retired[0]), at: Number(retired[1]) } : null,
    versions: (history.versions as Json[]).map((record) => ({
      number: Number(record.number),
      contentId: hexToU8a(record.version.contentId),
      keyEnvelope: hexToU8a(record.version.keyEnvelope),
      size: Number(record.version.size),
      author: String(record.version.author),
      addedAt: Number(record.version.addedAt),
      annotations: (record.annotations as Json[]).map((a) => ({
        contentId: hexToU8a(a.contentId),
        author: String(a.author),
        addedAt: Number(a.addedAt),
      })),
    })),
  };
}

/** The document's committed reader list, or why the network cannot tell it. */
export async function readersOf(api: ApiPromise, id: number): Promise<ReaderList | { unavailable: string }> {
  try {
    return await readerList(api, await documentItem(api, id));
  } catch (error) {
    return { unavailable: errorText(error) };
  }
}

/** A version's plain bytes, opened as `you`; `progress` per chunk. */
export async function openDocumentVersion(
  api: ApiPromise,
  you: Session,
  document: DocumentDetail,
  version: DocumentVersion,
  progress: (done: number, total: number) => void,
): Promise<Uint8Array> {
  const envelope = await getEnvelope(api, you.signer, document.id, version.keyEnvelope);
  return openVersion(version, (cid) => getBlock(api, cid), envelope, { privateKey: you.rsa.privateKey, publicKey: you.rsa.publicKeyDer }, progress);
}

/** Annotations are short texts: more than this is not one (as dt). */
const MAX_ANNOTATION = 1 << 20;

/** An annotation's text: a small document of its own, sealed with its own key envelope. */
export async function openAnnotation(api: ApiPromise, you: Session, document: DocumentDetail, annotation: Annotation): Promise<string> {
  const manifest = decodeManifest(await getBlock(api, annotation.contentId));
  if (manifest.size > MAX_ANNOTATION) throw new FormatError(`${manifest.size} bytes is too long for an annotation`);
  const envelope = await getEnvelope(api, you.signer, document.id, manifest.envelope);
  const chain = { contentId: annotation.contentId, keyEnvelope: manifest.envelope, size: manifest.size };
  const bytes = await openVersion(chain, (cid) => getBlock(api, cid), envelope, { privateKey: you.rsa.privateKey, publicKey: you.rsa.publicKeyDer });
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
