// The browser extensions that keep accounts (Polkadot.js and those implementing its
// injection interface, `window.injectedWeb3`), reached through @polkadot/extension-dapp:
// which accounts they offer this page, and a signer for one of them.

import { web3Accounts, web3Enable, web3FromSource } from '@polkadot/extension-dapp';
import { extensionSigner, type AccountSigner } from '../signer';

/** The name this page gives when it asks an extension for access. */
const APP_NAME = 'dt-ledger web client';

export interface ExtensionAccount {
  address: string;
  name: string;
  /** The extension's name (its source). */
  extension: string;
  /** The key type the extension reports, if it does. */
  type?: string;
}

export class NoExtension extends Error {}

/** Asks the extensions for access (each may ask its user) and lists the accounts they offer. */
export async function extensionAccounts(): Promise<ExtensionAccount[]> {
  const extensions = await web3Enable(APP_NAME);
  if (!extensions.length) {
    throw new NoExtension('no extension gave this page access: install the Polkadot.js extension (and allow this site), or import the key files instead');
  }
  // ss58Format 42: the addresses as the chain and dt write them.
  const accounts = await web3Accounts({ ss58Format: 42 });
  if (!accounts.length) throw new NoExtension(`${extensions.map((e) => e.name).join(', ')} offered no account to this page`);
  return accounts.map((account) => ({
    address: account.address,
    name: account.meta.name ?? account.address.slice(0, 8),
    extension: account.meta.source,
    type: account.type,
  }));
}

/** A signer asking `account`'s extension for every signature. */
export async function signerFor(account: ExtensionAccount): Promise<AccountSigner> {
  return extensionSigner(account.address, account.type, await web3FromSource(account.extension));
}
