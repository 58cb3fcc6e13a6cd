package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/config"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Vars() {
		if !strings.Contains(out.String(), v.Name) {
			t.Errorf("help lacks %s", v.Name)
		}
	}
	for _, c := range []string{"serve", "migrate up", "migrate status", "version"} {
		if !strings.Contains(out.String(), c) {
			t.Errorf("help lacks command %q", c)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	var usage usageError
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), io.Discard, io.Discard); !errors.As(err, &usage) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(context.Background(), []string{"migrate", "down"}, envOf(nil), io.Discard, io.Discard); !errors.As(err, &usage) {
		t.Fatalf("migrate down: %v", err)
	}
	err := run(context.Background(), []string{"serve"}, envOf(map[string]string{"PORT": "abc"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `PORT: "abc" is not a port`) {
		t.Fatalf("bad PORT: %v", err)
	}
}

func TestMigrateUpAndStatus(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"DATA_DIR": t.TempDir()})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "up"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "on sqlite") {
		t.Fatalf("migrate up: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "status"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pending") || !strings.Contains(out.String(), "0001") {
		t.Fatalf("migrate status: %s", out.String())
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs the serve command with env (plus a free PORT) until the
// test ends or stop is called. It returns once the server logs that it serves.
func startServer(t *testing.T, env map[string]string) (base string, stop func()) {
	t.Helper()
	port := freePort(t)
	full := map[string]string{"PORT": strconv.Itoa(port)}
	for k, v := range env {
		full[k] = v
	}
	return "http://127.0.0.1:" + strconv.Itoa(port), startCommand(t, nil, full)
}

// startCommand runs the command line args with env until the test ends or
// stop is called, returning once the process logs "carecircle serving".
func startCommand(t *testing.T, args []string, env map[string]string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, envOf(env), io.Discard, logW)
		logW.Close()
	}()
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(logR)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "carecircle serving") {
				close(serving)
				signalled = true
			}
			if strings.Contains(sc.Text(), "level=ERROR") {
				t.Log(sc.Text())
			}
		}
	}()
	select {
	case <-serving:
	case err := <-done:
		cancel()
		t.Fatalf("%v exited early: %v", args, err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("%v did not start", args)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestServeAnswersHealthAndStopsGracefully runs the default command with no
// configuration but a data directory and port, checks /health and shuts it
// down by cancelling its context.
func TestServeAnswersHealthAndStopsGracefully(t *testing.T) {
	t.Parallel()
	base, stop := startServer(t, map[string]string{"DATA_DIR": t.TempDir()})
	res, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/health = %d", res.StatusCode)
	}
	// The outbox backlog and the email quota of the default (unmetered) outbox provider.
	if !strings.Contains(string(body), `"outbox":{"pending":0,"status":"up"}`) || !strings.Contains(string(body), `"emailQuota":[{"metered":false,"provider":"outbox"}]`) {
		t.Fatalf("/health = %s", body)
	}
	stop()
}

// TestWorkerRoleServesHealthProbes runs `carecircle worker`: background work
// only, with its probes on HEALTH_PORT and no API.
func TestWorkerRoleServesHealthProbes(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	stop := startCommand(t, []string{"worker"}, map[string]string{"DATA_DIR": t.TempDir(), "HEALTH_PORT": strconv.Itoa(port)})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for _, p := range []string{"/health", "/healthz", "/ready"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s = %d %s", p, res.StatusCode, body)
		}
		if p == "/health" && (!strings.Contains(string(body), `"database":"up"`) || !strings.Contains(string(body), `"queue"`)) {
			t.Fatalf("/health = %s", body)
		}
	}
	res, err := http.Get(base + "/api/v1/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("the worker serves the API: %d", res.StatusCode)
	}
	stop()
}

// TestServeWithRedis runs the API with REDIS_URL: /health reports Redis up
// and rate limits are kept there once a client comes near one (a client
// well within them is counted in the node's memory only).
func TestServeWithRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_REDIS_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis tests skipped: set CARECIRCLE_TEST_REDIS_URL to run them")
	}
	prefix := "cctest-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	base, stop := startServer(t, map[string]string{"DATA_DIR": t.TempDir(), "REDIS_URL": url, "REDIS_KEY_PREFIX": prefix})
	res, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"redis":{"since":`) || !strings.Contains(string(body), `"status":"up"`) {
		t.Fatalf("/health = %s", body)
	}
	// A burst of requests at once passes half of the per-second tier, so
	// its rate-limit state is kept in Redis under the prefix.
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	var keys []string
	waitFor(t, time.Now().Add(30*time.Second), "rate-limit state in Redis under "+prefix, func() bool {
		var burst sync.WaitGroup
		for range 8 {
			burst.Go(func() {
				if res, err := http.Get(base + "/api/v1/nope"); err == nil {
					res.Body.Close()
				}
			})
		}
		burst.Wait()
		keys, err = rdb.Keys(context.Background(), prefix+"*").Result()
		return err == nil && len(keys) > 0
	})
	t.Cleanup(func() {
		rdb.Del(context.Background(), keys...)
		rdb.Close()
	})
	stop()
}
