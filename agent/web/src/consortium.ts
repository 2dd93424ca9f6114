// What the consortium view shows, read from the chain's storage: organisations, their
// accounts, validators, partner nodes and open proposals.

import type { ApiPromise } from '@polkadot/api';
import { base58Encode } from '@polkadot/util-crypto';
import { hexText } from './text';

export interface Organisation {
  id: number;
  name: string;
  role: string;
  memberCount: number;
  adminCount: number;
}

export interface Member {
  account: string;
  organisation: number;
  isAdmin: boolean;
}

export interface PartnerNode {
  peerId: string;
  organisation: number;
}

export interface Proposal {
  id: number;
  /** The action in a sentence, as `dt consortium proposals` prints it. */
  action: string;
  /** For a runtime upgrade: the blake2-256 hash of the code, 0x-hex. */
  upgradeCodeHash: string | null;
  proposer: string;
  organisation: number;
  expiresAt: number;
  approvals: number[];
  rejections: number[];
}

export interface Consortium {
  organisations: Organisation[];
  members: Member[];
  validators: string[];
  partnerNodes: PartnerNode[];
  proposals: Proposal[];
}

/** A storage value as plain JSON, for the fields read below. */
type Json = Record<string, unknown>;

const asJson = (codec: { toJSON(): unknown }): Json => codec.toJSON() as Json;

/** The first (only) component of a map key, as a number. */
const keyNumber = (key: { args: { toString(): string }[] }): number => Number(key.args[0].toString());

export async function readConsortium(api: ApiPromise): Promise<Consortium> {
  const query = api.query.consortium;
  const [organisations, members, validators, partnerNodes, proposals] = await Promise.all([
    query.organisations.entries(),
    query.members.entries(),
    query.validators(),
    query.partnerNodes.entries(),
    query.proposals.entries(),
  ]);
  return {
    organisations: organisations
      .map(([key, value]) => {
        const organisation = asJson(value);
        return {
          id: keyNumber(key),
          name: hexText(organisation.name as string),
          role: String(organisation.role),
          memberCount: Number(organisation.memberCount),
          adminCount: Number(organisation.adminCount),
        };
      })
      .sort((a, b) => a.id - b.id),
    members: members
      .map(([key, value]) => {
        const member = asJson(value);
        return {
          account: key.args[0].toString(),
          organisation: Number(member.organisation),
          isAdmin: Boolean(member.isAdmin),
        };
      })
      .sort((a, b) => a.organisation - b.organisation || a.account.localeCompare(b.account)),
    validators: (validators.toJSON() as string[]).map(String),
    partnerNodes: partnerNodes.map(([key, value]) => ({
      // As libp2p prints a peer id (12D3KooW…), the form operators see in their logs.
      peerId: base58Encode(key.args[0].toU8a(true)),
      organisation: Number(value.toJSON()),
    })),
    proposals: proposals
      .map(([key, value]) => {
        const proposal = asJson(value);
        return {
          id: keyNumber(key),
          action: describeAction(proposal.action as Json),
          upgradeCodeHash: upgradeCodeHash(proposal.action as Json),
          proposer: String(proposal.proposer),
          organisation: Number(proposal.organisation),
          expiresAt: Number(proposal.expiresAt),
          approvals: (proposal.approvals as number[]).map(Number),
          rejections: (proposal.rejections as number[]).map(Number),
        };
      })
      .sort((a, b) => a.id - b.id),
  };
}

function upgradeCodeHash(action: Json): string | null {
  const upgrade = action.upgradeRuntime as Json | undefined;
  return upgrade ? String(upgrade.codeHash) : null;
}

/** Whether `approvals` are a strict majority of the organisations (what execution needs). */
export const isMajority = (consortium: Consortium, approvals: number[]): boolean =>
  approvals.length * 2 > consortium.organisations.length;

/** A governance action in a sentence. */
export function describeAction(action: Json): string {
  const [kind, fields] = Object.entries(action)[0] ?? ['unknown', {}];
  const f = (fields ?? {}) as Json;
  switch (kind) {
    case 'upgradeRuntime':
      return `upgrade the runtime to spec version ${f.specVersion} (code ${f.codeHash})`;
    case 'addOrganisation':
      return `add the organisation ${hexText(f.name as string)} with admin ${f.admin}`;
    case 'removeOrganisation':
      return `remove organisation ${f.organisation}`;
    case 'addValidator':
      return `add the validator ${f.validator}`;
    case 'removeValidator':
      return `remove the validator ${f.validator}`;
    case 'addPartnerNode':
      return `allow the node ${f.peerId} of organisation ${f.organisation}`;
    case 'removePartnerNode':
      return `disallow the node ${f.peerId}`;
    case 'appointAccessManager':
      return `appoint ${f.manager} access manager of twin ${f.twin}`;
    default:
      return `${kind} ${JSON.stringify(fields)}`;
  }
}
