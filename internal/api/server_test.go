package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		m := h.request("GET", "/health", "", nil).expect(200).Map()
		db := m["components"].(map[string]any)["database"].(map[string]any)
		if m["status"] != "ok" || db["status"] != "up" {
			t.Fatalf("health = %v", m)
		}
		h.request("GET", "/health/ready", "", nil).expect(200)
		h.request("GET", "/health/live", "", nil).expect(200)
	})
}

func TestUnknownRoutesAndMethodsUseTheEnvelope(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	m := h.request("GET", "/nope", "", nil).errorEnvelope(404)
	if m["path"] != "/api/v1/nope" {
		t.Fatalf("path = %v", m["path"])
	}
	h.request("DELETE", "/health", "", nil).errorEnvelope(405)
}

func TestRequestIDEchoedOrGenerated(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	r := h.request("GET", "/nope", "", nil, "X-Request-Id", "abc-123")
	if r.Header.Get("X-Request-Id") != "abc-123" || r.Map()["requestId"] != "abc-123" {
		t.Fatalf("request id not echoed: %v %s", r.Header, r.Body)
	}
	r = h.request("GET", "/health/live", "", nil)
	if len(r.Header.Get("X-Request-Id")) != 36 {
		t.Fatalf("no generated request id: %v", r.Header)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers missing: %v", r.Header)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	h.request("GET", "/auth/me", "", nil).errorEnvelope(401)
	h.request("GET", "/auth/me", "not-a-token", nil).errorEnvelope(401)
	u := h.newUser("ann@example.com")
	h.request("GET", "/auth/me", u.Token, nil).expect(200)
	h.clock.Advance(16 * time.Minute)
	h.request("GET", "/auth/me", u.Token, nil).errorEnvelope(401)
}

func TestCookieAuthNeedsTrustedOriginForWrites(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	send := func(origin string) int {
		req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/families", strings.NewReader(`{"name":"Cookie family"}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "access_token", Value: u.Token})
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := send("https://evil.example"); got != 403 {
		t.Fatalf("foreign origin: %d, want 403", got)
	}
	if got := send(""); got != 403 {
		t.Fatalf("no origin: %d, want 403", got)
	}
	if got := send("http://carecircle.test"); got != 201 {
		t.Fatalf("trusted origin: %d, want 201", got)
	}
}

func TestRateLimitTiers(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{rateLimit: true})
	for i := 0; i < 5; i++ {
		h.request("GET", "/nope", "", nil, "X-Forwarded-For", "203.0.113.9").expect(404)
	}
	r := h.request("GET", "/nope", "", nil, "X-Forwarded-For", "203.0.113.9")
	m := r.errorEnvelope(429)
	if m["message"] != "Too many requests. Please try again later." || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("429 = %v, Retry-After %q", m, r.Header.Get("Retry-After"))
	}
	// Another client is not affected; health probes are never limited.
	h.request("GET", "/nope", "", nil, "X-Forwarded-For", "203.0.113.10").expect(404)
	h.request("GET", "/health/live", "", nil, "X-Forwarded-For", "203.0.113.9").expect(200)
	h.clock.Advance(time.Second)
	h.request("GET", "/nope", "", nil, "X-Forwarded-For", "203.0.113.9").expect(404)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	h.request("GET", "/auth/me", u.Token, nil).expect(200)
	h.request("GET", "/care-recipients/0190f000-0000-7000-8000-000000000000", u.Token, nil).expect(404)
	body := string(h.request("GET", "/metrics", "", nil).expect(200).Body)
	for _, want := range []string{
		`carecircle_http_requests_total{code="200",method="GET",route="GET /api/v1/auth/me"} 1`,
		`route="GET /api/v1/care-recipients/{id}"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "0190f000") {
		t.Fatal("a raw path leaked into the labels")
	}
}

func TestMetricsToken(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{metricsToken: "scrape-secret"})
	h.request("GET", "/metrics", "", nil).errorEnvelope(401)
	h.request("GET", "/metrics", "wrong", nil).errorEnvelope(401)
	h.request("GET", "/metrics", "scrape-secret", nil).expect(200)
}
