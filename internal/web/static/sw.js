// CareCircle's service worker: the app shell and recently opened pages for
// offline use (today's schedule and the emergency info card above all),
// push notifications with their one-tap actions, and the replay of changes
// made offline. The server fills in __VERSION__ (the assets' hash, so a new
// release replaces the caches) and __API__ (the REST API's prefix).
const VERSION = '__VERSION__';
const API = '__API__';
const SHELL = `cc-shell-${VERSION}`;
const PAGES = 'cc-pages';
const DATA = 'cc-data';

const SHELL_FILES = [
  '/offline',
  '/manifest.webmanifest',
  '/static/app.css',
  '/static/js/app.js',
  '/static/js/api.js',
  '/static/js/live.js',
  '/static/js/queue.js',
  '/static/js/emergency.js',
  '/static/js/timeline.js',
  '/static/js/push.js',
  '/static/vendor/centrifuge/centrifuge.js',
  '/static/icons/icon.svg',
  '/static/icons/icon-192.png',
  '/static/icons/badge-72.png',
];

// Pages kept for offline reading, and API reads they need.
const OFFLINE_PAGES = ['/dashboard', '/emergency', '/medications', '/timeline'];
const OFFLINE_DATA = [
  /\/care-recipients\/[^/]+\/emergency\/(info|alerts)$/,
  /\/care-recipients\/[^/]+\/medications\/schedule\/today$/,
  /\/care-recipients\/[^/]+\/timeline(\/vitals)?$/,
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('cc-shell-') && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function networkFirst(request, cacheName, keep) {
  try {
    const res = await fetch(request);
    if (keep(res)) {
      const cache = await caches.open(cacheName);
      await cache.put(request, res.clone());
    }
    return res;
  } catch (err) {
    const cached = await caches.match(request, { cacheName });
    if (cached) return cached;
    throw err;
  }
}

async function page(request) {
  const url = new URL(request.url);
  const keep = (res) => res.ok && !res.redirected && OFFLINE_PAGES.includes(url.pathname);
  try {
    return await networkFirst(request, PAGES, keep);
  } catch {
    return (await caches.match(request, { cacheName: PAGES, ignoreSearch: true }))
      || (await caches.match('/offline', { cacheName: SHELL }))
      || new Response('Offline', { status: 503, headers: { 'Content-Type': 'text/plain' } });
  }
}

async function shell(request) {
  const cached = await caches.match(request, { cacheName: SHELL });
  const fresh = fetch(request).then(async (res) => {
    if (res.ok) await (await caches.open(SHELL)).put(request, res.clone());
    return res;
  });
  if (cached) {
    fresh.catch(() => {});
    return cached;
  }
  return fresh;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/connection/')) return;
  if (request.mode === 'navigate') {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith('/static/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(shell(request));
  } else if (url.pathname.startsWith(`${API}/`) && OFFLINE_DATA.some((re) => re.test(url.pathname))) {
    event.respondWith(networkFirst(request, DATA, (res) => res.ok));
  }
});

// ---- push ------------------------------------------------------------------

self.addEventListener('push', (event) => {
  let msg = {};
  try { msg = event.data ? event.data.json() : {}; } catch { msg = { title: 'CareCircle', body: event.data?.text() }; }
  const data = msg.data || {};
  event.waitUntil(self.registration.showNotification(msg.title || 'CareCircle', {
    body: msg.body || '',
    icon: msg.icon || '/static/icons/icon-192.png',
    badge: '/static/icons/badge-72.png',
    tag: msg.tag,
    renotify: Boolean(msg.tag),
    requireInteraction: Boolean(msg.requireInteraction),
    actions: (msg.actions || []).slice(0, 2),
    data,
  }));
});

async function post(path, body) {
  return fetch(`${API}${path}`, {
    method: 'POST', credentials: 'include',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body || {}),
  });
}

async function openPage(url) {
  const target = new URL(url || '/dashboard', self.location.origin);
  const all = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const c of all) {
    if (new URL(c.url).pathname === target.pathname && 'focus' in c) return c.focus();
  }
  if (all[0] && 'navigate' in all[0]) {
    const c = await all[0].navigate(target.href).catch(() => null);
    if (c) return c.focus();
  }
  return self.clients.openWindow(target.href);
}

// notificationAction does what a notification's button says, even with no
// tab open: log the dose, acknowledge the alert, or open the page.
async function notificationAction(action, data) {
  if (action === 'log-dose' && data.medicationId && data.scheduledTime) {
    const call = { method: 'POST', url: `${API}/medications/${data.medicationId}/log`, body: { status: 'GIVEN', scheduledTime: data.scheduledTime } };
    try {
      const res = await post(`/medications/${data.medicationId}/log`, call.body);
      if (res.status === 401) return openPage(`/login?next=${encodeURIComponent('/dashboard')}`);
      const ok = res.ok || res.status === 409;
      await self.registration.showNotification(ok ? 'Dose logged' : 'The dose could not be logged', {
        body: ok ? 'Marked as given.' : 'Open CareCircle to log it.', tag: `done:${data.medicationId}`,
        icon: '/static/icons/icon-192.png', data: { url: '/dashboard' },
      });
      return null;
    } catch {
      await enqueue(call);
      return null;
    }
  }
  if (action === 'acknowledge' && data.alertId && data.careRecipientId) {
    try {
      const res = await post(`/care-recipients/${data.careRecipientId}/emergency/alerts/${data.alertId}/acknowledge`);
      if (res.ok) return openPage(data.url || `/emergency/${data.alertId}`);
    } catch {
      // Offline: the page shows the alert; acknowledging needs the server.
    }
  }
  return openPage(data.url);
}

self.addEventListener('notificationclick', (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  event.waitUntil(notificationAction(event.action, data));
});

// ---- offline queue -----------------------------------------------------------
// The same IndexedDB store the pages use (queue.js); one replayer at a time
// across tabs and this worker (a Web Lock), each entry removed as soon as
// the server answered it.

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('carecircle', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('outbox', { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function store(mode, fn) {
  const d = await db();
  try {
    return await new Promise((resolve, reject) => {
      const t = d.transaction('outbox', mode);
      const r = fn(t.objectStore('outbox'));
      t.oncomplete = () => resolve(r.result);
      t.onerror = () => reject(t.error);
    });
  } finally {
    d.close();
  }
}

async function enqueue(call) {
  await store('readwrite', (s) => s.put({ ...call, id: crypto.randomUUID(), queuedAt: Date.now() }));
  await self.registration.sync?.register('cc-outbox').catch(() => {});
}

async function replay() {
  const run = async () => {
    const all = (await store('readonly', (s) => s.getAll())).sort((a, b) => a.queuedAt - b.queuedAt);
    for (const e of all) {
      let res;
      try {
        res = await fetch(e.url, {
          method: e.method, credentials: 'include',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': e.id },
          body: e.body === undefined ? undefined : JSON.stringify(e.body),
        });
      } catch {
        throw new Error('offline'); // the sync is retried later
      }
      if (res.status >= 500 || res.status === 429 || res.status === 401) throw new Error(`retry later (${res.status})`);
      await store('readwrite', (s) => s.delete(e.id));
    }
  };
  await (self.navigator.locks ? self.navigator.locks.request('cc-outbox', run) : run());
  for (const c of await self.clients.matchAll({ type: 'window' })) c.postMessage('cc:replayed');
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'cc-outbox') event.waitUntil(replay());
});

self.addEventListener('message', (event) => {
  if (event.data === 'cc:signout') {
    event.waitUntil(Promise.all([caches.delete(PAGES), caches.delete(DATA)]));
  }
});
