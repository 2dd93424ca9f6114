// The notices of ledger updates that concern the signed-in party, newest first, under the
// page's header; followed while someone is signed in.

import type { ApiPromise } from '@polkadot/api';
import { h } from '../dom';
import { watchNotices } from '../notifications';
import { onSessionChange, session } from '../session';
import { errorText } from '../text';

/** Notices kept on the page. */
const KEPT = 50;

export class NoticeList {
  readonly element: HTMLDetailsElement;
  private readonly summary = h('summary', {}, 'Notifications (0)');
  private readonly list = h('ol', { reversed: '' });
  private count = 0;
  private stop: (() => void) | null = null;

  constructor() {
    this.element = h('details', { id: 'notifications' }, this.summary, this.list);
  }

  /** Follows the chain for whoever is signed in, from now on. */
  follow(api: ApiPromise): void {
    const restart = async () => {
      this.stop?.();
      this.stop = null;
      const you = session();
      if (!you) return;
      this.stop = await watchNotices(
        api,
        you,
        (notice) => {
          this.count++;
          this.summary.textContent = `Notifications (${this.count})`;
          const link = h('a', { href: `#/twins/${notice.twin}` }, `twin ${notice.twin}`);
          this.list.prepend(h('li', { 'data-event': notice.event }, `#${notice.block} ${notice.event} on `, link, notice.detail ? `: ${notice.detail}` : ''));
          while (this.list.children.length > KEPT) this.list.lastElementChild?.remove();
        },
        (error) => (this.element.dataset.error = errorText(error)),
      );
    };
    onSessionChange(() => void restart());
  }
}
