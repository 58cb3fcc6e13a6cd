package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/notify/webpush"
)

// TestNotificationActionsWorkWithNoTabOpen: with no CareCircle tab open,
// Bo's service worker receives a dose reminder and an emergency alert as
// the server words them for web push, shows each with its buttons, logs the
// dose from the reminder's "Log dose" and acknowledges the alert from its
// "Acknowledge" — signed in by the cookies his browser keeps.
//
// The push messages come through the browser's own push delivery
// (ServiceWorker.deliverPushMessage), which is what a push service's message
// turns into once the browser has decrypted it. A headless browser has no
// notification to click, so the click is a notificationclick event
// dispatched in the worker: the same handler, without a user gesture (so a
// window it opens is not tested here).
func TestNotificationActionsWorkWithNoTabOpen(t *testing.T) {
	s := startServer(t)
	f := setUpFamily(t, s)
	bo := newTab(t, "bo")
	bo.signIn(s, "bo@example.com")
	bo.waitFor(`navigator.serviceWorker.controller !== null && document.querySelector('#doses li.dose button.primary') !== null`, stepTimeout)
	bo.allowNotifications(s)
	var dose struct {
		ScheduledTime string `json:"scheduledTime"`
	}
	if err := json.Unmarshal([]byte(eval[string](bo, `document.querySelector('#doses li.dose button.primary').dataset.body`)), &dose); err != nil {
		t.Fatal(err)
	}
	// The reminder as the reminder engine writes it for that dose.
	reminderData, _ := json.Marshal(map[string]any{"medicationId": f.medID, "careRecipientId": f.crID, "scheduledTime": dose.ScheduledTime})
	reminder := &care.Notification{ID: "f0e1d2c3-0000-4000-8000-000000000001", Type: care.NotifyMedicationReminder,
		Title: "Time for Metformin", Body: "500 mg for Grandma Lee", Data: reminderData}
	// The alert as the server notified Bo of it.
	alert := s.call("POST", "/care-recipients/"+f.crID+"/emergency/alerts", f.annToken,
		map[string]any{"type": "FALL", "title": "Grandma fell", "description": "In the kitchen, conscious"}, 201)
	emergency := s.notificationOf(f.boToken, care.NotifyEmergencyAlert)

	bo.do(chromedp.Navigate("about:blank")) // no CareCircle page open any more
	sw, reg := bo.serviceWorker(s), bo.swRegistration(s)

	// The reminder: shown with its one-tap action; "Log dose" logs it.
	bo.deliverPush(s, reg, pushPayload(t, reminder, s.base))
	shown := waitNotification(t, sw, "dose:"+f.medID+":"+dose.ScheduledTime)
	if shown.Title != "Time for Metformin" || !slices.Equal(shown.Actions, []string{"log-dose", "open"}) ||
		shown.Data["medicationId"] != f.medID || shown.Data["url"] != s.base+"/medications" {
		t.Errorf("the reminder shows as %+v", shown)
	}
	clickNotification(t, sw, shown.Tag, "log-dose")
	if done := waitNotification(t, sw, "done:"+f.medID); done.Title != "Dose logged" {
		t.Errorf("after logging: %+v", done)
	}
	if left := mustEval[int](t, sw, fmt.Sprintf(`self.registration.getNotifications({ tag: %q }).then((ns) => ns.length)`, shown.Tag)); left != 0 {
		t.Errorf("the reminder is still shown after its action")
	}
	if n := s.doseLogs(f); n != 1 {
		t.Fatalf("the server has %d logs, want 1", n)
	}
	var logs []map[string]any
	if err := jsonUnmarshal(s.callRaw("GET", "/care-recipients/"+f.crID+"/medications/"+f.medID+"/logs", f.annToken, nil, 200), &logs); err != nil {
		t.Fatal(err)
	}
	if logs[0]["status"] != "GIVEN" || logs[0]["scheduledTime"] != dose.ScheduledTime {
		t.Errorf("logged %v", logs[0])
	}

	// The emergency: it stays up until acted on; "Acknowledge" acknowledges.
	bo.deliverPush(s, reg, pushPayload(t, emergency, s.base))
	shown = waitNotification(t, sw, "emergency:"+alert["id"].(string))
	if !shown.RequireInteraction || !slices.Equal(shown.Actions, []string{"acknowledge", "open"}) || shown.Data["alertId"] != alert["id"] {
		t.Errorf("the emergency shows as %+v", shown)
	}
	// The action is done once the server has answered its request: opening
	// the page afterwards needs a user gesture this click does not have, and
	// a headless browser may leave that attempt pending, so the wait is for
	// the answer to the worker's own post, not for the action's promise.
	mustEval[bool](t, sw, fmt.Sprintf(`self.registration.getNotifications({ tag: %q }).then(([n]) => {
		const real = post;
		const answered = new Promise((resolve) => {
			post = (...args) => real(...args).finally(() => { post = real; resolve(true); });
		});
		notificationAction('acknowledge', n.data).catch(() => {});
		return answered;
	})`, shown.Tag))
	var alerts []map[string]any
	if err := jsonUnmarshal(s.callRaw("GET", "/care-recipients/"+f.crID+"/emergency/alerts", f.annToken, nil, 200), &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0]["id"] != alert["id"] || alerts[0]["status"] != "ACKNOWLEDGED" {
		t.Errorf("after Bo's acknowledge the alerts are %v", alerts)
	}
}

