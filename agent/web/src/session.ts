// Who is signed in on this page: an identity whose keys are unlocked in memory, or whose
// account a browser extension keeps (signer.ts). Reloading the page or signing out forgets
// the unlocked keys; only the encrypted files stay (keys/vault.ts).

import { openAccount, parseAccountJson } from './keys/account';
import { openRsaKey, type RsaKey } from './keys/pkcs8';
import type { StoredIdentity } from './keys/vault';
import { pairSigner, type AccountSigner } from './signer';

export interface Session {
  name: string;
  address: string;
  signer: AccountSigner;
  rsa: RsaKey;
}

let current: Session | null = null;
const listeners = new Set<(session: Session | null) => void>();

export const session = (): Session | null => current;

/** Calls `listener` whenever someone signs in or out. */
export function onSessionChange(listener: (session: Session | null) => void): void {
  listeners.add(listener);
}

/** Opens both files of `identity` with `passphrase`; either failing signs no one in. */
export async function signIn(identity: StoredIdentity, passphrase: string): Promise<Session> {
  const pair = await openAccount(parseAccountJson(identity.accountJson), passphrase);
  const rsa = await openRsaKey(identity.rsaPem, passphrase);
  return begin(identity, pairSigner(pair), rsa);
}

/** Signs in with keys already opened (an import has just opened them, or an extension keeps the account's). */
export function begin(identity: Pick<StoredIdentity, 'name' | 'address'>, signer: AccountSigner, rsa: RsaKey): Session {
  signOut();
  current = { name: identity.name, address: identity.address, signer, rsa };
  listeners.forEach((listener) => listener(current));
  return current;
}

export function signOut(): void {
  if (!current) return;
  current.signer.forget();
  current = null;
  listeners.forEach((listener) => listener(null));
}
