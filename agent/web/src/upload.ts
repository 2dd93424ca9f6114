// A document uploaded from the page, as `dt doc upload` does it: sealed here for every
// account cleared for its level (the chain's rule, readers.ts), its chunks and manifest
// stored with signed puts, registered on chain, then the reader list set and the key
// envelope published on the store network (or stored as a block where there is none).

import type { ApiPromise } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { cidOf } from './crypto/cid';
import { sealVersion } from './crypto/document';
import { documentItem, hasNetwork, putBlock, putEnvelope, setReaders } from './offchain/store';
import { clearedReaders, type Level } from './readers';
import type { Session } from './session';
import { chainText } from './text';
import { submit } from './tx';

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


export async function uploadDocument(api: ApiPromise, you: Session, request: NewDocument, progress: UploadProgress): Promise<Uploaded> {
  progress('finding who may read it');
  const readers = await clearedReaders(api, request.twin, request.confidentiality);
  if (!readers.included.some((reader) => reader.account === you.address)) {
    // The author reads what it wrote (as dt): with its own registered key.
    readers.included.push({ account: you.address, key: you.rsa.publicKeyDer });
  }
  progress(`sealing for ${readers.included.length} reader(s)`);
  const sealed = await sealVersion(request.contents, readers.included.map((reader) => reader.key));
  const network = await hasNetwork(api);
  const blocks = [...sealed.chunks, sealed.manifest, ...(network ? [] : [sealed.envelope])];
  for (const [index, block] of blocks.entries()) {
    progress(`storing block ${index + 1} of ${blocks.length}`);
    await putBlock(api, you.pair, block, await cidOf(block));
  }
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
  const finalized = await submit(api, you.pair, call, (status) => progress(`registering: ${status}`));
  const registered = finalized.events.find(({ event }) => api.events.documents.DocumentRegistered.is(event));
  if (!registered) throw new Error(`the chain registered no document in block ${finalized.block}`);
  const document = Number((registered.event.data as unknown as { document: { toString(): string } }).document.toString());
  if (network) {
    progress('setting the reader list');
    const item = await documentItem(api, document);
    await setReaders(api, you.pair, item, readers.included.map((reader) => reader.account), (account) => decodeAddress(account));
    progress('publishing the key envelope');
    await putEnvelope(api, you.pair, item, sealed.envelope, sealed.keyEnvelope);
  }
  return { document, block: finalized.block, readers: readers.included.map((reader) => reader.account), skipped: readers.skipped };
}
