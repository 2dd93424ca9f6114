// Keys and signing in a real Chromium against the four-partner consortium: the owner (Bob)
// imports the files `dt key export` wrote, unlocks them again after a reload and approves
// the manufacturer's upgrade proposal from the consortium page; a wrong passphrase,
// an upgrade approval without (or with the wrong) code and an outsider (Eve) are refused;
// and nothing secret ever reaches the node (every WebSocket frame the page sent is read).
//
// Environment (scripts/tests/web-client.sh sets it): as browser.mjs, plus DT_WEB_KEYS (the
// exported bob.* and eve.* files), DT_WEB_PASSPHRASE, DT_UPGRADE_CODE (the proposed code).
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { importKey, launch, openPage, recordSentFrames, required, waitForText as waitForTextIn } from './browser.mjs';

const keys = required('DT_WEB_KEYS');
const passphrase = required('DT_WEB_PASSPHRASE');
const bobAddress = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
let browser;
let page;
let artifacts;
let sent;

before(async () => {
  browser = await launch();
  ({ page, artifacts } = await openPage(browser, '#/keys'));
  // Every frame the page sends to the node, to look for secrets in at the end.
  sent = await recordSentFrames(page);
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#status[data-connected]', { timeout: 30_000 });
  await page.waitForSelector('#import');
});
after(async () => browser?.close());

const text = (selector) => page.$eval(selector, (element) => element.textContent);
const waitForText = (selector, pattern) => waitForTextIn(page, selector, pattern);

test('a wrong passphrase imports nothing', async () => {
  await importKey(page, 'bob', 'not the passphrase');
  assert.match(await text('#import-outcome'), /^Not imported: the passphrase does not open the account/);
  assert.equal(await text('#identities'), 'None yet.');
  assert.equal(await text('#party'), 'Not signed in');
});

test('the owner imports his exported key and is signed in; the browser keeps the files as exported', async () => {
  await importKey(page, 'bob', passphrase);
  const outcome = await text('#import-outcome');
  assert.match(outcome, new RegExp(`^Imported bob \\(${bobAddress}\\)\\.$`), 'no warning: his RSA key is the registered one');
  assert.equal(await text('#party'), `Signed in as bob (${bobAddress})`);
  const stored = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open('dt-ledger');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const all = request.result.transaction('identities').objectStore('identities').getAll();
          all.onsuccess = () => resolve(all.result);
        };
      }),
  );
  assert.equal(stored.length, 1);
  assert.equal(stored[0].address, bobAddress);
  assert.equal(stored[0].accountJson, readFileSync(join(keys, 'bob.account.json'), 'utf8'));
  assert.equal(stored[0].rsaPem, readFileSync(join(keys, 'bob.rsa.pem'), 'utf8'));
});

test('after a reload the stored key is locked; a wrong passphrase does not unlock it, the right one does', async () => {
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`#identities li[data-address="${bobAddress}"]`, { timeout: 30_000 });
  assert.equal(await text('#party'), 'Not signed in');
  const item = `#identities li[data-address="${bobAddress}"]`;
  await page.type(`${item} input`, 'not the passphrase');
  await page.click(`${item} button[name="unlock"]`);
  await waitForText(`${item} .outcome`, /passphrase does not open/);
  assert.equal(await text('#party'), 'Not signed in');
  await page.$eval(`${item} input`, (input) => (input.value = ''));
  await page.type(`${item} input`, passphrase);
  await page.click(`${item} button[name="unlock"]`);
  await waitForText('#party', /^Signed in as bob/);
});

test('the owner approves the upgrade from the consortium page, with the very code only', async () => {
  await page.evaluate(() => (location.hash = '#/consortium'));
  const cell = '#proposals .your-part';
  await page.waitForSelector(`${cell} button[name="reject"]`, { timeout: 30_000 });
  assert.match(await page.$eval('#proposals tbody tr', (row) => row.cells[1].textContent), /upgrade the runtime to spec version 101/);
  // Approving without the code, then with a file that is not the code: refused in the page.
  await page.click(`${cell} button[name="approve"]`);
  await waitForText(`${cell} .outcome`, /needs its code/);
  await (await page.$(`${cell} input[name="code"]`)).uploadFile(join(keys, 'bob.rsa.pem'));
  await page.click(`${cell} button[name="approve"]`);
  await waitForText(`${cell} .outcome`, /^Not approved: bob\.rsa\.pem hashes to 0x[0-9a-f]{64}, the proposal names/);
  // With the very code the approval is signed in the page and final on chain; the row says so
  // once read back. Two of four organisations are no majority: nothing to execute yet.
  await (await page.$(`${cell} input[name="code"]`)).uploadFile(required('DT_UPGRADE_CODE'));
  await page.click(`${cell} button[name="approve"]`);
  await waitForText(cell, /^approved/);
  assert.equal(await page.$eval('#proposals tbody tr', (row) => row.cells[3].textContent), 'Manufacturer, Owner');
  assert.equal(await page.$(`${cell} button[name="approve"]`), null, 'no second vote offered');
  assert.equal(await page.$(`${cell} button[name="execute"]`), null, 'two of four cannot execute');
  await page.screenshot({ path: join(artifacts, 'consortium-voted.png'), fullPage: true });
});

test('an outsider is warned at import and told on the consortium page that he cannot vote', async () => {
  await page.evaluate(() => (location.hash = '#/keys'));
  await page.waitForSelector('#import');
  await importKey(page, 'eve', passphrase);
  assert.match(await text('#import-outcome'), /Imported eve .*The chain has no encryption key for this account/);
  await page.evaluate(() => (location.hash = '#/consortium'));
  await waitForText('#proposals .your-part, #proposals td:last-child', /eve is not a member of the consortium/);
});

test('no secret reached the node: neither the passphrase nor any part of the private keys', async () => {
  await cryptoWaitReady();
  const frames = sent.join('\n').toLowerCase();
  assert.ok(sent.length > 10, `the page talked to the node (${sent.length} frames)`);
  assert.ok(!frames.includes(passphrase.toLowerCase()), 'the passphrase was sent');
  const pkcs8 = new Keyring({ type: 'sr25519' }).addFromUri('//Bob').encodePkcs8();
  const secrets = [Buffer.from(pkcs8.subarray(16, 48)), Buffer.from(pkcs8.subarray(48, 80))];
  const rsa = createPrivateKey({ key: readFileSync(join(keys, 'bob.rsa.pem')), passphrase }).export({ format: 'der', type: 'pkcs8' });
  // Slices of the private exponent and primes (past the public modulus and exponent).
  for (let at = 420; at + 32 <= rsa.length; at += 256) secrets.push(rsa.subarray(at, at + 32));
  for (const secret of secrets) {
    assert.ok(!frames.includes(secret.toString('hex')), 'a secret went out as hex');
    assert.ok(!frames.includes(secret.toString('base64').slice(0, 40).toLowerCase()), 'a secret went out as base64');
  }
});
