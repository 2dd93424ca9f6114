// The form on a twin's page that adds a document: the file is encrypted in the page for the
// accounts cleared for the chosen level, then stored and registered (upload.ts), with each
// step shown as it happens.

import type { ApiPromise } from '@polkadot/api';
import { button, form, h } from '../dom';
import { LEVELS, type Level } from '../readers';
import type { Session } from '../session';
import type { Element } from '../twins';
import { uploadDocument } from '../upload';
import { errorText } from '../text';

/** Files larger than this are refused in the page: it holds the whole file while sealing. */
const MAX_UPLOAD = 256 * 1024 * 1024;

/**
 * The file chosen in `input`, or null with the reason in `outcome`: none chosen, or one
 * larger than the page seals (`dtCommand` is what takes it instead).
 */
export function chosenFile(input: HTMLInputElement, outcome: HTMLElement, dtCommand: string): File | null {
  outcome.className = '';
  const chosen = input.files?.[0];
  if (!chosen) {
    outcome.textContent = 'Choose a file first.';
    return null;
  }
  if (chosen.size > MAX_UPLOAD) {
    outcome.textContent = `${chosen.name} is ${chosen.size} bytes; the page uploads at most ${MAX_UPLOAD} (use ${dtCommand} for larger files).`;
    outcome.className = 'refusal';
    return null;
  }
  return chosen;
}

export function uploadForm(api: ApiPromise, you: Session, twin: number, elements: Element[]): HTMLElement {
  const file = h('input', { type: 'file', id: 'upload-file' });
  const title = h('input', { type: 'text', id: 'upload-title', placeholder: 'the file name' });
  const element = h(
    'select',
    { id: 'upload-element' },
    h('option', { value: '' }, 'the whole twin'),
    elements.map((e) => h('option', { value: e.id }, e.name ? `${e.name} (${e.id})` : e.id)),
  );
  const level = h('select', { id: 'upload-level' }, LEVELS.map((l) => h('option', l === 'Internal' ? { value: l, selected: '' } : { value: l }, l)));
  const outcome = h('p', { id: 'upload-outcome' });
  const run = async () => {
    const chosen = chosenFile(file, outcome, 'dt doc upload');
    if (!chosen) return;
    // Said at once, before the file is read: the last upload's outcome must not stand meanwhile.
    outcome.textContent = 'Uploading: reading the file…';
    try {
      const uploaded = await uploadDocument(
        api,
        you,
        {
          twin,
          title: title.value.trim() || chosen.name,
          mediaType: chosen.type || 'application/octet-stream',
          confidentiality: level.value as Level,
          element: element.value || null,
          contents: new Uint8Array(await chosen.arrayBuffer()),
        },
        (step) => (outcome.textContent = `Uploading: ${step}…`),
      );
      outcome.replaceChildren(
        'Uploaded as ',
        h('a', { href: `#/documents/${uploaded.document}`, 'data-document': String(uploaded.document) }, `document ${uploaded.document}`),
        `, sealed for ${uploaded.readers.length} reader(s)`,
        uploaded.skipped.length ? `; not for ${uploaded.skipped.map((s) => `${s.account} (${s.reason})`).join(', ')}` : '',
        '.',
      );
    } catch (error) {
      outcome.textContent = `Not uploaded: ${errorText(error)}`;
      outcome.className = 'refusal';
    }
  };
  return form(
    { id: 'upload' },
    () => void run(),
    h('h3', {}, 'Add a document'),
    h('label', {}, 'File ', file),
    ' ',
    h('label', {}, 'Title ', title),
    ' ',
    h('label', {}, 'On ', element),
    ' ',
    h('label', {}, 'Readable at ', level),
    ' ',
    button('Upload', 'upload', run),
    outcome,
  );
}
