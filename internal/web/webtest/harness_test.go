package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// The browser is started once for the package and shared: each test opens
// its own browser contexts (separate cookies, storage and service workers).
var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// chromiumPath finds the browser, or skips the test (fails it when the
// services are required).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is not installed (apt-get install -y chromium) and CARECIRCLE_TEST_REQUIRE_SERVICES=1")
	}
	t.Skip("chromium is not installed; the browser tests need it (apt-get install -y chromium)")
	return ""
}

// browser returns the shared browser, starting it on first use.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	shared.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("lang", "en-US"),
		)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(allocCtx)
		shared.ctx = ctx
		shared.cancel = func() { cancelBrowser(); cancelAlloc() }
		shared.err = chromedp.Do(ctx) // starts the browser
	})
	if shared.err != nil {
		t.Fatalf("start chromium: %v", shared.err)
	}
	return shared.ctx
}

// tab is one page in a browser context of its own, as one person on their
// own device. Errors the page logs to the console, uncaught exceptions and
// Content-Security-Policy violations fail the test.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
	mu   sync.Mutex
	errs []string
}

// reportViolations turns CSP violations into console errors, which the
// listener below records.
const reportViolations = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`

func newTab(t *testing.T, name string) *tab {
	t.Helper()
	tb := &tab{t: t, name: name}
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	tb.ctx = ctx
	t.Cleanup(func() {
		cancel()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.errs {
			t.Errorf("%s: browser console: %s", name, e)
		}
	})
	// The first call opens the tab and ties it to the context it is given,
	// so it runs without the per-step deadline.
	addScript := chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: reportViolations})
		return err
	})
	if err := chromedp.Do(ctx, addScript); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	return tb
}

func (tb *tab) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "uncaught: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	default:
		return
	}
	tb.mu.Lock()
	tb.errs = append(tb.errs, msg)
	tb.mu.Unlock()
}

// consoleErrors returns what the page reported so far.
func (tb *tab) consoleErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.errs...)
}

// do runs the actions, failing the test on the first error (each step is
// bounded so that a missing element fails fast instead of hanging). The
// actions here are safe to repeat (fill clears the field first; a click
// whose node went away was never dispatched), so a step that lost its node
// because the page replaced its document under it runs again on the new
// document.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if _, err := retryStale(ctx, func() (struct{}, error) { return struct{}{}, chromedp.Do(ctx, actions...) }); err != nil {
		tb.t.Fatalf("%s at %s: %v\nconsole: %v", tb.name, tb.location(), err, tb.consoleErrors())
	}
}

// retryStale runs a read or a repeatable step again while it fails because
// the page replaced the node (or the whole document) it was working on, as
// live updates and reloads do; it gives up when ctx ends.
func retryStale[T any](ctx context.Context, step func() (T, error)) (T, error) {
	for {
		v, err := step()
		if err == nil || ctx.Err() != nil || !(staleNode(err) || navigated(err)) {
			return v, err
		}
	}
}

// staleNode tells the errors of a node that belonged to a document the page
// has since replaced.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "No node with given id found")
}

// location is the page's address, for failure messages.
func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// text reads an element's visible text.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := retryStale(ctx, func() (string, error) { return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))) })
	if err != nil {
		tb.t.Fatalf("%s: text of %s: %v", tb.name, sel, err)
	}
	return s
}

// eval runs JavaScript in the page and decodes its result.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := retryStale(ctx, func() (T, error) { return chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise)) })
	if err != nil {
		tb.t.Fatalf("%s: eval %q: %v", tb.name, js, err)
	}
	return v
}

// waitFor waits until the JavaScript condition holds (a DOM change, not
// time): the browser re-checks it on every mutation.
func (tb *tab) waitFor(cond string, within time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, within)
	defer cancel()
	// A navigation ends the page the condition was watched in; retryStale
	// watches the next one.
	_, err := retryStale(ctx, func() (bool, error) {
		return chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(within)))
	})
	if err != nil {
		tb.t.Fatalf("%s at %s: waiting for %s: %v\nconsole: %v", tb.name, tb.location(), cond, err, tb.consoleErrors())
	}
}

// navigated tells the errors of a page that went away under a script.
func navigated(err error) bool {
	msg := err.Error()
	for _, s := range []string{"navigated or closed", "Execution context was destroyed", "Cannot find context", "context with specified id"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// setOffline cuts the tab (and its service worker) off the network, or
// reconnects it; navigator.onLine and the online/offline events follow.
func (tb *tab) setOffline(offline bool) {
	tb.t.Helper()
	tb.do(chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		if _, err := cdp.Call(ctx, target, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, target, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &offline,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, target, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	}))
}

// click clicks the element once the page's scripts are wired.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.waitFor(`document.body.dataset.ready !== undefined`, stepTimeout)
	tb.do(chromedp.Click(chromedp.CSS(sel)))
}

// fill types into a form field, replacing what it held.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// ---- the server ------------------------------------------------------------

// server is a whole CareCircle process on a free port, with its mail outbox.
type server struct {
	t      *testing.T
	base   string
	outbox string
	http   *http.Client
}

// startServer runs CareCircle in this process until the test ends; it
// returns once the process says it is serving.
func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, nil)
}

// startServerWith is startServer with data prepared through the store
// before the process starts.
func startServerWith(t *testing.T, prepare func(ctx context.Context, st *store.Store) error) *server {
	t.Helper()
	return startServerWithEnv(t, nil, prepare)
}

// startServerWithEnv is startServerWith with more environment variables.
func startServerWithEnv(t *testing.T, extra map[string]string, prepare func(ctx context.Context, st *store.Store) error) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dataDir := t.TempDir()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := map[string]string{
		"PORT": strconv.Itoa(port), "DATA_DIR": dataDir, "PUBLIC_URL": base,
		"RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "warn", "SHUTDOWN_TIMEOUT": "5s",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		st, err := app.OpenStore(context.Background(), cfg, clock.Real{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Migrate(context.Background())
		if err == nil {
			err = jobs.Migrate(context.Background(), st)
		}
		if err == nil {
			err = prepare(context.Background(), st)
		}
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	serving := make(chan struct{})
	logger := slog.New(&watchHandler{t: t, serving: serving})
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := app.NewServer(ctx, cfg, logger, app.RoleAll)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-serving:
	case err := <-done:
		cancel()
		t.Fatalf("server stopped before serving: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return &server{t: t, base: base, outbox: filepath.Join(dataDir, "outbox"), http: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// watchHandler logs the process's warnings and errors to the test and
// signals when it serves.
type watchHandler struct {
	t       *testing.T
	serving chan struct{}
	once    sync.Once
}

func (h *watchHandler) Enabled(_ context.Context, l slog.Level) bool { return true }
func (h *watchHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "carecircle serving" {
		h.once.Do(func() { close(h.serving) })
	}
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
		h.t.Logf("server %s: %s%s", r.Level, r.Message, b.String())
	}
	return nil
}
func (h *watchHandler) WithAttrs(as []slog.Attr) slog.Handler { return h }
func (h *watchHandler) WithGroup(string) slog.Handler         { return h }

// call sends an API request with a bearer token and checks the status.
func (s *server) call(method, path, token string, body any, want int) map[string]any {
	s.t.Helper()
	raw := s.callRaw(method, path, token, body, want)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func (s *server) callRaw(method, path, token string, body any, want int) []byte {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if want != 0 && res.StatusCode != want {
		s.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	return b
}

// lastMail is the text of the newest message the server wrote to addr.
func (s *server) lastMail(addr string) string {
	s.t.Helper()
	msgs, err := mail.ReadOutbox(s.outbox)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.EqualFold(msgs[i].To, addr) {
			return msgs[i].Text
		}
	}
	s.t.Fatalf("no mail to %s in the outbox", addr)
	return ""
}

var (
	codeRE   = regexp.MustCompile(`\b(\d{6})\b`)
	inviteRE = regexp.MustCompile(`/accept-invite/([A-Za-z0-9_-]+)`)
)

const password = "Correct-horse-42"

// signUp registers through the API, verifies with the mailed code and
// finishes onboarding; it returns the access token.
func (s *server) signUp(name, email string) string {
	s.t.Helper()
	s.call("POST", "/auth/register", "", map[string]any{"fullName": name, "email": email, "password": password, "timezone": "UTC"}, 201)
	m := codeRE.FindStringSubmatch(s.lastMail(email))
	if m == nil {
		s.t.Fatalf("no code in the mail to %s", email)
	}
	v := s.call("POST", "/auth/verify-email", "", map[string]any{"email": email, "otp": m[1]}, 200)
	token := v["accessToken"].(string)
	s.call("POST", "/auth/complete-onboarding", token, nil, 200)
	return token
}

// signIn signs the tab in through the sign-in page and waits for the
// dashboard.
func (tb *tab) signIn(s *server, email string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(s.base+"/login"),
		fill("#email", email), fill("#password", password))
	tb.click(`form[data-api] button[type=submit]`)
	tb.waitFor(`location.pathname === '/dashboard' && document.readyState === 'complete'`, stepTimeout)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// stepTimeout bounds one browser step; generous, since the browser shares
// two cores with the server and everything else.
const stepTimeout = 60 * time.Second
