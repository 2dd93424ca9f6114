// #/twins/ID/elements/ELEMENT: an element's versions over time, newest first: what changed,
// in which block, by whom, and its AML fragment then (twin_elementHistory). The node reads
// each version at the block it was made in, so old versions need an archive node; a pruned
// block is said to be so. A signed-in party may replace its AML, insert an element inside it
// from a snippet, or remove it (edit.ts); the chain decides whether it may.

import type { ApiPromise } from '@polkadot/api';
import { button, form, h, table } from '../dom';
import { insertSnippet, removeElement, replaceFragment } from '../edit';
import { session, type Session } from '../session';
import { errorText } from '../text';

type Json = Record<string, any>;

export async function elementView(api: ApiPromise, twin: number, element: string): Promise<HTMLElement> {
  const history = h('div', { id: 'history' });
  const section = h('section', { id: 'element-history', 'data-element': element }, h('h2', {}, `${element} of `, h('a', { href: `#/twins/${twin}` }, `twin ${twin}`)));
  const current = await showHistory(api, twin, element, history);
  const you = session();
  // After a change the history is read again; a removed element has none left to show.
  if (you && current !== null) section.append(editForms(api, you, twin, element, current, () => showHistory(api, twin, element, history)));
  section.append(history);
  return section;
}

/** Fills `into` with the element's versions; its current fragment, or null if it has none. */
async function showHistory(api: ApiPromise, twin: number, element: string, into: HTMLElement): Promise<string | null> {
  let versions: Json[];
  try {
    versions = await api.rpc.twin.elementHistory.raw<Json[]>(twin, element, null);
  } catch (error) {
    into.replaceChildren(h('p', { class: 'refusal' }, `The node cannot tell this element's history: ${errorText(error)}`));
    return null;
  }
  into.replaceChildren(
    table(
      ['Version', 'Change', 'In block', 'By', 'Confidentiality', 'AML'],
      versions.map((version) => [
        version.version,
        String(version.lastChange),
        version.changedAt,
        String(version.changedBy),
        String(version.confidentiality),
        h('pre', { class: 'fragment' }, String(version.fragment)),
      ]),
      { id: 'versions' },
    ),
  );
  return String(versions[0]?.fragment ?? '');
}

function editForms(api: ApiPromise, you: Session, twin: number, element: string, current: string, changed: () => Promise<unknown>): HTMLElement {
  const outcome = h('p', { id: 'edit-outcome' });
  const run = (what: string, action: (progress: (status: string) => void) => Promise<string>) => async () => {
    outcome.className = '';
    try {
      const done = await action((status) => (outcome.textContent = `${what}: ${status}…`));
      await changed();
      outcome.textContent = done;
    } catch (error) {
      outcome.textContent = `${what} refused: ${errorText(error)}`;
      outcome.className = 'refusal';
    }
  };
  const fragment = h('textarea', { id: 'edit-fragment', rows: '6', cols: '80' });
  fragment.value = current;
  const snippet = h('textarea', { id: 'edit-snippet', rows: '6', cols: '80', placeholder: '<InternalElement Name="…" ID="…">…</InternalElement>' });
  const after = h('input', { type: 'text', id: 'edit-after', placeholder: 'first child' });
  const replace = run('Replacing', async (progress) => {
    await replaceFragment(api, you, twin, element, fragment.value, progress);
    return `Replaced the AML of ${element}.`;
  });
  const insert = run('Inserting', async (progress) => {
    const ids = await insertSnippet(api, you, twin, snippet.value, element, after.value.trim() || null, progress);
    return `Inserted ${ids.join(', ')} into ${element}.`;
  });
  const remove = run('Removing', async (progress) => `Removed ${await removeElement(api, you, twin, element, progress)} element(s): ${element} and everything below it.`);
  return h(
    'div',
    { id: 'edit' },
    form({ id: 'edit-replace' }, () => void replace(), h('h3', {}, 'Replace its AML'), fragment, h('br'), button('Replace', 'replace', replace)),
    form(
      { id: 'edit-insert' },
      () => void insert(),
      h('h3', {}, 'Insert an element inside it'),
      snippet,
      h('br'),
      h('label', {}, 'after the child ', after),
      ' ',
      button('Insert', 'insert', insert),
    ),
    h('p', {}, button('Remove it with everything below it', 'remove', remove)),
    outcome,
  );
}
