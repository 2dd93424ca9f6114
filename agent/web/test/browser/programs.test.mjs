// A program call from the page, against the four-partner consortium with the device agent
// running the simulated plant: the maintainer Charlie fills in the form the page generated
// from SetFillVolume's declaration (volume, 250.0 to 1500.5 ml); values outside the bounds
// or not numbers are refused in the page, nothing sent; a value inside is queued on chain,
// run by the device and its outcome shown live.
//
// Environment (scripts/tests/web-client.sh sets it): as upload.test.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, recordSentFrames, required, signedIn, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const form = 'form.program[data-program="SetFillVolume"]';
let browser;
let page;
let artifacts;
let sent;

before(async () => {
  browser = await launch();
  ({ page, artifacts } = await signedIn(browser, 'charlie', required('DT_MAINTAINER_WS')));
  sent = await recordSentFrames(page);
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}`), twin);
  await page.waitForSelector(`${form} button[name="call"]`, { timeout: 30_000 });
});
after(async () => browser?.close());

async function call(volume) {
  await page.$eval(`${form} input[name="volume"]`, (input) => (input.value = ''));
  await page.type(`${form} input[name="volume"]`, volume);
  await page.click(`${form} button[name="call"]`);
}

test('the form shows the declared bounds and refuses values outside them before sending', async () => {
  assert.match(await page.$eval(form, (f) => f.textContent), /volume\s+from 250\.0 to 1500\.5 ml/);
  const before = sent.filter((frame) => frame.includes('author_submit')).length;
  for (const [volume, why] of [
    ['1500.6', /volume must be at most 1500\.5 ml/],
    ['249.9', /volume must be at least 250\.0 ml/],
    ['600.25', /not a decimal number with at most 1 decimal place/],
    ['a lot', /not a decimal number/],
  ]) {
    await call(volume);
    await waitForText(page, `${form} .call-status`, why);
  }
  assert.equal(sent.filter((frame) => frame.includes('author_submit')).length, before, 'nothing was submitted');
});

test('a call inside the bounds is run by the device; its status is followed live', async () => {
  await call('600.0');
  await waitForText(page, `${form} .call-status`, /^Call \d+: (Completed|Failed)/, 120_000);
  const status = await page.$eval(`${form} .call-status`, (p) => p.textContent);
  assert.match(status, /^Call \d+: Completed/);
  await page.screenshot({ path: join(artifacts, 'program-call.png'), fullPage: true });
});
