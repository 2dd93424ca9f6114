// Sending a transaction as the signed-in party: signed in the page with its unlocked key (the
// secret never leaves the page) or by its extension (signer.ts), followed until finalized,
// and a refusal told as the chain names it.

import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { AccountSigner } from './signer';
import type { DispatchError, Event, EventRecord } from '@polkadot/types/interfaces';

/** The chain refused the transaction: `error` is `pallet.Error` where the chain names it. */
export class Refused extends Error {
  constructor(
    readonly error: string,
    explanation: string,
  ) {
    super(explanation ? `${error}: ${explanation}` : error);
  }
}

export type Progress = (status: 'signing' | 'submitted' | 'in block' | 'finalized', detail?: string) => void;

/** Where a transaction was finalized, and the events it caused there. */
export interface Finalized {
  block: string;
  events: EventRecord[];
}

/** Signs and submits `transaction`; resolves once it succeeded in a finalized block. */
export function submit(api: ApiPromise, signer: AccountSigner, transaction: SubmittableExtrinsic<'promise'>, progress: Progress = () => undefined): Promise<Finalized> {
  progress('signing');
  return new Promise<Finalized>((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    const finish = (outcome: () => void) => {
      unsubscribe?.();
      outcome();
    };
    transaction
      .signAndSend(signer.sending.account, { ...signer.sending.options, nonce: -1 }, ({ status, dispatchError, events }) => {
        if (status.isReady || status.isBroadcast) progress('submitted');
        if (status.isInBlock) {
          if (dispatchError) return finish(() => reject(refusal(api, dispatchError)));
          progress('in block', status.asInBlock.toHex());
        }
        if (status.isFinalized) {
          if (dispatchError) return finish(() => reject(refusal(api, dispatchError)));
          progress('finalized', status.asFinalized.toHex());
          finish(() => resolve({ block: status.asFinalized.toHex(), events }));
        }
        if (status.isDropped || status.isInvalid || status.isUsurped || status.isFinalityTimeout) {
          finish(() => reject(new Refused(`transaction ${status.type.toLowerCase()}`, 'the node let it go before it was final: send it again')));
        }
      })
      .then((stop) => {
        unsubscribe = stop;
      })
      .catch((error: Error) => reject(poolRefusal(error)));
  });
}

/**
 * The number field `field` of the first event of `kind` in `finalized` (an id the chain gave,
 * e.g. a document's or a call's); an error naming both when the chain reported none.
 */
export function eventNumber(finalized: Finalized, kind: { is: (event: Event) => boolean }, field: string): number {
  const found = finalized.events.find(({ event }) => kind.is(event));
  if (!found) throw new Error(`the chain reported no ${field} in block ${finalized.block}`);
  return Number((found.event.data as unknown as Record<string, { toString(): string }>)[field].toString());
}

function refusal(api: ApiPromise, error: DispatchError): Refused {
  if (error.isModule) {
    const { section, name, docs } = api.registry.findMetaError(error.asModule);
    return new Refused(`${section}.${name}`, docs.join(' '));
  }
  return new Refused(error.type, error.toString());
}

/** What the node's pool answers for a transaction it will not take (e.g. from a non-member). */
function poolRefusal(error: Error): Refused {
  const message = error.message ?? String(error);
  if (/Invalid signing address/.test(message)) {
    return new Refused('not a member', `the chain takes transactions from consortium members only (${message})`);
  }
  return new Refused('refused by the node', message);
}
