// #/feeds/ID: a sensor feed's readings as a chart, live by default (the last minute,
// following new readings) or over a chosen time range; an encrypted feed's readings are
// opened in the page with the signed-in party's epoch keys.

import type { ApiPromise } from '@polkadot/api';
import { FeedChart } from '../chart';
import { button, h } from '../dom';
import { boundValue, isEncrypted, readFeed, toReading, type FeedInfo, type Reading } from '../feeds';
import { FeedReader, type Entry } from '../offchain/feed';
import { session } from '../session';
import { errorText } from '../text';

const LIVE_WINDOW_MS = 60_000;

/** What stops the live subscription of the feed page shown last. */
let stopFollowing: (() => void) | null = null;

export async function feedView(api: ApiPromise, id: number): Promise<HTMLElement> {
  stopFollowing?.();
  stopFollowing = null;
  const feed = await readFeed(api, id);
  if (!feed) return h('section', { id: 'feed' }, h('p', { class: 'refusal' }, `There is no feed ${id}.`));
  const you = session();
  if (isEncrypted(feed) && !you) {
    return h('section', { id: 'feed' }, header(feed), h('p', { class: 'refusal' }, `Feed ${id} is ${feed.confidentiality}: its readings are encrypted; sign in (Keys) as a party cleared for it to see them.`));
  }
  const range = feed.expectedRange;
  const chart = new FeedChart(range ? { min: boundValue(range.min, range.decimals), max: boundValue(range.max, range.decimals) } : null, feed.unit, LIVE_WINDOW_MS);
  const reader = new FeedReader(api, id, you, isEncrypted(feed));
  const status = h('p', { id: 'feed-status' }, 'Reading…');
  const counts = { shown: 0, outside: 0, unreadable: 0 };
  let last: Reading | null = null;

  const describe = (mode: string) => {
    status.textContent = `${mode}: ${counts.shown} readings, ${counts.outside} outside the expected range${counts.unreadable ? `, ${counts.unreadable} unreadable` : ''}${last ? `; last #${last.sequence} ${last.text} ${feed.unit} at ${new Date(last.timestamp).toISOString()}` : ''}.`;
    status.dataset.lastSequence = last ? String(last.sequence) : '';
  };
  const readings = async (entries: Entry[]): Promise<Reading[]> => {
    const out: Reading[] = [];
    for (const entry of entries) {
      try {
        const reading = toReading(entry.sequence, entry.timestamp, await reader.payload(entry), range);
        if (reading) out.push(reading);
        else counts.unreadable++;
      } catch (error) {
        counts.unreadable++;
        status.dataset.error = errorText(error);
      }
    }
    counts.shown += out.length;
    counts.outside += out.filter((r) => r.outside).length;
    if (out.length) last = out[out.length - 1];
    return out;
  };

  const live = async () => {
    stopFollowing?.();
    Object.assign(counts, { shown: 0, outside: 0, unreadable: 0 });
    last = null;
    const now = Date.now();
    const mode = `Live since ${new Date(now - LIVE_WINDOW_MS).toISOString().slice(11, 19)} UTC`;
    // Subscribe first, so nothing appended while the history is read is missed; entries the
    // history already holds are dropped by sequence.
    const queue: Entry[] = [];
    let caughtUp = false;
    let newest = -1;
    const take = async (entries: Entry[]) => {
      const fresh = entries.filter((entry) => entry.sequence > newest);
      if (!fresh.length) return;
      newest = fresh[fresh.length - 1].sequence;
      chart.add(await readings(fresh));
      describe(mode);
    };
    // Entries are opened in order, one batch at a time, however fast they arrive.
    let opening = Promise.resolve();
    let stop: (() => void) | null = null;
    stop = await reader.follow(
      (entry) => {
        // The party went to another page: stop following.
        if (!section.isConnected && caughtUp) return stop?.();
        if (!caughtUp) return void queue.push(entry);
        opening = opening.then(() => take([entry]));
      },
      (resumeFrom, why) => {
        status.dataset.lagged = `${resumeFrom}: ${why}`;
        void live();
      },
    );
    stopFollowing = stop;
    await reader.byTime(now - LIVE_WINDOW_MS, now + 1, (page) => {
      opening = opening.then(() => take(page));
    });
    await opening;
    caughtUp = true;
    opening = opening.then(() => take(queue.splice(0)));
    await opening;
    describe(mode);
  };

  const from = h('input', { type: 'datetime-local', id: 'history-from', step: '1' });
  const to = h('input', { type: 'datetime-local', id: 'history-to', step: '1' });
  const history = async () => {
    const fromMs = Date.parse(from.value);
    const toMs = Date.parse(to.value);
    if (!(fromMs < toMs)) {
      status.textContent = 'Choose a time range whose start is before its end.';
      return;
    }
    await show(fromMs, toMs, `${from.value} to ${to.value}`);
  };
  const show = async (fromMs: number, toMs: number, what: string) => {
    stopFollowing?.();
    stopFollowing = null;
    Object.assign(counts, { shown: 0, outside: 0, unreadable: 0 });
    last = null;
    let loaded = 0;
    const entries = await reader.byTime(fromMs, toMs, (page) => {
      loaded += page.length;
      status.textContent = `Loading: ${loaded} entries…`;
    });
    const shown = await readings(entries);
    chart.show(shown, fromMs, toMs);
    describe(what);
  };
  /** A closed feed takes no readings: its last minute is what there is to see. */
  const lastMinute = async () => {
    const newest = await reader.latest();
    if (!newest) {
      status.textContent = 'The feed is closed and holds no readings.';
      return;
    }
    await show(newest.timestamp - LIVE_WINDOW_MS, newest.timestamp + 1, 'Closed; its last minute');
  };

  const section = h(
    'section',
    { id: 'feed', 'data-feed': String(id) },
    header(feed),
    h(
      'p',
      { class: 'controls' },
      button('Live', 'live', () => live().catch((error) => void (status.textContent = `Cannot follow the feed: ${errorText(error)}`))),
      ' or from ',
      from,
      ' to ',
      to,
      ' ',
      button('Show', 'history', () => history().catch((error) => void (status.textContent = `Cannot read the feed: ${errorText(error)}`))),
    ),
    chart.element,
    status,
  );
  (feed.active ? live() : lastMinute()).catch((error) => {
    status.textContent = `Cannot read the feed: ${errorText(error)}`;
    status.className = 'refusal';
  });
  return section;
}

function header(feed: FeedInfo): HTMLElement {
  const range = feed.expectedRange;
  return h(
    'div',
    {},
    h('h2', {}, `Feed ${feed.id}: ${feed.element}`),
    h(
      'p',
      {},
      `Of `,
      h('a', { href: `#/twins/${feed.twin}` }, `twin ${feed.twin}`),
      `; ${feed.unit}, every ${feed.nominalIntervalMs} ms; `,
      range ? `expected ${boundValue(range.min, range.decimals)} to ${boundValue(range.max, range.decimals)} ${feed.unit}; ` : 'no expected range; ',
      h('span', { class: `level level-${feed.confidentiality.toLowerCase()}` }, feed.confidentiality),
      `; written by ${feed.owner}; ${feed.active ? 'active' : 'closed'}.`,
    ),
  );
}
