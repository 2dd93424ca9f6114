// The identities a browser keeps: each party's two exported files, stored in IndexedDB as
// they were imported, i.e. still encrypted under the party's passphrase. Nothing decrypted
// is ever written; unlocking happens in memory for one visit (session.ts).

const DATABASE = 'dt-ledger';
const STORE = 'identities';

export interface StoredIdentity {
  /** The account's SS58 address: one identity per account. */
  address: string;
  name: string;
  /** The Polkadot.js account JSON, as exported. */
  accountJson: string;
  /** The encrypted PKCS#8 PEM, as exported. */
  rsaPem: string;
  importedAt: number;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'address' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`the browser refuses its database: ${request.error?.message}`));
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const database = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = database.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(new Error(`the browser's database failed: ${transaction.error?.message}`));
    });
  } finally {
    database.close();
  }
}

export const saveIdentity = (identity: StoredIdentity): Promise<IDBValidKey> => run('readwrite', (store) => store.put(identity));

export const listIdentities = (): Promise<StoredIdentity[]> => run('readonly', (store) => store.getAll() as IDBRequest<StoredIdentity[]>);

export const forgetIdentity = (address: string): Promise<undefined> => run('readwrite', (store) => store.delete(address));
