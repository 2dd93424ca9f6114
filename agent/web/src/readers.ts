// Who may read a twin's data of one confidentiality level, as the chain decides it (the
// same rule as dt-client's readers.rs): members for public data, otherwise the accounts
// whose roles on the twin clear them for the level; each with its registered RSA key. A
// document's key is sealed for exactly these.

import type { ApiPromise } from '@polkadot/api';
import { hexToU8a } from '@polkadot/util';

export const LEVELS = ['Public', 'Internal', 'Confidential', 'Secret'] as const;
export type Level = (typeof LEVELS)[number];

export interface Reader {
  account: string;
  key: Uint8Array;
}

export interface Readers {
  included: Reader[];
  /** Cleared accounts that cannot be sealed for, with why. */
  skipped: { account: string; reason: string }[];
}

type Json = Record<string, any>;

export async function clearedReaders(api: ApiPromise, twin: number, level: Level): Promise<Readers> {
  const members = new Map<string, Json>(
    (await api.query.consortium.members.entries()).map(([key, value]) => [key.args[0].toString(), value.toJSON() as Json]),
  );
  const candidates = new Set<string>(level === 'Public' ? members.keys() : []);
  const grants = (await api.call.accessApi.grants(twin)).toJSON() as [Json, unknown][];
  for (const [grantee] of grants) {
    if ('account' in grantee) candidates.add(String(grantee.account));
    else {
      for (const [account, member] of members) if (Number(member.organisation) === Number(grantee.organisation)) candidates.add(account);
    }
  }
  const readers: Readers = { included: [], skipped: [] };
  for (const account of [...candidates].sort()) {
    const member = members.get(account);
    const clearance = (await api.call.accessApi.clearance(twin, account)).toJSON() as Level | null;
    const cleared = (level === 'Public' && member) || (clearance !== null && LEVELS.indexOf(clearance) >= LEVELS.indexOf(level));
    if (!cleared) continue;
    if (!member?.encryptionKey) readers.skipped.push({ account, reason: 'no registered encryption key (not a member)' });
    else readers.included.push({ account, key: hexToU8a(member.encryptionKey) });
  }
  return readers;
}
