package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/notify/webpush/pushtest"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// mx is a real SMTP server on loopback that keeps what it accepts.
type mx struct {
	addr string
	port int
	got  chan string // recipient + "\n" + data
}

func startMX(t *testing.T) *mx {
	t.Helper()
	m := &mx{got: make(chan string, 64)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mxSession{m: m}, nil }))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	m.addr, m.port = l.Addr().String(), l.Addr().(*net.TCPAddr).Port
	return m
}

type mxSession struct {
	m  *mx
	to []string
}

func (s *mxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.got <- strings.Join(s.to, ",") + "\n" + string(b)
	return nil
}
func (s *mxSession) Reset()        { s.to = nil }
func (s *mxSession) Logout() error { return nil }

// received drains what the server has accepted so far. Delivery is
// synchronous (SMTP DATA is answered after the server took the message), so
// everything sent before the call is there.
func (m *mx) received() []string {
	var out []string
	for {
		select {
		case s := <-m.got:
			out = append(out, s)
		default:
			return out
		}
	}
}

// pushStatus is what the push service answers, settable mid-test.
type pushStatus struct {
	mu   sync.Mutex
	code int
}

func (p *pushStatus) set(code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.code = code
}

func (p *pushStatus) respond(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.WriteHeader(p.code)
}

type rig struct {
	st     *store.Store
	clk    *clock.Fake
	mx     *mx
	sms    *smstest.Server
	push   *pushtest.Service
	status *pushStatus
	chain  *mail.Chain
	d      *notify.Deliverer
}

func newRig(t *testing.T, open func(testing.TB, clock.Clock) *store.Store, limit int64) *rig {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	st := open(t, clk)
	r := &rig{st: st, clk: clk, mx: startMX(t), sms: smstest.NewServer(t), status: &pushStatus{code: http.StatusCreated}}
	smtpSender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: r.mx.port, From: "CareCircle <no-reply@carecircle.test>", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	r.chain = &mail.Chain{
		Providers: []mail.Provider{{Name: "smtp", Sender: smtpSender}},
		Quota:     mail.NewQuota(mail.QuotaConfig{Limit: limit}, notify.StoreCounter{Store: st}, clk),
		Recorder:  notify.StoreRecorder{Store: st},
		Clock:     clk, Logger: logger,
	}
	keys, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	r.push = pushtest.NewService(t, keys.Public, "mailto:ops@carecircle.test", r.status.respond)
	sender, err := webpush.NewSender(webpush.VAPID{Keys: keys, Subject: "mailto:ops@carecircle.test"}, r.push.Client(), clk)
	if err != nil {
		t.Fatal(err)
	}
	twilio, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: r.sms.AccountSID, AuthToken: r.sms.AuthToken, From: r.sms.From, BaseURL: r.sms.URL})
	if err != nil {
		t.Fatal(err)
	}
	channels := &notify.Channels{}
	channels.Register(&notify.PushChannel{Store: st, Sender: sender, PublicURL: "https://care.test"})
	channels.Register(&notify.EmailChannel{Store: st, Chain: r.chain, Clock: clk, Logger: logger, PublicURL: "https://care.test"})
	channels.Register(&notify.SMSChannel{Store: st, Sender: twilio, PublicURL: "https://care.test"})
	r.d = &notify.Deliverer{Store: st, Channels: channels, Clock: clk, Logger: logger}
	return r
}

