// The twins pages in Chromium against a dt-node holding the demo's bottling plant (created
// by scripts/tests/web-client.sh with dt as DT_TWIN): the list links to the twin, whose AML
// shows as a tree of elements, each with its confidentiality and fragment.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, openPage } from './browser.mjs';

const twin = process.env.DT_TWIN;
let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('the twin list links to the twin, whose specification is a tree of its elements', async () => {
  assert.ok(twin, 'DT_TWIN is set (scripts/tests/web-client.sh sets it)');
  const { page, errors, artifacts } = await openPage(browser, '#/twins');
  await page.waitForSelector('#twin-list a', { timeout: 30_000 });
  const links = await page.$$eval('#twin-list a', (anchors) => anchors.map((a) => a.getAttribute('href')));
  assert.ok(links.includes(`#/twins/${twin}`), `a link to twin ${twin}: ${links}`);
  await page.click(`a[href="#/twins/${twin}"]`);
  await page.waitForSelector('#element-tree details', { timeout: 30_000 });
  const elements = await page.$$eval('#element-tree details', (nodes) => nodes.map((n) => n.dataset.element));
  for (const id of ['bottling-line', 'conveyor', 'filling-station-1', 'fill-level-sensor-1']) {
    assert.ok(elements.includes(id), `element ${id} in the tree: ${elements}`);
  }
  // Nested as in the AML: the sensor inside the filling station inside the line.
  const path = await page.$eval('[data-element="fill-level-sensor-1"]', (node) => {
    const ids = [];
    for (let at = node.parentElement?.closest('details'); at; at = at.parentElement?.closest('details')) {
      ids.push(at.dataset.element);
    }
    return ids;
  });
  assert.deepEqual(path.slice(0, 2), ['filling-station-1', 'bottling-line']);
  const summary = await page.$eval('[data-element="filling-station-1"] > summary', (s) => s.textContent);
  // Elements are Internal unless their AML or the owner says otherwise.
  assert.match(summary, /FillingStation1 filling-station-1 Internal v1/);
  const fragment = await page.$eval('[data-element="fill-level-sensor-1"] > pre', (p) => p.textContent);
  assert.match(fragment, /FLS-1001/);
  // A fragment is shown as the text it is: its markup never becomes the page's.
  assert.match(fragment, /<Attribute Name="SerialNumber"/);
  assert.equal(await page.$$eval('#element-tree pre *', (nodes) => nodes.length), 0);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: join(artifacts, 'twin.png'), fullPage: true });
  await page.close();
});

test("an element's history lists its versions with the block and the account that made each", async () => {
  const { page, errors } = await openPage(browser, `#/twins/${twin}`);
  await page.waitForSelector('[data-element="filling-station-1"] a.history', { timeout: 30_000 });
  await page.$eval('[data-element="filling-station-1"] > summary a.history', (a) => a.click());
  await page.waitForSelector('#element-history #versions tbody tr', { timeout: 30_000 });
  const versions = await page.$$eval('#element-history #versions tbody tr', (rows) => rows.map((row) => [...row.cells].slice(0, 5).map((c) => c.textContent)));
  // Imported with the twin by the owner (Bob), unchanged since.
  assert.equal(versions.length, 1);
  assert.equal(versions[0][0], '1');
  assert.equal(versions[0][1], 'Imported');
  assert.equal(versions[0][3], '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty');
  assert.match(await page.$eval('#element-history pre', (p) => p.textContent), /FillingStation1/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a twin that does not exist is said not to', async () => {
  const { page } = await openPage(browser, '#/twins/999999');
  await page.waitForSelector('#twin .refusal', { timeout: 30_000 });
  assert.equal(await page.$eval('#twin .refusal', (p) => p.textContent), 'There is no twin 999999.');
  await page.close();
});