// shownNotification is a notification the service worker shows.
type shownNotification struct {
	Title              string         `json:"title"`
	Body               string         `json:"body"`
	Tag                string         `json:"tag"`
	RequireInteraction bool           `json:"requireInteraction"`
	Actions            []string       `json:"actions"`
	Data               map[string]any `json:"data"`
}

// pushPayload is the web push payload the server sends for n.
func pushPayload(t *testing.T, n *care.Notification, base string) string {
	t.Helper()
	b, err := webpush.PayloadJSON(notify.PushMessage(n, base))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// notificationOf is the user's latest notification of a type, as the
// server stored it.
func (s *server) notificationOf(token string, typ care.NotificationType) *care.Notification {
	s.t.Helper()
	var ns []care.Notification
	if err := jsonUnmarshal(s.callRaw("GET", "/notifications", token, nil, 200), &ns); err != nil {
		s.t.Fatal(err)
	}
	for i := range ns {
		if ns[i].Type == typ {
			return &ns[i]
		}
	}
	s.t.Fatalf("no %s notification among %d", typ, len(ns))
	return nil
}

// allowNotifications grants the site the notification permission, as the
// user's "Allow" would.
func (tb *tab) allowNotifications(s *server) {
	tb.t.Helper()
	bcid := chromedp.FromContext(tb.ctx).BrowserContextID
	tb.do(chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: s.base, BrowserContextID: bcid})
		return err
	}))
}

// worker is the tab's service worker. The browser may stop an idle worker
// and start it again for the next event, as a new target, so each script
// runs in the worker as it is at that moment.
type worker struct {
	tb    *tab
	scope string
}

func (tb *tab) serviceWorker(s *server) *worker { return &worker{tb: tb, scope: s.base + "/"} }

// swEval runs a script in the service worker, bounded by within, and
// decodes its result.
func swEval[T any](w *worker, js string, within time.Duration) (T, error) {
	var zero T
	targets, err := chromedp.Targets(w.tb.ctx)
	if err != nil {
		return zero, err
	}
	bcid := chromedp.FromContext(w.tb.ctx).BrowserContextID
	for _, ti := range targets {
		if ti.Type != "service_worker" || ti.BrowserContextID != bcid {
			continue
		}
		// Detach when done: closing the target would stop the worker.
		ctx, cancel := chromedp.NewContext(w.tb.ctx, chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
		defer cancel()
		// The first call attaches, and ties the attachment to the context
		// it is given: no deadline on it.
		if err := chromedp.Do(ctx); err != nil {
			return zero, err
		}
		rctx, rcancel := context.WithTimeout(ctx, within)
		defer rcancel()
		return chromedp.Run(rctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	}
	// Stopped: start it, as the next event would, and look again.
	if _, err := chromedp.Run(w.tb.ctx, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, serviceworker.StartWorker, serviceworker.StartWorkerParams{ScopeURL: w.scope})
		return err
	})); err != nil {
		return zero, err
	}
	return zero, errNotRunning
}

