// The twin's change trail and the search, served by the node's twin index, in Chromium
// against the four-partner consortium: the auditor reads who changed what and when, filters
// by event and by account, and finds elements by name; the secret blueprint's registration
// is in the trail (events are no secret among partners) but never its content.
//
// Environment (scripts/tests/web-client.sh sets it): as documents.test.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, required, signedIn, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const bob = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
let browser;
let page;
let artifacts;

before(async () => {
  browser = await launch();
  ({ page, artifacts } = await signedIn(browser, 'dave', required('DT_AUDITOR_WS')));
});
after(async () => browser?.close());

const rows = () => page.$$eval('#trail-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));

test("the auditor reads the twin's whole trail: who, what, when, in which block", async () => {
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}/trail`), twin);
  await waitForText(page, '#trail-note', /change\(s\) shown|cannot tell/);
  const trail = await rows();
  // Oldest first: the trail opens with the twin's creation by the owner (its access
  // control is created in the same block).
  const created = trail.find((row) => row[3] === 'twinSpec.TwinCreated');
  assert.ok(created, 'the creation is in the trail');
  assert.equal(created[0], trail[0][0]);
  assert.equal(created[2], bob);
  assert.deepEqual(trail.map((row) => Number(row[0])), trail.map((row) => Number(row[0])).sort((a, b) => a - b));
  for (const event of ['access.RoleGranted', 'documents.DocumentRegistered', 'feeds.FeedRegistered', 'twinSpec.ProgramDeclared']) {
    assert.ok(trail.some((row) => row[3] === event), `${event} in the trail: ${trail.map((row) => row[3])}`);
  }
  assert.doesNotMatch(await page.$eval('#trail-note', (p) => p.textContent), /complete from block/);
  await page.screenshot({ path: join(artifacts, 'trail.png'), fullPage: true });
});

test('the trail filters by event and by account', async () => {
  await page.type('#trail-events', 'documents.DocumentRegistered');
  await page.click('#trail button[name="filter"]');
  await waitForText(page, '#trail-note', /change\(s\) shown/);
  const documents = await rows();
  assert.ok(documents.length >= 2, 'the report and the blueprint');
  assert.ok(documents.every((row) => row[3] === 'documents.DocumentRegistered'));
  await page.$eval('#trail-events', (input) => (input.value = ''));
  await page.type('#trail-who', bob);
  await page.click('#trail button[name="filter"]');
  await waitForText(page, '#trail-note', /change\(s\) shown/);
  assert.ok((await rows()).every((row) => row[2] === bob));
});

test('the search finds elements by name and id through the index', async () => {
  await page.evaluate(() => (location.hash = '#/twins'));
  await page.waitForSelector('#search-query', { timeout: 30_000 });
  await page.type('#search-query', 'FillLevel');
  await page.click('#search button[name="search"]');
  await page.waitForSelector('#search-table', { timeout: 30_000 });
  const found = await page.$$eval('#search-table tbody tr', (trs) => trs.map((tr) => tr.cells[1].textContent));
  assert.ok(found.includes('fill-level-sensor-1'), `found: ${found}`);
});
