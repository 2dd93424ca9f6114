// What the browser tests share: Debian's Chromium through puppeteer-core, and a page of the
// served client on the node under test, with its script errors collected.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import puppeteer from 'puppeteer-core';

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/tests/web-client.sh sets it)`);
  return value;
}

export function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * Opens the client at `fragment` (e.g. `#/twins`) on `node` (the node under test by default);
 * `prepare(page)` runs before the client loads (e.g. to inject a browser extension).
 */
export async function openPage(browser, fragment = '', node = required('DT_NODE_WS'), prepare = async () => undefined) {
  const artifacts = required('DT_WEB_ARTIFACTS');
  mkdirSync(artifacts, { recursive: true });
  const page = await browser.newPage();
  await prepare(page);
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const url = new URL(required('DT_WEB_URL'));
  url.searchParams.set('node', node);
  url.hash = fragment;
  const started = Date.now();
  await page.goto(url.toString(), { waitUntil: 'domcontentloaded' });
  return { page, errors, started, artifacts };
}

/**
 * Imports `party`'s exported key files (DT_WEB_KEYS) on the keys page with the passphrase
 * `typed`, and waits for the outcome.
 */
export async function importKey(page, party, typed) {
  const keys = required('DT_WEB_KEYS');
  await page.waitForSelector('#account-file', { timeout: 30_000 });
  await (await page.$('#account-file')).uploadFile(join(keys, `${party}.account.json`));
  await (await page.$('#rsa-file')).uploadFile(join(keys, `${party}.rsa.pem`));
  await page.$eval('#import-passphrase', (input) => (input.value = ''));
  await page.type('#import-passphrase', typed);
  await page.click('#import button[name="import"]');
  await page.waitForFunction(() => !/Opening/.test(document.querySelector('#import-outcome')?.textContent ?? ''), { timeout: 60_000 });
}

/** Waits until the text of `selector` matches `pattern`. */
export function waitForText(page, selector, pattern, timeout = 60_000) {
  return page.waitForFunction(
    (selector, source) => new RegExp(source).test(document.querySelector(selector)?.textContent ?? ''),
    { timeout },
    selector,
    pattern.source,
  );
}

/**
 * A page of the client on `node` (the node under test by default) with `party` signed in
 * from its exported key files.
 */
export async function signedIn(browser, party, node = required('DT_NODE_WS')) {
  const opened = await openPage(browser, '#/keys', node);
  await opened.page.waitForSelector('#status[data-connected]', { timeout: 30_000 });
  await importKey(opened.page, party, required('DT_WEB_PASSPHRASE'));
  await waitForText(opened.page, '#party', new RegExp(`^Signed in as ${party}`));
  return opened;
}

/**
 * Every frame `page` sends to its node over WebSocket from now on, as the page sent it (to
 * look for secrets in, or count submissions).
 */
export async function recordSentFrames(page) {
  const sent = [];
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameSent', ({ response }) => sent.push(response.payloadData));
  return sent;
}

const execute = promisify(execFile);

/** Runs `dt ARGS` (DT_BIN) against `node` with the test's keystore; its standard output. */
export async function dt(node, ...args) {
  const { stdout } = await execute(required('DT_BIN'), ['--node', node, ...args], {
    env: { ...process.env, DT_KEYSTORE: required('DT_KEYSTORE'), DT_PASSPHRASE: required('DT_WEB_PASSPHRASE') },
  });
  return stdout;
}

/**
 * Uploads `file` with the add-a-document form of the twin page `page` shows, on `element`
 * at `level` (with `title` if given), and returns the outcome the page says.
 */
export async function uploadWithForm(page, file, { element, level, title }) {
  await page.waitForSelector('#upload button[name="upload"]', { timeout: 30_000 });
  await (await page.$('#upload-file')).uploadFile(file);
  if (title) await page.type('#upload-title', title);
  await page.select('#upload-element', element);
  await page.select('#upload-level', level);
  await page.click('#upload button[name="upload"]');
  await waitForText(page, '#upload-outcome', /^(Uploaded|Not uploaded)/, 120_000);
  return page.$eval('#upload-outcome', (p) => p.textContent);
}
