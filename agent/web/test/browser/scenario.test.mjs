// The bottling-plant scenario through the pages, each party on its own partner's node, in
// the order MISSION tells it. Before the pages open, the device agent has exchanged the
// second station's broken fill-level sensor (web-client.sh: one transaction replaced the
// element and closed the old sensor's feed). Then:
//   1. the owner (Bob) sees the new sensor in the twin, signed in for notifications;
//   2. the maintainer (Charlie) uploads the maintenance report on the new sensor from the
//      page (encrypted in the browser); `dt` opens it as the auditor byte for byte; the
//      owner's page is notified;
//   3. the manufacturer (Alice) charts the broken sensor's last readings;
//   4. the auditor (Dave) reads the maintenance trail and verifies the twin in the page;
//   5. the auditor is refused the secret blueprint and may not add documents.
// Each step leaves a screenshot in DT_WEB_ARTIFACTS (scenario-N-*.png).
//
// Environment (scripts/tests/web-client.sh sets it): DT_TWIN, DT_NEW_SENSOR (the element the
// agent inserted), DT_CLOSED_FEED (the old sensor's feed), DT_SECRET_DOCUMENT, the partners'
// nodes DT_NODE_WS (the owner's), DT_MANUFACTURER_WS, DT_MAINTAINER_WS, DT_AUDITOR_WS, and
// DT_BIN, DT_KEYSTORE, DT_WEB_PASSPHRASE for `dt`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dt, launch, required, signedIn, uploadWithForm, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const newSensor = required('DT_NEW_SENSOR');
const charlie = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
/** The plant's device agent (//Ferdie). */
const agent = '5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL';
const work = mkdtempSync(join(tmpdir(), 'dt-web-scenario-'));
const report = join(work, 'maintenance-report.bin');
let browser;
let owner;
let artifacts;
let reportId;

before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const shot = (page, name) => page.screenshot({ path: join(artifacts, `scenario-${name}.png`), fullPage: true });

async function openTwin(page) {
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}`), twin);
  await page.waitForSelector('#element-tree details', { timeout: 30_000 });
}

test('1. the owner sees the sensor the device agent put in, on his own node', async () => {
  ({ page: owner, artifacts } = await signedIn(browser, 'bob', required('DT_NODE_WS')));
  await openTwin(owner);
  const elements = await owner.$$eval('#element-tree [data-element]', (nodes) => nodes.map((node) => node.dataset.element));
  assert.ok(elements.includes(newSensor), `the new sensor ${newSensor} in the tree: ${elements}`);
  assert.ok(!elements.includes('fill-level-sensor-2'), 'the broken sensor is gone from the specification');
  await shot(owner, '1-owner-twin');
});

test('2. the maintainer uploads the report on the new sensor from the page; the owner is notified', async () => {
  const { page } = await signedIn(browser, 'charlie', required('DT_MAINTAINER_WS'));
  await openTwin(page);
  writeFileSync(report, randomBytes(1_500_000));
  const outcome = await uploadWithForm(page, report, { title: 'Maintenance report', element: newSensor, level: 'Confidential' });
  assert.match(outcome, /^Uploaded as document \d+, sealed for \d+ reader\(s\)\.$/);
  reportId = await page.$eval('#upload-outcome a', (a) => a.dataset.document);
  await shot(page, '2-maintainer-upload');
  await page.close();
  // The auditor opens it with dt on his own node: the very bytes the page sealed.
  const downloaded = join(work, 'downloaded.bin');
  await dt(required('DT_AUDITOR_WS'), 'doc', 'download', twin, reportId, '--as', 'dave', '--output', downloaded);
  assert.ok(readFileSync(downloaded).equals(readFileSync(report)), 'dt opened the very bytes the page sealed');
  // The owner's page told him, live, once the block was final.
  const notice = '#notifications li[data-event="documents.DocumentRegistered"]';
  await owner.waitForSelector(notice, { timeout: 60_000 });
  assert.match(await owner.$eval(notice, (li) => li.textContent), new RegExp(`documents\\.DocumentRegistered on twin ${twin}: .*document ${reportId}`));
  await owner.$eval('#notifications', (details) => (details.open = true));
  await shot(owner, '2-owner-notified');
  await owner.close();
});

test("3. the manufacturer charts the broken sensor's last readings", async () => {
  const { page } = await signedIn(browser, 'alice', required('DT_MANUFACTURER_WS'));
  await page.evaluate((feed) => (location.hash = `#/feeds/${feed}`), required('DT_CLOSED_FEED'));
  await waitForText(page, '#feed-status', /^Closed; its last minute: \d+ readings/, 60_000);
  assert.match(await page.$eval('#feed p', (p) => p.textContent), /; closed\.$/);
  const shown = Number(await page.$eval('svg.feed-chart', (svg) => svg.dataset.points));
  assert.ok(shown > 100, `the old sensor's last readings drawn: ${shown}`);
  await shot(page, '3-manufacturer-old-sensor');
  await page.close();
});

