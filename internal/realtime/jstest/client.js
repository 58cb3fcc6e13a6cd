// A member's browser, played by the vendored centrifuge-js bundle in Node.
// It reports each step as a JSON line on stdout and waits for the Go test's
// go-ahead lines on stdin. Environment: RT_URL, RT_TOKEN (a member),
// RT_OUTSIDER_TOKEN, RT_FAMILY.
"use strict";
const path = require("path");
const readline = require("readline");
const WebSocket = require("ws");
require(path.join(__dirname, "../../web/static/vendor/centrifuge/centrifuge.js"));
const { Centrifuge } = globalThis;

const say = (step, extra) => process.stdout.write(JSON.stringify({ step, at: Date.now(), ...extra }) + "\n");
const fail = (why) => { say("fail", { why: String(why) }); process.exit(1); };
setTimeout(() => fail("timed out"), 30000).unref();

const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", (l) => { const w = waiting.shift(); if (w) w(l.trim()); });
const nextLine = () => new Promise((resolve) => waiting.push(resolve));

const family = "family:" + process.env.RT_FAMILY;
const once = (emitter, event, test = () => true) => new Promise((resolve) => {
  const h = (ctx) => { if (test(ctx)) { emitter.removeListener(event, h); resolve(ctx); } };
  emitter.on(event, h);
});

async function main() {
  const member = new Centrifuge(process.env.RT_URL, { token: process.env.RT_TOKEN, websocket: WebSocket });
  member.on("error", (ctx) => say("client-error", { error: ctx.error && ctx.error.message }));
  const sub = member.newSubscription(family);
  const published = (name) => once(sub, "publication", (ctx) => ctx.data.event === name);
  const subscribed = once(sub, "subscribed");
  sub.subscribe();
  member.connect();
  await subscribed;
  say("subscribed");

  // Another member logs a dose.
  const dose = await published("medication_logged");
  say("medication_logged", { data: dose.data });

  // A non-member is refused.
  const outsider = new Centrifuge(process.env.RT_URL, { token: process.env.RT_OUTSIDER_TOKEN, websocket: WebSocket });
  const osub = outsider.newSubscription(family);
  const refused = Promise.race([
    once(osub, "error").then((ctx) => ({ refused: true, code: ctx.error.code })),
    once(osub, "unsubscribed").then((ctx) => ({ refused: true, code: ctx.code })),
    once(osub, "subscribed").then(() => ({ refused: false })),
  ]);
  osub.subscribe();
  outsider.connect();
  say("outsider", await refused);
  outsider.disconnect();

  // Offline for a moment, while something happens.
  member.disconnect();
  say("offline");
  await nextLine();
  const missed = published("timeline_entry");
  member.connect();
  const entry = await missed;
  say("timeline_entry", { id: entry.data.id });

  // Removed from the family.
  const removed = once(member, "publication", (ctx) => ctx.data.event === "you_were_removed");
  const cut = once(sub, "unsubscribed");
  say("ready");
  const [note, unsub] = await Promise.all([removed, cut]);
  say("removed", { event: note.data.event, code: unsub.code });
  member.disconnect();
  process.exit(0);
}

main().catch(fail);
