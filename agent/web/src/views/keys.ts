// #/keys: importing a party's exported key files, unlocking a stored identity, signing out.
// The files are opened here, with the passphrase typed here; nothing of them is sent anywhere.

import type { ApiPromise } from '@polkadot/api';
import { equal } from '../crypto/bytes';
import { hexToU8a } from '@polkadot/util';
import { button, form, h } from '../dom';
import { openAccount, parseAccountJson } from '../keys/account';
import { openRsaKey } from '../keys/pkcs8';
import { forgetIdentity, listIdentities, saveIdentity, type StoredIdentity } from '../keys/vault';
import { begin, session, signIn, signOut } from '../session';
import { errorText } from '../text';


export async function keysView(api: ApiPromise): Promise<HTMLElement> {
  const signedIn = h('div');
  const stored = h('div');
  // The import form is built once, so its outcome stays when the lists above are redrawn.
  const render = async () => {
    signedIn.replaceChildren(...signedInPart(render));
    stored.replaceChildren(...(await storedPart(render)));
  };
  await render();
  return h('section', { id: 'keys' }, signedIn, stored, importForm(api, render));
}

function signedInPart(rerender: () => Promise<void>): HTMLElement[] {
  const you = session();
  return [
    h('h2', {}, 'Signed in'),
    you
      ? h('p', { id: 'signed-in' }, `${you.name} (${you.address}) `, button('Sign out', 'sign-out', async () => {
          signOut();
          await rerender();
        }))
      : h('p', { id: 'signed-in' }, 'No one: unlock a stored key or import one below.'),
  ];
}

async function storedPart(rerender: () => Promise<void>): Promise<HTMLElement[]> {
  const identities = await listIdentities();
  return [
    h('h2', {}, 'Keys in this browser'),
    identities.length
      ? h('ul', { id: 'identities' }, identities.map((identity) => identityItem(identity, rerender)))
      : h('p', { id: 'identities' }, 'None yet.'),
  ];
}

function identityItem(identity: StoredIdentity, rerender: () => Promise<void>): HTMLElement {
  const passphrase = h('input', { type: 'password', placeholder: 'passphrase', 'aria-label': `passphrase of ${identity.name}` });
  const outcome = h('span', { class: 'outcome' });
  return h(
    'li',
    { 'data-address': identity.address },
    `${identity.name} ${identity.address} `,
    passphrase,
    button('Unlock', 'unlock', async () => {
      try {
        await signIn(identity, passphrase.value);
        await rerender();
      } catch (error) {
        outcome.textContent = errorText(error);
        outcome.className = 'outcome refusal';
      }
    }),
    button('Forget', 'forget', async () => {
      await forgetIdentity(identity.address);
      if (session()?.address === identity.address) signOut();
      await rerender();
    }),
    outcome,
  );
}

function importForm(api: ApiPromise, rerender: () => Promise<void>): HTMLElement {
  const account = h('input', { type: 'file', id: 'account-file', accept: '.json' });
  const rsa = h('input', { type: 'file', id: 'rsa-file', accept: '.pem' });
  const passphrase = h('input', { type: 'password', id: 'import-passphrase' });
  const outcome = h('p', { id: 'import-outcome' });
  const run = async () => {
    outcome.className = '';
    outcome.textContent = 'Opening the files…';
    try {
      const identity = await importFiles(api, account.files?.[0], rsa.files?.[0], passphrase.value);
      outcome.textContent = `Imported ${identity.stored.name} (${identity.stored.address}).${identity.warning ? ` ${identity.warning}` : ''}`;
      if (identity.warning) outcome.className = 'warning';
      await rerender();
    } catch (error) {
      outcome.textContent = `Not imported: ${errorText(error)}`;
      outcome.className = 'refusal';
    }
  };
  return form(
    { id: 'import' },
    () => void run(),
    h('h2', {}, 'Import a key'),
    h('p', {}, 'The two files `dt key export NAME` writes, and the key\'s passphrase. They are stored in this browser as they are, encrypted.'),
    h('label', {}, 'Account (NAME.account.json) ', account),
    h('label', {}, 'RSA key (NAME.rsa.pem) ', rsa),
    h('label', {}, 'Passphrase ', passphrase),
    button('Import and sign in', 'import', run),
    outcome,
  );
}

/** Opens both files with the passphrase (refusing a wrong one), stores them and signs in. */
async function importFiles(api: ApiPromise, accountFile: File | undefined, rsaFile: File | undefined, passphrase: string) {
  if (!accountFile || !rsaFile) throw new Error('choose both files');
  const accountJson = await accountFile.text();
  const rsaPem = await rsaFile.text();
  const json = parseAccountJson(accountJson);
  const pair = await openAccount(json, passphrase);
  const rsa = await openRsaKey(rsaPem, passphrase);
  const stored: StoredIdentity = {
    address: json.address,
    name: String(json.meta?.name ?? json.address.slice(0, 8)),
    accountJson,
    rsaPem,
    importedAt: Date.now(),
  };
  await saveIdentity(stored);
  // Both files are open already: sign in with them rather than running the key derivations again.
  begin(stored, pair, rsa);
  // The member entry holds the registered key (the runtime API's Option<Vec<u8>> result is
  // not one @polkadot/api decodes from the metadata).
  const member = (await api.query.consortium.members(json.address)).toJSON() as { encryptionKey?: string } | null;
  let warning = '';
  if (!member) {
    warning = 'The chain has no encryption key for this account: it is not a member of the consortium.';
  } else if (!member.encryptionKey || !equal(hexToU8a(member.encryptionKey), rsa.publicKeyDer)) {
    warning = 'This RSA key is not the one the chain has for the account: documents sealed for the account will not open with it (dt key register NAME registers it).';
  }
  return { stored, warning };
}
