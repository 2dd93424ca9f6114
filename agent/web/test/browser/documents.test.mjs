// Documents in a real Chromium against the four-partner consortium, as the auditor Dave on
// his own node: a document dt uploaded is listed on its element, downloaded and decrypted in
// the page to the very bytes dt encrypted, with its annotation and reader list; the secret
// blueprint he is not cleared for is not listed (scenario.test.mjs: not opened by id either).
// From the page, the auditor annotates the report and the maintainer adds a version; dt
// reads both as the owner.
//
// Environment (scripts/tests/web-client.sh sets it): as browser.mjs and keys.test.mjs, plus
// DT_TWIN, DT_DOCUMENT (dt's upload of DT_DOCUMENT_FILE, annotated with DT_ANNOTATION) and
// DT_SECRET_DOCUMENT, DT_AUDITOR_WS and DT_MAINTAINER_WS (the parties' nodes), DT_BIN,
// DT_KEYSTORE and DT_WEB_PASSPHRASE (dt).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dt, launch, required, signedIn, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const documentId = required('DT_DOCUMENT');
const original = readFileSync(required('DT_DOCUMENT_FILE'));
const bob = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const alice = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const charlie = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
const dave = '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy';

let browser;
let page;
let artifacts;
const downloads = mkdtempSync(join(tmpdir(), 'dt-web-downloads-'));

before(async () => {
  browser = await launch();
  ({ page, artifacts } = await signedIn(browser, 'dave', required('DT_AUDITOR_WS')));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
});
after(async () => browser?.close());

test('the twin shows the auditor the report on its element, and not the secret blueprint', async () => {
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}`), twin);
  await page.waitForSelector('#element-tree details', { timeout: 30_000 });
  const links = await page.$$eval('#twin a[href^="#/documents/"]', (anchors) => anchors.map((a) => [a.getAttribute('href'), a.closest('[data-element]')?.dataset.element ?? null]));
  assert.deepEqual(links, [[`#/documents/${documentId}`, 'fill-level-sensor-1']], `documents Dave may read: ${JSON.stringify(links)}`);
});

test('the auditor downloads the version dt uploaded: decrypted in the page, byte for byte', async () => {
  // The sensor's element is folded in the tree: follow its link as a party would after unfolding.
  await page.$eval(`a[href="#/documents/${documentId}"]`, (anchor) => anchor.click());
  await page.waitForSelector('#versions button[name="download"]', { timeout: 30_000 });
  assert.equal(await page.$eval('#document h2', (h) => h.textContent), 'Inspection report');
  const readers = await page.$$eval('#readers li', (items) => items.map((i) => i.textContent).sort());
  // The owner who uploaded it, the manufacturer, the maintainer and the auditor: the twin's
  // parties cleared for Confidential.
  assert.deepEqual(readers, [bob, alice, charlie, dave].sort());
  await waitForText(page, '#versions .annotation-text', new RegExp(`^${required('DT_ANNOTATION')}$`));
  await page.click('#versions button[name="download"]');
  await waitForText(page, '#versions .download .outcome', /^\d+ bytes, SHA-256 [0-9a-f]{64}$|^Not opened/, 120_000);
  const outcome = await page.$eval('#versions .download .outcome', (o) => o.textContent);
  const digest = createHash('sha256').update(original).digest('hex');
  assert.equal(outcome, `${original.length} bytes, SHA-256 ${digest}`);
  // The browser saved the file: the same bytes.
  for (let tries = 0; tries < 100 && !readdirSync(downloads).includes('Inspection report'); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(readFileSync(join(downloads, 'Inspection report')).equals(original), 'the saved file is the original');
  await page.screenshot({ path: join(artifacts, 'document.png'), fullPage: true });
});

/** `dt ARGS` as the owner, on the owner's node; its standard output. */
const dtAsOwner = (...args) => dt(required('DT_NODE_WS'), ...args, '--as', 'bob');

test('the auditor annotates the report from the page; dt reads the annotation as the owner', async () => {
  const note = `Audited on ${new Date().toISOString()}: the swap is documented`;
  await page.waitForSelector('#annotate button[name="annotate"]', { timeout: 30_000 });
  await page.type('#annotation-text', note);
  await page.click('#annotate button[name="annotate"]');
  await waitForText(page, '#document-done, #annotation-outcome.refusal', /^(Added annotation \d+ of version 0|Not annotated)/, 120_000);
  assert.match(await page.$eval('#document-done', (p) => p.textContent), /^Added annotation 1 of version 0 in block 0x[0-9a-f]{64}\.$/);
  // The refreshed page opens it again from the store, as it opens anyone's.
  await page.waitForFunction((note) => [...document.querySelectorAll('#versions .annotation-text')].some((t) => t.textContent === note), { timeout: 60_000 }, note);
  assert.ok((await dtAsOwner('doc', 'show', twin, documentId)).includes(note), 'dt shows the annotation the page sealed');
});

test('the maintainer adds a version from the page; dt downloads it as the owner, byte for byte', async () => {
  const { page: maintainer } = await signedIn(browser, 'charlie', required('DT_MAINTAINER_WS'));
  await maintainer.evaluate((id) => (location.hash = `#/documents/${id}`), documentId);
  await maintainer.waitForSelector('#add-version button[name="add-version"]', { timeout: 30_000 });
  const revised = join(downloads, 'revised-report.bin');
  writeFileSync(revised, randomBytes(700_000));
  await (await maintainer.$('#version-file')).uploadFile(revised);
  await maintainer.click('#add-version button[name="add-version"]');
  await waitForText(maintainer, '#document-done, #version-outcome.refusal', /^(Added version|Not added)/, 120_000);
  assert.match(await maintainer.$eval('#document-done', (p) => p.textContent), /^Added version 1 in block 0x[0-9a-f]{64}, sealed for 4 reader\(s\)\.$/);
  assert.deepEqual(await maintainer.$$eval('#versions tbody tr', (rows) => rows.map((row) => row.cells[0].textContent)), ['1', '0']);
  await maintainer.screenshot({ path: join(artifacts, 'document-version.png'), fullPage: true });
  await maintainer.close();
  const downloaded = join(downloads, 'revised-by-dt.bin');
  await dtAsOwner('doc', 'download', twin, documentId, '--output', downloaded);
  assert.ok(readFileSync(downloaded).equals(readFileSync(revised)), 'dt opened the version the page sealed');
});

test('the auditor may not add a version: the chain refuses, and the page says why', async () => {
  await page.waitForSelector('#add-version button[name="add-version"]', { timeout: 30_000 });
  const file = join(downloads, 'auditor-version.txt');
  writeFileSync(file, 'not mine to version');
  await (await page.$('#version-file')).uploadFile(file);
  await page.click('#add-version button[name="add-version"]');
  await waitForText(page, '#version-outcome', /^Not added/, 120_000);
  assert.match(await page.$eval('#version-outcome', (p) => p.textContent), /^Not added: documents\.NotAuthorized/);
});
