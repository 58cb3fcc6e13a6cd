package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// userDayBudget is docs/REDIS.md's budget for a user-day: the Redis
// commands a node sends (an EVALSHA is one, whatever its script calls) for
// six app opens, two dose logs and a sign-in, connected to realtime at each
// open.
const userDayBudget = 30

// wireCounter counts, from a redis-server's MONITOR feed, the commands
// clients send (not those scripts call), by name.
type wireCounter struct {
	conn   net.Conn
	mu     sync.Mutex
	counts map[string]int
	done   chan struct{}
}

var monitorLine = regexp.MustCompile(`^\+[0-9.]+ \[\d+ (\S+)\] "([^"]+)"`)

func startWireCounter(t *testing.T, addr string) *wireCounter {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("MONITOR: %q %v", line, err)
	}
	w := &wireCounter{conn: conn, counts: map[string]int{}, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			m := monitorLine.FindStringSubmatch(line)
			if m == nil || m[1] == "lua" {
				continue
			}
			w.mu.Lock()
			w.counts[strings.ToUpper(m[2])]++
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-w.done })
	return w
}

func (w *wireCounter) take() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.counts
	w.counts = map[string]int{}
	return out
}

// A user-day on the real binary (PostgreSQL, rate limits on, a redis-server
// of the test's own) stays within its Redis budget: six app opens, each
// refreshing the token, loading the dashboard, the medication schedule and
// the dashboard again, connected to realtime on the family channel; a dose
// logged in two of them; one sign-in. The user's requests are paced a
// quarter of a second apart, as a person's taps are. Counted from MONITOR
// (the commands the node sends, as a hosted Redis bills them), so that
// local-first rate limits and the node-memory cache cannot creep back into
// Redis unnoticed.
func TestUserDayStaysWithinRedisBudget(t *testing.T) {
	requireRedisServer(t)
	t.Parallel()
	redisPort, port := freePort(t), freePort(t)
	startRedis(t, redisPort)
	redisAddr := "127.0.0.1:" + strconv.Itoa(redisPort)
	dataDir := t.TempDir()
	startProcess(t, map[string]string{
		"DATABASE_URL": storetest.NewPostgresSchema(t), "REDIS_URL": "redis://" + redisAddr + "/0",
		"JWT_SECRET": "userday-test-secret-userday-test-secret1", "DATA_DIR": dataDir,
		"PORT": strconv.Itoa(port), "LOG_LEVEL": "warn",
	}, "serve")
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHealthy(t, base, "/health/ready")
	c := &e2eClient{t: t, base: base, outbox: filepath.Join(dataDir, "outbox")}

	// Setting up the account and the family is not part of the day.
	access, refresh := c.signUp("Ann Lee", "ann@example.com")
	fam := c.call("POST", "/families", access, map[string]any{"name": "The Lees"}, 201)["id"].(string)
	cr := c.call("POST", "/families/"+fam+"/care-recipients", access, map[string]any{"fullName": "Grandma Lee"}, 201)["id"].(string)
	med := c.call("POST", "/care-recipients/"+cr+"/medications", access, map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "DAILY", "timesPerDay": 1,
		"scheduledTimes": []string{"08:00"}, "currentSupply": 1000,
	}, 201)["id"].(string)
	// The day starts once the setup's events have gone out.
	waitFor(t, time.Now().Add(30*time.Second), "the setup's events dispatched", func() bool {
		return outboxPending(base) == 0
	})
	counter := startWireCounter(t, redisAddr)

	ctx := context.Background()
	pace := func() { time.Sleep(250 * time.Millisecond) }
	for open := range 6 {
		rt := rtclient.New(rtclient.URL(base), rtclient.Options{Token: access})
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if err := rt.Connect(wctx); err != nil {
			cancel()
			t.Fatal(err)
		}
		if err := rt.Subscribe(wctx, "family:"+fam); err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		tokens := c.call("POST", "/auth/refresh", "", map[string]any{"refreshToken": refresh}, 200)
		access = tokens["accessToken"].(string)
		if nested, ok := tokens["tokens"].(map[string]any); ok {
			refresh = nested["refreshToken"].(string)
		} else {
			refresh = tokens["refreshToken"].(string)
		}
		for _, path := range []string{"/auth/me", "/families/" + fam + "/care-recipients", "/care-recipients/" + cr + "/medications/schedule/today",
			"/auth/me", "/families/" + fam + "/care-recipients"} {
			pace()
			c.call("GET", path, access, nil, 200)
		}
		if open%3 == 0 {
			pace()
			day := time.Now().UTC().AddDate(0, 0, -open/3)
			at := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, time.UTC)
			c.call("POST", "/medications/"+med+"/log", access, map[string]any{"status": "GIVEN", "scheduledTime": at.Format(time.RFC3339)}, 201)
		}
		rt.Close()
		pace()
	}
	c.call("POST", "/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Correct-horse-42"}, 200)
	waitFor(t, time.Now().Add(30*time.Second), "the day's events dispatched", func() bool { return outboxPending(base) == 0 })

	counts := counter.take()
	sent := 0
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		sent += counts[name]
		parts = append(parts, fmt.Sprintf("%d %s", counts[name], name))
	}
	t.Logf("a user-day sent %d Redis commands (%s); budget %d", sent, strings.Join(parts, ", "), userDayBudget)
	if sent > userDayBudget {
		t.Errorf("a user-day sent %d Redis commands (%s), more than its budget of %d", sent, strings.Join(parts, ", "), userDayBudget)
	}
}

// outboxPending reads components.outbox.pending from base's /health (-1
// when unanswered).
func outboxPending(base string) int {
	res, err := http.Get(base + "/health")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	var h struct {
		Components struct {
			Outbox struct {
				Pending *int `json:"pending"`
			} `json:"outbox"`
		} `json:"components"`
	}
	if json.NewDecoder(res.Body).Decode(&h) != nil || h.Components.Outbox.Pending == nil {
		return -1
	}
	return *h.Components.Outbox.Pending
}
