// A sensor feed in a real Chromium against the four-partner consortium: the device agent
// streams the fill-level sensor into an Internal feed (sealed under its key epochs) at 100
// readings per second; the owner Bob charts it live, decrypted in the page, and over a past
// time range, with the expected range as a band and readings outside it marked (the old
// sensor's closed feed: scenario.test.mjs).
// The page must keep up: how far it trails the feed and how long the page's main thread is
// blocked are measured and printed (figures in docs/performance.md), not asserted.
//
// Environment (scripts/tests/web-client.sh sets it): as documents.test.mjs, plus DT_FEED
// (the agent's feed), DT_BIN (dt, to read the feed's head) and DT_KEYSTORE (Bob's key).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dt, launch, openPage, required, signedIn, waitForText } from './browser.mjs';

const feed = required('DT_FEED');
let browser;
let page;
let artifacts;

before(async () => {
  browser = await launch();
  ({ page, artifacts } = await signedIn(browser, 'bob'));
});
after(async () => browser?.close());

test('the feed is charted live, decrypted in the page, and keeps up with 100 readings per second', async () => {
  await page.evaluate((feed) => (location.hash = `#/feeds/${feed}`), feed);
  await waitForText(page, '#feed-status', /^Live since \d\d:\d\d:\d\d UTC: \d+ readings/, 60_000);
  assert.match(await page.$eval('#feed h2', (h) => h.textContent), /^Feed \d+: fill-level-sensor-1$/);
  assert.match(await page.$eval('#feed p', (p) => p.textContent), /mm, every 10 ms; expected 240 to 260 mm; Internal/);
  // Measure for 10 s: the page's main thread (the longest gap of a 10 ms timer) and how far
  // the newest reading shown trails the feed's head on the node.
  const measured = await page.evaluate(async () => {
    const status = document.querySelector('#feed-status');
    const firstShown = Number(status.dataset.lastSequence);
    let longestGap = 0;
    let previous = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - previous);
      previous = now;
    }, 10);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    clearInterval(timer);
    return { firstShown, lastShown: Number(status.dataset.lastSequence), longestGap, error: status.dataset.error ?? null };
  });
  const head = await latestSequence();
  const rate = (measured.lastShown - measured.firstShown) / 10;
  console.log(
    `# live chart over 10 s: ${rate.toFixed(1)} readings/s shown, trailing the feed's head by ${head - measured.lastShown} ` +
      `entries, longest main-thread gap ${measured.longestGap.toFixed(0)} ms`,
  );
  assert.equal(measured.error, null, 'every entry opened');
  assert.ok(rate > 50, `the chart follows the feed (${rate} readings/s)`);
  const points = Number(await page.$eval('svg.feed-chart', (svg) => svg.dataset.points));
  assert.ok(points > 1000, `a minute of readings drawn: ${points}`);
  await page.screenshot({ path: join(artifacts, 'feed-live.png'), fullPage: true });
});

test('a past range is charted from the history, readings outside the range marked', async () => {
  const now = Date.now();
  const local = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
  await page.$eval('#history-from', (input, value) => (input.value = value), local(now - 15_000));
  await page.$eval('#history-to', (input, value) => (input.value = value), local(now - 5_000));
  await page.click('#feed button[name="history"]');
  await waitForText(page, '#feed-status', /^\d{4}-.* to .*: \d+ readings/, 60_000);
  const status = await page.$eval('#feed-status', (s) => s.textContent);
  const [, shown, outside] = status.match(/: (\d+) readings, (\d+) outside the expected range/);
  assert.ok(Number(shown) > 500, `ten seconds at 100 readings/s: ${status}`);
  assert.equal(Number(await page.$eval('svg.feed-chart', (svg) => svg.dataset.outside)), Number(outside));
  await page.screenshot({ path: join(artifacts, 'feed-history.png'), fullPage: true });
});

test('without signing in, the encrypted feed is refused with the reason', async () => {
  const { page: anonymous } = await openPage(browser, `#/feeds/${feed}`);
  await anonymous.waitForSelector('#feed .refusal', { timeout: 30_000 });
  assert.match(await anonymous.$eval('#feed .refusal', (p) => p.textContent), /is Internal: its readings are encrypted; sign in/);
  await anonymous.close();
});

/** The feed's newest sequence number, as `dt feed latest` reads it from the owner's node. */
async function latestSequence() {
  const stdout = await dt(required('DT_NODE_WS'), '--json', 'feed', 'latest', feed, '--as', 'bob');
  return JSON.parse(stdout).sequence;
}
