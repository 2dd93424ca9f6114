// What the twins view shows, read through the runtime's APIs: the twins, and one twin's
// specification as a tree of elements with the documents and feeds attached to each.

import type { ApiPromise } from '@polkadot/api';
import { hexText } from './text';

export interface TwinSummary {
  id: number;
  creator: string;
  createdAt: number;
  root: string | null;
  elementCount: number;
}

export interface Element {
  id: string;
  parent: string | null;
  depth: number;
  confidentiality: string;
  version: number;
  changedAt: number;
  changedBy: string;
  /** The element's AML, as the chain stores it. */
  fragment: string;
  /** The `Name` attribute of its AML element, if it has one. */
  name: string | null;
}

export interface Attachment {
  id: number;
  element: string | null;
  label: string;
  confidentiality: string;
}

export interface TwinDetail {
  twin: TwinSummary;
  elements: Element[];
  documents: Attachment[];
  feeds: Attachment[];
}

type Json = Record<string, any>;

/** Elements per runtime API call (a page carries at most about 1 MiB of fragments anyway). */
const PAGE = 200;

export async function readTwins(api: ApiPromise): Promise<TwinSummary[]> {
  const twins = (await api.call.twinSpecApi.twins()).toJSON() as [number, Json][];
  return twins.map(([id, info]) => ({
    id: Number(id),
    creator: String(info.creator),
    createdAt: Number(info.createdAt),
    root: info.root ? hexText(info.root) : null,
    elementCount: Number(info.elementCount),
  }));
}

/** A twin with its elements in document order, as `reader` may see them (all for `null`). */
export async function readTwin(api: ApiPromise, id: number, reader: string | null): Promise<TwinDetail | null> {
  const twin = (await readTwins(api)).find((t) => t.id === id);
  if (!twin) return null;
  const elements: Element[] = [];
  let after: string | null = null;
  for (;;) {
    const page = (await api.call.twinSpecApi.elements(id, after, PAGE, reader)).toJSON() as Json[];
    if (page.length === 0) break;
    elements.push(...page.map(toElement));
    after = elements[elements.length - 1].id;
  }
  const [documents, feeds] = await Promise.all([
    api.call.documentsApi.documentsOfTwin(id, reader),
    api.call.feedsApi.feedsOfTwin(id, reader),
  ]);
  return {
    twin,
    elements,
    documents: (documents.toJSON() as Json[]).map((d) => ({
      id: Number(d.id),
      element: d.element ? hexText(d.element) : null,
      label: `${hexText(d.title)} (${d.versionCount} version${d.versionCount === 1 ? '' : 's'})`,
      confidentiality: String(d.confidentiality),
    })),
    feeds: (feeds.toJSON() as Json[]).map((f) => ({
      id: Number(f.id),
      element: f.element ? hexText(f.element) : null,
      label: `feed ${f.id} in ${hexText(f.unit)}`,
      confidentiality: String(f.confidentiality),
    })),
  };
}

function toElement(record: Json): Element {
  const fragment = hexText(record.fragment);
  return {
    id: hexText(record.id),
    parent: record.node.parent ? hexText(record.node.parent) : null,
    depth: Number(record.node.depth),
    confidentiality: String(record.node.confidentiality),
    version: Number(record.node.version),
    changedAt: Number(record.node.changedAt),
    changedBy: String(record.node.changedBy),
    fragment,
    name: elementName(fragment),
  };
}

/** The `Name` attribute of a fragment's outermost element. */
export function elementName(fragment: string): string | null {
  const start = fragment.match(/^\s*<[^>]*?\bName="([^"]*)"/);
  return start ? start[1] : null;
}