test('4. the auditor reads the maintenance trail and verifies the twin against the ledger', async () => {
  const { page } = await signedIn(browser, 'dave', required('DT_AUDITOR_WS'));
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}/trail`), twin);
  await waitForText(page, '#trail-note', /change\(s\) shown/);
  const trail = await page.$$eval('#trail-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const events = trail.map((row) => row[3]);
  // The exchange: one transaction of the device agent replaced the element and the feed.
  const exchange = trail.filter((row) => row[3] === 'twinSpec.ElementReplaced' || row[3] === 'feeds.SensorReplaced');
  assert.deepEqual(exchange.map((row) => row[3]).sort(), ['feeds.SensorReplaced', 'twinSpec.ElementReplaced'], `the exchange in the trail: ${events}`);
  assert.ok(exchange.every((row) => row[0] === exchange[0][0] && row[2] === agent), `in one block, by the agent: ${JSON.stringify(exchange)}`);
  const upload = trail.find((row) => row[3] === 'documents.DocumentRegistered' && row[4].includes(`document ${reportId}`));
  assert.ok(upload, `the report's registration in the trail: ${JSON.stringify(trail.slice(-5))}`);
  assert.equal(upload[2], charlie, 'registered by the maintainer');
  await shot(page, '4-auditor-trail');
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}/verify`), twin);
  await waitForText(page, '#verify-progress', /^(Done|Verification stopped)/, 180_000);
  assert.match(await page.$eval('#verify-summary', (p) => p.textContent), /^Verified: \d+ document\(s\) and \d+ feed\(s\) hold what the chain anchors\.$/);
  const feeds = await page.$$eval('#feed-verdicts tbody tr', (rows) => rows.map((row) => [...row.cells].map((c) => c.textContent)));
  assert.ok(feeds.length >= 3, `both sensors' feeds and the new one: ${JSON.stringify(feeds)}`);
  for (const [, , entries] of feeds) assert.ok(Number(entries) > 0, `entries checked: ${JSON.stringify(feeds)}`);
  await shot(page, '4-auditor-verified');
  await page.close();
});

test('5. the auditor is refused the secret blueprint, even by its id, and may not add documents', async () => {
  const { page } = await signedIn(browser, 'dave', required('DT_AUDITOR_WS'));
  const secret = required('DT_SECRET_DOCUMENT');
  await page.evaluate((id) => (location.hash = `#/documents/${id}`), secret);
  await page.waitForSelector('#document .refusal', { timeout: 30_000 });
  assert.equal(await page.$eval('#document .refusal', (p) => p.textContent), `There is no document ${secret} that dave may read.`);
  await shot(page, '5-auditor-refused-blueprint');
  await openTwin(page);
  const note = join(work, 'auditor-note.txt');
  writeFileSync(note, 'not mine to add');
  assert.match(await uploadWithForm(page, note, { title: 'Auditor note', element: newSensor, level: 'Internal' }), /^Not uploaded: documents\.NotAuthorized/);
  await page.close();
});