// errNotRunning says the worker was stopped; swEval has started it again.
var errNotRunning = errors.New("the service worker was not running")

// mustEval is swEval failing the test on an error; a worker found stopped
// is started and asked again.
func mustEval[T any](t *testing.T, w *worker, js string) T {
	t.Helper()
	for {
		v, err := swEval[T](w, js, stepTimeout)
		if errors.Is(err, errNotRunning) {
			continue
		}
		if err != nil {
			t.Fatalf("service worker: %q: %v", js, err)
		}
		return v
	}
}

// waitNotification waits until the worker shows a notification with the
// tag: the worker re-reads what it shows as its own promises settle, for a
// few seconds at a time, and a worker restarted meanwhile is found again.
func waitNotification(t *testing.T, w *worker, tag string) shownNotification {
	t.Helper()
	js := fmt.Sprintf(`(async (tag) => {
		for (const until = Date.now() + 5000; Date.now() < until;) {
			const [n] = await self.registration.getNotifications({ tag });
			if (n) return { title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction,
				actions: n.actions.map((a) => a.action), data: n.data };
			await new Promise((r) => setTimeout(r, 20));
		}
		return null;
	})(%q)`, tag)
	var last error
	for deadline := time.Now().Add(stepTimeout); time.Now().Before(deadline); {
		n, err := swEval[*shownNotification](w, js, 10*time.Second)
		if err == nil && n != nil {
			return *n
		}
		if err != nil && !errors.Is(err, errNotRunning) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("service worker: %v", err)
		}
		last = err
	}
	shown, err := swEval[[]string](w, `self.registration.getNotifications().then((ns) => ns.map((n) => n.tag))`, 10*time.Second)
	t.Fatalf("no notification with the tag %q (last error %v); the worker shows %q (%v)", tag, last, shown, err)
	return shownNotification{}
}

// clickNotification has the worker handle a click on the notification's
// button (action "" is the notification itself).
func clickNotification(t *testing.T, w *worker, tag, action string) {
	t.Helper()
	mustEval[bool](t, w, fmt.Sprintf(`self.registration.getNotifications({ tag: %q }).then(([n]) =>
		self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n, action: %q })))`, tag, action))
}

// swRegistration finds the service worker registration of the server's
// site, which push messages are delivered to. (The browser, shared by the
// tests, also reports the registrations of other tests' sites.)
func (tb *tab) swRegistration(s *server) *serviceworker.Registration {
	tb.t.Helper()
	var reg *serviceworker.Registration
	tb.do(chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		// Enabling the domain reports the registrations there are.
		events := chromedp.Events(ctx, serviceworker.WorkerRegistrationUpdated)
		if _, err := cdp.Call(ctx, target, serviceworker.Enable, cdp.Empty{}); err != nil {
			return err
		}
		for ev, err := range events {
			if err != nil {
				return err
			}
			for _, r := range ev.Registrations {
				if !r.IsDeleted && r.ScopeURL == s.base+"/" {
					reg = r
					return nil
				}
			}
		}
		return fmt.Errorf("no service worker registration for %s", s.base)
	}))
	return reg
}

// deliverPush hands a push message to the service worker, as the browser
// does with one from its push service.
func (tb *tab) deliverPush(s *server, reg *serviceworker.Registration, data string) {
	tb.t.Helper()
	tb.do(chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
			Origin: s.base, RegistrationID: reg.RegistrationID, Data: data})
		return err
	}))
}
