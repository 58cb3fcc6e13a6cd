package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/notify/webpush/pushtest"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
)

// The emergency rig runs CareCircle's API and notification delivery in
// this process, wired as internal/app wires a process of role "all" (the
// API, the outbox dispatcher and the channels consumer), against services
// on real sockets: an SMTP server, a fake Twilio API and a Web Push service
// that verifies VAPID and decrypts every message. Everything the test does
// goes over HTTP to the API.
//
// The rig exists because the binary cannot reach a push service on
// loopback: its push client refuses private addresses (a subscription
// endpoint there is how a user would make the server probe its own
// network), and the test service's certificate is self-signed.

// sinkMail is one message the SMTP server accepted, and when.
type sinkMail struct {
	At   time.Time
	To   []string
	Mail mail.Received
}

// mailSink is an SMTP server on loopback keeping every message it accepts.
type mailSink struct {
	port int
	// refuse, while set, answers every message 451 (try again later), as a
	// relay that is overloaded or down for maintenance.
	refuse  atomic.Bool
	mu      sync.Mutex
	msgs    []sinkMail
	changed chan struct{} // closed and replaced on every arrival
}

func startMailSink(tb testing.TB) *mailSink {
	tb.Helper()
	m := &mailSink{changed: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{m: m}, nil }))
	srv.Domain = "mx.carecircle.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxRecipients = 10
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	tb.Cleanup(func() { srv.Close(); <-done })
	m.port = l.Addr().(*net.TCPAddr).Port
	return m
}

type sinkSession struct {
	m  *mailSink
	to []string
}

func (s *sinkSession) Mail(string, *smtp.MailOptions) error {
	if s.m.refuse.Load() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Relay unavailable, try again later"}
	}
	return nil
}
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	msg, err := mail.ReadEML(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, sinkMail{At: at, To: append([]string(nil), s.to...), Mail: msg})
	close(s.m.changed)
	s.m.changed = make(chan struct{})
	s.m.mu.Unlock()
	return nil
}
func (s *sinkSession) Reset()        { s.to = nil }
func (s *sinkSession) Logout() error { return nil }

// all returns what the server has accepted so far.
func (m *mailSink) all() []sinkMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sinkMail(nil), m.msgs...)
}

// await waits until n messages accepted from index from on satisfy match,
// and returns them; false after timeout.
func (m *mailSink) await(from, n int, match func(sinkMail) bool, timeout time.Duration) ([]sinkMail, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		var got []sinkMail
		for _, msg := range m.msgs[min(from, len(m.msgs)):] {
			if match(msg) {
				got = append(got, msg)
			}
		}
		changed := m.changed
		m.mu.Unlock()
		if len(got) >= n {
			return got, true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return got, false
		}
	}
}

// to reports whether msg was addressed to addr.
func (msg sinkMail) to(addr string) bool {
	for _, t := range msg.To {
		if strings.EqualFold(t, addr) {
			return true
		}
	}
	return false
}

// pushStamps records when the push service accepted each message.
type pushStamps struct {
	mu      sync.Mutex
	times   []time.Time
	changed chan struct{} // closed and replaced on every message
}

func newPushStamps() *pushStamps { return &pushStamps{changed: make(chan struct{})} }

func (p *pushStamps) respond(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.times = append(p.times, time.Now())
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// count is how many messages the service has accepted.
func (p *pushStamps) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.times)
}

// await waits until n messages from index from on were accepted and
// returns their times; false after timeout.
func (p *pushStamps) await(from, n int, timeout time.Duration) ([]time.Time, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		got := append([]time.Time(nil), p.times[min(from, len(p.times)):]...)
		changed := p.changed
		p.mu.Unlock()
		if len(got) >= n {
			return got, true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return got, false
		}
	}
}

// emergencyRig is the API with its delivery channels, and the services
// they deliver to.
type emergencyRig struct {
	tb     testing.TB
	st     *store.Store
	root   string // the server's root URL
	api    string // the API's root URL, with the prefix
	tokens *auth.Tokens
	mx     *mailSink
	texts  *smstest.Server
	push   *pushtest.Service
	pushed *pushStamps
	quiet  atomic.Bool // set once the test is over: logging stops
}

const (
	rigPrefix    = "/api/v1"
	rigPublicURL = "https://care.carecircle.test"
	rigSubject   = "mailto:ops@carecircle.test"
)

