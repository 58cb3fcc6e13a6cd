// Live updates: one realtime connection per tab (centrifuge-js over
// /connection/websocket, authenticated by the access_token cookie) on the
// user's own channel and each family's. An event re-renders the parts of
// the page marked data-live from the server, without a reload, and may show
// a toast.
import { api, apiBase, toast } from './api.js';

const listeners = [];
/** Calls fn(event, data) for every realtime message. */
export function onEvent(fn) { listeners.push(fn); }

let refreshing = null;
let again = false;

/** Re-renders the page's data-live regions from a fresh copy of the page. */
export function refreshLive() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    try {
      const res = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!res.ok || res.redirected) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const fresh of doc.querySelectorAll('[data-live][id]')) {
        const old = document.getElementById(fresh.id);
        // Unchanged regions stay as they are: no flicker, and focus, scroll
        // position and half-typed input survive.
        if (!old || old.isEqualNode(fresh)) continue;
        const active = document.activeElement;
        if (active && old.contains(active) && active.matches('input, textarea, select')) continue;
        const focusedKey = active && old.contains(active) ? active.getAttribute('aria-label') || active.textContent : null;
        old.replaceWith(document.importNode(fresh, true));
        if (focusedKey) {
          const same = [...document.getElementById(fresh.id).querySelectorAll('button, a')]
            .find((b) => (b.getAttribute('aria-label') || b.textContent) === focusedKey);
          (same || document.getElementById(fresh.id)).focus?.();
        }
      }
      document.dispatchEvent(new CustomEvent('cc:refreshed'));
    } catch {
      // Offline: the page stays as it is until the next event.
    } finally {
      const rerun = again;
      refreshing = null;
      again = false;
      if (rerun) refreshLive();
    }
  })();
  return refreshing;
}

// What each event says in a toast; events not listed only refresh. d is the
// event's data: read only fields of the structs the event catalog
// (internal/events/catalog.go) lists for that message, which a test checks.
function describe(event, d) {
  switch (event) {
    case 'medication_logged': return `${d.givenBy?.fullName || 'Someone'} logged ${d.medicationName || 'a dose'}: ${String(d.status || '').toLowerCase()}`;
    case 'medication_missed': return `A dose of ${d.medicationName || 'a medication'} was missed`;
    case 'medication_reminder': return `Time for ${d.medicationName || 'a dose'}`;
    case 'appointment_created': return `New appointment: ${d.title || ''}`;
    case 'appointment_cancelled': return `Appointment cancelled: ${d.title || ''}`;
    case 'shift_update': return `Shift ${String(d.action || '').replace('_', ' ')}`;
    case 'shift_handoff': return 'Shift handoff notes are in';
    case 'timeline_entry': return `Journal: ${d.title || 'new entry'}`;
    case 'document_uploaded': return `New document: ${d.name || ''}`;
    case 'family_member_joined': return 'Someone joined the family';
    default: return null;
  }
}

const seen = new Set();

function handle(msg) {
  if (!msg || !msg.event) return;
  // The same event reaches us once per channel it was sent to.
  if (msg.id) {
    const key = `${msg.event}:${msg.id}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > 500) seen.clear();
  }
  const d = msg.data || {};
  for (const fn of listeners) fn(msg.event, d);
  switch (msg.event) {
    case 'you_were_removed':
    case 'family_deleted':
    case 'your_role_changed':
      location.reload();
      return;
    case 'notification': {
      const badge = document.querySelector('[data-unread]');
      if (badge) badge.textContent = String(Number(badge.textContent || 0) + 1);
      if (d.type !== 'EMERGENCY_ALERT' && d.title) toast(d.title);
      break;
    }
    default: {
      const text = describe(msg.event, d);
      if (text) toast(text);
    }
  }
  if (msg.event !== 'notification' || document.body.dataset.live === 'notifications') refreshLive();
}

function setState(text, cls) {
  const el = document.getElementById('conn');
  if (!el) return;
  el.textContent = text;
  el.className = `conn ${cls}`;
  document.body.dataset.realtime = cls;
}

/** Connects to the realtime endpoint, if the page has a signed-in user. */
export function connect() {
  const body = document.body.dataset;
  if (!body.user || body.public !== undefined || !globalThis.Centrifuge) return null;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  // The access_token cookie authenticates the connection, and the server
  // keeps it alive while the session lives.
  const c = new globalThis.Centrifuge(`${scheme}://${location.host}/connection/websocket`);
  c.on('connecting', () => setState('Connecting…', 'connecting'));
  c.on('connected', () => setState('Live', 'live'));
  c.on('disconnected', () => setState('Offline', 'offline'));
  c.on('publication', (ctx) => handle(ctx.data));
  for (const id of (body.families || '').split(' ').filter(Boolean)) {
    const sub = c.newSubscription(`family:${id}`);
    sub.on('publication', (ctx) => handle(ctx.data));
    // The family rooms joined so far, for whoever waits for live updates.
    sub.on('subscribed', () => {
      const joined = new Set((body.subscribed || '').split(' ').filter(Boolean));
      joined.add(id);
      body.subscribed = [...joined].join(' ');
    });
    sub.subscribe();
  }
  c.connect();
  return c;
}

/**
 * Renews the access cookie before it runs out, while a page is open. Tabs
 * take turns (a Web Lock) and skip a renewal another tab just made: a
 * refresh token is good for one exchange, and reusing it ends the session.
 */
export async function keepSignedIn(force = false) {
  const run = async () => {
    const ttl = Number(document.body.dataset.tokenTtl || 900) * 1000;
    const last = Number(localStorage.getItem('cc.refreshedAt') || 0);
    if (!force && Date.now() - last < ttl / 3) return true;
    try {
      await api('POST', `${apiBase}/auth/refresh`);
      localStorage.setItem('cc.refreshedAt', String(Date.now()));
      return true;
    } catch {
      return false;
    }
  };
  return navigator.locks ? navigator.locks.request('cc-refresh', run) : run();
}

/** Schedules keepSignedIn at two thirds of the access token's lifetime. */
export function scheduleRefresh() {
  const ttl = Number(document.body.dataset.tokenTtl || 0);
  if (!ttl || document.body.dataset.public !== undefined) return;
  setInterval(keepSignedIn, Math.max(30, ttl * 2 / 3) * 1000);
}
