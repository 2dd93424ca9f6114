// Changing the specification from the page, on the maintainer's own node: Charlie inserts a
// camera with its lens into the first filling station from an AML snippet (split by the
// node's AML reader, as dt does), replaces the camera's AML and removes it again; each step
// is final on chain and shows in the element's history. An auditor's insertion is refused by
// the chain, a snippet that is not one element by the node, each with the reason.
//
// Environment (scripts/tests/web-client.sh sets it): as upload.test.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, required, signedIn, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const snippet =
  '<InternalElement Name="Camera" ID="camera-1"><Attribute Name="SerialNumber"><Value>CAM-1</Value></Attribute>' +
  '<InternalElement Name="Lens" ID="lens-1" /></InternalElement>';
let browser;

before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

async function open(page, element) {
  await page.evaluate((hash) => (location.hash = hash), `#/twins/${twin}/elements/${element}`);
  await page.waitForSelector(`#element-history[data-element="${element}"] #edit`, { timeout: 30_000 });
}

/** Clicks `button` and returns the outcome the page shows for it. */
async function act(page, button) {
  await page.$eval('#edit-outcome', (p) => (p.textContent = ''));
  await page.click(button);
  await waitForText(page, '#edit-outcome', /^(Inserted|Replaced|Removed|Inserting refused|Replacing refused|Removing refused)/, 120_000);
  return page.$eval('#edit-outcome', (p) => p.textContent);
}

test('the maintainer inserts, replaces and removes an element from the page', async () => {
  const { page, artifacts } = await signedIn(browser, 'charlie', required('DT_MAINTAINER_WS'));
  await open(page, 'filling-station-1');
  await page.$eval('#edit-snippet', (area, value) => (area.value = value), snippet);
  await page.type('#edit-after', 'valve-1');
  assert.equal(await act(page, '#edit-insert button[name="insert"]'), 'Inserted camera-1, lens-1 into filling-station-1.');

  await open(page, 'camera-1');
  assert.match(await page.$eval('#edit-fragment', (area) => area.value), /CAM-1/);
  await page.$eval('#edit-fragment', (area) => (area.value = area.value.replace('CAM-1', 'CAM-2')));
  assert.equal(await act(page, '#edit-replace button[name="replace"]'), 'Replaced the AML of camera-1.');
  // The history, read again after the change, shows both versions.
  const versions = await page.$$eval('#versions tbody tr', (rows) => rows.map((row) => row.cells[1].textContent));
  assert.deepEqual(versions, ['FragmentReplaced', 'Inserted']);
  assert.match(await page.$eval('#versions tbody tr pre', (p) => p.textContent), /CAM-2/);
  await page.screenshot({ path: join(artifacts, 'element-edit.png'), fullPage: true });

  assert.equal(await act(page, '#edit button[name="remove"]'), 'Removed 2 element(s): camera-1 and everything below it.');
  await page.close();
});

test('an auditor may not insert, and a snippet of two elements is not one', async () => {
  const { page } = await signedIn(browser, 'dave', required('DT_AUDITOR_WS'));
  await open(page, 'filling-station-1');
  await page.$eval('#edit-snippet', (area, value) => (area.value = value), snippet);
  assert.match(await act(page, '#edit-insert button[name="insert"]'), /^Inserting refused: none of the elements was inserted: twinSpec\.NotAuthorized/);
  await page.$eval('#edit-snippet', (area) => (area.value = '<InternalElement ID="a"/><InternalElement ID="b"/>'));
  assert.match(await act(page, '#edit-insert button[name="insert"]'), /^Inserting refused: 7006: the snippet is not an insertable AML element/);
  await page.close();
});
