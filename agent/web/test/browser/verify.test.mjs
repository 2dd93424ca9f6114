// The verification page in Chromium against the four-partner consortium, without signing in:
// the encrypted feeds are reported as not verified, never as verified. (The auditor's run,
// where every document and feed entry holds, is step 4 of scenario.test.mjs.)
//
// Environment (scripts/tests/web-client.sh sets it): as documents.test.mjs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openPage, required, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
let browser;

before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('without signing in, encrypted feeds are not verified, and said so', async () => {
  const { page } = await openPage(browser, `#/twins/${twin}/verify`);
  await waitForText(page, '#verify-progress', /^(Done|Verification stopped)/, 180_000);
  assert.match(await page.$eval('#verify-summary', (p) => p.textContent), /^0 problem\(s\) found; [1-9]\d* feed\(s\) not verified\.$/);
  await page.close();
});
