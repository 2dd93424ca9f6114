// Just enough DER to read an encrypted PKCS#8 key: tag-length-value elements with definite
// lengths, sequences, object identifiers, integers and octet strings.

import { FormatError } from '../crypto/bytes';

export const TAG = { integer: 0x02, octetString: 0x04, oid: 0x06, sequence: 0x30 } as const;

export interface Element {
  tag: number;
  content: Uint8Array;
}

/** The elements in `bytes`, in order; every byte must belong to one. */
export function elements(bytes: Uint8Array, what: string): Element[] {
  const out: Element[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) throw new FormatError(`${what}: truncated element header`);
    const tag = bytes[offset];
    let length = bytes[offset + 1];
    offset += 2;
    if (length & 0x80) {
      const octets = length & 0x7f;
      if (octets === 0 || octets > 4 || offset + octets > bytes.length) {
        throw new FormatError(`${what}: unsupported or truncated length`);
      }
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + bytes[offset + i];
      offset += octets;
    }
    if (offset + length > bytes.length) throw new FormatError(`${what}: element runs past the end`);
    out.push({ tag, content: bytes.subarray(offset, offset + length) });
    offset += length;
  }
  return out;
}

/** The children of a sequence, checked to be `count` long (at least `count` if `atLeast`). */
export function sequence(element: Element | undefined, count: number, what: string, atLeast = false): Element[] {
  if (!element || element.tag !== TAG.sequence) throw new FormatError(`${what}: expected a sequence`);
  const children = elements(element.content, what);
  if (atLeast ? children.length < count : children.length !== count) {
    throw new FormatError(`${what}: expected ${count} fields, found ${children.length}`);
  }
  return children;
}

export function expect(element: Element | undefined, tag: number, what: string): Uint8Array {
  if (!element || element.tag !== tag) throw new FormatError(`${what}: unexpected field`);
  return element.content;
}

/** An object identifier in dotted form. */
export function oid(element: Element | undefined, what: string): string {
  const bytes = expect(element, TAG.oid, what);
  if (bytes.length === 0) throw new FormatError(`${what}: empty object identifier`);
  const arcs = [Math.min(2, Math.floor(bytes[0] / 40)), bytes[0] - 40 * Math.min(2, Math.floor(bytes[0] / 40))];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** A non-negative integer small enough for a number (iteration counts, key lengths). */
export function smallInteger(element: Element | undefined, what: string): number {
  const bytes = expect(element, TAG.integer, what);
  if (bytes.length === 0 || bytes.length > 6 || bytes[0] & 0x80) throw new FormatError(`${what}: not a small positive integer`);
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}
