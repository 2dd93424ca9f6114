// Changing a twin's specification from the page, as `dt twin insert / replace / remove` do:
// a snippet is split by the node's own AML reader (`twin_parseSnippet`, the code dt uses)
// and each element inserted in order; a fragment is replaced whole; an element is removed
// with its subtree, whose size the page counts from the tree it shows.

import type { ApiPromise } from '@polkadot/api';
import type { Session } from './session';
import { chainText, errorText } from './text';
import { submit, type Progress } from './tx';
import { readTwin } from './twins';


interface SnippetElement {
  id: string;
  parent: string;
  previousSibling: string | null;
  fragment: string;
}

/** Inserts `snippet` under `parent` after `after` (first child when null); the ids inserted. */
export async function insertSnippet(api: ApiPromise, you: Session, twin: number, snippet: string, parent: string, after: string | null, progress: Progress): Promise<string[]> {
  const elements = await api.rpc.twin.parseSnippet.raw<SnippetElement[]>(snippet, parent, after);
  const inserted: string[] = [];
  for (const element of elements) {
    const call = api.tx.twinSpec.insertElement(twin, chainText(element.id), chainText(element.parent), element.previousSibling === null ? null : chainText(element.previousSibling), chainText(element.fragment));
    try {
      await submit(api, you.signer, call, progress);
    } catch (error) {
      const done = inserted.length ? `${inserted.length} of ${elements.length} elements were inserted (${inserted.join(', ')}); ` : '';
      throw new Error(`${done}element ${element.id} was not: ${errorText(error)}`);
    }
    inserted.push(element.id);
  }
  return inserted;
}

export async function replaceFragment(api: ApiPromise, you: Session, twin: number, element: string, fragment: string, progress: Progress): Promise<void> {
  await submit(api, you.signer, api.tx.twinSpec.replaceFragment(twin, chainText(element), chainText(fragment)), progress);
}

/** Removes `element` with everything below it; the number of elements removed. */
export async function removeElement(api: ApiPromise, you: Session, twin: number, element: string, progress: Progress): Promise<number> {
  const detail = await readTwin(api, twin, you.address);
  const at = detail?.elements.findIndex((e) => e.id === element) ?? -1;
  if (!detail || at < 0) throw new Error(`twin ${twin} has no element ${element} that ${you.name} may read`);
  const depth = detail.elements[at].depth;
  let size = 1;
  while (at + size < detail.elements.length && detail.elements[at + size].depth > depth) size++;
  await submit(api, you.signer, api.tx.twinSpec.removeElement(twin, chainText(element), size), progress);
  return size;
}
