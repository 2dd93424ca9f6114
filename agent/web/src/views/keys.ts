// #/keys: importing a party's exported key files, unlocking a stored identity, signing out.
// The files are opened here, with the passphrase typed here; nothing of them is sent anywhere.

import type { ApiPromise } from '@polkadot/api';
import { equal } from '../crypto/bytes';
import { hexToU8a } from '@polkadot/util';
import { button, form, h } from '../dom';
import { openAccount, parseAccountJson } from '../keys/account';
import { extensionAccounts, signerFor, type ExtensionAccount } from '../keys/extension';
import { openRsaKey, type RsaKey } from '../keys/pkcs8';
import { forgetIdentity, listIdentities, saveIdentity, type StoredIdentity } from '../keys/vault';
import { begin, session, signIn, signOut } from '../session';
import { pairSigner } from '../signer';
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
  return h('section', { id: 'keys' }, signedIn, stored, importForm(api, render), extensionForm(api, render));
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
  begin(stored, pairSigner(pair), rsa);
  return { stored, warning: await registrationWarning(api, json.address, rsa) };
}

/** What is wrong with signing in as `address` with `rsa` by the chain's member entry, if anything. */
async function registrationWarning(api: ApiPromise, address: string, rsa: RsaKey): Promise<string> {
  // The member entry holds the registered key (the runtime API's Option<Vec<u8>> result is
  // not one @polkadot/api decodes from the metadata).
  const member = (await api.query.consortium.members(address)).toJSON() as { encryptionKey?: string } | null;
  if (!member) return 'The chain has no encryption key for this account: it is not a member of the consortium.';
  if (!member.encryptionKey || !equal(hexToU8a(member.encryptionKey), rsa.publicKeyDer)) {
    return 'This RSA key is not the one the chain has for the account: documents sealed for the account will not open with it (dt key register NAME registers it).';
  }
  return '';
}

/**
 * Signing in with an account a browser extension keeps: the extension signs every
 * transaction and store request (asking its user each time); the RSA key, which no extension
 * holds, is opened here from `dt key export`'s file for the documents and feeds.
 */
function extensionForm(api: ApiPromise, rerender: () => Promise<void>): HTMLElement {
  const accounts = h('select', { id: 'extension-account' });
  const rsa = h('input', { type: 'file', id: 'extension-rsa-file', accept: '.pem' });
  const passphrase = h('input', { type: 'password', id: 'extension-passphrase' });
  const outcome = h('p', { id: 'extension-outcome' });
  let found: ExtensionAccount[] = [];
  const connect = async () => {
    outcome.className = '';
    outcome.textContent = 'Asking the browser\'s extensions…';
    try {
      found = await extensionAccounts();
      accounts.replaceChildren(...found.map((account, index) => h('option', { value: String(index) }, `${account.name} (${account.address}) in ${account.extension}`)));
      outcome.textContent = `${found.length} account(s) offered.`;
    } catch (error) {
      outcome.textContent = errorText(error);
      outcome.className = 'refusal';
    }
  };
  const use = async () => {
    outcome.className = '';
    const chosen = found[Number(accounts.value)];
    try {
      if (!chosen) throw new Error('connect to the extension and choose an account first');
      const pem = rsa.files?.[0];
      if (!pem) throw new Error("choose the account's RSA key (NAME.rsa.pem from dt key export)");
      outcome.textContent = 'Opening the RSA key…';
      const key = await openRsaKey(await pem.text(), passphrase.value);
      const signer = await signerFor(chosen);
      begin({ name: chosen.name, address: chosen.address }, signer, key);
      const warning = await registrationWarning(api, chosen.address, key);
      outcome.textContent = `Signed in as ${chosen.name} (${chosen.address}) with ${signer.keptBy}.${warning ? ` ${warning}` : ''}`;
      if (warning) outcome.className = 'warning';
      await rerender();
    } catch (error) {
      outcome.textContent = `Not signed in: ${errorText(error)}`;
      outcome.className = 'refusal';
    }
  };
  return form(
    { id: 'extension' },
    () => void use(),
    h('h2', {}, 'Sign with a browser extension'),
    h('p', {}, 'An account kept by the Polkadot.js extension (or one like it); it asks you to approve every signature. The RSA key and its passphrase open documents and feeds in this page and are not stored.'),
    button('Connect', 'connect', connect),
    ' ',
    h('label', {}, 'Account ', accounts),
    h('label', {}, 'RSA key (NAME.rsa.pem) ', rsa),
    h('label', {}, 'Passphrase ', passphrase),
    button('Sign in with the extension', 'use-extension', use),
    outcome,
  );
}
