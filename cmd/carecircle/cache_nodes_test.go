package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// busConnected reads components.realtime.connected from base's /health:
// whether the node receives the realtime bus its cache invalidations come
// on.
func busConnected(base string) bool {
	res, err := http.Get(base + "/health")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var h struct {
		Components struct {
			Realtime struct {
				Connected bool `json:"connected"`
			} `json:"realtime"`
		} `json:"components"`
	}
	return json.NewDecoder(res.Body).Decode(&h) == nil && h.Components.Realtime.Connected
}

// Two API processes on one PostgreSQL and a redis-server of the test's own
// cache reads in their memory: a care recipient created through node A is
// listed by node B as soon as A's invalidation has crossed the bus, and
// after Redis restarts (with a write while it was away) neither node serves
// what it cached before.
func TestReadCacheAcrossProcesses(t *testing.T) {
	requireRedisServer(t)
	t.Parallel()
	redisPort := freePort(t)
	rs := startRedis(t, redisPort)
	redisURL := "redis://127.0.0.1:" + strconv.Itoa(redisPort) + "/0"
	dsn := storetest.NewPostgresSchema(t)
	secret := "cache-test-secret-cache-test-secret-0001"
	env := func(port int) map[string]string {
		return map[string]string{
			"DATABASE_URL": dsn, "REDIS_URL": redisURL, "JWT_SECRET": secret, "DATA_DIR": t.TempDir(),
			"RATE_LIMIT_ENABLED": "false", "PORT": strconv.Itoa(port), "LOG_LEVEL": "warn",
		}
	}
	portA, portB := freePort(t), freePort(t)
	startProcess(t, env(portA), "serve", "--role=api")
	baseA := "http://127.0.0.1:" + strconv.Itoa(portA)
	waitHealthy(t, baseA, "/health/ready")
	startProcess(t, env(portB), "serve", "--role=api")
	baseB := "http://127.0.0.1:" + strconv.Itoa(portB)
	waitHealthy(t, baseB, "/health/ready")
	a := &e2eClient{t: t, base: baseA}
	b := &e2eClient{t: t, base: baseB}
	for _, base := range []string{baseA, baseB} {
		waitFor(t, time.Now().Add(30*time.Second), "the bus at "+base, func() bool { return busConnected(base) })
	}

	// A member, signed in as the API would sign her in.
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: dsn, Clock: clock.Real{}, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := st.CreateUser(ctx, store.NewUser{Email: "ann@example.com", PasswordHash: "x", FullName: "Ann", Timezone: "UTC", Status: care.UserPending})
	if err != nil {
		t.Fatal(err)
	}
	if u, err = st.ActivateUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	if err != nil {
		t.Fatal(err)
	}
	ann, err := auth.NewTokens([]byte(secret), time.Hour, time.Now).Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		t.Fatal(err)
	}

	// The test listens to the bus too: once it has seen an invalidation,
	// Redis has handed it to every node.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(redisPort)})
	t.Cleanup(func() { _ = rdb.Close() })
	bus := rdb.Subscribe(ctx, "cc:rt.bus")
	t.Cleanup(func() { _ = bus.Close() })
	if _, err := bus.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	invalidated := func(ns string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for {
			m, err := bus.ReceiveMessage(wctx)
			if err != nil {
				t.Fatalf("no invalidation of %s on the bus: %v", ns, err)
			}
			if strings.HasPrefix(m.Payload, "x") && strings.HasSuffix(m.Payload, ":n"+ns) {
				return
			}
		}
	}
	// fresh waits until node c lists want, for at most the invalidation's
	// trip through the node (seconds, where a missed invalidation would
	// leave the entry for its 5-minute TTL).
	fresh := func(c *e2eClient, what string, list func() []string, want ...string) {
		t.Helper()
		waitFor(t, time.Now().Add(10*time.Second), what+" = "+strings.Join(want, ", "), func() bool {
			return strings.Join(list(), "|") == strings.Join(want, "|")
		})
	}

	fam := a.call("POST", "/families", ann, map[string]any{"name": "The Lees"}, 201)["id"].(string)
	recipients := "/families/" + fam + "/care-recipients"
	a.call("POST", recipients, ann, map[string]any{"fullName": "Grandma Lee"}, 201)
	invalidated("family:" + fam)
	listB := func() []string { return b.listNames(recipients, ann) }
	meB := func() []string { return b.meRecipientNames(ann) }
	fresh(b, "B's care recipients", listB, "Grandma Lee")
	fresh(b, "B's /auth/me", meB, "Grandma Lee")

	// Node B has the family cached; node A writes.
	a.call("POST", recipients, ann, map[string]any{"fullName": "Grandpa Lee"}, 201)
	invalidated("family:" + fam)
	fresh(b, "B's care recipients after A's write", listB, "Grandma Lee", "Grandpa Lee")
	fresh(b, "B's /auth/me after A's write", meB, "Grandma Lee", "Grandpa Lee")

	// Redis restarts. While it is away both nodes read from the database;
	// A's write cannot be broadcast then, and goes out afterwards.
	_ = bus.Close()
	rs.kill()
	for _, base := range []string{baseA, baseB} {
		waitFor(t, time.Now().Add(60*time.Second), "the bus lost at "+base, func() bool { return !busConnected(base) })
	}
	a.call("POST", recipients, ann, map[string]any{"fullName": "Aunt Lee"}, 201)
	if got := strings.Join(listB(), "|"); got != "Aunt Lee|Grandma Lee|Grandpa Lee" {
		t.Fatalf("B lists %q while Redis is away", got)
	}
	startRedis(t, redisPort)
	for _, base := range []string{baseA, baseB} {
		waitFor(t, time.Now().Add(60*time.Second), "the bus back at "+base, func() bool { return busConnected(base) })
	}
	if got := strings.Join(listB(), "|"); got != "Aunt Lee|Grandma Lee|Grandpa Lee" {
		t.Fatalf("B lists %q after Redis restarted", got)
	}
	if got := strings.Join(meB(), "|"); got != "Aunt Lee|Grandma Lee|Grandpa Lee" {
		t.Fatalf("B's /auth/me lists %q after Redis restarted", got)
	}
	if got := strings.Join(a.listNames(recipients, ann), "|"); got != "Aunt Lee|Grandma Lee|Grandpa Lee" {
		t.Fatalf("A lists %q after Redis restarted", got)
	}
	// And invalidations cross again.
	a.call("POST", recipients, ann, map[string]any{"fullName": "Uncle Lee"}, 201)
	fresh(b, "B's care recipients after Redis restarted", listB, "Aunt Lee", "Grandma Lee", "Grandpa Lee", "Uncle Lee")

	// A session ended through node A is refused by node B once A's
	// invalidation has crossed the bus, though B checked it from memory
	// just before.
	bus = rdb.Subscribe(ctx, "cc:rt.bus")
	if _, err := bus.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := auth.NewTokens([]byte(secret), time.Hour, time.Now).Issue(u.ID, u.Email, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	meName := func(c *e2eClient, token string) string {
		return c.call("GET", "/auth/me", token, nil, 200)["fullName"].(string)
	}
	if got := meName(b, phone); got != "Ann" {
		t.Fatalf("B's /auth/me name %q", got)
	}
	// SQL by hand tells no node: B answers from memory.
	if _, err := st.DB().Exec(`UPDATE users SET full_name = 'Ann by hand' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := meName(b, phone); got != "Ann" {
		t.Fatalf("B's /auth/me name %q: its session check did not come from memory", got)
	}
	a.call("POST", "/auth/logout", phone, nil, 200)
	a.call("GET", "/auth/me", phone, nil, 401)
	invalidated("sessions:" + u.ID)
	waitFor(t, time.Now().Add(5*time.Second), "B refuses the ended session", func() bool {
		return b.status("GET", "/auth/me", phone) == http.StatusUnauthorized
	})
	if got := meName(b, ann); got != "Ann by hand" {
		t.Fatalf("B's /auth/me name for Ann's other session %q; her account's entries were not all dropped", got)
	}
}
