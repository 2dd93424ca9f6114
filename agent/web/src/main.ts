// The page: connects to the node named in the address (?node=ws://HOST:PORT, else the
// default local node) and shows the view the address's fragment names: #/consortium,
// #/twins, #/twins/ID, #/twins/ID/elements/ELEMENT, #/twins/ID/trail, #/twins/ID/verify, #/documents/ID, #/feeds/ID, #/keys. Signing in or out shows the view again for the new party.

import type { ApiPromise } from '@polkadot/api';
import { connect, runtimeName } from './chain';
import { h } from './dom';
import { onSessionChange } from './session';
import { consortiumView } from './views/consortium';
import { documentView } from './views/document';
import { elementView } from './views/element';
import { feedView } from './views/feed';
import { keysView } from './views/keys';
import { NoticeList } from './views/notices';
import { trailView } from './views/trail';
import { verifyView } from './views/verify';
import { twinView, twinsView } from './views/twins';
import { errorText } from './text';

const DEFAULT_NODE = 'ws://127.0.0.1:9944';

/** The view for a fragment of the page's address. */
async function route(api: ApiPromise, hash: string): Promise<HTMLElement> {
  const element = hash.match(/^#\/twins\/(\d+)\/elements\/(.+)$/);
  if (element) return elementView(api, Number(element[1]), decodeURIComponent(element[2]));
  const trail = hash.match(/^#\/twins\/(\d+)\/trail$/);
  if (trail) return trailView(api, Number(trail[1]));
  const verify = hash.match(/^#\/twins\/(\d+)\/verify$/);
  if (verify) return verifyView(api, Number(verify[1]));
  const twin = hash.match(/^#\/twins\/(\d+)$/);
  if (twin) return twinView(api, Number(twin[1]));
  const document = hash.match(/^#\/documents\/(\d+)$/);
  if (document) return documentView(api, Number(document[1]));
  const feed = hash.match(/^#\/feeds\/(\d+)$/);
  if (feed) return feedView(api, Number(feed[1]));
  if (hash === '#/twins') return twinsView(api);
  if (hash === '#/keys') return keysView(api);
  return consortiumView(api);
}

async function start(root: HTMLElement): Promise<void> {
  const notices = new NoticeList();
  const node = new URLSearchParams(location.search).get('node') ?? DEFAULT_NODE;
  const status = h('p', { id: 'status' }, `Connecting to ${node}…`);
  const content = h('main', { id: 'content' });
  const nav = h(
    'nav',
    {},
    h('a', { href: '#/consortium' }, 'Consortium'),
    ' ',
    h('a', { href: '#/twins' }, 'Twins'),
    ' ',
    h('a', { href: '#/keys' }, 'Keys'),
  );
  const party = h('p', { id: 'party' }, 'Not signed in');
  onSessionChange((you) => (party.textContent = you ? `Signed in as ${you.name} (${you.address})` : 'Not signed in'));
  root.replaceChildren(h('header', {}, h('h1', {}, 'dt-ledger'), nav, status, party), notices.element, content);
  let api: ApiPromise;
  try {
    api = await connect(node);
  } catch (error) {
    status.textContent = errorText(error);
    status.dataset.error = 'true';
    return;
  }
  notices.follow(api);
  status.textContent = `${node}: ${runtimeName(api)}`;
  status.dataset.connected = 'true';
  const show = async () => {
    content.dataset.loading = 'true';
    try {
      content.replaceChildren(await route(api, location.hash));
    } catch (error) {
      content.replaceChildren(h('p', { class: 'refusal' }, `Cannot show this page: ${errorText(error)}`));
    }
    delete content.dataset.loading;
  };
  window.addEventListener('hashchange', () => void show());
  // The keys page redraws itself; every other view shows what the new party may see.
  onSessionChange(() => location.hash !== '#/keys' && void show());
  await show();
}

void start(document.getElementById('app')!);
