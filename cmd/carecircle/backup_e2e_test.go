package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// runBinary runs one carecircle command line to completion with env and
// returns its combined output and exit code.
func runBinary(t *testing.T, env map[string]string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary.get(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), 0
}

// serveProcess starts "carecircle serve" as its own process on DATA_DIR and
// returns a client once it is ready.
func serveProcess(t *testing.T, env map[string]string) *e2eClient {
	t.Helper()
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	full := map[string]string{"RATE_LIMIT_ENABLED": "false", "PORT": strconv.Itoa(port), "PUBLIC_URL": base}
	for k, v := range env {
		full[k] = v
	}
	startProcess(t, full, "serve")
	waitHealthy(t, base, "/health/ready")
	return &e2eClient{t: t, base: base, outbox: filepath.Join(full["DATA_DIR"], "outbox")}
}

// familyWriter creates families through the API until stopped, recording
// each one the server confirmed and when the confirmation arrived.
type familyWriter struct {
	base, token string
	mu          sync.Mutex
	confirmed   map[string]time.Time
	failures    []string
	stop, done  chan struct{}
}

func startFamilyWriter(base, token string) *familyWriter {
	w := &familyWriter{base: base, token: token, confirmed: map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			body := fmt.Sprintf(`{"name":"Family %d"}`, i)
			req, _ := http.NewRequest("POST", w.base+"/api/v1/families", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+w.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				w.mu.Lock()
				w.failures = append(w.failures, err.Error())
				w.mu.Unlock()
				return
			}
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			res.Body.Close()
			at := time.Now()
			w.mu.Lock()
			if id, ok := m["id"].(string); ok && res.StatusCode == 201 {
				w.confirmed[id] = at
			} else {
				w.failures = append(w.failures, fmt.Sprintf("%d %v", res.StatusCode, m))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// confirmedBefore lists the families confirmed before t.
func (w *familyWriter) confirmedBefore(t time.Time) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for id, at := range w.confirmed {
		if at.Before(t) {
			out = append(out, id)
		}
	}
	return out
}

// waitFor returns once the writer has n confirmed families; it fails the
// test if the writer stops first.
func (w *familyWriter) waitFor(t *testing.T, n int) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(w.confirmedBefore(time.Now())) < n {
		select {
		case <-w.done:
			t.Fatalf("the writer stopped: %v", w.failures)
		case <-tick.C:
		}
	}
}

// TestBackupWhileWritingRestoresEverythingCommittedBefore runs the real
// binary on SQLite while a client keeps creating families, takes a backup
// with a second process of the same binary, and restores it into a new
// DATA_DIR: the restored server opens and migrates it, still accepts the old
// session (the generated JWT secret came along), lists every family confirmed
// before the backup began, and serves the document uploaded before it byte
// for byte.
func TestBackupWhileWritingRestoresEverythingCommittedBefore(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	c := serveProcess(t, map[string]string{"DATA_DIR": dataDir})
	token, _ := c.signUp("Ann Lee", "ann@example.com")
	familyID := c.call("POST", "/families", token, map[string]any{"name": "The Lees"}, 201)["id"].(string)
	content := e2ePDF(300 << 10)
	status, doc := c.uploadFile(token, familyID, "insurance card.pdf", "application/pdf", content, map[string]string{"type": "INSURANCE_CARD"})
	if status != 201 {
		t.Fatalf("upload: %d %v", status, doc)
	}
	docPath := "/families/" + familyID + "/documents/" + doc["id"].(string)
	deadline := time.Now().Add(30 * time.Second)
	for doc["status"] == "PROCESSING" && time.Now().Before(deadline) {
		time.Sleep(25 * time.Millisecond) // polling the server's own job queue, bounded
		doc = c.call("GET", docPath, token, nil, 200)
	}
	if doc["status"] != "READY" {
		t.Fatalf("document never became READY: %v", doc)
	}

	w := startFamilyWriter(c.base, token)
	w.waitFor(t, 20) // a body of committed rows before the backup
	archive := filepath.Join(t.TempDir(), "carecircle-backup.tar.gz")
	began := time.Now()
	out, code := runBinary(t, map[string]string{"DATA_DIR": dataDir}, "backup", archive)
	ended := time.Now()
	w.waitFor(t, len(w.confirmedBefore(time.Now()))+5) // and the server keeps taking writes after it
	close(w.stop)
	<-w.done
	if code != 0 || !strings.Contains(out, "backed up the SQLite database") {
		t.Fatalf("backup exited %d: %s", code, out)
	}
	if len(w.failures) > 0 {
		t.Fatalf("writes failed during the backup: %v", w.failures)
	}
	before := w.confirmedBefore(began)
	during := len(w.confirmedBefore(ended)) - len(before)
	t.Logf("backup took %v; %d families confirmed before it began, %d while it ran", ended.Sub(began), len(before), during)

	// Restoring over a live DATA_DIR is refused and touches nothing.
	if out, code := runBinary(t, map[string]string{"DATA_DIR": dataDir}, "restore", archive); code == 0 || !strings.Contains(out, "not empty") {
		t.Fatalf("restore into the live DATA_DIR exited %d: %s", code, out)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if out, code := runBinary(t, map[string]string{"DATA_DIR": restored}, "restore", archive); code != 0 {
		t.Fatalf("restore exited %d: %s", code, out)
	}
	r := serveProcess(t, map[string]string{"DATA_DIR": restored})
	got := map[string]bool{}
	for _, f := range r.callList("GET", "/families", token) {
		got[f.(map[string]any)["id"].(string)] = true
	}
	for _, id := range append(before, familyID) {
		if !got[id] {
			t.Errorf("family %s, confirmed before the backup began, is missing after restore", id)
		}
	}
	if len(got) > len(w.confirmed)+1 {
		t.Errorf("restored %d families, more than the %d ever created", len(got), len(w.confirmed)+1)
	}

	links := r.call("GET", docPath+"/url", token, nil, 200)
	res, body := r.get(links["downloadUrl"].(string))
	if res.StatusCode != 200 || !bytes.Equal(body, content) {
		t.Fatalf("download after restore: %d, %d bytes of %d", res.StatusCode, len(body), len(content))
	}
}

// TestBackupOnPostgresSaysWhatToRun: with DATABASE_URL the archive holds
// DATA_DIR and the command prints the pg_dump to run for the database.
func TestBackupOnPostgresSaysWhatToRun(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir, "DATABASE_URL": storetest.NewPostgresSchema(t)}
	if out, code := runBinary(t, env, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "jwt_secret"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "pg.tar.gz")
	out, code := runBinary(t, env, "backup", archive)
	if code != 0 || !strings.Contains(out, "pg_dump --format=custom") || !strings.Contains(out, "1 file(s)") {
		t.Fatalf("backup on PostgreSQL exited %d: %s", code, out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	out, code = runBinary(t, map[string]string{"DATA_DIR": restored}, "restore", archive)
	if code != 0 || !strings.Contains(out, "pg_restore") {
		t.Fatalf("restore of a PostgreSQL backup exited %d: %s", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(restored, "jwt_secret")); err != nil || len(b) != 33 {
		t.Fatalf("secret after restore: %q %v", b, err)
	}
}

// TestUserSetRolePromotesAnExistingAccount: the command changes what a
// signed-in user may do on the running server at once, and refuses unknown
// accounts and roles.
func TestUserSetRolePromotesAnExistingAccount(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATA_DIR": t.TempDir()}
			if backend == "postgres" {
				env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
			}
			c := serveProcess(t, env)
			token, _ := c.signUp("Ann Lee", "ann@example.com")
			c.call("GET", "/admin/jobs/failed", token, nil, 403)

			for _, tc := range []struct {
				args []string
				code int
				out  string
			}{
				{[]string{"user", "set-role", "nobody@example.com", "ADMIN"}, 1, "no account has the email nobody@example.com"},
				{[]string{"user", "set-role", "ann@example.com", "ROOT"}, 2, `"ROOT" is not one of`},
				{[]string{"user", "set-role", "not-an-address", "ADMIN"}, 2, "is not an email address"},
				{[]string{"user", "set-role", "ann@example.com"}, 2, "set-role EMAIL"},
			} {
				if out, code := runBinary(t, env, tc.args...); code != tc.code || !strings.Contains(out, tc.out) {
					t.Errorf("%v exited %d: %s", tc.args, code, out)
				}
			}
			c.call("GET", "/admin/jobs/failed", token, nil, 403)

			out, code := runBinary(t, env, "user", "set-role", " Ann@Example.com ", "admin")
			if code != 0 || !strings.Contains(out, "ann@example.com (Ann Lee) is now ADMIN") {
				t.Fatalf("set-role exited %d: %s", code, out)
			}
			// The command tells the running server nothing: the session it
			// checked just before sees the promotion once its entry in the
			// server's memory ends (auth.SessionCacheTTL).
			waitFor(t, time.Now().Add(auth.SessionCacheTTL+10*time.Second), "the promotion shows", func() bool {
				return c.status("GET", "/admin/jobs/failed", token) == http.StatusOK
			})
			if me := c.call("GET", "/auth/me", token, nil, 200); !strings.Contains(fmt.Sprint(me), "ADMIN") {
				t.Errorf("/auth/me after promotion: %v", me)
			}
			if out, code := runBinary(t, env, "user", "set-role", "ann@example.com", "SUPER_ADMIN"); code != 0 {
				t.Fatalf("SUPER_ADMIN: %s", out)
			}
			c.call("GET", "/admin/jobs/failed", token, nil, 200)
			if out, code := runBinary(t, env, "user", "set-role", "ann@example.com", "USER"); code != 0 {
				t.Fatalf("USER: %s", out)
			}
			c.call("GET", "/admin/jobs/failed", token, nil, 403)
		})
	}
}

// TestHealthcheckCommand: the image's HEALTHCHECK succeeds against a ready
// server (on PORT's /health/ready by default, or the URL given, such as a
// worker's /ready) and fails when nothing answers.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	c := serveProcess(t, map[string]string{"DATA_DIR": t.TempDir()})
	port := c.base[strings.LastIndex(c.base, ":")+1:]
	if out, code := runBinary(t, map[string]string{"PORT": port}, "healthcheck"); code != 0 || !strings.Contains(out, "/health/ready: ok") {
		t.Errorf("healthcheck on PORT exited %d: %s", code, out)
	}
	if out, code := runBinary(t, nil, "healthcheck", c.base+"/health/live"); code != 0 {
		t.Errorf("healthcheck of a URL exited %d: %s", code, out)
	}
	if out, code := runBinary(t, nil, "healthcheck", c.base+"/no-such-probe"); code != 1 || !strings.Contains(out, "answered 404") {
		t.Errorf("healthcheck of a 404 exited %d: %s", code, out)
	}
	closed := strconv.Itoa(freePort(t))
	if out, code := runBinary(t, map[string]string{"PORT": closed}, "healthcheck"); code != 1 {
		t.Errorf("healthcheck with nothing listening exited %d: %s", code, out)
	}
	if out, code := runBinary(t, nil, "healthcheck", "ftp://example.com/"); code != 2 {
		t.Errorf("healthcheck of an ftp URL exited %d: %s", code, out)
	}
}
