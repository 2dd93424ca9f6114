// The feed checks of the verification page: an entry's hash over its SCALE encoding, and a
// batch root rebuilt from an entry's path (batch_tree.rs's shape: a level's last node moves
// up unchanged). Real entries are checked against a running node by the browser tests; here,
// changed entries and paths are refused.
import { blake2AsU8a } from '@polkadot/util-crypto';
import { describe, expect, test } from 'vitest';
import { concat, equal } from '../src/crypto/bytes';
import type { Entry } from '../src/offchain/feed';
import { entryHash, rootFromPath } from '../src/verify/feed';

const entry = (sequence: number, payload: string): Entry => ({
  feed: 3,
  sequence,
  timestamp: 1_000 + sequence,
  hash: '',
  previous: new Uint8Array(32),
  epoch: null,
  payload: new TextEncoder().encode(payload),
  proof: { signer: '', signature: new Uint8Array(64), leaves: 3, index: sequence, path: [] },
});
const leaf = (hash: Uint8Array) => blake2AsU8a(concat(new Uint8Array([0]), hash), 256);
const node = (l: Uint8Array, r: Uint8Array) => blake2AsU8a(concat(new Uint8Array([1]), l, r), 256);

describe('entries', () => {
  test('the hash covers every field: a changed payload, epoch or link changes it', () => {
    const original = entryHash(entry(0, '250.1'));
    expect(equal(entryHash(entry(0, '250.2')), original)).toBe(false);
    expect(equal(entryHash({ ...entry(0, '250.1'), epoch: 0 }), original)).toBe(false);
    expect(equal(entryHash({ ...entry(0, '250.1'), previous: new Uint8Array(32).fill(1) }), original)).toBe(false);
    expect(equal(entryHash(entry(0, '250.1')), original)).toBe(true);
  });
});

describe('batch roots', () => {
  const hashes = [0, 1, 2].map((i) => entryHash(entry(i, `25${i}.0`)));
  const [a, b, c] = hashes.map(leaf);
  const root = node(node(a, b), c);

  test('every entry of a batch of three leads to its root; the third moves up alone first', () => {
    expect(equal(rootFromPath(hashes[0], 0, 3, [b, c])!, root)).toBe(true);
    expect(equal(rootFromPath(hashes[1], 1, 3, [a, c])!, root)).toBe(true);
    expect(equal(rootFromPath(hashes[2], 2, 3, [node(a, b)])!, root)).toBe(true);
  });

  test('another entry, a wrong index or a path of the wrong length does not', () => {
    expect(equal(rootFromPath(hashes[1], 0, 3, [b, c])!, root)).toBe(false);
    expect(equal(rootFromPath(hashes[0], 1, 3, [b, c])!, root)).toBe(false);
    expect(rootFromPath(hashes[2], 2, 3, [node(a, b), a])).toBeNull();
    expect(rootFromPath(hashes[0], 0, 3, [b])).toBeNull();
    expect(rootFromPath(hashes[0], 3, 3, [])).toBeNull();
  });
});