// newEmergencyRig starts the API on st, with emailLimit emails a day.
func newEmergencyRig(tb testing.TB, st *store.Store, emailLimit int64) *emergencyRig {
	tb.Helper()
	r := &emergencyRig{tb: tb, st: st, mx: startMailSink(tb), texts: smstest.NewServer(tb), pushed: newPushStamps()}
	clk := clock.Real{}
	logger := slog.New(slog.NewTextHandler(rigLog{r}, &slog.HandlerOptions{Level: slog.LevelWarn}))

	smtpSender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: r.mx.port, From: "CareCircle <no-reply@carecircle.test>", Clock: clk})
	if err != nil {
		tb.Fatal(err)
	}
	chain := &mail.Chain{
		Providers: []mail.Provider{{Name: "smtp", Sender: smtpSender}},
		Quota:     mail.NewQuota(mail.QuotaConfig{Limit: emailLimit}, notify.StoreCounter{Store: st}, clk),
		Recorder:  notify.StoreRecorder{Store: st},
		Clock:     clk, Logger: logger,
	}
	keys, err := webpush.GenerateKeys()
	if err != nil {
		tb.Fatal(err)
	}
	vapid := webpush.VAPID{Keys: keys, Subject: rigSubject}
	r.push = pushtest.NewService(tb, keys.Public, rigSubject, r.pushed.respond)
	push, err := webpush.NewSender(vapid, r.push.Client(), clk)
	if err != nil {
		tb.Fatal(err)
	}
	texts, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: r.texts.AccountSID, AuthToken: r.texts.AuthToken, From: r.texts.From, BaseURL: r.texts.URL})
	if err != nil {
		tb.Fatal(err)
	}

	channels := &notify.Channels{}
	channels.Register(&notify.PushChannel{Store: st, Sender: push, PublicURL: rigPublicURL})
	channels.Register(&notify.EmailChannel{Store: st, Chain: chain, Clock: clk, Logger: logger, PublicURL: rigPublicURL})
	channels.Register(&notify.SMSChannel{Store: st, Sender: texts, PublicURL: rigPublicURL})
	deliverer := &notify.Deliverer{Store: st, Channels: channels, Clock: clk, Logger: logger}
	dispatcher := outbox.New(st, clk, logger, outbox.Options{}, deliverer)
	ctx, cancel := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); _ = dispatcher.Run(ctx) }()

	var cache kv.Cache
	if st.Dialect() == store.SQLite {
		cache = kv.NewMemoryCache(clk, 0)
	}
	r.tokens = auth.NewTokens([]byte("emergency-rig-secret-0123456789ab"), 15*time.Minute, clk.Now)
	a := api.New(api.Config{Prefix: rigPrefix, PublicURL: rigPublicURL}, api.Deps{
		Store: st, Tokens: r.tokens, Mail: &notify.Mailer{Chain: chain, Store: st, Clock: clk},
		Limiter: kv.NewMemoryLimiter(clk), Cache: cache, Clock: clk, Logger: logger,
		VAPIDPublicKey: keys.Public, Push: push, SMS: texts,
		Health: []api.HealthReporter{notify.QuotaHealth{Chain: chain}, outbox.Health{Store: st}},
	})
	srv := httptest.NewServer(a.Handler())
	r.root, r.api = srv.URL, srv.URL+rigPrefix
	tb.Cleanup(func() {
		// Deliveries cut short by the end of the test are not worth a log.
		r.quiet.Store(true)
		srv.Close()
		cancel()
		<-dispatched
	})
	return r
}

// rigLog sends the rig's warnings and errors to the test log while the
// test runs.
type rigLog struct{ r *emergencyRig }

func (l rigLog) Write(b []byte) (int, error) {
	if !l.r.quiet.Load() {
		l.r.tb.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

// call sends a request to the API and fails the test unless it answers
// want; it decodes the answer into out when given.
func (r *emergencyRig) call(method, path, token string, body any, want int, out any) {
	r.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			r.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	url := r.api + path
	if strings.HasPrefix(path, "/health") {
		url = r.root + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		r.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		r.tb.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			r.tb.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// subscribe registers a new browser of the push service for the user,
// through the API.
func (r *emergencyRig) subscribe(token string) {
	r.tb.Helper()
	sub, _ := r.push.Subscribe()
	r.call("POST", "/notifications/push-subscription", token, map[string]any{
		"endpoint": sub.Endpoint, "keys": map[string]string{"p256dh": sub.P256dh, "auth": sub.Auth},
	}, 201, nil)
}
