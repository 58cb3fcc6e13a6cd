package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// The Redis budgets of docs/REDIS.md, per minute: a whole idle node, and
// each connected member on top of it.
const (
	idleNodeBudget      = 2.0
	connectedUserBudget = 0.2
	budgetWindow        = 30 * time.Second
)

// An idle carecircle serve (PostgreSQL, its own redis-server, cron jobs on,
// rate limits on) stays within its Redis budget, first with nobody connected,
// then with 20 members connected and subscribed to their family channels.
// Every command the server executes counts, including those scripts call
// (INFO commandstats). The window is 30 s, so a node may send at most one
// command in it, and 20 members three in all: anything periodic (a
// keep-alive, an announcement, a presence refresh) every 30 s or more often
// fails it.
func TestIdleNodeStaysWithinRedisBudget(t *testing.T) {
	t.Parallel()
	for _, members := range []int{0, 20} {
		t.Run(strconv.Itoa(members)+" members connected", func(t *testing.T) {
			t.Parallel()
			idleBudgetCase(t, members)
		})
	}
}

func idleBudgetCase(t *testing.T, members int) {
	redisURL := startRedisServer(t)
	dsn := storetest.NewPostgresSchema(t)
	secret := "budget-test-secret-budget-test-secret-01"
	port := freePort(t)
	startProcess(t, map[string]string{
		"DATABASE_URL": dsn, "REDIS_URL": redisURL, "JWT_SECRET": secret, "DATA_DIR": t.TempDir(),
		"PORT": strconv.Itoa(port), "LOG_LEVEL": "warn",
	}, "serve")
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHealthy(t, base, "/health/ready")

	ctx := context.Background()
	if members > 0 {
		st, err := store.Open(ctx, store.Options{DatabaseURL: dsn, Clock: clock.Real{}, MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		tokens := auth.NewTokens([]byte(secret), time.Hour, time.Now)
		var familyID, creatorID string
		for i := range members {
			u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("m%d@example.com", i), PasswordHash: "x", FullName: "Member", Timezone: "UTC", Status: care.UserPending})
			if err != nil {
				t.Fatal(err)
			}
			if u, err = st.ActivateUser(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			if i%10 == 0 {
				fam, _, err := st.CreateFamily(ctx, "Family", u.ID, nil)
				if err != nil {
					t.Fatal(err)
				}
				familyID, creatorID = fam.ID, u.ID
			} else {
				inv := auth.NewOpaqueToken()
				if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: familyID, Email: u.Email, Role: care.RoleCaregiver,
					InvitedByID: creatorID, TokenHash: auth.HashToken(inv), TTL: care.InvitationTTL}); err != nil {
					t.Fatal(err)
				}
				if _, err := st.AcceptInvitation(ctx, auth.HashToken(inv), u.ID, u.Email); err != nil {
					t.Fatal(err)
				}
			}
			sess, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tokens.Issue(u.ID, u.Email, sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			c := rtclient.New(rtclient.URL(base), rtclient.Options{Token: tok})
			t.Cleanup(c.Close)
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			if err := c.Connect(wctx); err != nil {
				cancel()
				t.Fatal(err)
			}
			if err := c.Subscribe(wctx, "family:"+familyID); err != nil {
				cancel()
				t.Fatal(err)
			}
			cancel()
		}
	}
	// What starting and connecting sent is not idle traffic.
	time.Sleep(2 * time.Second)
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	before := redisCommandStats(t, rdb)
	time.Sleep(budgetWindow)
	after := redisCommandStats(t, rdb)
	after["info"]-- // the call that read them
	var (
		sent  int64
		parts []string
	)
	for _, name := range slices.Sorted(maps.Keys(after)) {
		if d := after[name] - before[name]; d > 0 {
			sent += d
			parts = append(parts, fmt.Sprintf("%d %s", d, name))
		}
	}
	perMinute := idleNodeBudget + connectedUserBudget*float64(members)
	allowed := int64(perMinute * budgetWindow.Minutes())
	t.Logf("%d members connected: %d commands in %v (%s); budget %.1f a minute, %d in the window",
		members, sent, budgetWindow, strings.Join(parts, ", "), perMinute, allowed)
	if sent > allowed {
		t.Errorf("an idle node with %d members connected sent %d Redis commands in %v (%s), more than its budget of %d (%.1f a minute)",
			members, sent, budgetWindow, strings.Join(parts, ", "), allowed, perMinute)
	}
}

// startRedisServer runs a redis-server of the test's own, so that nothing
// else's commands are counted, and returns its URL.
func startRedisServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server is not installed but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	url := "redis://127.0.0.1:" + strconv.Itoa(port) + "/0"
	opts, _ := redis.ParseURL(url)
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

// redisCommandStats reads how often the server ran each command.
func redisCommandStats(t *testing.T, rdb *redis.Client) map[string]int64 {
	t.Helper()
	stats, err := kv.CommandStats(context.Background(), rdb)
	if err != nil {
		t.Fatal(err)
	}
	return stats
}
