// Readings as the feed page flags them: decimal text compared with the expected range in
// fixed point, exactly as dt-client's reading.rs does (no floating-point rounding).
import { describe, expect, test } from 'vitest';
import { toFixedPoint, toReading } from '../src/feeds';

const range = { min: 2400n, max: 2600n, decimals: 1 };
const reading = (text: string) => toReading(7, 1_000, new TextEncoder().encode(text), range);

describe('fixed point', () => {
  test('as reading.rs: digits past the precision only if zeros, signs kept', () => {
    expect(toFixedPoint('251.5', 2)).toBe(25150n);
    expect(toFixedPoint('251.50', 1)).toBe(2515n);
    expect(toFixedPoint('251.55', 1)).toBeNull();
    expect(toFixedPoint('-3', 1)).toBe(-30n);
    expect(toFixedPoint('1e3', 1)).toBeNull();
  });
});

describe('readings', () => {
  test('inside the range, on its bounds and outside it', () => {
    expect(reading('250.0')).toMatchObject({ sequence: 7, value: 250, outside: false });
    expect(reading('240.0')?.outside).toBe(false);
    expect(reading('260')?.outside).toBe(false);
    expect(reading('260.1')?.outside).toBe(true);
    expect(reading('239.9')?.outside).toBe(true);
    // More precise than the range keeps: not comparable, so flagged.
    expect(reading('250.05')?.outside).toBe(true);
  });

  test('payloads that are not decimal readings are refused', () => {
    expect(reading('NaN')).toBeNull();
    expect(reading('')).toBeNull();
    expect(toReading(1, 1, new Uint8Array([0xff, 0xfe]), range)).toBeNull();
  });

  test('without a range nothing is flagged', () => {
    expect(toReading(1, 1, new TextEncoder().encode('-1000'), null)?.outside).toBe(false);
  });
});
