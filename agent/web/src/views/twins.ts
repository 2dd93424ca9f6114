// Twins: the list, and one twin's AML specification as a collapsible tree, each element
// with its confidentiality, version, AML fragment and the documents and feeds attached to it.

import type { ApiPromise } from '@polkadot/api';
import { button, form, h, table } from '../dom';
import { session } from '../session';
import { searchElements, searchTwins } from '../trail';
import { readTwin, readTwins, type Attachment, type Element, type TwinDetail } from '../twins';
import { programsSection } from './programs';
import { uploadForm } from './upload';
import { errorText } from '../text';

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
    searchForm(api),
  );
}

/** Finds twins and elements by id or name through the node's index. */
function searchForm(api: ApiPromise): HTMLElement {
  const query = h('input', { type: 'search', id: 'search-query', placeholder: 'an id or a Name, e.g. sensor' });
  const results = h('div', { id: 'search-results' });
  const search = async () => {
    const text = query.value.trim();
    if (!text) {
      results.textContent = 'Type part of an id or a Name.';
      return;
    }
    try {
      const [twins, { elements, nextCursor }] = await Promise.all([searchTwins(api, text), searchElements(api, text, session()?.address ?? null)]);
      results.replaceChildren(
        h('p', {}, `${twins.length} twin(s) and ${elements.length}${nextCursor ? '+' : ''} element(s) match "${text}".`),
        table(
          ['Twin', 'Element', 'Name', 'Confidentiality'],
          [
            ...twins.map((t) => [h('a', { href: `#/twins/${t.id}` }, `Twin ${t.id}`), t.root ?? '', t.rootName ?? '', '']),
            ...elements.map((e) => [
              h('a', { href: `#/twins/${e.twin}` }, `Twin ${e.twin}`),
              h('a', { href: `#/twins/${e.twin}/elements/${encodeURIComponent(e.id)}` }, e.id),
              e.name ?? '',
              e.confidentiality,
            ]),
          ],
          { id: 'search-table' },
        ),
      );
    } catch (error) {
      results.textContent = `The node cannot search: ${errorText(error)}`;
    }
  };
  return form({ id: 'search' }, () => void search(), h('h3', {}, 'Search'), query, ' ', button('Search', 'search', search), results);
}

export async function twinView(api: ApiPromise, id: number): Promise<HTMLElement> {
  const you = session();
  const detail = await readTwin(api, id, you?.address ?? null);
  if (!detail) return h('section', { id: 'twin' }, h('p', { class: 'refusal' }, `There is no twin ${id}.`));
  const section = renderTwin(detail);
  if (you) {
    const programs = await programsSection(api, you, id);
    if (programs) section.append(programs);
    section.append(uploadForm(api, you, id, detail.elements));
  }
  return section;
}

export function renderTwin(detail: TwinDetail): HTMLElement {
  const { twin, elements } = detail;
  return h(
    'section',
    { id: 'twin' },
    h('h2', {}, `Twin ${twin.id}`),
    h(
      'p',
      {},
      `${elements.length} of ${twin.elementCount} elements shown; created by ${twin.creator} in block ${twin.createdAt}. `,
      h('a', { href: `#/twins/${twin.id}/trail`, id: 'trail-link' }, 'Its changes'),
      ' · ',
      h('a', { href: `#/twins/${twin.id}/verify`, id: 'verify-link' }, 'Verify its documents and feeds'),
    ),
    attachments('Documents of the whole twin', detail.documents.filter((d) => d.element === null), 'documents'),
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
        ` v${element.version} `,
        h('a', { href: `#/twins/${detail.twin.id}/elements/${encodeURIComponent(element.id)}`, class: 'history' }, 'history'),
      ),
      attachments('Documents', detail.documents.filter((d) => d.element === element.id), 'documents'),
      attachments('Feeds', detail.feeds.filter((f) => f.element === element.id), 'feeds'),
      h('pre', { class: 'fragment' }, element.fragment),
      children,
    );
    open[open.length - 1].children.append(node);
    open.push({ depth: element.depth, children });
  }
  return root;
}

function attachments(title: string, items: Attachment[], kind: 'documents' | 'feeds'): HTMLElement | null {
  if (!items.length) return null;
  const label = (item: Attachment) => `${item.label} [${item.confidentiality}]`;
  return h(
    'p',
    { class: `attached ${kind}` },
    `${title}: `,
    items
      .map((item, i) => [i ? ', ' : '', h('a', { href: `#/${kind}/${item.id}` }, label(item))])
      .flat(),
  );
}
