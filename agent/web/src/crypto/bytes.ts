// Byte layouts the store's formats are made of: concatenation, fixed-width integers and
// SCALE compact lengths (the formats use nothing more of SCALE).

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

export function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

export function u64le(value: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

export function u64be(value: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/** SCALE compact encoding of a length (up to 2^30 - 1, all the formats need). */
export function compact(value: number): Uint8Array {
  if (value < 0 || !Number.isInteger(value) || value >= 2 ** 30) {
    throw new RangeError(`${value} is not a length the formats encode`);
  }
  if (value < 2 ** 6) return new Uint8Array([value << 2]);
  if (value < 2 ** 14) return u16le((value << 2) | 1);
  return u32le(((value << 2) | 2) >>> 0);
}

function u16le(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, value >> 8]);
}

/** Reads the formats' fields in order, failing with what it expected where bytes run out. */
export class Reader {
  private offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  take(length: number, field: string): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      throw new FormatError(`${this.what}: ends inside ${field}`);
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u32le(field: string): number {
    return new DataView(this.take(4, field).slice().buffer).getUint32(0, true);
  }

  u64le(field: string): bigint {
    return new DataView(this.take(8, field).slice().buffer).getBigUint64(0, true);
  }

  /** A SCALE compact length in its shortest form (the Rust decoder refuses any other). */
  compact(field: string): number {
    const first = this.take(1, field)[0];
    switch (first & 3) {
      case 0:
        return first >> 2;
      case 1: {
        const value = (first | (this.take(1, field)[0] << 8)) >> 2;
        if (value < 2 ** 6) throw new FormatError(`${this.what}: ${field} is not in its shortest form`);
        return value;
      }
      case 2: {
        const rest = this.take(3, field);
        const value = (first | (rest[0] << 8) | (rest[1] << 16) | (rest[2] << 24)) >>> 2;
        if (value < 2 ** 14) throw new FormatError(`${this.what}: ${field} is not in its shortest form`);
        return value;
      }
      default:
        throw new FormatError(`${this.what}: ${field} is longer than the formats allow`);
    }
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (this.offset !== this.bytes.length) {
      throw new FormatError(`${this.what}: ${this.bytes.length - this.offset} bytes after its end`);
    }
  }
}

/** Bytes that are not what a format says they must be. */
export class FormatError extends Error {}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** Bytewise order, as Rust orders `[u8; N]`. */
export function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** A fresh `ArrayBuffer` copy: WebCrypto takes `BufferSource`s that are not views of shared memory. */
export const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;

export const sha256 = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', buffer(bytes)));
