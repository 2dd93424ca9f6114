// The store's formats as the browser makes and opens them, against the byte layouts of
// dt-offchain (vectors from its tests) and its refusals: a non-reader, a changed, moved or
// dropped chunk, an envelope or manifest that is not the one the chain records.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { concat, equal } from '../src/crypto/bytes';
import { chunkNonce, CHUNK_SIZE } from '../src/crypto/chunks';
import { cidOf, cidText, parseCid } from '../src/crypto/cid';
import { openVersion, sealVersion, type SealedVersion } from '../src/crypto/document';
import { decode as decodeEnvelope, importPrivateKey, NotAReader } from '../src/crypto/envelope';
import { decode as decodeManifest } from '../src/crypto/manifest';

const keys = new URL('../../../pallets/primitives/test-keys/', import.meta.url);
const key = (name: string) => new Uint8Array(readFileSync(new URL(name, keys)));
const first = { publicKey: key('rsa3072.der'), privateDer: key('rsa3072.pk8') };
const second = { publicKey: key('rsa3072-second.der'), privateDer: key('rsa3072-second.pk8') };

async function reader(party: typeof first) {
  return { privateKey: await importPrivateKey(party.privateDer), publicKey: party.publicKey };
}

/** The store as a map of blocks by id. */
async function store(version: SealedVersion, change: (blocks: Map<string, Uint8Array>) => void = () => undefined) {
  const blocks = new Map<string, Uint8Array>();
  for (const block of [version.manifest, version.envelope, ...version.chunks]) {
    blocks.set(cidText(await cidOf(block)), block);
  }
  change(blocks);
  return async (cid: Uint8Array) => {
    const block = blocks.get(cidText(cid));
    if (!block) throw new Error(`no block ${cidText(cid)}`);
    return block;
  };
}

/** `length` bytes of random data (getRandomValues fills at most 64 KiB at a time). */
function random(length: number): Uint8Array {
  const block = crypto.getRandomValues(new Uint8Array(65536));
  return concat(...Array.from({ length: Math.ceil(length / 65536) }, () => block)).subarray(0, length);
}

const chain = (version: SealedVersion) => ({
  contentId: version.contentId,
  keyEnvelope: version.keyEnvelope,
  size: version.size,
});

describe('content ids', () => {
  test('are dt-offchain\'s (its "hello world" vector)', async () => {
    const cid = await cidOf(new TextEncoder().encode('hello world'));
    expect(cidText(cid)).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e');
    expect(parseCid(cidText(cid))).toEqual(cid);
    expect(() => parseCid('Qm123')).toThrow('not a base32 content id');
  });
});

describe('document versions', () => {
  test('chunk nonces carry the index big-endian and the last flag', () => {
    expect([...chunkNonce(258, true)]).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1]);
  });

  test('a version of several chunks opens for every reader, byte for byte', async () => {
    const big = random(CHUNK_SIZE * 2 + 1000);
    const version = await sealVersion(big, [first.publicKey, second.publicKey]);
    expect(version.chunks.map((c) => c.length)).toEqual([CHUNK_SIZE + 16, CHUNK_SIZE + 16, 1000 + 16]);
    const manifest = decodeManifest(version.manifest);
    expect(manifest.size).toBe(big.length);
    expect(manifest.envelope).toEqual(version.keyEnvelope);
    const envelope = decodeEnvelope(version.envelope);
    expect(envelope.recipients).toHaveLength(2);
    for (const party of [first, second]) {
      const opened = await openVersion(chain(version), await store(version), version.envelope, await reader(party));
      // Compared as bytes: a deep equality over 2 MiB takes the test runner half a minute.
      expect(opened.length).toBe(big.length);
      expect(equal(opened, big)).toBe(true);
    }
  });

  test('an empty document is one chunk holding only its tag', async () => {
    const version = await sealVersion(new Uint8Array(), [first.publicKey]);
    expect(version.chunks.map((c) => c.length)).toEqual([16]);
    const opened = await openVersion(chain(version), await store(version), version.envelope, await reader(first));
    expect(opened).toEqual(new Uint8Array());
  });

  test('a party the envelope was not sealed for is told it is not a reader', async () => {
    const version = await sealVersion(new Uint8Array([1, 2, 3]), [first.publicKey]);
    await expect(
      openVersion(chain(version), await store(version), version.envelope, await reader(second)),
    ).rejects.toBeInstanceOf(NotAReader);
  });

  test('a changed or swapped chunk, another envelope or another size is refused', async () => {
    const big = random(CHUNK_SIZE + 1); // two chunks
    const version = await sealVersion(big, [first.publicKey]);
    const me = await reader(first);
    // A chunk changed in the store (its id no longer matches).
    const changed = await store(version, (blocks) => {
      const id = cidText(decodeManifest(version.manifest).chunks[0]);
      const copy = blocks.get(id)!.slice();
      copy[10] ^= 1;
      blocks.set(id, copy);
    });
    await expect(openVersion(chain(version), changed, version.envelope, me)).rejects.toThrow(
      'chunk 0 is not the block its id names',
    );
    // Another version's envelope handed over (another key, another id).
    const other = await sealVersion(big, [first.publicKey]);
    await expect(openVersion(chain(version), await store(version), other.envelope, me)).rejects.toThrow(
      'not the one the chain records',
    );
    // A chain record of another size.
    await expect(
      openVersion({ ...chain(version), size: big.length - 1 }, await store(version), version.envelope, me),
    ).rejects.toThrow(`the manifest says ${big.length} bytes`);
  });
});

describe('interoperability with dt-offchain', () => {
  const fixtures = new URL('./fixtures/', import.meta.url);
  interface Fixture {
    plaintext: string;
    content_id: string;
    key_envelope: string;
    size: number;
    blocks: Record<string, string>;
  }
  const hex = (text: string) => new Uint8Array((text.match(/../g) ?? []).map((b) => parseInt(b, 16)));
  const toHex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

  test('a version dt-offchain sealed opens in the browser', async () => {
    const sealed: Fixture = JSON.parse(readFileSync(new URL('rust-sealed.json', fixtures), 'utf8'));
    const blocks = async (cid: Uint8Array) => hex(sealed.blocks[cidText(cid)] ?? '');
    const keyEnvelope = parseCid(sealed.key_envelope);
    const opened = await openVersion(
      { contentId: parseCid(sealed.content_id), keyEnvelope, size: sealed.size },
      blocks,
      await blocks(keyEnvelope),
      await reader(first),
    );
    expect(new TextDecoder().decode(opened)).toBe(sealed.plaintext);
  });

  // Writes the version offchain-worker/tests/web_client_interop.rs opens with dt-offchain.
  test.skipIf(!process.env.DT_WRITE_FIXTURES)('writes a version sealed in the browser', async () => {
    const plaintext = 'Maintenance report, sealed in the browser for dt-offchain. '.repeat(40);
    const version = await sealVersion(new TextEncoder().encode(plaintext), [first.publicKey]);
    const blocks: Record<string, string> = {};
    for (const block of [version.manifest, version.envelope, ...version.chunks]) {
      blocks[cidText(await cidOf(block))] = toHex(block);
    }
    const fixture: Fixture = {
      plaintext,
      content_id: cidText(version.contentId),
      key_envelope: cidText(version.keyEnvelope),
      size: version.size,
      blocks,
    };
    writeFileSync(new URL('browser-sealed.json', fixtures), JSON.stringify(fixture, null, 2) + '\n');
  });
});
