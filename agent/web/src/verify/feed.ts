// A feed's log checked in the page against the chain, as `dt verify` does (not trusting the
// node that serves it): every entry hashes to the hash served with it and links to the one
// before; its batch's root, rebuilt from the entry's proof, carries the feed owner's
// signature for this chain; each checkpoint anchored on chain names an entry with that hash
// and timestamp; and the log ends where a signed batch ends (nothing withheld).

import type { ApiPromise } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress, signatureVerify } from '@polkadot/util-crypto';
import { compact, concat, equal, u32le, u64le, utf8 } from '../crypto/bytes';
import type { FeedInfo } from '../feeds';
import type { Entry, FeedReader } from '../offchain/feed';

const SIGNING_DOMAIN = utf8('dt-ledger/feed-batch/v3');
const ZERO: Uint8Array = new Uint8Array(32);

/** SCALE of dt-offchain's `Entry`: feed, sequence, timestamp, previous, epoch, payload. */
export function entryHash(entry: Entry): Uint8Array {
  const epoch = entry.epoch === null ? new Uint8Array([0]) : concat(new Uint8Array([1]), u32le(entry.epoch));
  const encoded = concat(u64le(entry.feed), u64le(entry.sequence), u64le(entry.timestamp), entry.previous, epoch, compact(entry.payload.length), entry.payload);
  return blake2AsU8a(encoded, 256);
}

const leaf = (hash: Uint8Array) => blake2AsU8a(concat(new Uint8Array([0]), hash), 256);
const node = (left: Uint8Array, right: Uint8Array) => blake2AsU8a(concat(new Uint8Array([1]), left, right), 256);

/** The root of a batch of `leaves` on which leaf `index` has the siblings `path` (batch_tree.rs). */
export function rootFromPath(hash: Uint8Array, index: number, leaves: number, path: Uint8Array[]): Uint8Array | null {
  if (index >= leaves) return null;
  let [position, width, current, next] = [index, leaves, leaf(hash), 0];
  while (width > 1) {
    if (position % 2 === 1) {
      if (next >= path.length) return null;
      current = node(path[next++], current);
    } else if (position + 1 < width) {
      if (next >= path.length) return null;
      current = node(current, path[next++]);
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  return next === path.length ? current : null;
}

export interface FeedVerdict {
  feed: number;
  entries: number;
  checkpoints: number;
  problems: string[];
}

type Json = Record<string, any>;

async function checkpointsOf(api: ApiPromise, feed: number): Promise<Map<number, { hash: string; timestamp: number }>> {
  const out = new Map<number, { hash: string; timestamp: number }>();
  for (let from = 0; ; ) {
    const page = (await api.call.feedsApi.checkpoints(feed, from, 1024)).toJSON() as Json[];
    for (const record of page) {
      out.set(Number(record.checkpoint.sequence), { hash: String(record.checkpoint.entryHash), timestamp: Number(record.checkpoint.timestamp) });
    }
    if (page.length < 1024) return out;
    from = Number(page[page.length - 1].index) + 1;
  }
}

export async function verifyFeed(api: ApiPromise, reader: FeedReader, feed: FeedInfo, progress: (entries: number) => void): Promise<FeedVerdict> {
  const genesis = api.genesisHash.toU8a();
  const owner = decodeAddress(feed.owner);
  const checkpoints = await checkpointsOf(api, feed.id);
  const problems: string[] = [];
  const problem = (text: string) => problems.length < 20 && problems.push(text);
  const signedRoots = new Set<string>();
  let previous: Uint8Array = ZERO;
  let expected = 0;
  let last: Entry | null = null;
  for (;;) {
    const page = await reader.range(expected, expected + 5000);
    if (!page.length) break;
    for (const entry of page) {
      const at = `entry ${entry.sequence}`;
      if (entry.sequence !== expected) problem(`${at}: expected entry ${expected} next`);
      const hash = entryHash(entry);
      if (u8aToHex(hash) !== entry.hash) problem(`${at}: the hash served with it is not its hash`);
      if (!equal(entry.previous, previous)) problem(`${at}: does not link to the entry before`);
      if (!equal(decodeAddress(entry.proof.signer), owner)) problem(`${at}: signed by ${entry.proof.signer}, not the feed's owner`);
      const root = rootFromPath(hash, entry.proof.index, entry.proof.leaves, entry.proof.path);
      if (!root) problem(`${at}: its proof does not fit a batch of ${entry.proof.leaves}`);
      else {
        const signed = `${u8aToHex(root)}:${entry.proof.leaves}:${u8aToHex(entry.proof.signature)}`;
        if (!signedRoots.has(signed)) {
          const message = concat(SIGNING_DOMAIN, genesis, u32le(entry.proof.leaves), root);
          if (signatureVerify(message, entry.proof.signature, owner).isValid) signedRoots.add(signed);
          else problem(`${at}: its batch's signature does not verify for the owner on this chain`);
        }
      }
      const anchored = checkpoints.get(entry.sequence);
      if (anchored && (anchored.hash !== entry.hash || anchored.timestamp !== entry.timestamp)) {
        problem(`${at}: the checkpoint on chain names another entry (hash or timestamp)`);
      }
      previous = hash;
      expected = entry.sequence + 1;
      last = entry;
    }
    progress(expected);
  }
  if (last && last.proof.index + 1 !== last.proof.leaves) {
    problem(`the log ends inside a signed batch (entry ${last.sequence} is ${last.proof.index + 1} of ${last.proof.leaves}): entries are withheld`);
  }
  for (const sequence of checkpoints.keys()) {
    if (sequence >= expected) problem(`checkpoint at entry ${sequence}: the store serves no such entry`);
  }
  return { feed: feed.id, entries: expected, checkpoints: checkpoints.size, problems };
}
