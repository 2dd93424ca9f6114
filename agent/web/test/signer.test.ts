// Who signs the store's requests: a key unlocked in the page signs the request's message, an
// extension the message wrapped in `<Bytes>` (the replicas accept both: network/auth.rs);
// the request carries the account's public key either way. An extension's refusal, an
// account of another key type and a signature of the wrong length are refused here.
import type { InjectedExtension } from '@polkadot/extension-inject/types';
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, sr25519Verify } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { concat, equal, u64le, utf8 } from '../src/crypto/bytes';
import { encodeAction, signRequest } from '../src/offchain/request';
import { ExtensionRefused, extensionSigner, pairSigner } from '../src/signer';

const genesis = new Uint8Array(32).fill(7);
const action = { putBlock: { block: new Uint8Array(36).fill(3) } };
let bob: ReturnType<Keyring['addFromUri']>;

beforeAll(async () => {
  await cryptoWaitReady();
  bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
});

/** An extension whose signRaw answers with `answer(data)`. */
function extension(answer: (data: string) => Promise<string>): InjectedExtension {
  return {
    name: 'test-wallet',
    version: '1',
    accounts: { get: async () => [], subscribe: () => () => undefined },
    signer: { signRaw: async ({ data }) => ({ id: 1, signature: (await answer(data)) as `0x${string}` }) },
  };
}

/** The request's parts: action, signer, timestamp, nonce, signature (the SCALE layout). */
function parts(request: Uint8Array) {
  const actionLength = encodeAction(action).length;
  return {
    signer: request.slice(actionLength, actionLength + 32),
    signature: request.slice(actionLength + 32 + 8 + 16),
  };
}

const message = (timestamp: number, nonce: Uint8Array) =>
  concat(utf8('dt-ledger/offchain-request/v2'), genesis, encodeAction(action), u64le(timestamp), nonce);

describe('signed requests', () => {
  test('a key in the page signs the message itself', async () => {
    const nonce = new Uint8Array(16).fill(1);
    const request = await signRequest(action, pairSigner(bob), genesis, 1_000, nonce);
    const { signer, signature } = parts(request);
    expect(equal(signer, bob.publicKey)).toBe(true);
    expect(sr25519Verify(message(1_000, nonce), signature, bob.publicKey)).toBe(true);
  });

  test("an extension signs it wrapped in <Bytes>, under the account's key", async () => {
    const nonce = new Uint8Array(16).fill(2);
    const signer = extensionSigner(bob.address, 'sr25519', extension(async (data) => u8aToHex(bob.sign(u8aWrapBytes(hexToU8a(data))))));
    const request = await signRequest(action, signer, genesis, 2_000, nonce);
    const { signer: key, signature } = parts(request);
    expect(equal(key, bob.publicKey)).toBe(true);
    // sr25519 itself (signatureVerify would try the wrapped and bare forms both).
    expect(sr25519Verify(u8aWrapBytes(message(2_000, nonce)), signature, bob.publicKey)).toBe(true);
    expect(sr25519Verify(message(2_000, nonce), signature, bob.publicKey)).toBe(false);
  });

  test('refused: a declined signature, a signature of the wrong length, an account of another key type', async () => {
    const declining = extensionSigner(bob.address, 'sr25519', extension(async () => Promise.reject(new Error('Cancelled'))));
    await expect(signRequest(action, declining, genesis)).rejects.toThrow(/^test-wallet did not sign: Cancelled$/);
    // A MultiSignature (a type byte before the 64 bytes) is not what the store checks.
    const typed = extensionSigner(bob.address, 'sr25519', extension(async (data) => u8aToHex(concat(new Uint8Array([1]), bob.sign(hexToU8a(data))))));
    await expect(signRequest(action, typed, genesis)).rejects.toThrow(/65-byte signature/);
    expect(() => extensionSigner(bob.address, 'ed25519', extension(async () => '0x'))).toThrow(ExtensionRefused);
  });
});
