// Checkpoints kept in the browser (IndexedDB), so a page can pick up training after a reload or a
// lost device. One object store; one record per key (e.g. 'dcgan'): the checkpoint's safetensors
// bytes and a little metadata to show before restoring.

const DB_NAME = 'webgpu-gan-demos';
const DB_VERSION = 1;
const STORE = 'checkpoints';

export interface StoredCheckpoint {
  key: string;
  /** The engine checkpoint (safetensors bytes, engine/checkpoint.ts format). */
  bytes: Uint8Array;
  step: number;
  /** Date.now() at save time. */
  savedAt: number;
  /** Model config the checkpoint was trained with (shown before restoring). */
  config: unknown;
}

let dbPromise: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') return reject(new Error('IndexedDB is not available in this browser (private mode?)'));
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'key' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new Error(`IndexedDB: cannot open ${DB_NAME}: ${req.error?.message ?? 'unknown error'}`));
      req.onblocked = () => reject(new Error(`IndexedDB: ${DB_NAME} is blocked by another tab; close it and retry`));
    });
    dbPromise.catch(() => (dbPromise = null));
  }
  return dbPromise;
}

function run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = fn(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction failed'}`));
        tx.onabort = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction aborted (storage full?)'}`));
      }),
  );
}

export function putCheckpoint(rec: StoredCheckpoint): Promise<void> {
  return run('readwrite', (s) => s.put(rec)).then(() => undefined);
}

export async function getCheckpoint(key: string): Promise<StoredCheckpoint | null> {
  const r = (await run('readonly', (s) => s.get(key))) as StoredCheckpoint | undefined;
  return r ?? null;
}

export function deleteCheckpoint(key: string): Promise<void> {
  return run('readwrite', (s) => s.delete(key)).then(() => undefined);
}
