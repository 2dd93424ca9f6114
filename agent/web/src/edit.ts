// Changing a twin's specification from the page, as `dt twin insert / replace / remove` do:
// a snippet is split by the node's own AML reader (`twin_parseSnippet`, the code dt uses)
// and inserted all at once (`insertElements`, split as dt splits a snippet too large for one
// call); a fragment is replaced whole; an element is removed with its subtree, whose size
// the page counts from the tree it shows.

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

/** Elements per call, as dt sends them (dt_client::ELEMENTS_PER_CALL). */
const ELEMENTS_PER_CALL = 120;

interface Insertion { parent: string; elements: SnippetElement[] }

/**
 * The snippet's elements as `insertElements` calls, in document order: each element goes
 * under its call's parent or under an element its call inserted before it, so a call that is
 * full, or whose next element hangs below an earlier call's element, ends there.
 */
export function insertions(elements: SnippetElement[]): Insertion[] {
  const calls: Insertion[] = [];
  let ids = new Set<string>();
  for (const element of elements) {
    const current = calls[calls.length - 1];
    const fits = current !== undefined && current.elements.length < ELEMENTS_PER_CALL && (current.parent === element.parent || ids.has(element.parent));
    if (!fits) {
      calls.push({ parent: element.parent, elements: [] });
      ids = new Set();
    }
    calls[calls.length - 1].elements.push(element);
    ids.add(element.id);
  }
  return calls;
}

/** Inserts `snippet` under `parent` after `after` (first child when null); the ids inserted. */
export async function insertSnippet(api: ApiPromise, you: Session, twin: number, snippet: string, parent: string, after: string | null, progress: Progress): Promise<string[]> {
  const elements = await api.rpc.twin.parseSnippet.raw<SnippetElement[]>(snippet, parent, after);
  const inserted: string[] = [];
  for (const insertion of insertions(elements)) {
    const call = api.tx.twinSpec.insertElements(twin, chainText(insertion.parent), insertion.elements.map((element) => ({
      id: chainText(element.id),
      parent: chainText(element.parent),
      previousSibling: element.previousSibling === null ? null : chainText(element.previousSibling),
      fragment: chainText(element.fragment),
    })));
    try {
      await submit(api, you.signer, call, progress);
    } catch (error) {
      const done = inserted.length
        ? `${inserted.length} of ${elements.length} elements were inserted (${inserted.join(', ')}); ${insertion.elements[0].id} and the rest were not`
        : 'none of the elements was inserted';
      throw new Error(`${done}: ${errorText(error)}`);
    }
    inserted.push(...insertion.elements.map((element) => element.id));
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
