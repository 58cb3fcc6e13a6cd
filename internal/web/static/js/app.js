// CareCircle's pages: every module starts here. The pages work without
// JavaScript for reading; acting goes through the API with these modules.
import { onDone, setQueue, wireForms } from './api.js';
import { connect, refreshLive, scheduleRefresh, keepSignedIn } from './live.js';
import { enqueue, startQueue } from './queue.js';
import { startEmergency } from './emergency.js';
import { startTimeline } from './timeline.js';
import { startPush } from './push.js';

const body = document.body.dataset;

onDone('refresh', async (el) => {
  if (el.matches?.('form')) el.reset();
  await refreshLive();
});
setQueue(enqueue);
wireForms();
// Forms and buttons act from here on (scripts and tests may wait for it).
document.body.dataset.ready = '';

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
}

if (body.public !== undefined) {
  // A returning user whose access cookie ran out: one refresh signs them in
  // again without typing (only when they signed in on this device before).
  if (location.pathname === '/login' && localStorage.getItem('cc.signedIn')) {
    keepSignedIn(true).then((ok) => {
      if (ok) location.replace(document.querySelector('form[data-next]')?.dataset.next || '/dashboard');
      else localStorage.removeItem('cc.signedIn');
    });
  }
} else if (body.user) {
  localStorage.setItem('cc.signedIn', '1');
  scheduleRefresh();
  startQueue();
  startEmergency();
  startTimeline();
  startPush();
  document.addEventListener('cc:replayed', () => refreshLive());
  window.__cc = { realtime: connect() };
}
