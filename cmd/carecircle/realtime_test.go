package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// sharedRedis returns the test Redis's URL and a key prefix of the test's
// own (starting with name), whose keys are deleted when the test ends. The
// test skips without a Redis (or fails, when services are required).
func sharedRedis(t *testing.T, name string) (redisURL, prefix string) {
	t.Helper()
	redisURL = os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_REDIS_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis tests skipped: set CARECIRCLE_TEST_REDIS_URL to run them")
	}
	prefix = name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			return
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		if keys, err := rdb.Keys(context.Background(), prefix+"*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	return redisURL, prefix
}

// waitHealthy polls base+path until it answers 200.
func waitHealthy(t *testing.T, base, path string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(base + path)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%s never answered 200: %v", base, path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two API processes and a worker on PostgreSQL and Redis: a member
// connected to node A sees, within a second, the dose another member logs
// through node B's API; the worker dispatches the event and the shared
// Redis broker carries it to A.
func TestRealtimeAcrossProcesses(t *testing.T) {
	t.Parallel()
	if took := doseAcrossProcesses(t, nil, nil); took > time.Second {
		t.Errorf("medication_logged reached node A after %v", took)
	}
}

// doseAcrossProcesses runs two API processes and a worker on PostgreSQL and
// Redis (plus extra, for every process), connects a member to node A, logs
// a dose through node B and returns how long the member's client waited for
// its medication_logged. beforeLog runs once every process is ready.
func doseAcrossProcesses(t *testing.T, extra map[string]string, beforeLog func(baseA, baseB string)) time.Duration {
	t.Helper()
	redisURL, prefix := sharedRedis(t, "ccrt")
	dsn := storetest.NewPostgresSchema(t)
	secret := "realtime-test-secret-realtime-test-secret"
	env := func(port int) map[string]string {
		e := map[string]string{
			"DATABASE_URL": dsn, "REDIS_URL": redisURL, "REDIS_KEY_PREFIX": prefix, "JWT_SECRET": secret,
			"DATA_DIR": t.TempDir(), "RATE_LIMIT_ENABLED": "false", "PORT": strconv.Itoa(port),
			"HEALTH_PORT": strconv.Itoa(port), "LOG_LEVEL": "warn",
		}
		for k, v := range extra {
			e[k] = v
		}
		return e
	}
	// The first process migrates the schema; the others start on it.
	portA, portB, portW := freePort(t), freePort(t), freePort(t)
	startProcess(t, env(portA), "serve", "--role=api")
	baseA := "http://127.0.0.1:" + strconv.Itoa(portA)
	waitHealthy(t, baseA, "/health/ready")
	startProcess(t, env(portB), "serve", "--role=api")
	startProcess(t, env(portW), "worker")
	baseB := "http://127.0.0.1:" + strconv.Itoa(portB)
	waitHealthy(t, baseB, "/health/ready")
	waitHealthy(t, "http://127.0.0.1:"+strconv.Itoa(portW), "/ready")

	// Two members of one family, signed in as the API would sign them in.
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: dsn, Clock: clock.Real{}, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens := auth.NewTokens([]byte(secret), 15*time.Minute, time.Now)
	member := func(name string) (*care.User, string) {
		u, err := st.CreateUser(ctx, store.NewUser{Email: name + "@example.com", PasswordHash: "x", FullName: name, Timezone: "UTC", Status: care.UserPending})
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
		tok, err := tokens.Issue(u.ID, u.Email, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u, tok
	}
	ann, annToken := member("ann")
	bo, boToken := member("bo")
	fam, _, err := st.CreateFamily(ctx, "The Lees", ann.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := auth.NewOpaqueToken()
	if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: bo.Email, Role: care.RoleCaregiver,
		InvitedByID: ann.ID, TokenHash: auth.HashToken(inv), TTL: care.InvitationTTL}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcceptInvitation(ctx, auth.HashToken(inv), bo.ID, bo.Email); err != nil {
		t.Fatal(err)
	}

	// Bo listens on node A.
	c := rtclient.New(rtclient.URL(baseA), rtclient.Options{Token: boToken})
	t.Cleanup(c.Close)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := c.Connect(wctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(wctx, "family:"+fam.ID); err != nil {
		t.Fatal(err)
	}

	if beforeLog != nil {
		beforeLog(baseA, baseB)
	}
	// Ann works through node B.
	api := &e2eClient{t: t, base: baseB, outbox: filepath.Join(t.TempDir(), "outbox")}
	cr := api.call("POST", "/families/"+fam.ID+"/care-recipients", annToken, map[string]any{"fullName": "Grandma Lee", "timezone": "UTC"}, 201)
	med := api.call("POST", "/care-recipients/"+cr["id"].(string)+"/medications", annToken, map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "AS_NEEDED", "currentSupply": 10,
	}, 201)
	logged := time.Now()
	dose := api.call("POST", "/medications/"+med["id"].(string)+"/log", annToken,
		map[string]any{"status": "GIVEN", "scheduledTime": time.Now().UTC().Format(time.RFC3339)}, 201)
	for {
		r, err := c.Next(wctx)
		if err != nil {
			t.Fatalf("no medication_logged on node A: %v", err)
		}
		if r.Event != "medication_logged" {
			continue
		}
		if !strings.Contains(string(r.Data), dose["id"].(string)) {
			t.Fatalf("medication_logged for another dose: %s", r.Data)
		}
		t.Logf("dose logged on node B reached a client of node A after %v", r.At.Sub(logged))
		return r.At.Sub(logged)
	}
}
