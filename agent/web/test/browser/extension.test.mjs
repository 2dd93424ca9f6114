// Signing with a browser extension, in Chromium against the four-partner consortium. The
// extension is a stand-in injected into the page through the injection interface the
// Polkadot.js extension implements (`window.injectedWeb3`, read by @polkadot/extension-dapp),
// signing as that extension's background does: a transaction's payload as an
// `ExtrinsicPayload` (extension-base's RequestExtrinsicSign), raw bytes wrapped in
// `<Bytes>` … `</Bytes>` (RequestBytesSign); the key stays in this test process, outside the
// page, and every signature it gives is counted. The owner signs in with the account the
// extension keeps and the RSA key from `dt key export`, uploads a document (the extension
// signs the registration and every store request; the replicas accept the wrapped
// signatures) and `dt` opens it as the auditor. Refused: an account of another key type, and
// an upload whose signature the extension declines (nothing is registered).
//
// Environment (scripts/tests/web-client.sh sets it): as scenario.test.mjs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { dt, launch, openPage, required, uploadWithForm, waitForText } from './browser.mjs';

const twin = required('DT_TWIN');
const work = mkdtempSync(join(tmpdir(), 'dt-web-extension-'));
const WALLET = 'test-wallet';
let browser;
let api;
let bob;
let page;
let artifacts;
let accounts;
/** Signatures the extension gave: transaction payloads, and raw bytes (the store's requests). */
const given = { payloads: 0, bytes: 0 };
let declining = false;

before(async () => {
  await cryptoWaitReady();
  bob = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Bob');
  const other = new Keyring({ type: 'ed25519', ss58Format: 42 }).addFromUri('//Bob//ed25519');
  accounts = [
    { address: bob.address, name: 'bob in the extension', type: 'sr25519' },
    { address: other.address, name: 'an ed25519 account', type: 'ed25519' },
  ];
  api = await ApiPromise.create({ provider: new WsProvider(required('DT_NODE_WS')), noInitWarn: true });
  browser = await launch();
  ({ page, artifacts } = await openPage(browser, '#/keys', required('DT_NODE_WS'), injectWallet));
});
after(async () => {
  await browser?.close();
  await api?.disconnect();
});

/** What the stand-in's background does when the page asks it to sign (approved, unless declining). */
async function sign(request) {
  if (declining) throw new Error('Cancelled by the user');
  if (request.kind === 'payload') {
    const payload = request.payload;
    if (payload.address !== bob.address) throw new Error(`no key for ${payload.address}`);
    given.payloads += 1;
    return api.registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(bob);
  }
  if (request.raw.address !== bob.address) throw new Error(`no key for ${request.raw.address}`);
  given.bytes += 1;
  return { signature: u8aToHex(bob.sign(u8aWrapBytes(request.raw.data))) };
}

async function injectWallet(page) {
  await page.exposeFunction('dtTestWalletSign', sign);
  await page.evaluateOnNewDocument(
    (name, accounts) => {
      let id = 0;
      const signer = {
        signPayload: async (payload) => ({ id: ++id, ...(await window.dtTestWalletSign({ kind: 'payload', payload })) }),
        signRaw: async (raw) => ({ id: ++id, ...(await window.dtTestWalletSign({ kind: 'raw', raw })) }),
      };
      window.injectedWeb3 = {
        [name]: {
          version: '0.63.1',
          enable: async () => ({
            accounts: { get: async () => accounts, subscribe: (update) => (update(accounts), () => undefined) },
            signer,
          }),
        },
      };
    },
    WALLET,
    accounts,
  );
}

async function signInWith(account) {
  await page.select('#extension-account', String(accounts.indexOf(account)));
  await (await page.$('#extension-rsa-file')).uploadFile(join(required('DT_WEB_KEYS'), 'bob.rsa.pem'));
  await page.$eval('#extension-passphrase', (input) => (input.value = ''));
  await page.type('#extension-passphrase', required('DT_WEB_PASSPHRASE'));
  await page.click('#extension button[name="use-extension"]');
  await waitForText(page, '#extension-outcome', /^(Signed in|Not signed in)/);
  return page.$eval('#extension-outcome', (p) => p.textContent);
}

test('the owner signs in with the account his extension keeps; an account of another key type is refused', async () => {
  await page.waitForSelector('#extension button[name="connect"]', { timeout: 30_000 });
  await page.click('#extension button[name="connect"]');
  await waitForText(page, '#extension-outcome', /account\(s\) offered|extension/);
  assert.equal(await page.$eval('#extension-outcome', (p) => p.textContent), '2 account(s) offered.');
  assert.match(await signInWith(accounts[1]), /^Not signed in: 5\w+ is a ed25519 account in test-wallet: the consortium's store checks sr25519 signatures only$/);
  assert.equal(await signInWith(accounts[0]), `Signed in as bob in the extension (${bob.address}) with the ${WALLET} extension.`);
  await waitForText(page, '#party', /^Signed in as bob in the extension/);
  assert.deepEqual(given, { payloads: 0, bytes: 0 }, 'signing in asks for no signature');
  await page.screenshot({ path: join(artifacts, 'extension-signed-in.png'), fullPage: true });
});

test('the extension signs an upload, its registration and every store request; dt opens it as the auditor', async () => {
  const file = join(work, 'owner-note.bin');
  writeFileSync(file, randomBytes(300_000));
  assert.match(await uploadFrom(file), /^Uploaded as document \d+, sealed for \d+ reader\(s\)\.$/);
  const document = await page.$eval('#upload-outcome a', (a) => a.dataset.document);
  assert.equal(given.payloads, 1, 'one transaction: the registration');
  // The chunk and manifest puts, the reader list's changes and the envelope: each signed.
  assert.ok(given.bytes >= 4, `store requests signed by the extension: ${given.bytes}`);
  const downloaded = join(work, 'downloaded.bin');
  await dt(required('DT_AUDITOR_WS'), 'doc', 'download', twin, document, '--as', 'dave', '--output', downloaded);
  assert.ok(readFileSync(downloaded).equals(readFileSync(file)), 'dt opened the very bytes the page sealed');
});

test('when the extension declines to sign, the upload stops and nothing is registered', async () => {
  const before = (await api.query.documents.nextDocumentId()).toNumber();
  declining = true;
  try {
    const file = join(work, 'declined.bin');
    writeFileSync(file, 'never signed');
    assert.match(await uploadFrom(file), /^Not uploaded: test-wallet did not sign: .*Cancelled by the user/);
  } finally {
    declining = false;
  }
  assert.equal((await api.query.documents.nextDocumentId()).toNumber(), before, 'no document was registered');
});

/** Uploads `file` from the twin's page, on the first fill-level sensor, Internal. */
async function uploadFrom(file) {
  await page.evaluate((twin) => (location.hash = `#/twins/${twin}`), twin);
  return uploadWithForm(page, file, { element: 'fill-level-sensor-1', level: 'Internal' });
}
