// #/documents/ID: a document with its versions, annotations and reader list; the signed-in
// party downloads a version, decrypted in the page, reads the annotations, and adds a
// version or an annotation (document-writes.ts).

import type { ApiPromise } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { sha256 } from '../crypto/bytes';
import { openAnnotation, openDocumentVersion, readDocument, readersOf, type DocumentDetail, type DocumentVersion } from '../documents';
import { button, h, table } from '../dom';
import { session, type Session } from '../session';
import { errorText } from '../text';
import { annotationForm, versionForm } from './document-writes';

/** `done`: what the party has just written to it, said above the refreshed document. */
export async function documentView(api: ApiPromise, id: number, done?: string): Promise<HTMLElement> {
  const you = session();
  const document = await readDocument(api, id, you?.address ?? null);
  if (!document) {
    const who = you ? `${you.name} may read` : 'this node holds';
    return h('section', { id: 'document' }, h('p', { class: 'refusal' }, `There is no document ${id} that ${who}.`));
  }
  const readers = await readersOf(api, id);
  const written = (what: string) =>
    void documentView(api, id, what).then(
      (fresh) => section.replaceWith(fresh),
      (error) => section.prepend(h('p', { class: 'refusal' }, `${what} Reading the document again failed: ${errorText(error)}`)),
    );
  const section = h(
    'section',
    { id: 'document', 'data-document': String(id) },
    done ? h('p', { id: 'document-done' }, done) : null,
    h('h2', {}, document.title),
    h(
      'p',
      {},
      `Document ${document.id} of `,
      h('a', { href: `#/twins/${document.twin}` }, `twin ${document.twin}`),
      document.element ? `, on element ${document.element}` : ', on the whole twin',
      `; ${document.mediaType}; `,
      h('span', { class: `level level-${document.confidentiality.toLowerCase()}` }, document.confidentiality),
      `; registered by ${document.registeredBy} in block ${document.registeredAt}`,
      document.retired ? `; retired by ${document.retired.by} in block ${document.retired.at}` : '',
      '.',
    ),
    h('h3', {}, 'Versions'),
    table(
      ['Version', 'Size', 'Added by', 'In block', 'Annotations', ''],
      [...document.versions].reverse().map((version) => [
        version.number,
        `${version.size} bytes`,
        version.author,
        version.addedAt,
        annotations(api, you, document, version),
        you ? downloadCell(api, you, document, version) : 'sign in (Keys) to download',
      ]),
      { id: 'versions' },
    ),
    h('h3', {}, 'Readers'),
    'unavailable' in readers
      ? h('p', { id: 'readers', class: 'refusal' }, `The store network cannot tell the reader list: ${readers.unavailable}`)
      : h(
          'div',
          { id: 'readers' },
          h('p', {}, `Reader list version ${readers.version}: the key envelopes are served to these accounts only.`),
          h('ul', {}, readers.readers.map((reader) => h('li', {}, reader))),
        ),
    you && !document.retired ? versionForm(api, you, document, written) : null,
    you ? annotationForm(api, you, document, written) : null,
  );
  return section;
}

function downloadCell(api: ApiPromise, you: Session, document: DocumentDetail, version: DocumentVersion): HTMLElement {
  const outcome = h('span', { class: 'outcome' });
  return h(
    'div',
    { class: 'download', 'data-version': String(version.number) },
    button('Download', 'download', async () => {
      outcome.className = 'outcome';
      try {
        const bytes = await openDocumentVersion(api, you, document, version, (done, total) => {
          outcome.textContent = `decrypting chunk ${done} of ${total}…`;
        });
        save(bytes, document);
        outcome.textContent = `${bytes.length} bytes, SHA-256 ${u8aToHex(await sha256(bytes), -1, false)}`;
      } catch (error) {
        outcome.textContent = `Not opened: ${errorText(error)}`;
        outcome.className = 'outcome refusal';
      }
    }),
    ' ',
    outcome,
  );
}

/** Hands the decrypted bytes to the browser as a file download; they go nowhere else. */
function save(bytes: Uint8Array, document: DocumentDetail): void {
  const url = URL.createObjectURL(new Blob([bytes.slice().buffer as ArrayBuffer], { type: document.mediaType }));
  const anchor = h('a', { href: url, download: document.title });
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function annotations(api: ApiPromise, you: Session | null, document: DocumentDetail, version: DocumentVersion): HTMLElement | string {
  if (!version.annotations.length) return '—';
  const list = h('ul', { class: 'annotations' });
  for (const annotation of version.annotations) {
    const text = h('span', { class: 'annotation-text' }, you ? 'opening…' : '(sign in to read)');
    list.append(h('li', {}, `${annotation.author} in block ${annotation.addedAt}: `, text));
    if (you) {
      openAnnotation(api, you, document, annotation).then(
        (opened) => (text.textContent = opened),
        (error) => {
          text.textContent = `not readable: ${errorText(error)}`;
          text.className = 'annotation-text refusal';
        },
      );
    }
  }
  return list;
}
