// The node's off-chain store methods (docs/rpc.md, `store_*`), typed for @polkadot/api by
// the definitions in chain.ts.

import type { ApiPromise } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { cidText } from '../crypto/cid';
import type { AccountSigner } from '../signer';
import { signRequest } from './request';

/** A block by content id, as the node serves it (the caller verifies it against the id). */
export async function getBlock(api: ApiPromise, cid: Uint8Array): Promise<Uint8Array> {
  return (await api.rpc.store.getBlock(cidText(cid))).toU8a(true);
}

/** The item of a document's reader list and key envelopes. */
export async function documentItem(api: ApiPromise, document: number): Promise<Uint8Array> {
  return (await api.rpc.store.documentItem(document)).toU8a();
}

export interface ReaderList {
  version: number;
  readers: string[];
}

/** The committed reader list of an item, as k+1 replicas report it. */
export async function readerList(api: ApiPromise, item: Uint8Array): Promise<ReaderList> {
  const list = (await api.rpc.store.acl(item)).toJSON() as { version: number; readers: string[] };
  return { version: Number(list.version), readers: list.readers.map(String) };
}

/** No store network on this node (7306), or no replica served the envelope (7308). */
const ENVELOPE_NOT_KEPT_BY_NETWORK = /^(7306|7308)\b/;

/**
 * A document's key envelope `envelope`, read as `reader` from the replicas that keep it
 * behind the reader list; as a plain block where the network does not keep it (as dt does).
 */
export async function getEnvelope(api: ApiPromise, reader: AccountSigner, document: number, envelope: Uint8Array): Promise<Uint8Array> {
  const item = await documentItem(api, document);
  const request = await signRequest({ readEnvelope: { item, envelope } }, reader, api.genesisHash.toU8a());
  try {
    // As hex: @polkadot/api reads a Uint8Array given for `Bytes` as length-prefixed.
    return (await api.rpc.store.getEnvelope(u8aToHex(request))).toU8a(true);
  } catch (error) {
    if (ENVELOPE_NOT_KEPT_BY_NETWORK.test(error instanceof Error ? error.message : '')) return getBlock(api, envelope);
    throw error;
  }
}

/** Stores `bytes` as a block, signed by `uploader` (a member); the block's content id. */
export async function putBlock(api: ApiPromise, uploader: AccountSigner, bytes: Uint8Array, cid: Uint8Array): Promise<void> {
  const request = await signRequest({ putBlock: { block: cid } }, uploader, api.genesisHash.toU8a());
  await api.rpc.store.putBlock(u8aToHex(bytes), u8aToHex(request));
}

/** Whether the node has the store's network (reader lists, envelopes behind them). */
export async function hasNetwork(api: ApiPromise): Promise<boolean> {
  try {
    await api.rpc.store.acl(new Uint8Array(32));
    return true;
  } catch (error) {
    return !/^7306\b/.test(error instanceof Error ? error.message : '');
  }
}

/** The list changed by someone else since it was read (`7305`): read it again and retry. */
const LIST_CONFLICT = /^7305\b/;

/**
 * Brings `item`'s reader list to exactly `wanted`, one signed change per reader (adds,
 * then removals), as `dt` does; returns the list's new version.
 */
export async function setReaders(api: ApiPromise, manager: AccountSigner, item: Uint8Array, wanted: string[], publicKeyOf: (account: string) => Uint8Array): Promise<number> {
  const genesis = api.genesisHash.toU8a();
  let list = await readerList(api, item);
  const changes = [
    ...wanted.filter((account) => !list.readers.includes(account)).map((account) => ({ add: true, account })),
    ...list.readers.filter((account) => !wanted.includes(account)).map((account) => ({ add: false, account })),
  ];
  for (const { add, account } of changes) {
    for (let attempt = 0; ; attempt++) {
      const op = add ? { addReader: publicKeyOf(account) } : { removeReader: publicKeyOf(account) };
      const request = await signRequest({ changeAcl: { item, baseVersion: BigInt(list.version), op } }, manager, genesis);
      try {
        const view = (await api.rpc.store.changeAcl(u8aToHex(request))).toJSON() as { version: number; readers: string[] };
        list = { version: Number(view.version), readers: view.readers.map(String) };
        break;
      } catch (error) {
        if (attempt >= 3 || !LIST_CONFLICT.test(error instanceof Error ? error.message : '')) throw error;
        list = await readerList(api, item);
        if (list.readers.includes(account) === add) break;
      }
    }
  }
  return list.version;
}

/** Publishes a key envelope behind `item`'s reader list, signed by a manager. */
export async function putEnvelope(api: ApiPromise, manager: AccountSigner, item: Uint8Array, envelope: Uint8Array, cid: Uint8Array): Promise<void> {
  const request = await signRequest({ writeEnvelope: { item, envelope: cid } }, manager, api.genesisHash.toU8a());
  await api.rpc.store.putEnvelope(u8aToHex(envelope), u8aToHex(request));
}
