// Push on this device: the settings page turns it on (subscribing with the
// server's VAPID key and registering the subscription with the API) and off.
import { api, apiBase, toast } from './api.js';

function keyBytes(b64) {
  const pad = '='.repeat((4 - (b64.length % 4)) % 4);
  const raw = atob((b64 + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function current() {
  const reg = await navigator.serviceWorker.ready;
  return reg.pushManager.getSubscription();
}

async function turnOn() {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this site in the browser settings.');
  const { publicKey } = await api('GET', `${apiBase}/notifications/vapid-public-key`);
  const reg = await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  const json = sub.toJSON();
  await api('POST', `${apiBase}/notifications/push-subscription`, {
    endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
    platform: 'web', deviceName: navigator.userAgentData?.platform || navigator.platform || 'browser',
  });
}

async function turnOff(sub) {
  await api('DELETE', `${apiBase}/notifications/push-subscription`, { endpoint: sub.endpoint });
  await sub.unsubscribe();
}

/** Wires the push switch on the settings page. */
export async function startPush() {
  const status = document.querySelector('[data-push-status]');
  const button = document.querySelector('[data-push-toggle]');
  if (!status || !button) return;
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
    status.textContent = 'This browser cannot receive push notifications.';
    return;
  }
  const show = async () => {
    const sub = await current().catch(() => null);
    status.textContent = sub ? 'Push is on for this device.' : 'Push is off for this device.';
    button.textContent = sub ? 'Turn push off' : 'Turn push on';
    button.hidden = false;
    return sub;
  };
  let sub = await show();
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      if (sub) await turnOff(sub); else await turnOn();
      toast(sub ? 'Push is off' : 'Push is on', 'ok');
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      button.disabled = false;
      sub = await show();
    }
  });
}
