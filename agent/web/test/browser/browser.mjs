// What the browser tests share: Debian's Chromium through puppeteer-core, and a page of the
// served client on the node under test, with its script errors collected.
import { mkdirSync } from 'node:fs';
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

/** Opens the client at `fragment` (e.g. `#/twins`) on `node` (the node under test by default). */
export async function openPage(browser, fragment = '', node = required('DT_NODE_WS')) {
  const artifacts = required('DT_WEB_ARTIFACTS');
  mkdirSync(artifacts, { recursive: true });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const url = new URL(required('DT_WEB_URL'));
  url.searchParams.set('node', node);
  url.hash = fragment;
  const started = Date.now();
  await page.goto(url.toString(), { waitUntil: 'domcontentloaded' });
  return { page, errors, started, artifacts };
}
