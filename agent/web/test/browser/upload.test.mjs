// A document uploaded from the page, on the maintainer's own node: Charlie (maintainer of
// the twin) encrypts a report on the fill-level sensor in the browser, the page stores and
// registers it and publishes its key envelope; `dt` then downloads it as the auditor Bob
// and gets the very bytes, and Bob's page, open on his own node, shows the notification. A
// party without AddDocuments is refused by the chain, and nothing of its file is registered.
//
// Environment (scripts/tests/web-client.sh sets it): as feeds.test.mjs, plus
// DT_MAINTAINER_WS (Charlie's node).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { launch, required, signedIn, waitForText } from './browser.mjs';

const run = promisify(execFile);
const twin = required('DT_TWIN');
const work = mkdtempSync(join(tmpdir(), 'dt-web-upload-'));
let browser;

before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

/** The twin's page, where the upload form is. */
async function openTwin(page) {
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}`), twin);
  await page.waitForSelector('#upload button[name="upload"]', { timeout: 30_000 });
}

async function upload(page, file, level) {
  await openTwin(page);
  await (await page.$('#upload-file')).uploadFile(file);
  await page.type('#upload-title', 'Sensor report');
  await page.select('#upload-element', 'fill-level-sensor-1');
  await page.select('#upload-level', level);
  await page.click('#upload button[name="upload"]');
  await waitForText(page, '#upload-outcome', /^(Uploaded|Not uploaded)/, 120_000);
  return page.$eval('#upload-outcome', (p) => p.textContent);
}

test('the maintainer uploads a report from the page; dt downloads it as the auditor, byte for byte; the auditor is notified', async () => {
  // The auditor's page on his own node, signed in before the upload.
  const { page: auditor } = await signedIn(browser, 'bob', required('DT_NODE_WS'));
  const { page, artifacts } = await signedIn(browser, 'charlie', required('DT_MAINTAINER_WS'));
  const file = join(work, 'sensor-report.bin');
  writeFileSync(file, randomBytes(1_500_000));
  const outcome = await upload(page, file, 'Confidential');
  assert.match(outcome, /^Uploaded as document \d+, sealed for \d+ reader\(s\)\.$/);
  const document = await page.$eval('#upload-outcome a', (a) => a.dataset.document);
  await page.screenshot({ path: join(artifacts, 'upload.png'), fullPage: true });
  const downloaded = join(work, 'downloaded.bin');
  await run(required('DT_BIN'), ['--node', required('DT_NODE_WS'), 'doc', 'download', twin, document, '--as', 'bob', '--output', downloaded], {
    env: { ...process.env, DT_KEYSTORE: required('DT_KEYSTORE'), DT_PASSPHRASE: required('DT_WEB_PASSPHRASE') },
  });
  assert.ok(readFileSync(downloaded).equals(readFileSync(file)), 'dt opened the very bytes the page sealed');
  // The page lists it on the sensor, with the reader list it set.
  await page.evaluate((id) => (location.hash = `#/documents/${id}`), document);
  await page.waitForSelector('#readers li', { timeout: 30_000 });
  const readers = await page.$$eval('#readers li', (items) => items.map((i) => i.textContent));
  assert.ok(readers.includes('5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty'), `Bob reads it: ${readers}`);
  await page.close();
  // The auditor's page told him, live, once the block was final.
  const notice = `#notifications li[data-event="documents.DocumentRegistered"]`;
  await auditor.waitForSelector(notice, { timeout: 60_000 });
  assert.match(await auditor.$eval(notice, (li) => li.textContent), new RegExp(`documents\\.DocumentRegistered on twin ${twin}: .*document ${document}`));
  await auditor.$eval('#notifications', (details) => (details.open = true));
  await auditor.screenshot({ path: join(artifacts, 'notification.png') });
  await auditor.close();
});

test('the auditor may not add documents: the chain refuses, and the page says why', async () => {
  const { page } = await signedIn(browser, 'bob', required('DT_NODE_WS'));
  const file = join(work, 'auditor-note.txt');
  writeFileSync(file, 'not mine to add');
  assert.match(await upload(page, file, 'Internal'), /^Not uploaded: documents\.NotAuthorized/);
  await page.close();
});
