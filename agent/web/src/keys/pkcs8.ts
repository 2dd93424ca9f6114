// The RSA key of `dt key export`: an encrypted PKCS#8 PEM (PBES2 with PBKDF2-HMAC-SHA256 and
// AES-256-CBC), opened with WebCrypto alone into a key that cannot be exported again.

import { FormatError, buffer } from '../crypto/bytes';
import { TAG, elements, expect, oid, sequence, smallInteger } from './der';

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const HMAC_SHA256 = '1.2.840.113549.2.9';
const AES_256_CBC = '2.16.840.1.101.3.4.1.42';
/** More would freeze the page for minutes; dt writes 600,000. */
const MAX_ITERATIONS = 10_000_000;

export class WrongPassphrase extends Error {
  constructor(what: string) {
    super(`the passphrase does not open ${what}`);
  }
}

export interface RsaKey {
  /** For opening key envelopes; WebCrypto will not export it. */
  privateKey: CryptoKey;
  /** SubjectPublicKeyInfo DER: what the chain registers as the account's encryption key. */
  publicKeyDer: Uint8Array;
}

interface Pbes2 {
  salt: Uint8Array;
  iterations: number;
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

/** The DER inside a PEM with `label`. */
export function pemBody(pem: string, label: string): Uint8Array {
  const match = pem.match(new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`));
  if (!match) throw new FormatError(`not a PEM "${label}" (dt key export writes NAME.rsa.pem)`);
  const text = atob(match[1].replace(/\s+/g, ''));
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** Reads EncryptedPrivateKeyInfo, accepting only the scheme dt writes. */
export function parseEncryptedPkcs8(der: Uint8Array): Pbes2 {
  const [info] = elements(der, 'encrypted PKCS#8');
  const [algorithm, data] = sequence(info, 2, 'EncryptedPrivateKeyInfo');
  const [scheme, schemeParams] = sequence(algorithm, 2, 'encryption algorithm');
  if (oid(scheme, 'encryption algorithm') !== PBES2) throw new FormatError('the key is not encrypted with PBES2');
  const [kdf, cipher] = sequence(schemeParams, 2, 'PBES2 parameters');
  const [kdfId, kdfParams] = sequence(kdf, 2, 'key derivation');
  if (oid(kdfId, 'key derivation') !== PBKDF2) throw new FormatError('the key derivation is not PBKDF2');
  const fields = sequence(kdfParams, 2, 'PBKDF2 parameters', true);
  const salt = expect(fields[0], TAG.octetString, 'PBKDF2 salt');
  const iterations = smallInteger(fields[1], 'PBKDF2 iterations');
  if (iterations < 1 || iterations > MAX_ITERATIONS) throw new FormatError(`PBKDF2 with ${iterations} iterations`);
  // Optional key length (INTEGER), then the PRF (default HMAC-SHA1, which dt never writes).
  const rest = fields.slice(2).filter((field) => field.tag !== TAG.integer);
  const prf = rest[0] ? oid(sequence(rest[0], 1, 'PBKDF2 PRF', true)[0], 'PBKDF2 PRF') : 'HMAC-SHA1';
  if (prf !== HMAC_SHA256) throw new FormatError(`PBKDF2 with ${prf}, not HMAC-SHA256`);
  const [cipherId, iv] = sequence(cipher, 2, 'cipher');
  if (oid(cipherId, 'cipher') !== AES_256_CBC) throw new FormatError('the cipher is not AES-256-CBC');
  return {
    salt,
    iterations,
    iv: expect(iv, TAG.octetString, 'AES IV'),
    ciphertext: expect(data, TAG.octetString, 'encrypted key'),
  };
}

/** Opens `pem` with `passphrase`: the private key and its public key's DER. */
export async function openRsaKey(pem: string, passphrase: string): Promise<RsaKey> {
  const params = parseEncryptedPkcs8(pemBody(pem, 'ENCRYPTED PRIVATE KEY'));
  const password = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  const aes = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: buffer(params.salt), iterations: params.iterations },
    password,
    { name: 'AES-CBC', length: 256 },
    false,
    ['decrypt'],
  );
  let pkcs8: ArrayBuffer;
  try {
    pkcs8 = await crypto.subtle.decrypt({ name: 'AES-CBC', iv: buffer(params.iv) }, aes, buffer(params.ciphertext));
  } catch {
    throw new WrongPassphrase('the RSA key');
  }
  const oaep = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
  let exportable: CryptoKey;
  try {
    exportable = await crypto.subtle.importKey('pkcs8', pkcs8, oaep, true, ['decrypt']);
  } catch {
    // A wrong passphrase passes the padding check once in a few hundred tries, then this.
    throw new WrongPassphrase('the RSA key');
  }
  // The public key is the private key's modulus and exponent.
  const { n, e } = await crypto.subtle.exportKey('jwk', exportable);
  const publicKey = await crypto.subtle.importKey('jwk', { kty: 'RSA', n, e, alg: 'RSA-OAEP-256', ext: true }, oaep, true, ['encrypt']);
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, oaep, false, ['decrypt']);
  await checkPair(privateKey, publicKey);
  return { privateKey, publicKeyDer: new Uint8Array(await crypto.subtle.exportKey('spki', publicKey)) };
}

/**
 * CBC has no integrity: a changed byte can leave a key that imports but whose private
 * parts no longer match its modulus. A round trip through both halves finds it.
 */
async function checkPair(privateKey: CryptoKey, publicKey: CryptoKey): Promise<void> {
  const probe = crypto.getRandomValues(new Uint8Array(32));
  const oaep = { name: 'RSA-OAEP' };
  try {
    const back = new Uint8Array(await crypto.subtle.decrypt(oaep, privateKey, await crypto.subtle.encrypt(oaep, publicKey, probe)));
    if (back.every((byte, i) => byte === probe[i]) && back.length === probe.length) return;
  } catch {
    // Reported below.
  }
  throw new FormatError('the RSA key file is damaged: its private key does not match its public key');
}
