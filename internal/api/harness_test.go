package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// testStart is the fake clock's starting instant in API tests.
var testStart = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

const testPrefix = "/api/v1"

// mailbox records sent mail for assertions.
type mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
}

func (m *mailbox) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// last returns the newest message sent to addr.
func (m *mailbox) last(t *testing.T, addr string) mail.Message {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.msgs) - 1; i >= 0; i-- {
		if m.msgs[i].To == addr {
			return m.msgs[i]
		}
	}
	t.Fatalf("no mail sent to %s", addr)
	return mail.Message{}
}

// count returns how many messages went to addr.
func (m *mailbox) count(addr string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, msg := range m.msgs {
		if msg.To == addr {
			n++
		}
	}
	return n
}

// harness is one API server on one backend with a fake clock.
type harness struct {
	t     *testing.T
	srv   *httptest.Server
	api   *Server
	store *store.Store
	clock *clock.Fake
	mail  *mailbox
}

// harnessOptions adjusts a harness.
type harnessOptions struct {
	rateLimit    bool
	metricsToken string
	// production serves as APP_ENV=production does.
	production bool
	// realtime, when set, is told which sessions ended.
	realtime SessionDisconnector
	// sms and push, when set, are the server's text and web push senders.
	sms  sms.Sender
	push *webpush.Sender
	// mail, when set, builds the server's mail sender over the store, the
	// fake clock and the harness's mailbox (the final transport).
	mail func(st *store.Store, clk *clock.Fake, box *mailbox) mail.Sender
	// jobs, when set, builds the server's job queue client over the store.
	jobs func(t *testing.T, st *store.Store) JobRetrier
}

// testLogger sends logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func newHarness(t *testing.T, open func(testing.TB, clock.Clock) *store.Store, opts harnessOptions) *harness {
	t.Helper()
	clk := clock.NewFake(testStart)
	st := open(t, clk)
	box := &mailbox{}
	var sender mail.Sender = box
	if opts.mail != nil {
		sender = opts.mail(st, clk, box)
	}
	var jobQueue JobRetrier
	if opts.jobs != nil {
		jobQueue = opts.jobs(t, st)
	}
	api := New(Config{
		Prefix:       testPrefix,
		PublicURL:    "http://carecircle.test",
		RateLimit:    opts.rateLimit,
		Production:   opts.production,
		TrustProxy:   true,
		MetricsToken: opts.metricsToken,
	}, Deps{
		Store:   st,
		Tokens:  auth.NewTokens([]byte("test-secret-test-secret-test-sec"), 15*time.Minute, clk.Now),
		Mail:    sender,
		Limiter: kv.NewMemoryLimiter(clk),
		Cache:   kv.NewMemoryCache(clk, 0),
		Clock:   clk,
		Logger:  testLogger(t),
		// A real key pair, as the app loads it; the routes only hand it out.
		VAPIDPublicKey: "BOr4n0SFnKb9jQnWo2K4xqMsWlj3lcS-_gctSRa7PNCVdHjPQMJzFMkMGTM6t9FnSkNgTgaN7hlY5uEh6U0wPcI",
		SMS:            opts.sms,
		Push:           opts.push,
		Realtime:       opts.realtime,
		Jobs:           jobQueue,
	})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, api: api, store: st, clock: clk, mail: box}
}

// forEachBackend runs fn against a fresh server on SQLite and on PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Helper()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		fn(t, newHarness(t, open, harnessOptions{}))
	})
}

// sqliteHarness is a server on SQLite only, for tests of HTTP behaviour that
// does not depend on the database.
func sqliteHarness(t *testing.T, opts harnessOptions) *harness {
	return newHarness(t, storetest.OpenSQLite, opts)
}

// response is a finished request.
type response struct {
	t      *testing.T
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *response) JSON(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes a JSON object body.
func (r *response) Map() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.JSON(&m)
	return m
}

// List decodes a JSON array body.
func (r *response) List() []map[string]any {
	r.t.Helper()
	var l []map[string]any
	r.JSON(&l)
	return l
}

// expect fails the test unless the status is want.
func (r *response) expect(want int) *response {
	r.t.Helper()
	if r.Status != want {
		r.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

// request sends a request; body may be nil, a string (sent raw) or a value
// encoded as JSON. token, when set, is sent as a bearer token.
func (h *harness) request(method, path, token string, body any, header ...string) *response {
	h.t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		sent = buf
	}
	if body != nil {
		rd = bytes.NewReader(sent)
	}
	if strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "/health") && path != "/metrics" && !strings.HasPrefix(path, testPrefix) {
		path = testPrefix + path
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	checkOpenAPI(h.t, req, sent, res.StatusCode, res.Header, b)
	return &response{t: h.t, Status: res.StatusCode, Header: res.Header, Body: b}
}

// testUser is an active account with a signed-in session.
type testUser struct {
	*care.User
	Token string
}

// newUser creates an ACTIVE user directly in the store and signs them in.
func (h *harness) newUser(email string) testUser {
	h.t.Helper()
	ctx := context.Background()
	hash, err := auth.HashPassword("Password1234")
	if err != nil {
		h.t.Fatal(err)
	}
	u, err := h.store.CreateUser(ctx, store.NewUser{
		Email: email, PasswordHash: hash, FullName: "User " + strings.Split(email, "@")[0],
		Timezone: "America/New_York", Status: care.UserPending,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if u, err = h.store.ActivateUser(ctx, u.ID); err != nil {
		h.t.Fatal(err)
	}
	return testUser{User: u, Token: h.signIn(u)}
}

// signIn starts a new session for u and returns its access token.
func (h *harness) signIn(u *care.User) string {
	h.t.Helper()
	sess, err := h.store.CreateSession(context.Background(), store.NewSession{UserID: u.ID, TTL: 7 * 24 * time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	if err != nil {
		h.t.Fatal(err)
	}
	tok, err := h.api.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// errorEnvelope asserts that r is an error in the contract's envelope with
// the given status, and returns it.
func (r *response) errorEnvelope(status int) map[string]any {
	r.t.Helper()
	r.expect(status)
	m := r.Map()
	for _, k := range []string{"statusCode", "message", "error", "timestamp", "path", "requestId"} {
		if _, ok := m[k]; !ok {
			r.t.Fatalf("error body lacks %q: %s", k, r.Body)
		}
	}
	if int(m["statusCode"].(float64)) != status {
		r.t.Fatalf("statusCode %v, want %d", m["statusCode"], status)
	}
	return m
}
