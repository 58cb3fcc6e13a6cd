package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORSForAllowedOrigins: an origin of ALLOWED_ORIGINS gets credentialed
// CORS (preflight, readable answers, cookie-authenticated writes); any other
// origin gets no CORS headers and its cookie writes stay refused.
func TestCORSForAllowedOrigins(t *testing.T) {
	t.Parallel()
	const app, evil = "http://localhost:3000", "https://evil.example"
	h := corsHarness(t, app)
	h.newUser("ann@example.com")

	pre := h.request("OPTIONS", "/auth/login", "", nil, "Origin", app, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type")
	if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != app ||
		pre.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight = %d %v", pre.Status, pre.Header)
	}
	if other := h.request("OPTIONS", "/auth/login", "", nil, "Origin", evil, "Access-Control-Request-Method", "POST"); other.Header.Get("Access-Control-Allow-Origin") != "" || other.Status < 400 {
		t.Fatalf("preflight from another origin = %d %v", other.Status, other.Header)
	}

	login := h.login("ann@example.com", "Password1234", "rememberMe", true)
	login.expect(200)
	access := login.cookies()["access_token"]
	res := h.request("POST", "/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Password1234"}, "Origin", app)
	if res.Status != 200 || res.Header.Get("Access-Control-Allow-Origin") != app || res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("login from the app's origin = %d %v", res.Status, res.Header)
	}
	if v := res.Header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Origin") {
		t.Fatalf("Vary = %v", v)
	}
	// A cookie-authenticated write from the allowed origin passes the CSRF
	// check; from another origin it is refused and changes nothing.
	cookie := "access_token=" + access.Value
	h.request("PATCH", "/auth/me", "", map[string]any{"fullName": "From Evil"}, "Cookie", cookie, "Origin", evil).errorEnvelope(403)
	ok := h.request("PATCH", "/auth/me", "", map[string]any{"fullName": "From App"}, "Cookie", cookie, "Origin", app).expect(200)
	if ok.Header.Get("Access-Control-Allow-Origin") != app || ok.Map()["fullName"] != "From App" {
		t.Fatalf("write from the app = %v %s", ok.Header, ok.Body)
	}
	// Errors are readable too, and never "*".
	e := h.request("GET", "/auth/me", "", nil, "Origin", app)
	e.errorEnvelope(401)
	if e.Header.Get("Access-Control-Allow-Origin") != app {
		t.Fatalf("401 without CORS headers: %v", e.Header)
	}
	if got := h.request("GET", "/auth/me", "", nil, "Origin", evil).Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("another origin got %q", got)
	}

	// Without ALLOWED_ORIGINS no origin is allowed.
	plain := corsHarness(t)
	if r := plain.request("OPTIONS", "/auth/login", "", nil, "Origin", app, "Access-Control-Request-Method", "POST"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS without ALLOWED_ORIGINS: %v", r.Header)
	}
}

// corsHarness is a server on SQLite with ALLOWED_ORIGINS set to origins
// (the configuration is read per request, before any is made).
func corsHarness(t *testing.T, origins ...string) *harness {
	h := sqliteHarness(t, harnessOptions{})
	h.api.cfg.AllowedOrigins = origins
	return h
}
