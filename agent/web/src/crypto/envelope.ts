// A document version's key envelope ("DTE1"): the 32-byte key wrapped with RSA-OAEP
// (SHA-256) for every reader's registered key, found by the SHA-256 of that key, and a
// commitment to the key, so that a reader cannot be handed another key than the others
// (dt-offchain's envelope.rs).

import { FormatError, Reader, buffer, compact, compare, concat, equal, sha256, utf8 } from './bytes';

const MAGIC = utf8('DTE1');
const COMMITMENT_DOMAIN = utf8('dt-offchain document key v1');
export const MAX_RECIPIENTS = 1024;
const MAX_WRAPPED_KEY = 1024;

/** A reader's RSA public key, as the chain registers it (DER SubjectPublicKeyInfo). */
export type PublicKeyDer = Uint8Array;

export interface Recipient {
  keyId: Uint8Array;
  wrappedKey: Uint8Array;
}

export interface Envelope {
  commitment: Uint8Array;
  recipients: Recipient[];
}

/** Which recipient entry is a key's: SHA-256 of its DER SubjectPublicKeyInfo. */
export const keyId = (publicKey: PublicKeyDer): Promise<Uint8Array> => sha256(publicKey);

export const commitment = (key: Uint8Array): Promise<Uint8Array> => sha256(concat(COMMITMENT_DOMAIN, key));

const OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;

/** `key` sealed for each of `readers` (duplicates once). */
export async function seal(key: Uint8Array, readers: PublicKeyDer[]): Promise<Uint8Array> {
  if (readers.length === 0) throw new FormatError('an envelope needs at least one reader');
  const byId = new Map<string, Recipient>();
  for (const reader of readers) {
    const id = await keyId(reader);
    const publicKey = await crypto.subtle.importKey('spki', buffer(reader), OAEP, false, ['encrypt']);
    const wrappedKey = new Uint8Array(await crypto.subtle.encrypt(OAEP, publicKey, buffer(key)));
    byId.set(id.join(','), { keyId: id, wrappedKey });
  }
  const recipients = [...byId.values()].sort((a, b) => compare(a.keyId, b.keyId));
  if (recipients.length > MAX_RECIPIENTS) throw new FormatError(`more than ${MAX_RECIPIENTS} readers`);
  return encode({ commitment: await commitment(key), recipients });
}

export function encode(envelope: Envelope): Uint8Array {
  return concat(
    MAGIC,
    envelope.commitment,
    compact(envelope.recipients.length),
    ...envelope.recipients.flatMap((r) => [r.keyId, compact(r.wrappedKey.length), r.wrappedKey]),
  );
}

/** Reads an envelope as strictly as the store does. */
export function decode(bytes: Uint8Array): Envelope {
  const reader = new Reader(bytes, 'key envelope');
  if (!equal(reader.take(4, 'its magic'), MAGIC)) throw new FormatError('not a key envelope (no DTE1)');
  const envelopeCommitment = reader.take(32, 'the key commitment').slice();
  const count = reader.compact('the number of readers');
  if (count < 1 || count > MAX_RECIPIENTS) throw new FormatError(`an envelope for ${count} readers`);
  const recipients: Recipient[] = [];
  for (let i = 0; i < count; i++) {
    const id = reader.take(32, `reader ${i}'s key id`).slice();
    const length = reader.compact(`reader ${i}'s wrapped key`);
    if (length < 1 || length > MAX_WRAPPED_KEY) throw new FormatError(`reader ${i}'s wrapped key has ${length} bytes`);
    const wrappedKey = reader.take(length, `reader ${i}'s wrapped key`).slice();
    if (i > 0 && compare(recipients[i - 1].keyId, id) >= 0) {
      throw new FormatError('the readers are not in key-id order, or one is there twice');
    }
    recipients.push({ keyId: id, wrappedKey });
  }
  reader.end();
  return { commitment: envelopeCommitment, recipients };
}

/** The document key, opened with the reader's private key; an error if it is not a reader. */
export async function open(bytes: Uint8Array, privateKey: CryptoKey, publicKey: PublicKeyDer): Promise<Uint8Array> {
  const envelope = decode(bytes);
  const id = await keyId(publicKey);
  const mine = envelope.recipients.find((recipient) => equal(recipient.keyId, id));
  if (!mine) throw new NotAReader();
  let key: Uint8Array;
  try {
    key = new Uint8Array(await crypto.subtle.decrypt(OAEP, privateKey, buffer(mine.wrappedKey)));
  } catch {
    throw new FormatError('the key sealed for this reader does not open with its private key');
  }
  if (key.length !== 32 || !equal(await commitment(key), envelope.commitment)) {
    throw new FormatError('the key sealed for this reader is not the key the envelope commits to');
  }
  return key;
}

export class NotAReader extends Error {
  constructor() {
    super('not a reader of this document: the envelope holds no key sealed for your encryption key');
  }
}

/** A PKCS#8 DER RSA private key, for opening envelopes. */
export const importPrivateKey = (pkcs8: Uint8Array): Promise<CryptoKey> =>
  crypto.subtle.importKey('pkcs8', buffer(pkcs8), OAEP, false, ['decrypt']);
