// Talking to CareCircle's REST API from the pages: one fetch wrapper, and
// forms and buttons that declare their call in data attributes:
//   data-api="/api/v1/…"  data-method="POST|PATCH|DELETE"
//   data-done="reload | refresh | go:/path | msg[:text] | signin | signout | refresh-alerts | refresh-timeline"
//   data-body='{"json":"for buttons"}'  data-offline="queue" (kept and replayed when offline)
//   data-confirm="Question?" (asked first; nothing is sent unless confirmed)
// Cookie authentication: the API checks the Origin of every write, which a
// same-origin fetch always sends, so no other CSRF token is needed.

export const apiBase = document.body.dataset.api || '/api/v1';

/** An API refusal, with the contract's error envelope. */
export class APIError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Request failed (${status})`);
    this.status = status;
    this.body = body || {};
  }
}

/** Calls the API and resolves with the decoded JSON (or null). */
export async function api(method, url, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined && body !== null) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { message: text }; }
  }
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

/** Shows a short message in the toast area. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = document.createElement('div');
  t.className = `toast toast-${kind}`;
  t.textContent = message;
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 5000);
}

// ---- forms ---------------------------------------------------------------

/** Converts a datetime-local value, read as wall time in zone, to UTC ISO. */
export function zonedToISO(value, zone) {
  const [day, t = '00:00'] = value.split('T');
  const [y, mo, da] = day.split('-').map(Number);
  const [h, mi] = t.split(':').map(Number);
  const wall = Date.UTC(y, mo - 1, da, h, mi);
  if (!zone) return new Date(y, mo - 1, da, h, mi).toISOString();
  let guess = wall;
  for (let i = 0; i < 3; i++) guess = wall - zoneOffset(guess, zone);
  return new Date(guess).toISOString();
}

function zoneOffset(ms, zone) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (k) => Number(parts.find((p) => p.type === k).value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(ms / 1000) * 1000;
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = value;
}

/** Builds the JSON body of a form from its named fields. */
export function formBody(form) {
  const body = {};
  const keepEmpty = form.hasAttribute('data-keep-empty');
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.hasAttribute('data-skip')) continue;
    const type = el.dataset.type;
    let v;
    if (el.type === 'checkbox') {
      v = el.checked;
    } else if (el.type === 'file') {
      continue;
    } else {
      v = el.value.trim();
      if (v === '') {
        if (el.hasAttribute('data-null-empty')) setPath(body, el.name, null);
        else if (keepEmpty && type === 'list') setPath(body, el.name, []);
        continue;
      }
      if (type === 'number') v = Number(v);
      else if (type === 'list') v = v.split(',').map((s) => s.trim()).filter(Boolean);
      else if (type === 'datetime') v = zonedToISO(v, form.dataset.zone);
    }
    setPath(body, el.name, v);
    // A reading carries its unit only when it is given (data-unit-name,
    // data-unit): the API refuses a unit without its reading.
    if (el.dataset.unitName) setPath(body, el.dataset.unitName, el.dataset.unit);
  }
  return body;
}

function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter((id) => !id.startsWith('err-'));
    if (ids.length) e.setAttribute('aria-describedby', ids.join(' ')); else e.removeAttribute('aria-describedby');
  });
}

/** Shows the API's refusal next to the fields it names, and above all. */
export function showErrors(form, err) {
  clearErrors(form);
  const fields = (err.body && err.body.errors) || {};
  let first = null;
  for (const [name, reasons] of Object.entries(fields)) {
    const el = form.querySelector(`[name="${CSS.escape(name)}"]`) || form.querySelector(`[name^="${CSS.escape(name)}."]`);
    if (!el) continue;
    const p = document.createElement('p');
    p.className = 'field-error';
    p.id = `err-${el.id || name}`;
    p.textContent = reasons.join('; ');
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') || ''} ${p.id}`.trim());
    el.insertAdjacentElement('afterend', p);
    first ??= el;
  }
  const msg = document.createElement('p');
  msg.className = 'form-error';
  msg.setAttribute('role', 'alert');
  msg.textContent = err.message;
  form.prepend(msg);
  (first || msg).focus?.();
}

// Handlers other modules register: what to do after a call succeeded.
const doneHandlers = {};
/** Registers what data-done="name" does after a successful call. */
export function onDone(name, fn) { doneHandlers[name] = fn; }

let queueCall = null;
/** Sets how a call marked data-offline="queue" is kept when offline. */
export function setQueue(fn) { queueCall = fn; }