func (r *rig) user(t *testing.T, email string, prefs *care.NotificationPreferences, phone string) *care.User {
	t.Helper()
	ctx := context.Background()
	nu := store.NewUser{Email: email, PasswordHash: "x", FullName: "Member " + email, Timezone: "Europe/Berlin", Status: care.UserActive, SystemRole: care.SystemUser}
	if phone != "" {
		nu.Phone = &phone
	}
	u, err := r.st.CreateUser(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	if prefs != nil {
		raw, _ := care.WithNotificationPreferences(nil, *prefs)
		if u, err = r.st.UpdateUser(ctx, u.ID, store.UserPatch{Preferences: raw}); err != nil {
			t.Fatal(err)
		}
	}
	if phone != "" {
		if _, err := r.st.DB().ExecContext(ctx, `UPDATE users SET phone_verified = TRUE WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// One browser subscribed per user.
	sub, _ := r.push.Subscribe()
	if _, err := r.st.SavePushSubscription(ctx, store.PushSubscription{UserID: u.ID, Endpoint: sub.Endpoint,
		P256dh: sub.P256dh, Auth: sub.Auth}); err != nil {
		t.Fatal(err)
	}
	return u
}

func (r *rig) notify(t *testing.T, u *care.User, typ care.NotificationType, data map[string]any) string {
	t.Helper()
	raw, _ := json.Marshal(data)
	ns, err := r.st.InsertNotifications(context.Background(), []care.Notification{{UserID: u.ID, Type: typ, Title: "Title " + string(typ), Body: "Body", Data: raw}})
	if err != nil {
		t.Fatal(err)
	}
	return ns[0].ID
}

func (r *rig) statuses(t *testing.T, id string) map[string]string {
	t.Helper()
	ds, err := r.st.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds {
		out[d.Channel] = d.Status
	}
	return out
}

// spendQuota sends routine mail until the day's routine quota is gone.
func (r *rig) spendQuota(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		_, err := r.chain.Deliver(context.Background(), mail.Message{To: "filler@carecircle.test", Subject: "s", Text: "t", Template: "filler"}, mail.PriorityRoutine)
		if errors.Is(err, mail.ErrQuotaExceeded) {
			r.mx.received()
			return
		}
		if err != nil || i > 1000 {
			t.Fatalf("spending quota: %v", err)
		}
	}
}

func TestEmergencyReachesEveryChannelWhenTheQuotaIsSpent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 10)
		ctx := context.Background()
		// Quiet hours cover the whole day and email is switched off: an
		// emergency goes out regardless.
		quiet := care.DefaultNotificationPreferences()
		quiet.Email, quiet.SMS = false, false
		quiet.QuietHours = &care.QuietHours{Enabled: true, Start: "00:00", End: "23:59"}
		u := r.user(t, "ana@carecircle.test", &quiet, "+4915112345678")
		r.spendQuota(t)

		id := r.notify(t, u, care.NotifyEmergencyAlert, map[string]any{"alertId": "a1", "type": "FALL", "description": "Fell in the kitchen"})
		if err := r.d.Deliver(ctx, id); err != nil {
			t.Fatal(err)
		}
		got := r.statuses(t, id)
		for _, ch := range []string{notify.ChannelPush, notify.ChannelEmail, notify.ChannelSMS} {
			if got[ch] != store.DeliverySent {
				t.Errorf("%s: %q, want sent (all: %v)", ch, got[ch], got)
			}
		}
		mails := r.mx.received()
		if len(mails) != 1 || !strings.HasPrefix(mails[0], "ana@carecircle.test\n") || !strings.Contains(mails[0], "Fell in the kitchen") {
			t.Fatalf("emergency email: %q", mails)
		}
		if s := r.sms.Messages(); len(s) != 1 || s[0].To != "+4915112345678" || !strings.Contains(s[0].Body, "care.test/emergency/a1") {
			t.Fatalf("sms: %+v", s)
		}
		// The push service decrypted the payload and checked the VAPID JWT.
		d := r.push.Next()
		if !strings.Contains(string(d.Payload), `"requireInteraction":true`) || d.Header.Get("Urgency") != "high" {
			t.Fatalf("push: urgency %q payload %s", d.Header.Get("Urgency"), d.Payload)
		}
		// Delivering again (a retry after a crash) sends nothing twice.
		if err := r.d.Deliver(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := len(r.mx.received()); n != 0 || len(r.sms.Messages()) != 1 || r.push.RequestCount() != 1 {
			t.Fatalf("resent: %d mails, %d sms, %d pushes", n, len(r.sms.Messages()), r.push.RequestCount())
		}
	})
}

func TestRoutineMailOverQuotaIsDowngradedOrDeferred(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 10)
		ctx := context.Background()
		u := r.user(t, "ben@carecircle.test", nil, "")
		r.spendQuota(t)

		reminder := r.notify(t, u, care.NotifyMedicationReminder, map[string]any{"scheduledTime": "2026-06-01T12:00:00Z"})
		if err := r.d.Deliver(ctx, reminder); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, reminder); got[notify.ChannelEmail] != store.DeliveryDowngraded || got[notify.ChannelPush] != store.DeliverySent {
			t.Fatalf("reminder: %v", got)
		}
		refill := r.notify(t, u, care.NotifyRefillAlert, nil)
		if err := r.d.Deliver(ctx, refill); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, refill); got[notify.ChannelEmail] != store.DeliveryDeferred {
			t.Fatalf("refill: %v", got)
		}
		if n := len(r.mx.received()); n != 0 {
			t.Fatalf("%d emails over quota", n)
		}
		// The next UTC day the deferred mail goes out, once.
		m := &notify.Mailer{Chain: r.chain, Store: r.st, Clock: r.clk}
		if n, err := m.SendDeferred(ctx); err != nil || n != 0 {
			t.Fatalf("same day: %d sent, %v", n, err)
		}
		r.clk.Advance(12 * time.Hour)
		if n, err := m.SendDeferred(ctx); err != nil || n != 1 {
			t.Fatalf("next day: %d sent, %v", n, err)
		}
		if got := r.mx.received(); len(got) != 1 || !strings.HasPrefix(got[0], "ben@carecircle.test\n") {
			t.Fatalf("deferred mail: %q", got)
		}
		if n, _ := m.SendDeferred(ctx); n != 0 {
			t.Fatalf("deferred mail sent twice")
		}
		attempts, err := r.st.EmailAttempts(ctx, "ben@carecircle.test")
		if err != nil {
			t.Fatal(err)
		}
		var seq []string
		for _, a := range attempts {
			seq = append(seq, a.Status)
		}
		if strings.Join(seq, ",") != "downgraded,deferred,sent" {
			t.Fatalf("attempts recorded: %v", seq)
		}
	})
}

func TestPreferencesQuietHoursAndDeadSubscriptions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 100)
		ctx := context.Background()
		off := care.DefaultNotificationPreferences()
		off.MedicationReminders = false
		u1 := r.user(t, "off@carecircle.test", &off, "")
		n := notify.Notifier{Store: r.st, Clock: r.clk}
		created, err := n.Send(ctx, notify.Notice{To: []string{u1.ID}, Type: care.NotifyMedicationReminder, Text: care.Text{Title: "Due"}})
		if err != nil || len(created) != 0 {
			t.Fatalf("turned off: created %v, %v", created, err)
		}
		// 12:00 UTC is 14:00 in Berlin, inside 13:00–15:00.
		q := care.DefaultNotificationPreferences()
		q.QuietHours = &care.QuietHours{Enabled: true, Start: "13:00", End: "15:00"}
		u2 := r.user(t, "quiet@carecircle.test", &q, "")
		id := r.notify(t, u2, care.NotifyAppointmentReminder, nil)
		if err := r.d.Deliver(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, id); got["all"] != store.DeliverySuppressed {
			t.Fatalf("quiet hours: %v", got)
		}
		if r.push.RequestCount() != 0 || len(r.mx.received()) != 0 {
			t.Fatal("suppressed notifications went out")
		}
		// A push service answering 410 Gone: the subscription is removed.
		u3 := r.user(t, "gone@carecircle.test", nil, "")
		r.status.set(http.StatusGone)
		id = r.notify(t, u3, care.NotifyShiftReminder, nil)
		if err := r.d.Deliver(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, id); got[notify.ChannelPush] != store.DeliveryGone || got[notify.ChannelEmail] != store.DeliverySent {
			t.Fatalf("gone: %v", got)
		}
		if subs, _ := r.st.PushSubscriptions(ctx, u3.ID); len(subs) != 0 {
			t.Fatalf("%d subscriptions left after 410", len(subs))
		}
		// 503: a temporary failure the outbox retries; the email is not resent.
		u4 := r.user(t, "busy@carecircle.test", nil, "")
		r.status.set(http.StatusServiceUnavailable)
		id = r.notify(t, u4, care.NotifyShiftReminder, nil)
		if err := r.d.Deliver(ctx, id); !errors.Is(err, notify.ErrTemporary) {
			t.Fatalf("503: err = %v, want temporary", err)
		}
		r.status.set(http.StatusCreated)
		if err := r.d.Deliver(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, id); got[notify.ChannelPush] != store.DeliverySent {
			t.Fatalf("after retry: %v", got)
		}
		if n := len(r.mx.received()); n != 2 { // gone@ and busy@ once each
			t.Fatalf("%d emails, want 2", n)
		}
	})
}

func TestHandleDeliversWhatEventsAnnounce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 100)
		ctx := context.Background()
		u := r.user(t, "eve@carecircle.test", nil, "")
		id := r.notify(t, u, care.NotifyMedicationReminder, nil)
		other, err := events.NewEvent(r.clk, "medication.logged", map[string]any{"medicationId": "m1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.d.Handle(ctx, other); err != nil || r.push.RequestCount() != 0 {
			t.Fatalf("an unrelated event: %v, %d pushes", err, r.push.RequestCount())
		}
		reminder, err := events.NewEvent(r.clk, "medication.reminder", map[string]any{"notificationIds": []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.d.Handle(ctx, reminder); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, id); got[notify.ChannelPush] != store.DeliverySent || got[notify.ChannelEmail] != store.DeliverySent {
			t.Fatalf("reminder event: %v", got)
		}
		bad := reminder
		bad.Data = []byte(`{"notificationIds": "not a list"}`)
		if err := r.d.Handle(ctx, bad); !errors.Is(err, outbox.ErrPermanent) {
			t.Fatalf("malformed data: %v", err)
		}
	})
}
