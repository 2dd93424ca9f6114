// A twin's change trail and searches, from the node's twin index (docs/rpc.md, `index_*`):
// complete on a pruning node too, paged with opaque cursors.

import type { ApiPromise } from '@polkadot/api';

export interface Change {
  block: number;
  hash: string;
  time: string | null;
  who: string | null;
  event: string;
  summary: string;
}

export interface TrailPage {
  changes: Change[];
  nextCursor: string | null;
  /** The trail is complete from this block on (0: from the chain's start). */
  completeFrom: number;
  indexedTo: number | null;
}

export interface TrailFilter {
  events?: string[];
  who?: string;
}

type Json = Record<string, any>;

/** Options as the index takes them: absent fields left out (unknown ones are refused). */
function options(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null && value !== ''));
}

export async function trailPage(api: ApiPromise, twin: number, filter: TrailFilter, cursor: string | null, limit = 200): Promise<TrailPage> {
  const page = await api.rpc.index.twinTrail.raw<Json>(twin, options({ events: filter.events?.length ? filter.events : undefined, who: filter.who, cursor, limit }));
  return {
    changes: (page.changes as Json[]).map((c) => ({
      block: Number(c.block),
      hash: String(c.hash),
      time: c.time ?? null,
      who: c.who ?? null,
      event: String(c.event),
      summary: String(c.summary),
    })),
    nextCursor: page.nextCursor ?? null,
    completeFrom: Number(page.completeFrom ?? 0),
    indexedTo: page.indexedTo === null || page.indexedTo === undefined ? null : Number(page.indexedTo),
  };
}

export interface FoundElement {
  twin: number;
  id: string;
  name: string | null;
  confidentiality: string;
}

export async function searchElements(api: ApiPromise, query: string, reader: string | null, cursor: string | null = null): Promise<{ elements: FoundElement[]; nextCursor: string | null }> {
  const page = await api.rpc.index.searchElements.raw<Json>(query, options({ reader, cursor, limit: 100 }));
  return {
    elements: (page.elements as Json[]).map((e) => ({ twin: Number(e.twin), id: String(e.id), name: e.name ?? null, confidentiality: String(e.confidentiality) })),
    nextCursor: page.nextCursor ?? null,
  };
}

export interface FoundTwin {
  id: number;
  creator: string;
  root: string | null;
  rootName: string | null;
}

export async function searchTwins(api: ApiPromise, query: string): Promise<FoundTwin[]> {
  const found: FoundTwin[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: Json = await api.rpc.index.searchTwins.raw<Json>(query, options({ cursor, limit: 1000 }));
    found.push(...(page.twins as Json[]).map((t) => ({ id: Number(t.id), creator: String(t.creator), root: t.root ?? null, rootName: t.rootName ?? null })));
    cursor = page.nextCursor ?? null;
    if (!cursor) return found;
  }
}
