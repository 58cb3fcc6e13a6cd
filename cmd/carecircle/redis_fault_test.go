package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// waitForRedisState polls /health until it reports want, for at most limit.
func waitForRedisState(t *testing.T, base, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for componentStatus(base, "redis") != want {
		if time.Now().After(deadline) {
			t.Fatalf("/health never reported redis %q", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requireRedisServer skips the test when it cannot start a redis-server of
// its own (or fails it, when services are required).
func requireRedisServer(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the binary and a redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server is not installed but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed")
	}
}

// TestRedisOutageUnderLoad runs the real binary on a redis-server of its
// own, kills that Redis during a stream of requests and starts it again:
// no request answers 5xx, rate limits keep holding, and /health reports
// redis degraded and then up again without a restart.
func TestRedisOutageUnderLoad(t *testing.T) {
	requireRedisServer(t)
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

// listNames GETs a list and returns each element's fullName.
func (c *e2eClient) listNames(path, token string) []string {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var list []struct {
		FullName string `json:"fullName"`
	}
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s = %d", path, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		c.t.Fatal(err)
	}
	names := []string{}
	for _, e := range list {
		names = append(names, e.FullName)
	}
	return names
}

// meRecipientNames returns the care recipients' names in GET /auth/me.
func (c *e2eClient) meRecipientNames(token string) []string {
	c.t.Helper()
	names := []string{}
	for _, f := range c.call("GET", "/auth/me", token, nil, 200)["families"].([]any) {
		for _, cr := range f.(map[string]any)["careRecipients"].([]any) {
			names = append(names, cr.(map[string]any)["fullName"].(string))
		}
	}
	return names
}

// TestRedisOutageKeepsReadsFreshAndAccountsSafe: with Redis, Redis dies
// and comes back while a family works. A care recipient created at any
// point is listed on the very next read (while the node does not receive
// the bus its cache invalidations travel on, the cache is bypassed, and
// when it does again the node drops what it cached); sign-up codes and the
// login lockout keep working from the database meanwhile.
func TestRedisOutageKeepsReadsFreshAndAccountsSafe(t *testing.T) {
	requireRedisServer(t)
	t.Parallel()
	redisPort, apiPort := freePort(t), freePort(t)
	redis := startRedis(t, redisPort)
	dataDir := t.TempDir()
	startProcess(t, map[string]string{"DATA_DIR": dataDir, "PORT": strconv.Itoa(apiPort), "LOG_LEVEL": "warn",
		"RATE_LIMIT_ENABLED": "false", "REDIS_URL": "redis://127.0.0.1:" + strconv.Itoa(redisPort) + "/0"})
	base := "http://127.0.0.1:" + strconv.Itoa(apiPort)
	waitForRedisState(t, base, "up", 60*time.Second)
	c := &e2eClient{t: t, base: base, outbox: filepath.Join(dataDir, "outbox")}
	expect := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s = %q, want %q", what, got, want)
		}
	}

	ann, _ := c.signUp("Ann Lee", "ann@example.com")
	fam := c.call("POST", "/families", ann, map[string]any{"name": "The Lees"}, 201)["id"].(string)
	recipients := "/families/" + fam + "/care-recipients"
	expect("care recipients of a new family", c.listNames(recipients, ann))
	c.call("POST", recipients, ann, map[string]any{"fullName": "Grandma Lee"}, 201)
	expect("care recipients after the first", c.listNames(recipients, ann), "Grandma Lee")
	expect("me after the first", c.meRecipientNames(ann), "Grandma Lee")

	redis.kill()
	c.call("POST", recipients, ann, map[string]any{"fullName": "Grandpa Lee"}, 201)
	waitFor(t, time.Now().Add(30*time.Second), "the bus lost", func() bool { return !busConnected(base) })
	expect("care recipients during the outage", c.listNames(recipients, ann), "Grandma Lee", "Grandpa Lee")
	expect("me during the outage", c.meRecipientNames(ann), "Grandma Lee", "Grandpa Lee")
	bo, _ := c.signUp("Bo Park", "bo@example.com")
	c.call("GET", "/auth/me", bo, nil, 200)
	for range 5 {
		c.call("POST", "/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Wrong-horse-42"}, 401)
	}
	c.call("POST", "/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Correct-horse-42"}, 403)
	waitForRedisState(t, base, "degraded", 30*time.Second)

	startRedis(t, redisPort)
	waitForRedisState(t, base, "up", 30*time.Second)
	// The entries cached before the outage are stale; the replayed
	// invalidation keeps them from being served.
	expect("care recipients after the outage", c.listNames(recipients, ann), "Grandma Lee", "Grandpa Lee")
	expect("me after the outage", c.meRecipientNames(ann), "Grandma Lee", "Grandpa Lee")
	c.call("POST", recipients, ann, map[string]any{"fullName": "Aunt Lee"}, 201)
	expect("care recipients after one more", c.listNames(recipients, ann), "Aunt Lee", "Grandma Lee", "Grandpa Lee")
}
