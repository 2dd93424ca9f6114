// Documents in a real Chromium against the four-partner consortium, as the owner's partner
// Bob (auditor on the twin): a document dt uploaded is listed on its element, downloaded and
// decrypted in the page to the very bytes dt encrypted, with its annotation and reader list;
// the secret blueprint he is not cleared for is neither listed nor opened.
//
// Environment (scripts/tests/web-client.sh sets it): as browser.mjs and keys.test.mjs, plus
// DT_TWIN, DT_DOCUMENT (dt's upload of DT_DOCUMENT_FILE, annotated with DT_ANNOTATION) and
// DT_SECRET_DOCUMENT.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, required, signedIn, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const documentId = required('DT_DOCUMENT');
const original = readFileSync(required('DT_DOCUMENT_FILE'));
const secret = required('DT_SECRET_DOCUMENT');
const bob = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const alice = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const charlie = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
let browser;
let page;
let artifacts;
const downloads = mkdtempSync(join(tmpdir(), 'dt-web-downloads-'));

before(async () => {
  browser = await launch();
  ({ page, artifacts } = await signedIn(browser, 'bob'));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
});
after(async () => browser?.close());

test('the twin shows the auditor the report on its element, and not the secret blueprint', async () => {
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}`), twin);
  await page.waitForSelector('#element-tree details', { timeout: 30_000 });
  const links = await page.$$eval('#twin a[href^="#/documents/"]', (anchors) => anchors.map((a) => [a.getAttribute('href'), a.closest('[data-element]')?.dataset.element ?? null]));
  assert.deepEqual(links, [[`#/documents/${documentId}`, 'fill-level-sensor-1']], `documents Bob may read: ${JSON.stringify(links)}`);
});

test('the auditor downloads the version dt uploaded: decrypted in the page, byte for byte', async () => {
  // The sensor's element is folded in the tree: follow its link as a party would after unfolding.
  await page.$eval(`a[href="#/documents/${documentId}"]`, (anchor) => anchor.click());
  await page.waitForSelector('#versions button[name="download"]', { timeout: 30_000 });
  assert.equal(await page.$eval('#document h2', (h) => h.textContent), 'Inspection report');
  const readers = await page.$$eval('#readers li', (items) => items.map((i) => i.textContent).sort());
  // The owner who uploaded it, the auditor and the maintainer: the twin's parties cleared
  // for Confidential.
  assert.deepEqual(readers, [bob, alice, charlie].sort());
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

test('the secret blueprint is refused to the auditor, even by its id', async () => {
  await page.evaluate((id) => (location.hash = `#/documents/${id}`), secret);
  await page.waitForSelector('#document .refusal', { timeout: 30_000 });
  assert.equal(await page.$eval('#document .refusal', (p) => p.textContent), `There is no document ${secret} that bob may read.`);
  await page.screenshot({ path: join(artifacts, 'document-refused.png') });
});
