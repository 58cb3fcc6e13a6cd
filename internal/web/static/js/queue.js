// Changes made offline (dose logs, journal entries) are kept in IndexedDB
// and sent once the connection is back, oldest first, each exactly once:
// an entry leaves the queue as soon as the server answered it at all, and
// one tab at a time replays (a Web Lock). Every entry carries an
// Idempotency-Key; a dose has one log per scheduled time anyway, so a
// replay the server already has comes back 409 and counts as done.
import { APIError, api, toast } from './api.js';

const DB = 'carecircle';
const STORE = 'outbox';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const result = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(result.result ?? result);
      t.onerror = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

/** Lists the queued changes, oldest first. */
export async function pending() {
  const all = await tx('readonly', (s) => s.getAll());
  return all.sort((a, b) => a.queuedAt - b.queuedAt);
}

function updateBadge(count) {
  document.body.dataset.queued = String(count);
  let el = document.getElementById('queued');
  if (!count) { el?.remove(); return; }
  if (!el) {
    el = document.createElement('p');
    el.id = 'queued';
    el.className = 'queued';
    el.setAttribute('role', 'status');
    document.querySelector('main')?.prepend(el);
  }
  el.textContent = `${count} change${count === 1 ? '' : 's'} saved on this device, to be sent when you are back online.`;
}

/** Keeps a call for later and shows that it is waiting. */
export async function enqueue(call, el) {
  const entry = { ...call, id: crypto.randomUUID(), queuedAt: Date.now() };
  await tx('readwrite', (s) => s.put(entry));
  const row = el?.closest('[data-dose]');
  const state = row?.querySelector('[data-state]');
  if (state) state.textContent = 'Saved offline';
  row?.querySelectorAll('button').forEach((b) => { b.disabled = true; });
  if (el?.matches('form')) el.reset();
  toast('You are offline: saved on this device, it will be sent when you are back online.');
  updateBadge((await pending()).length);
  navigator.serviceWorker?.ready.then((r) => r.sync?.register('cc-outbox')).catch(() => {});
}

let replaying = false;

/** Sends every queued change, once. Resolves with how many were sent. */
export async function replay() {
  if (replaying || !navigator.onLine) return 0;
  replaying = true;
  const run = async () => {
    let sent = 0;
    for (const e of await pending()) {
      try {
        await api(e.method, e.url, e.body, { 'Idempotency-Key': e.id });
        sent++;
      } catch (err) {
        if (!(err instanceof APIError)) break; // still offline: keep it and the rest
        if (err.status >= 500 || err.status === 429 || err.status === 401) break; // try again later
        if (err.status !== 409) toast(`A change saved offline was refused: ${err.message}`, 'error');
      }
      await tx('readwrite', (s) => s.delete(e.id));
    }
    return sent;
  };
  try {
    const sent = await (navigator.locks ? navigator.locks.request('cc-outbox', run) : run());
    if (sent) {
      toast(`${sent} change${sent === 1 ? '' : 's'} made offline ${sent === 1 ? 'was' : 'were'} sent.`, 'ok');
      document.dispatchEvent(new CustomEvent('cc:replayed', { detail: { sent } }));
    }
    return sent;
  } finally {
    replaying = false;
    updateBadge((await pending()).length);
  }
}

/** Replays now and whenever the browser comes back online. */
export function startQueue() {
  window.addEventListener('online', () => replay());
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data === 'cc:replay') replay();
    if (e.data === 'cc:replayed') {
      pending().then((p) => updateBadge(p.length)).catch(() => {});
      document.dispatchEvent(new CustomEvent('cc:replayed', { detail: { sent: 0 } }));
    }
  });
  pending().then((p) => updateBadge(p.length)).catch(() => {});
  replay();
}
