// The consortium: organisations with their accounts, validators, partner nodes and the open
// proposals with their votes.

import type { ApiPromise } from '@polkadot/api';
import { readConsortium, type Consortium } from '../consortium';
import { h, table } from '../dom';

export async function consortiumView(api: ApiPromise): Promise<HTMLElement> {
  return render(await readConsortium(api));
}

export function render(consortium: Consortium): HTMLElement {
  const name = (id: number) => consortium.organisations.find((o) => o.id === id)?.name ?? `#${id}`;
  const names = (ids: number[]) => (ids.length ? ids.map(name).join(', ') : '—');
  return h(
    'section',
    { id: 'consortium' },
    h('h2', {}, 'Organisations'),
    table(
      ['Id', 'Name', 'Role', 'Accounts', 'Admins'],
      consortium.organisations.map((o) => [o.id, o.name, o.role, o.memberCount, o.adminCount]),
      { id: 'organisations' },
    ),
    h('h2', {}, 'Members'),
    table(
      ['Account', 'Organisation', 'Admin'],
      consortium.members.map((m) => [m.account, name(m.organisation), m.isAdmin ? 'yes' : '']),
      { id: 'members' },
    ),
    h('h2', {}, 'Validators'),
    h('ul', { id: 'validators' }, consortium.validators.map((v) => h('li', {}, v))),
    h('h2', {}, 'Partner nodes'),
    table(
      ['Peer id', 'Organisation'],
      consortium.partnerNodes.map((n) => [n.peerId, name(n.organisation)]),
      { id: 'partner-nodes' },
    ),
    h('h2', {}, 'Open proposals'),
    consortium.proposals.length
      ? table(
          ['Id', 'Action', 'Proposed by', 'Approve', 'Reject', 'Expires after block'],
          consortium.proposals.map((p) => [
            p.id,
            p.action,
            `${p.proposer} (${name(p.organisation)})`,
            names(p.approvals),
            names(p.rejections),
            p.expiresAt,
          ]),
          { id: 'proposals' },
        )
      : h('p', { id: 'proposals' }, 'No open proposals.'),
  );
}
