// The page: connects to the node named in the address (?node=ws://HOST:PORT, else the
// default local node) and shows the view the address's fragment names: #/consortium,
// #/twins, #/twins/ID.

import type { ApiPromise } from '@polkadot/api';
import { connect, runtimeName } from './chain';
import { h } from './dom';
import { consortiumView } from './views/consortium';
import { twinView, twinsView } from './views/twins';

const DEFAULT_NODE = 'ws://127.0.0.1:9944';

/** The view for a fragment of the page's address. */
async function route(api: ApiPromise, hash: string): Promise<HTMLElement> {
  const twin = hash.match(/^#\/twins\/(\d+)$/);
  if (twin) return twinView(api, Number(twin[1]), null);
  if (hash === '#/twins') return twinsView(api);
  return consortiumView(api);
}

async function start(root: HTMLElement): Promise<void> {
  const node = new URLSearchParams(location.search).get('node') ?? DEFAULT_NODE;
  const status = h('p', { id: 'status' }, `Connecting to ${node}…`);
  const content = h('main', { id: 'content' });
  const nav = h('nav', {}, h('a', { href: '#/consortium' }, 'Consortium'), ' ', h('a', { href: '#/twins' }, 'Twins'));
  root.replaceChildren(h('header', {}, h('h1', {}, 'dt-ledger'), nav, status), content);
  let api: ApiPromise;
  try {
    api = await connect(node);
  } catch (error) {
    status.textContent = error instanceof Error ? error.message : String(error);
    status.dataset.error = 'true';
    return;
  }
  status.textContent = `${node}: ${runtimeName(api)}`;
  status.dataset.connected = 'true';
  const show = async () => {
    content.dataset.loading = 'true';
    try {
      content.replaceChildren(await route(api, location.hash));
    } catch (error) {
      content.replaceChildren(h('p', { class: 'refusal' }, `Cannot show this page: ${error instanceof Error ? error.message : error}`));
    }
    delete content.dataset.loading;
  };
  window.addEventListener('hashchange', () => void show());
  await show();
}

void start(document.getElementById('app')!);
