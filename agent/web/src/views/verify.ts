// #/twins/ID/verify: what the off-chain store holds for a twin, checked in the page against
// what the chain anchors (verify/documents.ts, verify/feed.ts), as `dt verify` does: every
// document version's blocks, every feed's log. Feeds above Public are read as the signed-in
// party; one it may not read is reported as not verified, never as verified.

import type { ApiPromise } from '@polkadot/api';
import { h, table } from '../dom';
import { isEncrypted, readFeed } from '../feeds';
import { FeedReader } from '../offchain/feed';
import { session } from '../session';
import { verifyDocuments } from '../verify/documents';
import { verifyFeed } from '../verify/feed';
import { errorText } from '../text';

type Json = Record<string, any>;

export async function verifyView(api: ApiPromise, twin: number): Promise<HTMLElement> {
  const you = session();
  const progress = h('p', { id: 'verify-progress' }, 'Checking…');
  const summary = h('p', { id: 'verify-summary' });
  const documents = h('div', { id: 'verify-documents' });
  const feeds = h('div', { id: 'verify-feeds' });
  const section = h(
    'section',
    { id: 'verify' },
    h('h2', {}, 'Verification of ', h('a', { href: `#/twins/${twin}` }, `twin ${twin}`)),
    h('p', {}, 'Every block and feed entry is fetched and checked here against the chain; the node is not trusted to have checked them.'),
    progress,
    summary,
    h('h3', {}, 'Documents'),
    documents,
    h('h3', {}, 'Feeds'),
    feeds,
  );
  void (async () => {
    let problems = 0;
    let unverified = 0;
    const documentVerdicts = await verifyDocuments(api, twin, you?.address ?? null, (done, total) => {
      progress.textContent = `Checking document ${Math.min(done + 1, total)} of ${total}…`;
    });
    problems += documentVerdicts.reduce((sum, verdict) => sum + verdict.problems.length, 0);
    documents.replaceChildren(
      table(
        ['Document', 'Title', 'Blocks checked', 'Verdict'],
        documentVerdicts.map((v) => [v.document, v.title, v.blocks, v.problems.length ? v.problems.join('; ') : 'ok']),
        { id: 'document-verdicts' },
      ),
    );
    const listed = (await api.call.feedsApi.feedsOfTwin(twin, you?.address ?? null)).toJSON() as Json[];
    const rows = [];
    for (const item of listed) {
      const feed = await readFeed(api, Number(item.id));
      if (!feed) continue;
      if (isEncrypted(feed) && !you) {
        unverified++;
        rows.push([feed.id, feed.element, '—', '—', `not verified: ${feed.confidentiality}; sign in as a party cleared for it`]);
        continue;
      }
      try {
        const verdict = await verifyFeed(api, new FeedReader(api, feed.id, you, isEncrypted(feed)), feed, (entries) => {
          progress.textContent = `Checking feed ${feed.id}: ${entries} entries…`;
        });
        problems += verdict.problems.length;
        rows.push([feed.id, feed.element, verdict.entries, verdict.checkpoints, verdict.problems.length ? verdict.problems.join('; ') : 'ok']);
      } catch (error) {
        unverified++;
        rows.push([feed.id, feed.element, '—', '—', `not verified: ${errorText(error)}`]);
      }
    }
    feeds.replaceChildren(table(['Feed', 'Element', 'Entries', 'Checkpoints', 'Verdict'], rows, { id: 'feed-verdicts' }));
    progress.textContent = 'Done.';
    summary.textContent =
      problems === 0 && unverified === 0
        ? `Verified: ${documentVerdicts.length} document(s) and ${rows.length} feed(s) hold what the chain anchors.`
        : `${problems} problem(s) found; ${unverified} feed(s) not verified.`;
    summary.dataset.problems = String(problems);
    summary.dataset.unverified = String(unverified);
  })().catch((error) => {
    progress.textContent = `Verification stopped: ${errorText(error)}`;
    progress.className = 'refusal';
  });
  return section;
}
