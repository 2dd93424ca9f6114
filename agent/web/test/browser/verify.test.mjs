// The verification page in Chromium against the four-partner consortium: as the auditor Bob,
// every document version's blocks and every feed entry the agent wrote (signatures, hash
// links, checkpoints) are checked in the page against the chain, with nothing found wrong;
// without signing in, the encrypted feeds are reported as not verified, never as verified.
//
// Environment (scripts/tests/web-client.sh sets it): as documents.test.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, openPage, required, signedIn, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
let browser;

before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test("the auditor verifies the twin's documents and feeds in the page: all hold", async () => {
  const { page, artifacts } = await signedIn(browser, 'bob');
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}/verify`), twin);
  await waitForText(page, '#verify-progress', /^(Done|Verification stopped)/, 180_000);
  const summary = await page.$eval('#verify-summary', (p) => p.textContent);
  assert.match(summary, /^Verified: \d+ document\(s\) and \d+ feed\(s\) hold what the chain anchors\.$/);
  const feeds = await page.$$eval('#feed-verdicts tbody tr', (rows) => rows.map((row) => [...row.cells].map((c) => c.textContent)));
  assert.ok(feeds.length >= 2, `the agent's feeds: ${JSON.stringify(feeds)}`);
  for (const [, , entries] of feeds) assert.ok(Number(entries) > 0, `entries checked: ${JSON.stringify(feeds)}`);
  await page.screenshot({ path: join(artifacts, 'verify.png'), fullPage: true });
  await page.close();
});

test('without signing in, encrypted feeds are not verified, and said so', async () => {
  const { page } = await openPage(browser, `#/twins/${twin}/verify`);
  await waitForText(page, '#verify-progress', /^(Done|Verification stopped)/, 180_000);
  assert.match(await page.$eval('#verify-summary', (p) => p.textContent), /^0 problem\(s\) found; [1-9]\d* feed\(s\) not verified\.$/);
  await page.close();
});
