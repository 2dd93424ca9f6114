// Who signs for the signed-in party: the account key unlocked in this page (imported from
// `dt key export`), or a browser extension that keeps the key itself (the Polkadot.js
// extension, or any implementing its injection interface). Transactions and the store's
// signed requests go through this one interface, so no view knows which it is.

import type { SignerOptions } from '@polkadot/api/types';
import type { InjectedExtension } from '@polkadot/extension-inject/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';

export interface AccountSigner {
  readonly address: string;
  /** The sr25519 public key the store's replicas check request signatures against. */
  readonly publicKey: Uint8Array;
  /** Where the key is, said to the party ("this page", the extension's name). */
  readonly keptBy: string;
  /** What `signAndSend` takes to sign as this account. */
  readonly sending: { account: KeyringPair | string; options: Partial<SignerOptions> };
  /** An sr25519 signature over `message` (an extension signs it wrapped in `<Bytes>`, which the store accepts). */
  signBytes(message: Uint8Array): Promise<Uint8Array>;
  /** Forgets the key where the page holds it. */
  forget(): void;
}

/** A key unlocked in this page. */
export function pairSigner(pair: KeyringPair): AccountSigner {
  return {
    address: pair.address,
    publicKey: pair.publicKey,
    keptBy: 'this page',
    sending: { account: pair, options: {} },
    signBytes: async (message) => pair.sign(message),
    forget: () => pair.lock(),
  };
}

/** Thrown when an extension will not sign, or gives what is not an sr25519 signature. */
export class ExtensionRefused extends Error {}

/**
 * An account an extension keeps: it asks the extension for every signature, and the
 * extension asks its user. Only sr25519 accounts sign store requests (the replicas check
 * sr25519), so others are refused here rather than at the first request.
 */
export function extensionSigner(address: string, type: string | undefined, extension: InjectedExtension): AccountSigner {
  if (type && type !== 'sr25519') {
    throw new ExtensionRefused(`${address} is a ${type} account in ${extension.name}: the consortium's store checks sr25519 signatures only`);
  }
  const signRaw = extension.signer.signRaw;
  if (!signRaw) throw new ExtensionRefused(`${extension.name} does not sign raw bytes, which the store's requests need`);
  return {
    address,
    publicKey: decodeAddress(address),
    keptBy: `the ${extension.name} extension`,
    sending: { account: address, options: { signer: extension.signer } },
    signBytes: async (message) => {
      let signature: string;
      try {
        ({ signature } = await signRaw({ address, data: u8aToHex(message), type: 'bytes' }));
      } catch (error) {
        throw new ExtensionRefused(`${extension.name} did not sign: ${error instanceof Error ? error.message : String(error)}`);
      }
      const bytes = hexToU8a(signature);
      // An sr25519 signature is 64 bytes; a MultiSignature would carry a leading type byte.
      if (bytes.length !== 64) throw new ExtensionRefused(`${extension.name} gave a ${bytes.length}-byte signature, not an sr25519 one`);
      return bytes;
    },
    forget: () => undefined,
  };
}
