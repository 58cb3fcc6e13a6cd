package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// redisServer is a redis-server process owned by one test, so the test can
// kill it without disturbing anyone else's Redis.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	r := &redisServer{port: port, cmd: cmd}
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_, _ = r.cmd.Process.Wait()
	}
}

// redisState reads the redis component of /health ("" while the server
// does not answer yet).
func redisState(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/health")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var h struct {
		Components struct {
			Redis struct{ Status string } `json:"redis"`
		} `json:"components"`
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Components.Redis.Status
}

// waitForRedisState polls /health until it reports want, for at most limit.
func waitForRedisState(t *testing.T, base, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for redisState(t, base) != want {
		if time.Now().After(deadline) {
			t.Fatalf("/health never reported redis %q", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisOutageUnderLoad runs the real binary on a redis-server of its
// own, kills that Redis during a stream of requests and starts it again:
// no request answers 5xx, rate limits keep holding, and /health reports
// redis degraded and then up again without a restart.
func TestRedisOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary and a redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server is not installed but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed")
	}
	t.Parallel()
	redisPort, apiPort := freePort(t), freePort(t)
	redis := startRedis(t, redisPort)
	env := map[string]string{"DATA_DIR": t.TempDir(), "PORT": strconv.Itoa(apiPort), "LOG_LEVEL": "warn",
		"REDIS_URL": "redis://127.0.0.1:" + strconv.Itoa(redisPort) + "/0"}
	startProcess(t, env)
	base := "http://127.0.0.1:" + strconv.Itoa(apiPort)
	waitForRedisState(t, base, "up", 60*time.Second)

	// Four goroutines request continuously, as one client (one address);
	// record every status.
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				res, err := http.Get(base + "/api/v1/nope")
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mu.Lock()
				statuses[res.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	redis.kill()
	waitForRedisState(t, base, "degraded", 30*time.Second)
	startRedis(t, redisPort)
	waitForRedisState(t, base, "up", 30*time.Second)
	stop.Store(true)
	wg.Wait()

	t.Logf("statuses during the run: %v", statuses)
	for code, n := range statuses {
		if code >= 500 {
			t.Fatalf("%d requests answered %d", n, code)
		}
	}
	// One client hammering: most requests are refused by the limits, before,
	// during and after the outage alike.
	if statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusNotFound] == 0 {
		t.Fatalf("rate limits did not hold: %v", statuses)
	}
}
