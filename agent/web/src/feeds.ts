// A sensor feed as the chain registers it (FeedsApi.feed), and its readings: decimal text in
// the feed's unit, compared with the expected range in fixed point as dt does (no rounding).

import type { ApiPromise } from '@polkadot/api';
import { hexText } from './text';

export interface ExpectedRange {
  min: bigint;
  max: bigint;
  decimals: number;
}

export interface FeedInfo {
  id: number;
  twin: number;
  element: string;
  owner: string;
  schema: string;
  unit: string;
  nominalIntervalMs: number;
  expectedRange: ExpectedRange | null;
  confidentiality: string;
  active: boolean;
}

type Json = Record<string, any>;

export async function readFeed(api: ApiPromise, id: number): Promise<FeedInfo | null> {
  const feed = (await api.call.feedsApi.feed(id)).toJSON() as Json | null;
  if (!feed) return null;
  const range = feed.expectedRange as Json | null;
  return {
    id: Number(feed.id),
    twin: Number(feed.twin),
    element: hexText(feed.element),
    owner: String(feed.owner),
    schema: hexText(feed.schema),
    unit: hexText(feed.unit),
    nominalIntervalMs: Number(feed.nominalIntervalMs),
    expectedRange: range ? { min: BigInt(range.min), max: BigInt(range.max), decimals: Number(range.decimals) } : null,
    confidentiality: String(feed.confidentiality),
    active: 'active' in (feed.status as Json),
  };
}

/** Whether readings of this feed are sealed under key epochs (every level above Public). */
export const isEncrypted = (feed: FeedInfo): boolean => feed.confidentiality !== 'Public';

/** A reading as the chart takes it. */
export interface Reading {
  sequence: number;
  timestamp: number;
  text: string;
  value: number;
  outside: boolean;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** The reading in units of 10^-decimals, or null if it is not a decimal that fits. */
export function toFixedPoint(text: string, decimals: number): bigint | null {
  const match = text.match(DECIMAL);
  if (!match) return null;
  const [, sign, whole, fraction = ''] = match;
  // Digits beyond the precision may only be zeros (as dt-client's reading.rs).
  if (/[1-9]/.test(fraction.slice(decimals))) return null;
  const value = BigInt(whole + fraction.slice(0, decimals).padEnd(decimals, '0'));
  return sign ? -value : value;
}

/** A payload as a reading, flagged when outside `range`; null if it is not a decimal. */
export function toReading(sequence: number, timestamp: number, payload: Uint8Array, range: ExpectedRange | null): Reading | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return null;
  }
  if (!DECIMAL.test(text)) return null;
  let outside = false;
  if (range) {
    const fixed = toFixedPoint(text, range.decimals);
    outside = fixed === null || fixed < range.min || fixed > range.max;
  }
  return { sequence, timestamp, text, value: Number(text), outside };
}

/** A fixed-point bound as a number in the feed's unit. */
export const boundValue = (bound: bigint, decimals: number): number => Number(bound) / 10 ** decimals;
