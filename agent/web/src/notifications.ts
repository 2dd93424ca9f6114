// Live notices of ledger updates that concern the signed-in party: every event of a
// finalized block that names a twin on which the party holds a role. Finality can jump
// several blocks at once; every block in between is read, so no update is missed.

import type { ApiPromise } from '@polkadot/api';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Session } from './session';

export interface Notice {
  block: number;
  twin: number;
  /** `pallet.Event`, as the chain names it. */
  event: string;
  /** The event's other fields, in words. */
  detail: string;
}

/** The twin an event names, if it has a `twin` field. */
function twinOf(record: EventRecord): number | null {
  const { event } = record;
  const names = (event.data as unknown as { names?: string[] | null }).names ?? [];
  const at = names.indexOf('twin');
  return at < 0 ? null : Number(event.data[at].toString());
}

function detailOf(record: EventRecord): string {
  const names = (record.event.data as unknown as { names?: string[] | null }).names ?? [];
  return names
    .map((name, i) => [name, record.event.data[i]] as const)
    .filter(([name]) => name !== 'twin')
    .map(([name, value]) => `${name} ${String(value.toHuman?.() ?? value.toString()).slice(0, 80)}`)
    .join(', ');
}

/** Follows finality for `you`; returns the function that stops it. */
export async function watchNotices(
  api: ApiPromise,
  you: Session,
  notify: (notice: Notice) => void,
  failed: (error: unknown) => void,
): Promise<() => void> {
  const roles = new Map<number, boolean>();
  const concerns = async (twin: number) => {
    if (!roles.has(twin)) {
      const held = (await api.call.accessApi.rolesOf(twin, you.address)).toJSON() as unknown[];
      roles.set(twin, held.length > 0);
    }
    return roles.get(twin)!;
  };
  let last = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  let reading = Promise.resolve();
  const read = async (number: number) => {
    const hash = await api.rpc.chain.getBlockHash(number);
    const records = (await (await api.at(hash)).query.system.events()) as unknown as EventRecord[];
    for (const record of records) {
      const twin = twinOf(record);
      if (twin === null) continue;
      const { section, method } = record.event;
      // A change of roles may change which twins concern the party: ask again.
      if (section === 'access') roles.delete(twin);
      if (await concerns(twin)) notify({ block: number, twin, event: `${section}.${method}`, detail: detailOf(record) });
    }
  };
  return api.rpc.chain.subscribeFinalizedHeads((header) => {
    const newest = header.number.toNumber();
    // A block that could not be read is read again with the next head.
    reading = reading
      .then(async () => {
        for (let number = last + 1; number <= newest; number++) {
          await read(number);
          last = number;
        }
      })
      .catch(failed);
  });
}
