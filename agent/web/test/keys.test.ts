// The key files of `dt key export` opened as the page opens them (fixtures exported by dt
// from //Alice and a fresh RSA key): the account signs as Alice, the RSA key is the one dt
// holds and opens what is sealed for it; wrong passphrases, edited and foreign files refused.
import { readFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';
import { beforeAll, describe, expect, test } from 'vitest';
import { FormatError, equal } from '../src/crypto/bytes';
import { open as openEnvelope, seal } from '../src/crypto/envelope';
import { openAccount, parseAccountJson } from '../src/keys/account';
import { openRsaKey, parseEncryptedPkcs8, pemBody, WrongPassphrase } from '../src/keys/pkcs8';

const fixture = (name: string) => readFileSync(new URL(`fixtures/keys/${name}`, import.meta.url), 'utf8');
const expected = JSON.parse(fixture('alice.expected.json'));
const accountJson = fixture('alice.account.json');
const rsaPem = fixture('alice.rsa.pem');

beforeAll(() => cryptoWaitReady());

describe('the exported account', () => {
  test('opens with the passphrase into the key of //Alice, which signs', async () => {
    const pair = await openAccount(parseAccountJson(accountJson), expected.passphrase);
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    expect(pair.address).toBe(expected.account);
    expect(equal(pair.publicKey, alice.publicKey)).toBe(true);
    const signature = pair.sign('dt-ledger');
    expect(signatureVerify('dt-ledger', signature, alice.address).isValid).toBe(true);
  });

  test('a wrong passphrase is refused', async () => {
    await expect(openAccount(parseAccountJson(accountJson), 'not it')).rejects.toThrow(WrongPassphrase);
  });

  test('a file whose address was changed to another account is refused', async () => {
    const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob').address;
    const edited = JSON.stringify({ ...JSON.parse(accountJson), address: bob });
    await expect(openAccount(parseAccountJson(edited), expected.passphrase)).rejects.toThrow(/names .* but holds the key of/);
  });

  test('files that are not encrypted sr25519 accounts are refused before anything is stored', () => {
    expect(() => parseAccountJson('{')).toThrow(FormatError);
    const json = JSON.parse(accountJson);
    expect(() => parseAccountJson(JSON.stringify({ ...json, encoding: { ...json.encoding, content: ['pkcs8', 'ed25519'] } }))).toThrow(/ed25519/);
    expect(() => parseAccountJson(JSON.stringify({ ...json, encoding: { ...json.encoding, type: ['none'] } }))).toThrow(/not encrypted/);
  });
});

describe('the exported RSA key', () => {
  test('opens into the key dt holds, which opens an envelope sealed for it', async () => {
    const key = await openRsaKey(rsaPem, expected.passphrase);
    const publicKey = hexToU8a(`0x${expected.rsa_public_der}`);
    expect(equal(key.publicKeyDer, publicKey)).toBe(true);
    expect(key.privateKey.extractable).toBe(false);
    const documentKey = crypto.getRandomValues(new Uint8Array(32));
    const envelope = await seal(documentKey, [publicKey]);
    expect(equal(await openEnvelope(envelope, key.privateKey, key.publicKeyDer), documentKey)).toBe(true);
  });

  test('a wrong passphrase is refused', async () => {
    await expect(openRsaKey(rsaPem, 'not it')).rejects.toThrow(WrongPassphrase);
  });

  test('a changed ciphertext is refused, wherever the change is', async () => {
    // In the last block the padding breaks; in the modulus, CBC decrypts to a key that
    // imports but does not work: only the round trip through both halves finds it.
    const original = pemBody(rsaPem, 'ENCRYPTED PRIVATE KEY');
    const modulus = original.length - parseEncryptedPkcs8(original).ciphertext.length + 100;
    for (const [at, refusal] of [[original.length - 10, WrongPassphrase], [modulus, /damaged/]] as const) {
      const der = original.slice();
      der[at] ^= 1;
      await expect(openRsaKey(pem(der), expected.passphrase)).rejects.toThrow(refusal);
    }
  });

  test('a key derived with HMAC-SHA1 instead of HMAC-SHA256 is refused', async () => {
    const der = pemBody(rsaPem, 'ENCRYPTED PRIVATE KEY');
    const sha256Prf = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
    const at = der.findIndex((_, i) => sha256Prf.every((byte, j) => der[i + j] === byte));
    expect(at).toBeGreaterThan(0);
    der[at + 7] = 0x07; // hmacWithSHA1
    await expect(openRsaKey(pem(der), expected.passphrase)).rejects.toThrow(/not HMAC-SHA256/);
  });

  test('other files are refused with what was expected', async () => {
    await expect(openRsaKey(accountJson, expected.passphrase)).rejects.toThrow(/NAME.rsa.pem/);
  });
});

function pem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${base64}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}
