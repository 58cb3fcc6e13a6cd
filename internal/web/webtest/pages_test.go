package webtest

import (
	"net/http"
	"strings"
	"testing"
)

// TestEveryPageAnswersOrSendsToSignIn checks, without a browser, that each
// page of the contract answers: the public ones 200, the others a redirect
// to the sign-in page that comes back to them, and that every answer
// carries the security headers.
func TestEveryPageAnswersOrSendsToSignIn(t *testing.T) {
	s := startServer(t)
	public := []string{"/login", "/register", "/verify-email?email=a%40b.c", "/forgot-password", "/reset-password?token=x",
		"/offline", "/accept-invite/not-a-token", "/manifest.webmanifest", "/sw.js", "/static/app.css", "/static/js/app.js",
		"/static/icons/icon-192.png", "/static/icons/icon-512.png", "/static/icons/maskable-512.png", "/favicon.ico"}
	private := []string{"/onboarding", "/dashboard", "/care-recipients", "/care-recipients/7d6f3c2e-8a61-4d3c-9d7e-0d7a9b1f4c11",
		"/medications", "/calendar", "/calendar?appointment=7d6f3c2e-8a61-4d3c-9d7e-0d7a9b1f4c11", "/caregivers",
		"/shifts/7d6f3c2e-8a61-4d3c-9d7e-0d7a9b1f4c11", "/emergency", "/emergency/7d6f3c2e-8a61-4d3c-9d7e-0d7a9b1f4c11",
		"/timeline", "/documents", "/family", "/notifications", "/settings"}
	get := func(path string) *http.Response {
		t.Helper()
		res, err := s.http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
			if res.Header.Get(h) == "" {
				t.Errorf("%s: no %s header", path, h)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code: %s", path, csp)
		}
		return res
	}
	for _, p := range public {
		if res := get(p); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, res.StatusCode)
		}
	}
	for _, p := range private {
		res := get(p)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("GET %s signed out = %d %q, want a redirect to /login", p, res.StatusCode, loc)
		}
	}
	if res := get("/sw.js"); res.Header.Get("Service-Worker-Allowed") != "/" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("/sw.js headers: %v", res.Header)
	}
	if res := get("/no-such-page"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /no-such-page = %d, want 404", res.StatusCode)
	}

	// Signed in (the API's cookie), every page answers 200.
	token := s.signUp("Ann Lee", "ann@example.com")
	for _, p := range []string{"/dashboard", "/medications", "/calendar", "/caregivers", "/emergency", "/timeline", "/documents",
		"/family", "/notifications", "/settings", "/care-recipients", "/onboarding"} {
		req, _ := http.NewRequest("GET", s.base+p, nil)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// A user with no family yet is sent from the dashboard to onboarding.
		if res.StatusCode != http.StatusOK && !(p == "/dashboard" && res.Header.Get("Location") == "/onboarding") {
			t.Errorf("GET %s signed in = %d (%s)", p, res.StatusCode, res.Header.Get("Location"))
		}
	}
}
