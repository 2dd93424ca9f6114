// The account of `dt key export` (or of any Polkadot.js wallet): a Polkadot.js account JSON,
// opened by @polkadot/keyring into a pair that signs in the page.

import { Keyring } from '@polkadot/keyring';
import type { KeyringPair, KeyringPair$Json } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { FormatError } from '../crypto/bytes';
import { WrongPassphrase } from './pkcs8';

/** Checks the shape of an account file before anything is stored. */
export function parseAccountJson(text: string): KeyringPair$Json {
  let json: KeyringPair$Json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FormatError('the account file is not JSON (dt key export writes NAME.account.json)');
  }
  const content = json?.encoding?.content;
  if (typeof json?.address !== 'string' || typeof json?.encoded !== 'string' || !Array.isArray(content)) {
    throw new FormatError('the account file is not a Polkadot.js account (address, encoded, encoding)');
  }
  if (content[1] !== 'sr25519') throw new FormatError(`the account is ${content[1]}; the chain's accounts are sr25519`);
  if (!json.encoding.type.includes('scrypt')) throw new FormatError('the account file is not encrypted: export it with a passphrase');
  return json;
}

/** The account unlocked with `passphrase`. */
export async function openAccount(json: KeyringPair$Json, passphrase: string): Promise<KeyringPair> {
  await cryptoWaitReady();
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromJson(json);
  try {
    pair.unlock(passphrase);
  } catch {
    throw new WrongPassphrase(`the account ${json.address}`);
  }
  // The file's address must be the key's: a file whose address was edited signs as another.
  const address = new Keyring({ type: 'sr25519', ss58Format: 42 }).encodeAddress(pair.publicKey);
  if (address !== json.address) throw new FormatError(`the account file names ${json.address} but holds the key of ${address}`);
  return pair;
}
