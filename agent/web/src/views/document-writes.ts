// The forms on a document's page that write to it: the next version from a file (a holder
// of VersionDocuments: owner, maintainer) and an annotation on a chosen version (anyone
// with AnnotateDocuments). The chain decides who may; its refusal is shown as it names it.
// `written` is called with what was done once the change is final, to show the document again.

import type { ApiPromise } from '@polkadot/api';
import { button, form, h } from '../dom';
import type { DocumentDetail } from '../documents';
import type { Level } from '../readers';
import type { Session } from '../session';
import { errorText } from '../text';
import { addVersion, annotateVersion, type DocumentTarget } from '../upload';
import { chosenFile } from './upload';

/** An annotation is a note: the form takes this much (readers open up to 1 MiB, documents.ts). */
const MAX_ANNOTATION_CHARS = 16 * 1024;

const targetOf = (document: DocumentDetail): DocumentTarget => ({
  id: document.id,
  twin: document.twin,
  confidentiality: document.confidentiality as Level,
});

export function versionForm(api: ApiPromise, you: Session, document: DocumentDetail, written: (done: string) => void): HTMLElement {
  const file = h('input', { type: 'file', id: 'version-file' });
  const outcome = h('p', { id: 'version-outcome' });
  const run = async () => {
    const chosen = chosenFile(file, outcome, 'dt doc version');
    if (!chosen) return;
    outcome.textContent = 'Adding: reading the file…';
    try {
      const contents = new Uint8Array(await chosen.arrayBuffer());
      const added = await addVersion(api, you, targetOf(document), contents, (step) => (outcome.textContent = `Adding: ${step}…`));
      written(`Added version ${added.version} in block ${added.block}, sealed for ${added.readers.length} reader(s).`);
    } catch (error) {
      outcome.textContent = `Not added: ${errorText(error)}`;
      outcome.className = 'refusal';
    }
  };
  return form({ id: 'add-version' }, () => void run(), h('h3', {}, 'Add a version'), h('label', {}, 'File ', file), ' ', button('Add version', 'add-version', run), outcome);
}

export function annotationForm(api: ApiPromise, you: Session, document: DocumentDetail, written: (done: string) => void): HTMLElement {
  const text = h('textarea', { id: 'annotation-text', rows: '3', cols: '60', maxlength: String(MAX_ANNOTATION_CHARS) });
  const newest = document.versions.length - 1;
  const version = h(
    'select',
    { id: 'annotation-version' },
    document.versions.map((v) => h('option', v.number === newest ? { value: String(v.number), selected: '' } : { value: String(v.number) }, `version ${v.number}`)),
  );
  const outcome = h('p', { id: 'annotation-outcome' });
  const run = async () => {
    outcome.className = '';
    try {
      const added = await annotateVersion(api, you, targetOf(document), Number(version.value), text.value, (step) => (outcome.textContent = `Annotating: ${step}…`));
      written(`Added annotation ${added.annotation} of version ${version.value} in block ${added.block}.`);
    } catch (error) {
      outcome.textContent = `Not annotated: ${errorText(error)}`;
      outcome.className = 'refusal';
    }
  };
  return form({ id: 'annotate' }, () => void run(), h('h3', {}, 'Annotate'), h('label', {}, 'On ', version), h('br', {}), text, h('br', {}), button('Annotate', 'annotate', run), outcome);
}
