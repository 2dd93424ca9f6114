// The consortium: organisations with their accounts, validators, partner nodes and the open
// proposals with their votes; the signed-in party votes and executes from here.

import type { ApiPromise } from '@polkadot/api';
import { blake2AsHex } from '@polkadot/util-crypto';
import { isMajority, readConsortium, type Consortium, type Proposal } from '../consortium';
import { button, h, table } from '../dom';
import { session, type Session } from '../session';
import { submit } from '../tx';
import { errorText } from '../text';

export async function consortiumView(api: ApiPromise): Promise<HTMLElement> {
  const section = h('section', { id: 'consortium' });
  const refresh = async () => section.replaceChildren(...render(await readConsortium(api), votingFor(api, refresh)));
  await refresh();
  return section;
}

/** What the proposal rows offer the signed-in party. */
export interface Voting {
  you: Session | null;
  vote(proposal: Proposal, approve: boolean, code: File | undefined, outcome: HTMLElement): Promise<void>;
  execute(proposal: Proposal, outcome: HTMLElement): Promise<void>;
}

function votingFor(api: ApiPromise, refresh: () => Promise<void>): Voting {
  const send = async (outcome: HTMLElement, what: string, transaction: Parameters<typeof submit>[2]) => {
    const you = session();
    if (!you) return;
    outcome.className = 'outcome';
    try {
      await submit(api, you.signer, transaction, (status) => (outcome.textContent = `${what}: ${status}…`));
      await refresh();
    } catch (error) {
      outcome.textContent = `${what} refused: ${errorText(error)}`;
      outcome.className = 'outcome refusal';
    }
  };
  return {
    you: session(),
    async vote(proposal, approve, code, outcome) {
      if (approve && proposal.upgradeCodeHash) {
        // As `dt consortium vote --code`: an upgrade is approved only for the code it names.
        if (!code) {
          outcome.textContent = 'Approving a runtime upgrade needs its code: choose the .wasm file to check it against the proposal.';
          outcome.className = 'outcome refusal';
          return;
        }
        const hash = blake2AsHex(new Uint8Array(await code.arrayBuffer()), 256);
        if (hash !== proposal.upgradeCodeHash) {
          outcome.textContent = `Not approved: ${code.name} hashes to ${hash}, the proposal names ${proposal.upgradeCodeHash}.`;
          outcome.className = 'outcome refusal';
          return;
        }
      }
      await send(outcome, approve ? 'approval' : 'rejection', api.tx.consortium.vote(proposal.id, approve));
    },
    execute: (proposal, outcome) => send(outcome, 'execution', api.tx.consortium.executeProposal(proposal.id)),
  };
}

export function render(consortium: Consortium, voting?: Voting): HTMLElement[] {
  const name = (id: number) => consortium.organisations.find((o) => o.id === id)?.name ?? `#${id}`;
  const names = (ids: number[]) => (ids.length ? ids.map(name).join(', ') : '—');
  return [
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
          ['Id', 'Action', 'Proposed by', 'Approve', 'Reject', 'Expires after block', 'Your organisation'],
          consortium.proposals.map((p) => [
            p.id,
            p.action,
            `${p.proposer} (${name(p.organisation)})`,
            names(p.approvals),
            names(p.rejections),
            p.expiresAt,
            yourPart(consortium, p, voting),
          ]),
          { id: 'proposals' },
        )
      : h('p', { id: 'proposals' }, 'No open proposals.'),
  ];
}

/** The cell where the signed-in party votes or executes, or learns why it cannot. */
function yourPart(consortium: Consortium, proposal: Proposal, voting?: Voting): Node | string {
  const you = voting?.you;
  if (!voting || !you) return 'sign in (Keys) to vote';
  const member = consortium.members.find((m) => m.account === you.address);
  if (!member) return `${you.name} is not a member of the consortium`;
  const outcome = h('span', { class: 'outcome' });
  const cell = h('div', { class: 'your-part', 'data-proposal': String(proposal.id) });
  const voted = proposal.approvals.includes(member.organisation) ? 'approved' : proposal.rejections.includes(member.organisation) ? 'rejected' : null;
  if (voted) cell.append(`${voted} `);
  else if (!member.isAdmin) cell.append('only an admin of your organisation votes ');
  else {
    const code = proposal.upgradeCodeHash ? h('input', { type: 'file', name: 'code', accept: '.wasm', 'aria-label': 'runtime code' }) : null;
    if (code) cell.append(code);
    cell.append(
      button('Approve', 'approve', () => voting.vote(proposal, true, code?.files?.[0], outcome)),
      button('Reject', 'reject', () => voting.vote(proposal, false, undefined, outcome)),
    );
  }
  if (isMajority(consortium, proposal.approvals)) {
    cell.append(button('Execute', 'execute', () => voting.execute(proposal, outcome)));
  }
  cell.append(outcome);
  return cell;
}
