// Emergencies: the banner every page shows while an alert is open, the
// alert lists with acknowledge and resolve, and the printable info card.
import { api, apiBase, onDone, toast } from './api.js';
import { onEvent } from './live.js';

const crs = () => (document.body.dataset.crs || '').split(' ').filter(Boolean);
const open = new Map(); // alert id → alert, for every care recipient

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v; else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

function when(iso) {
  const zone = document.body.dataset.viewerZone || undefined;
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' }).format(new Date(iso));
  } catch {
    return new Date(iso).toLocaleString();
  }
}

function renderBanner() {
  const banner = document.getElementById('emergency-banner');
  if (!banner) return;
  const active = [...open.values()].filter((a) => a.status !== 'RESOLVED');
  banner.replaceChildren();
  if (!active.length) { banner.hidden = true; return; }
  const a = active[0];
  banner.append(
    el('strong', {}, a.status === 'ACKNOWLEDGED' ? 'Emergency (acknowledged): ' : 'Emergency: '),
    `${a.title}${a.careRecipientName ? ` — ${a.careRecipientName}` : ''} `,
    el('a', { href: `/emergency/${a.id}?cr=${a.careRecipientId}` }, active.length > 1 ? `See all ${active.length}` : 'Open'),
  );
  banner.hidden = false;
}

async function loadAlerts(cr) {
  try {
    const list = await api('GET', `${apiBase}/care-recipients/${cr}/emergency/alerts`);
    for (const [id, a] of open) if (a.careRecipientId === cr) open.delete(id);
    for (const a of list || []) open.set(a.id, { ...a, careRecipientId: a.careRecipientId || cr });
  } catch {
    // Offline or not allowed: keep what is known.
  }
}

function alertItem(a, actions) {
  const base = `${apiBase}/care-recipients/${a.careRecipientId}/emergency/alerts/${a.id}`;
  const li = el('li', { class: `alert status-${String(a.status).toLowerCase()}`, id: `alert-${a.id}` },
    el('strong', {}, a.title), ` · ${String(a.type || '').toLowerCase()} · ${when(a.createdAt)}`,
    el('br'), a.description || '', a.location ? ` (${a.location})` : '',
    el('span', { class: 'tag' }, a.status));
  if (a.status === 'ACTIVE') {
    li.append(' ', el('button', { class: 'small', 'data-api': `${base}/acknowledge`, 'data-done': 'refresh-alerts' }, 'Acknowledge'));
  }
  if (actions === 'write' && a.status !== 'RESOLVED') {
    li.append(' ', el('button', { class: 'small primary', 'data-api': `${base}/resolve`, 'data-body': '{}', 'data-done': 'refresh-alerts' }, 'Resolve'));
  }
  return li;
}

function renderLists() {
  document.querySelectorAll('[data-alerts]').forEach((box) => {
    const cr = box.dataset.alerts;
    const list = [...open.values()].filter((a) => a.careRecipientId === cr && a.status !== 'RESOLVED');
    if (!list.length) { box.replaceChildren(el('p', { class: 'empty' }, 'No active alerts.')); return; }
    box.replaceChildren(el('ul', { class: 'list alerts' }, ...list.map((a) => alertItem(a, box.dataset.alertActions || 'ack'))));
    const focus = box.dataset.focusAlert ? document.getElementById(`alert-${box.dataset.focusAlert}`) : null;
    focus?.classList.add('focused');
  });
}

async function renderHistory() {
  for (const box of document.querySelectorAll('[data-alert-history]')) {
    try {
      const list = await api('GET', `${apiBase}/care-recipients/${box.dataset.alertHistory}/emergency/alerts/history?limit=20`);
      const done = (list || []).filter((a) => a.status === 'RESOLVED');
      box.replaceChildren(done.length ? el('ul', { class: 'list' }, ...done.map((a) => el('li', {},
        el('strong', {}, a.title), ` · ${when(a.createdAt)}`, a.resolutionNotes ? ` — ${a.resolutionNotes}` : ''))) : el('p', { class: 'empty' }, 'None.'));
    } catch {
      box.replaceChildren(el('p', { class: 'empty' }, 'Not available offline.'));
    }
  }
}

function row(label, value) {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) return [];
  return [el('dt', {}, label), el('dd', {}, Array.isArray(value) ? value.join(', ') : String(value))];
}

async function renderCard() {
  for (const box of document.querySelectorAll('[data-info-card]')) {
    let info;
    try {
      info = await api('GET', `${apiBase}/care-recipients/${box.dataset.infoCard}/emergency/info`);
    } catch {
      box.replaceChildren(el('p', { class: 'empty' }, 'The info card is not available right now.'));
      continue;
    }
    const who = info.careRecipient || info;
    const meds = (info.medications || info.activeMedications || []).map((m) => `${m.name} ${m.dosage || ''}`.trim());
    const contacts = (info.emergencyContacts || []).map((c) => `${c.name} (${c.relationship}) ${c.phone}`);
    const doctors = (info.doctors || []).map((dr) => `${dr.name}${dr.specialty ? `, ${dr.specialty}` : ''}${dr.phone ? ` ${dr.phone}` : ''}`);
    const family = (info.familyMembers || []).filter((m) => m.phone).map((m) => `${m.fullName || m.name} ${m.phone}`);
    const hospital = info.hospital || {};
    const insurance = info.insurance || {};
    const docs = (info.documents || info.keyDocuments || []).map((doc) => `${doc.name} (${String(doc.type).toLowerCase().replaceAll('_', ' ')})`);
    box.replaceChildren(el('dl', { class: 'facts card-facts' },
      ...row('Name', who.fullName || info.name),
      ...row('Date of birth', who.dateOfBirth || info.dateOfBirth),
      ...row('Blood type', who.bloodType || info.bloodType),
      ...row('Allergies', who.allergies || info.allergies),
      ...row('Conditions', who.conditions || info.conditions),
      ...row('Medications', meds),
      ...row('Emergency contacts', contacts),
      ...row('Family', family),
      ...row('Doctors', doctors),
      ...row('Hospital', [hospital.name || info.primaryHospital, hospital.address || info.hospitalAddress].filter(Boolean).join(', ')),
      ...row('Insurance', [insurance.provider || info.insuranceProvider, insurance.policyNumber || info.insurancePolicyNo].filter(Boolean).join(' · ')),
      ...row('Documents', docs)));
  }
}

async function refreshAll() {
  await Promise.all(crs().map(loadAlerts));
  renderBanner();
  renderLists();
}

/** Loads the open alerts, keeps the banner and lists current. */
export function startEmergency() {
  refreshAll();
  renderCard();
  renderHistory();
  onDone('refresh-alerts', async (form) => {
    if (form.matches?.('form')) form.reset();
    await refreshAll();
    renderHistory();
    toast('Saved', 'ok');
  });
  onEvent((event, d) => {
    // d is the alert (events.EmergencyAlert's data).
    if (event === 'emergency_alert') {
      if (d.id) open.set(d.id, { ...d, status: d.status || 'ACTIVE' });
      renderBanner();
      renderLists();
      toast(`Emergency: ${d.title || 'an alert was raised'}`, 'error');
      refreshAll();
    } else if (event === 'emergency_acknowledged' || event === 'emergency_resolved') {
      if (d.id && open.has(d.id)) open.set(d.id, { ...open.get(d.id), ...d, status: event === 'emergency_resolved' ? 'RESOLVED' : 'ACKNOWLEDGED' });
      renderBanner();
      renderLists();
      refreshAll();
      renderHistory();
    }
  });
}
