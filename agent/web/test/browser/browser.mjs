// What the browser tests share: Debian's Chromium through puppeteer-core, and a page of the
// served client on the node under test, with its script errors collected.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
