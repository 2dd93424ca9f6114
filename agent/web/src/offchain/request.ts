// Signed requests to the off-chain store's network (dt-offchain's network/auth.rs): an
// action, SCALE-encoded, signed with the party's ledger account for this chain, so replicas
// can check who asks, that it was meant for this chain and that it is fresh and used once.

import { compact, concat, u64le, utf8 } from '../crypto/bytes';
import type { AccountSigner } from '../signer';

const DOMAIN = utf8('dt-ledger/offchain-request/v2');

/** A change of an item's reader list (network/acl.rs `AclOp`). */
export type AclOp = { addReader: Uint8Array } | { removeReader: Uint8Array } | { replaceReaders: Uint8Array[] };

/** What is asked (network/auth.rs `Action`); ids are 32-byte items and 36-byte content ids. */
export type Action =
  | { readEnvelope: { item: Uint8Array; envelope: Uint8Array } }
  | { writeEnvelope: { item: Uint8Array; envelope: Uint8Array } }
  | { changeAcl: { item: Uint8Array; baseVersion: bigint; op: AclOp } }
  | { putBlock: { block: Uint8Array } }
  | { readLatestEnvelope: { item: Uint8Array } }
  | { readFeed: { feed: bigint } };

function fixed(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes, not ${bytes.length}`);
  return bytes;
}

const item = (bytes: Uint8Array) => fixed(bytes, 32, 'an item id');
const cid = (bytes: Uint8Array) => fixed(bytes, 36, 'a content id');
const account = (bytes: Uint8Array) => fixed(bytes, 32, 'an account');

/** SCALE, in the enum's variant order. */
export function encodeAction(action: Action): Uint8Array {
  if ('readEnvelope' in action) return concat(new Uint8Array([0]), item(action.readEnvelope.item), cid(action.readEnvelope.envelope));
  if ('writeEnvelope' in action) return concat(new Uint8Array([1]), item(action.writeEnvelope.item), cid(action.writeEnvelope.envelope));
  if ('changeAcl' in action) {
    const { item: id, baseVersion, op } = action.changeAcl;
    return concat(new Uint8Array([2]), item(id), u64le(baseVersion), encodeOp(op));
  }
  if ('putBlock' in action) return concat(new Uint8Array([3]), cid(action.putBlock.block));
  if ('readLatestEnvelope' in action) return concat(new Uint8Array([4]), item(action.readLatestEnvelope.item));
  return concat(new Uint8Array([5]), u64le(action.readFeed.feed));
}

function encodeOp(op: AclOp): Uint8Array {
  if ('addReader' in op) return concat(new Uint8Array([0]), account(op.addReader));
  if ('removeReader' in op) return concat(new Uint8Array([1]), account(op.removeReader));
  return concat(new Uint8Array([2]), compact(op.replaceReaders.length), ...op.replaceReaders.map(account));
}

/** The signed request, SCALE `SignedAction`: action, signer, timestamp, nonce, signature. */
export async function signRequest(action: Action, signer: AccountSigner, genesis: Uint8Array, timestampMs = Date.now(), nonce = crypto.getRandomValues(new Uint8Array(16))): Promise<Uint8Array> {
  const encoded = encodeAction(action);
  const message = concat(DOMAIN, fixed(genesis, 32, 'the genesis hash'), encoded, u64le(timestampMs), nonce);
  return concat(encoded, signer.publicKey, u64le(timestampMs), nonce, await signer.signBytes(message));
}
