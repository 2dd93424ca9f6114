// #/twins/ID/trail: the twin's whole change trail (who, what, when, block) from the node's
// index, filterable by event and by account, a page at a time.

import type { ApiPromise } from '@polkadot/api';
import { button, h } from '../dom';
import { trailPage, type TrailFilter } from '../trail';
import { errorText } from '../text';


export async function trailView(api: ApiPromise, twin: number): Promise<HTMLElement> {
  const eventFilter = h('input', { type: 'text', id: 'trail-events', placeholder: 'e.g. documents.DocumentRegistered' });
  const whoFilter = h('input', { type: 'text', id: 'trail-who', placeholder: 'an account (SS58)' });
  const rows = h('tbody');
  const note = h('p', { id: 'trail-note' });
  const more = h('p', { id: 'trail-more' });
  let cursor: string | null = null;
  let filter: TrailFilter = {};

  const load = async (fresh: boolean) => {
    if (fresh) {
      rows.replaceChildren();
      cursor = null;
    }
    note.className = '';
    // Said before the request so that what is on the page never passes for the new answer.
    note.textContent = 'Reading the trail…';
    try {
      const page = await trailPage(api, twin, filter, cursor);
      for (const change of page.changes) {
        rows.append(
          h(
            'tr',
            { 'data-event': change.event },
            h('td', {}, String(change.block)),
            h('td', {}, change.time ?? '—'),
            h('td', {}, change.who ?? 'the runtime'),
            h('td', {}, change.event),
            h('td', {}, change.summary),
          ),
        );
      }
      cursor = page.nextCursor;
      note.textContent = `${rows.children.length} change(s) shown, indexed to block ${page.indexedTo ?? '—'}${
        page.completeFrom > 0 ? `; this node's index is complete from block ${page.completeFrom} only: earlier changes are missing here` : ''
      }.`;
      more.replaceChildren(cursor ? button('More', 'more', () => load(false)) : 'That is the whole trail.');
    } catch (error) {
      note.textContent = `The node cannot tell this twin's trail: ${errorText(error)}`;
      note.className = 'refusal';
    }
  };

  const apply = () => {
    filter = {
      events: eventFilter.value.split(/[\s,]+/).filter(Boolean),
      who: whoFilter.value.trim() || undefined,
    };
    return load(true);
  };

  const section = h(
    'section',
    { id: 'trail' },
    h('h2', {}, 'Changes of ', h('a', { href: `#/twins/${twin}` }, `twin ${twin}`)),
    h('p', { class: 'controls' }, h('label', {}, 'Events ', eventFilter), ' ', h('label', {}, 'By ', whoFilter), ' ', button('Filter', 'filter', apply)),
    note,
    h(
      'table',
      { id: 'trail-table' },
      h('thead', {}, h('tr', {}, ['Block', 'Time', 'By', 'Event', 'What'].map((title) => h('th', {}, title)))),
      rows,
    ),
    more,
  );
  await load(true);
  return section;
}
