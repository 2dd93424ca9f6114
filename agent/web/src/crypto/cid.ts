// Content ids of the store's blocks: CIDv1, raw codec, SHA-256 (what the chain stores as a
// document version's content id and key envelope, and the store files blocks under).

import { FormatError, concat, equal, sha256 } from './bytes';

/** The binary prefix: version 1, raw (0x55), sha2-256 (0x12), 32 bytes. */
const PREFIX = new Uint8Array([0x01, 0x55, 0x12, 0x20]);
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The 36-byte id of `bytes`. */
export async function cidOf(bytes: Uint8Array): Promise<Uint8Array> {
  return concat(PREFIX, await sha256(bytes));
}

/** An id as the node's RPC takes it: `b` and RFC 4648 base32, lower case, no padding. */
export function cidText(cid: Uint8Array): string {
  let text = 'b';
  let bits = 0;
  let value = 0;
  for (const byte of cid) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) text += BASE32[(value << (5 - bits)) & 31];
  return text;
}

/** The id in `text` (its `b…` form), or an error naming it. */
export function parseCid(text: string): Uint8Array {
  if (!text.startsWith('b')) throw new FormatError(`${text} is not a base32 content id`);
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text.slice(1)) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) throw new FormatError(`${text} is not a base32 content id`);
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const cid = new Uint8Array(out);
  if (cid.length !== 36 || !equal(cid.subarray(0, 4), PREFIX)) {
    throw new FormatError(`${text} is not a raw SHA-256 content id`);
  }
  return cid;
}

/** Whether `bytes` are the block `cid` names. */
export async function holds(cid: Uint8Array, bytes: Uint8Array): Promise<boolean> {
  return equal(cid, await cidOf(bytes));
}
