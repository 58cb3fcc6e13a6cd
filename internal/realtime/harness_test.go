package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// testStart is the fake clock's starting instant: 2026-03-02 15:00 UTC is
// 00:00 on 3 March in Tokyo.
var testStart = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

var testSecret = []byte("test-secret-test-secret-test-sec")

// wait bounds how long a test waits for something that should happen at
// once.
const wait = 10 * time.Second

// testLogger sends warnings and errors to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

type discard struct{}

func (discard) Send(context.Context, mail.Message) error { return nil }

// env is the API and a realtime node on one store, as one CareCircle
// process serves them, with the outbox dispatcher feeding the node.
type env struct {
	t      *testing.T
	store  *store.Store
	clock  *clock.Fake
	tokens *auth.Tokens
	node   *realtime.Node
	srv    *httptest.Server
}

// envOptions adjust an env.
type envOptions struct {
	redis      *redis.Options // a shared broker; nil keeps it in memory
	prefix     string
	store      *store.Store // another node's store; nil opens a new one
	clock      *clock.Fake
	tokenTTL   time.Duration
	origins    []string
	dispatcher bool // run the outbox dispatcher in this node
}

func newEnv(t *testing.T, open func(testing.TB, clock.Clock) *store.Store, o envOptions) *env {
	t.Helper()
	clk := o.clock
	if clk == nil {
		clk = clock.NewFake(testStart)
	}
	st := o.store
	if st == nil {
		st = open(t, clk)
	}
	ttl := o.tokenTTL
	if ttl == 0 {
		ttl = 15 * time.Minute
	}
	tokens := auth.NewTokens(testSecret, ttl, clk.Now)
	logger := testLogger(t)
	node, err := realtime.New(realtime.Options{
		HistorySize: 100, HistoryTTL: time.Minute, MaxConnectionsPerUser: 3,
		AllowedOrigins: append([]string{"http://carecircle.test"}, o.origins...),
		Redis:          o.redis, RedisPrefix: o.prefix,
	}, realtime.Deps{Store: st, Tokens: tokens, Clock: clk, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Run(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	})
	a := api.New(api.Config{Prefix: "/api/v1", PublicURL: "http://carecircle.test"}, api.Deps{
		Store: st, Tokens: tokens, Mail: discard{}, Limiter: kv.NewMemoryLimiter(clk), Clock: clk, Logger: logger,
	})
	mux := http.NewServeMux()
	mux.Handle("/connection/", node.Handler())
	mux.Handle("/", a.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if o.dispatcher {
		d := outbox.New(st, clk, logger, outbox.Options{Poll: 20 * time.Millisecond}, node.Consumer())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = d.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return &env{t: t, store: st, clock: clk, tokens: tokens, node: node, srv: srv}
}

// user is an active account with a session.
type user struct {
	*care.User
	Token string
}

func (e *env) newUser(name string) user {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.store.CreateUser(ctx, store.NewUser{Email: name + "@example.com", PasswordHash: "x", FullName: name, Timezone: "UTC", Status: care.UserPending})
	if err != nil {
		e.t.Fatal(err)
	}
	if u, err = e.store.ActivateUser(ctx, u.ID); err != nil {
		e.t.Fatal(err)
	}
	return user{User: u, Token: e.signIn(u)}
}

func (e *env) signIn(u *care.User) string {
	e.t.Helper()
	sess, err := e.store.CreateSession(context.Background(), store.NewSession{UserID: u.ID, TTL: 24 * time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// family is a family with an admin, a caregiver and a care recipient in Tokyo.
type family struct {
	ID, CareRecipientID  string
	admin, caregiver     user
	adminMemberID        string
	caregiverMemberID    string
	viewer               user
	viewerMemberID       string
	outsider             user
	familyChannel        string
	careRecipientChannel string
}

func (e *env) newFamily(prefix string) family {
	e.t.Helper()
	ctx := context.Background()
	must := func(err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	f := family{admin: e.newUser(prefix + "-admin"), caregiver: e.newUser(prefix + "-caregiver"), viewer: e.newUser(prefix + "-viewer"), outsider: e.newUser(prefix + "-outsider")}
	fam, adm, err := e.store.CreateFamily(ctx, "The "+prefix+"s", f.admin.ID, nil)
	must(err)
	f.ID, f.adminMemberID = fam.ID, adm.ID
	join := func(u user, role care.Role) string {
		tok := auth.NewOpaqueToken()
		_, err := e.store.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: u.Email, Role: role,
			InvitedByID: f.admin.ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL})
		must(err)
		_, err = e.store.AcceptInvitation(ctx, auth.HashToken(tok), u.ID, u.Email)
		must(err)
		m, err := e.store.MemberOf(ctx, fam.ID, u.ID)
		must(err)
		return m.ID
	}
	f.caregiverMemberID = join(f.caregiver, care.RoleCaregiver)
	f.viewerMemberID = join(f.viewer, care.RoleViewer)
	cr, err := e.store.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Grandma", Timezone: "Asia/Tokyo"})
	must(err)
	f.CareRecipientID = cr.ID
	f.familyChannel, f.careRecipientChannel = "family:"+f.ID, "care-recipient:"+cr.ID
	return f
}

// request calls the API as u and decodes the JSON answer.
func (e *env) request(method, path, token string, body any, want int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// emit commits a domain event to the outbox, as a handler's change does.
func (e *env) emit(typ, familyID, careRecipientID string, data any) string {
	e.t.Helper()
	env, id, err := events.Build(e.clock, typ, familyID, careRecipientID, "", "", data)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AppendEvent(context.Background(), store.OutboxEvent{ID: id, Type: typ, FamilyID: familyID, Envelope: env}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// connect opens a realtime connection with u's token as the connect token.
func (e *env) connect(u user) *rtclient.Client {
	e.t.Helper()
	c := rtclient.New(rtclient.URL(e.srv.URL), rtclient.Options{Token: u.Token})
	e.t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		e.t.Fatalf("connect %s: %v", u.FullName, err)
	}
	return c
}

func subscribe(t *testing.T, c *rtclient.Client, channel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Subscribe(ctx, channel); err != nil {
		t.Fatalf("subscribe %s: %v", channel, err)
	}
}

// next waits for the next message on channel, skipping others.
func next(t *testing.T, c *rtclient.Client, channel string) rtclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		r, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("no message on %s: %v", channel, err)
		}
		if r.Channel == channel {
			return r
		}
	}
}

// redisOptions returns the test Redis, skipping the test (or failing it
// when services are required) when none is configured.
func redisOptions(t *testing.T) *redis.Options {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_REDIS_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis tests skipped: set CARECIRCLE_TEST_REDIS_URL to run them")
	}
	o, err := kv.RedisOptions(u, "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// storeSQLite opens a store on SQLite, for tests of behaviour that does not
// depend on the database.
var storeSQLite = storetest.OpenSQLite

// forEachBackend runs fn on SQLite and PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store)) {
	storetest.ForEach(t, fn)
}
