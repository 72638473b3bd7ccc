// Reports made offline wait here (IndexedDB) and are sent, exactly once, when the
// network returns: each carries an idempotency key, so a resend after a lost answer
// returns the case already filed instead of a second one.

import { ApiError, NetworkError, call } from "./api";

export interface Pending {
  key: string; // idempotency key, made on the phone
  body: Record<string, unknown>;
  photo?: Blob;
  photoName?: string;
  caseId?: number; // set once the case is filed, while the photo still waits
  error?: string; // refused by the server (kept so the worker can see why)
  created: number;
}

const DB = "pingan-worker";
const STORE = "outbox";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise((resolve, reject) => {
    const request = work(db.transaction(STORE, mode).objectStore(STORE));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export const put = (item: Pending) => tx("readwrite", (s) => s.put(item));
export const remove = (key: string) => tx("readwrite", (s) => s.delete(key));
export const all = () => tx<Pending[]>("readonly", (s) => s.getAll() as IDBRequest<Pending[]>);

let flushing: Promise<number> | null = null;

/** Send what waits; returns how many were delivered. One flush at a time. */
export function flush(): Promise<number> {
  flushing ??= send().finally(() => {
    flushing = null;
  });
  return flushing;
}

async function send(): Promise<number> {
  let delivered = 0;
  const items = (await all()).filter((i) => !i.error).sort((a, b) => a.created - b.created);
  for (const item of items) {
    try {
      if (item.caseId === undefined) {
        const made = await call<{ id: number }>("/api/v1/cases", {
          method: "POST",
          body: JSON.stringify({ ...item.body, idempotency_key: item.key }),
        });
        item.caseId = made.id;
        await put(item); // filed: a retry now only sends the photo
      }
      if (item.photo) {
        const form = new FormData();
        form.append("file", item.photo, item.photoName ?? "photo.jpg");
        form.append("purpose", "evidence");
        await call(`/api/v1/cases/${item.caseId}/attachments`, { method: "POST", body: form });
      }
      await remove(item.key);
      delivered += 1;
    } catch (err) {
      if (err instanceof NetworkError) break; // still offline: try again later
      if (err instanceof ApiError && err.status === 401) break; // needs a new login
      item.error = err instanceof Error ? err.message : String(err);
      await put(item);
    }
  }
  return delivered;
}