async function after(el, done, result, body) {
  done ||= 'reload';
  const [verb, ...rest] = done.split(':');
  const arg = rest.join(':');
  if (doneHandlers[verb]) return doneHandlers[verb](el, result, arg);
  switch (verb) {
    case 'reload': location.reload(); break;
    case 'go': location.assign(arg.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(body?.[k] ?? ''))); break;
    case 'msg': toast(arg || result?.message || 'Done', 'ok'); if (el.hasAttribute('data-reset')) el.reset(); break;
    case 'signin': {
      const next = el.dataset.next || '/dashboard';
      localStorage.setItem('cc.signedIn', '1');
      localStorage.setItem('cc.refreshedAt', String(Date.now()));
      const user = result && result.user;
      location.assign(user && !user.onboardingCompleted && !next.startsWith('/accept-invite/') ? '/onboarding' : next);
      break;
    }
    case 'signout':
      localStorage.removeItem('cc.signedIn');
      if ('caches' in window) for (const k of await caches.keys()) await caches.delete(k);
      location.assign('/login');
      break;
    default: location.reload();
  }
}

async function perform(el, method, url, body) {
  const busy = el.matches('form') ? el.querySelector('[type=submit]') : el;
  if (busy) busy.disabled = true;
  try {
    const result = await api(method, url, body);
    if (el.matches('form')) clearErrors(el);
    await after(el, el.dataset.done, result, body);
  } catch (err) {
    if (!(err instanceof APIError) && el.dataset.offline === 'queue' && queueCall) {
      await queueCall({ method, url, body }, el);
      return;
    }
    if (err instanceof APIError && err.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
    const shown = err instanceof APIError ? err : new APIError(0, { message: 'No connection. Please try again.' });
    if (el.matches('form')) showErrors(el, shown); else toast(shown.message, 'error');
  } finally {
    if (busy && busy.isConnected) busy.disabled = false;
  }
}

function fill(form) {
  form.querySelectorAll('[data-fill=timezone]').forEach((el) => {
    el.value = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  });
  form.querySelectorAll('[data-copy]').forEach((el) => {
    const src = document.querySelector(el.dataset.copy);
    if (src) el.value = src.value;
  });
}

/** Wires every data-api form and button on the page (and those added later). */
// confirmed asks the question of an element marked data-confirm (an action
// that cannot be taken back) and tells whether the user agreed.
function confirmed(el) {
  return !el.dataset.confirm || window.confirm(el.dataset.confirm);
}

export function wireForms() {
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!form.matches('form[data-api]')) return;
    e.preventDefault();
    if (!form.reportValidity() || !confirmed(form)) return;
    fill(form);
    const method = form.dataset.method || 'POST';
    let body;
    if (form.hasAttribute('data-multipart')) {
      body = new FormData(form);
      for (const [k, v] of [...body.entries()]) if (v === '' || (v instanceof File && !v.name)) body.delete(k);
    } else if (!form.hasAttribute('data-nobody')) {
      body = formBody(form);
    }
    perform(form, method, form.dataset.api, body);
  });
  document.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-api]');
    if (!btn || btn.form) return;
    e.preventDefault();
    let body = btn.dataset.body ? JSON.parse(btn.dataset.body) : undefined;
    if (btn.dataset.ask) {
      const input = btn.parentElement.querySelector(`input[name="${btn.dataset.ask}"]`);
      if (!input) {
        const label = document.createElement('label');
        const field = document.createElement('input');
        field.name = btn.dataset.ask;
        field.required = true;
        field.id = `ask-${Math.random().toString(36).slice(2)}`;
        label.htmlFor = field.id;
        label.textContent = btn.dataset.askLabel || btn.dataset.ask;
        btn.before(label, field);
        field.focus();
        return;
      }
      if (!input.value.trim()) { input.focus(); return; }
      body = { ...body, [btn.dataset.ask]: input.value.trim() };
    }
    if (!confirmed(btn)) return;
    perform(btn, btn.dataset.method || 'POST', btn.dataset.api, body);
  });
  // Choosing another care recipient shows the same page for them.
  document.querySelectorAll('select[data-autosubmit]').forEach((s) => {
    s.addEventListener('change', () => s.form.submit());
  });
  document.querySelectorAll('.js-hide').forEach((el) => { el.hidden = true; });
  document.querySelectorAll('.js-only').forEach((el) => el.classList.add('ready'));
  // Downloads ask the API for a short-lived link first.
  document.addEventListener('click', async (e) => {
    const btn = e.target.closest('button[data-download]');
    if (!btn) return;
    try {
      const link = await api('GET', btn.dataset.download);
      location.assign(link.downloadUrl || link.url);
    } catch (err) {
      toast(err.message, 'error');
    }
  });
  document.addEventListener('click', (e) => {
    if (e.target.closest('[data-print]')) window.print();
  });
}
