// The journal: entries newest first, and the vitals chart.
import { api, apiBase, onDone, toast } from './api.js';
import { onEvent } from './live.js';

const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== ''));
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function when(iso) {
  const zone = document.body.dataset.viewerZone || undefined;
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
  } catch {
    return new Date(iso).toLocaleString();
  }
}

function vitalsText(v) {
  if (!v) return '';
  const parts = [];
  if (v.bloodPressure) parts.push(`BP ${v.bloodPressure}`);
  if (v.heartRate) parts.push(`HR ${v.heartRate}`);
  if (v.temperature) parts.push(`${v.temperature}°`);
  if (v.oxygenLevel) parts.push(`SpO₂ ${v.oxygenLevel}%`);
  if (v.bloodSugar) parts.push(`sugar ${v.bloodSugar}`);
  if (v.weight) parts.push(`${v.weight} kg`);
  return parts.join(' · ');
}

async function renderJournal() {
  for (const box of document.querySelectorAll('[data-timeline]')) {
    let list;
    try {
      list = await api('GET', `${apiBase}/care-recipients/${box.dataset.timeline}/timeline?limit=50`);
    } catch {
      box.replaceChildren(el('p', { class: 'empty' }, 'The journal is not available right now.'));
      continue;
    }
    const entries = Array.isArray(list) ? list : list?.entries || list?.items || [];
    if (!entries.length) { box.replaceChildren(el('p', { class: 'empty' }, 'Nothing written yet.')); continue; }
    box.replaceChildren(el('ul', { class: 'list journal' }, ...entries.map((e) => el('li', { class: `sev-${String(e.severity || 'low').toLowerCase()}` },
      el('strong', {}, e.title), ` · ${String(e.type).toLowerCase().replaceAll('_', ' ')} · ${when(e.occurredAt || e.createdAt)}`,
      e.createdBy?.fullName ? ` · ${e.createdBy.fullName}` : '',
      e.description ? el('br') : null, e.description || '',
      vitalsText(e.vitals) ? el('span', { class: 'vitals-line' }, vitalsText(e.vitals)) : null))));
  }
}

// Series drawn in the chart: key, label, CSS class.
const SERIES = [
  ['heartRate', 'Heart rate (bpm)', 's1'],
  ['systolic', 'Systolic (mmHg)', 's2'],
  ['diastolic', 'Diastolic (mmHg)', 's3'],
  ['oxygenLevel', 'Oxygen (%)', 's4'],
];

/** Reads the points of the vitals answer, whatever its grouping. */
function points(data) {
  const raw = Array.isArray(data) ? data : data?.entries || data?.readings || data?.vitals || [];
  return raw.map((r) => {
    const v = r.vitals || r;
    const p = { at: new Date(r.occurredAt || r.timestamp || r.date || r.createdAt) };
    for (const [k] of SERIES) if (typeof v[k] === 'number') p[k] = v[k];
    const bp = typeof v.bloodPressure === 'string' ? v.bloodPressure.split('/').map(Number) : null;
    if (bp && bp.length === 2 && bp.every(Number.isFinite)) [p.systolic, p.diastolic] = bp;
    if (v.bloodPressure && typeof v.bloodPressure === 'object') {
      p.systolic = v.bloodPressure.systolic;
      p.diastolic = v.bloodPressure.diastolic;
    }
    return p;
  }).filter((p) => !Number.isNaN(p.at.getTime())).sort((a, b) => a.at - b.at);
}

/** Draws the chart as inline SVG: one line per series over the week. */
export function chart(pts, days = 7, now = Date.now()) {
  const W = 640, H = 240, L = 36, R = 8, T = 10, B = 28;
  const from = now - days * 864e5;
  const all = SERIES.flatMap(([k]) => pts.map((p) => p[k]).filter((v) => typeof v === 'number'));
  const lo = Math.min(40, ...all), hi = Math.max(160, ...all);
  const x = (t) => L + ((t - from) / (now - from)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'vitals-chart', role: 'img', 'aria-labelledby': 'vitals-title vitals-desc' });
  const title = svg('title', { id: 'vitals-title' });
  title.textContent = 'Vitals over the last week';
  const desc = svg('desc', { id: 'vitals-desc' });
  desc.textContent = pts.length ? `${pts.length} readings.` : 'No readings.';
  root.append(title, desc);
  for (let v = Math.ceil(lo / 20) * 20; v <= hi; v += 20) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    const t = svg('text', { x: L - 4, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' });
    t.textContent = String(v);
    root.append(t);
  }
  for (let d = 0; d <= days; d++) {
    const t = from + d * 864e5;
    const label = svg('text', { x: x(t), y: H - 8, class: 'axis', 'text-anchor': 'middle' });
    label.textContent = new Date(t).toLocaleDateString(undefined, { weekday: 'narrow' });
    root.append(label);
  }
  for (const [k, , cls] of SERIES) {
    const ps = pts.filter((p) => typeof p[k] === 'number' && p.at.getTime() >= from);
    if (!ps.length) continue;
    root.append(svg('polyline', { points: ps.map((p) => `${x(p.at.getTime()).toFixed(1)},${y(p[k]).toFixed(1)}`).join(' '), class: `line ${cls}` }));
    for (const p of ps) root.append(svg('circle', { cx: x(p.at.getTime()).toFixed(1), cy: y(p[k]).toFixed(1), r: 3, class: `dot ${cls}` }));
  }
  return root;
}

async function renderVitals() {
  for (const box of document.querySelectorAll('[data-vitals]')) {
    let data;
    try {
      data = await api('GET', `${apiBase}/care-recipients/${box.dataset.vitals}/timeline/vitals?days=7`);
    } catch {
      box.replaceChildren(el('p', { class: 'empty' }, 'Vitals are not available right now.'));
      continue;
    }
    const pts = points(data);
    const legend = el('ul', { class: 'legend' }, ...SERIES.map(([, label, cls]) => el('li', { class: cls }, label)));
    box.replaceChildren(chart(pts), legend);
  }
}

/** Fills the journal and chart, and keeps them current. */
export function startTimeline() {
  if (!document.querySelector('[data-timeline], [data-vitals]')) return;
  renderJournal();
  renderVitals();
  onDone('refresh-timeline', async (form) => {
    form.reset?.();
    toast('Added to the journal', 'ok');
    await Promise.all([renderJournal(), renderVitals()]);
  });
  onEvent((event) => {
    if (event === 'timeline_entry') { renderJournal(); renderVitals(); }
  });
  document.addEventListener('cc:replayed', () => { renderJournal(); renderVitals(); });
}
