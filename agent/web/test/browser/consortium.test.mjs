// The consortium page in a real Chromium (Debian's, driven by puppeteer-core) against a
// partner's node of the four-partner consortium: what the chain holds is what the page
// shows, and an unreachable node is reported as such. Screenshots go to DT_WEB_ARTIFACTS.
//
// Environment: DT_WEB_URL (the served client, e.g. http://127.0.0.1:8080/), DT_NODE_WS (the
// node, ws://127.0.0.1:PORT), DT_WEB_ARTIFACTS (a directory), CHROMIUM (default
// /usr/bin/chromium). scripts/tests/web-client.sh sets them up.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, openPage } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('the consortium page shows the organisations, members and validators the chain holds', async () => {
  const { page, errors, started, artifacts } = await openPage(browser);
  await page.waitForSelector('#status[data-connected]', { timeout: 30_000 });
  await page.waitForSelector('#organisations tbody tr', { timeout: 30_000 });
  console.log(`# connected and rendered in ${Date.now() - started} ms`);
  const status = await page.$eval('#status', (element) => element.textContent);
  assert.match(status, /dt-ledger spec version \d+/);
  const organisations = await page.$$eval('#organisations tbody tr', (rows) =>
    rows.map((row) => [...row.cells].map((cell) => cell.textContent)),
  );
  assert.deepEqual(
    organisations.map((row) => row[1]),
    ['Manufacturer', 'Owner', 'Maintainer', 'Auditor'],
  );
  // The manufacturer's admin is Alice.
  const members = await page.$$eval('#members tbody tr', (rows) =>
    rows.map((row) => row.cells[0].textContent),
  );
  const alice = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
  assert.ok(members.includes(alice), `Alice among the members: ${members}`);
  const validators = await page.$$eval('#validators li', (items) => items.map((i) => i.textContent));
  assert.ok(validators.includes(alice), `Alice validates: ${validators}`);
  // Partner nodes as libp2p names them: the manufacturer's node key is 00..01.
  const nodes = await page.$$eval('#partner-nodes tbody tr', (rows) => rows.map((row) => `${row.cells[0].textContent} ${row.cells[1].textContent}`));
  assert.ok(nodes.includes('12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp Manufacturer'), `${nodes}`);
  // The manufacturer's upgrade proposal, approved by its own organisation only so far.
  const proposal = await page.$eval('#proposals tbody tr', (row) => [...row.cells].map((cell) => cell.textContent));
  assert.match(proposal[1], /^upgrade the runtime to spec version 101 \(code 0x[0-9a-f]{64}\)$/);
  assert.equal(proposal[3], 'Manufacturer');
  assert.equal(proposal[6], 'sign in (Keys) to vote');
  assert.deepEqual(errors, []);
  await page.screenshot({ path: join(artifacts, 'consortium.png'), fullPage: true });
  await page.close();
});

test('a node that does not answer is named on the page', async () => {
  // Port 9 (discard): nothing listens there on a test machine.
  const unreachable = 'ws://127.0.0.1:9';
  const { page, artifacts } = await openPage(browser, '', unreachable);
  await page.waitForSelector('#status[data-error]', { timeout: 30_000 });
  const status = await page.$eval('#status', (element) => element.textContent);
  assert.match(status, /no dt-node answers at ws:\/\/127\.0\.0\.1:9/);
  await page.screenshot({ path: join(artifacts, 'unreachable-node.png') });
  await page.close();
});
