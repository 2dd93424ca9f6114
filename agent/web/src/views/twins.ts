// Twins: the list, and one twin's AML specification as a collapsible tree, each element
// with its confidentiality, version, AML fragment and the documents and feeds attached to it.

import type { ApiPromise } from '@polkadot/api';
import { h, table } from '../dom';
import { readTwin, readTwins, type Attachment, type Element, type TwinDetail } from '../twins';

export async function twinsView(api: ApiPromise): Promise<HTMLElement> {
  const twins = await readTwins(api);
  return h(
    'section',
    { id: 'twins' },
    h('h2', {}, 'Twins'),
    twins.length
      ? table(
          ['Twin', 'Root element', 'Elements', 'Created by', 'In block'],
          twins.map((t) => [
            h('a', { href: `#/twins/${t.id}` }, `Twin ${t.id}`),
            t.root ?? '(importing)',
            t.elementCount,
            t.creator,
            t.createdAt,
          ]),
          { id: 'twin-list' },
        )
      : h('p', { id: 'twin-list' }, 'No twins on this chain yet.'),
  );
}

export async function twinView(api: ApiPromise, id: number, reader: string | null): Promise<HTMLElement> {
  const detail = await readTwin(api, id, reader);
  if (!detail) return h('section', { id: 'twin' }, h('p', { class: 'refusal' }, `There is no twin ${id}.`));
  return renderTwin(detail);
}

export function renderTwin(detail: TwinDetail): HTMLElement {
  const { twin, elements } = detail;
  return h(
    'section',
    { id: 'twin' },
    h('h2', {}, `Twin ${twin.id}`),
    h('p', {}, `${elements.length} of ${twin.elementCount} elements shown; created by ${twin.creator} in block ${twin.createdAt}.`),
    tree(elements, detail),
  );
}

/** Nested `<details>`, one per element, in document order. */
function tree(elements: Element[], detail: TwinDetail): HTMLElement {
  const root = h('div', { class: 'tree', id: 'element-tree' });
  const open: { depth: number; children: HTMLElement }[] = [{ depth: -1, children: root }];
  for (const element of elements) {
    while (open.length > 1 && open[open.length - 1].depth >= element.depth) open.pop();
    const children = h('div', { class: 'children' });
    const node = h(
      'details',
      { 'data-element': element.id, ...(element.depth < 2 ? { open: '' } : {}) },
      h(
        'summary',
        {},
        h('strong', {}, element.name ?? element.id),
        ` ${element.id} `,
        h('span', { class: `level level-${element.confidentiality.toLowerCase()}` }, element.confidentiality),
        ` v${element.version}`,
      ),
      attachments('Documents', detail.documents.filter((d) => d.element === element.id)),
      attachments('Feeds', detail.feeds.filter((f) => f.element === element.id)),
      h('pre', { class: 'fragment' }, element.fragment),
      children,
    );
    open[open.length - 1].children.append(node);
    open.push({ depth: element.depth, children });
  }
  return root;
}

function attachments(title: string, items: Attachment[]): HTMLElement | null {
  if (!items.length) return null;
  return h(
    'p',
    { class: `attached ${title.toLowerCase()}` },
    `${title}: `,
    items.map((item, i) => [i ? ', ' : '', `${item.label} [${item.confidentiality}]`]).flat(),
  );
}
