package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The real server in production, behind a trusted proxy: every answer to a
// request that came over HTTPS (web pages, the API, health probes, the
// realtime endpoint) carries HSTS, none over plain HTTP; API answers are
// not stored; /metrics is closed without METRICS_TOKEN and /health says
// only up or down.
func TestProductionSecurityHeaders(t *testing.T) {
	t.Parallel()
	base, _ := startServer(t, map[string]string{
		"DATA_DIR": t.TempDir(), "APP_ENV": "production", "TRUST_PROXY": "true",
		"JWT_SECRET": "production-test-secret-production-test",
	})
	get := func(path, proto string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, p := range []string{"/login", "/dashboard", "/static/app.css", "/api/v1/auth/me", "/api/v1/nope", "/health", "/health/live", "/metrics", "/connection/websocket"} {
		res, _ := get(p, "https")
		hsts := res.Header.Get("Strict-Transport-Security")
		if !strings.HasPrefix(hsts, "max-age=") || !strings.Contains(hsts, "includeSubDomains") {
			t.Errorf("%s over HTTPS (%d): Strict-Transport-Security %q", p, res.StatusCode, hsts)
		}
		if res, _ := get(p, "http"); res.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s over HTTP: Strict-Transport-Security %q", p, res.Header.Get("Strict-Transport-Security"))
		}
	}
	if res, _ := get("/api/v1/auth/me", "https"); res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("API answer Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if res, body := get("/metrics", "https"); res.StatusCode != http.StatusNotFound || strings.Contains(body, "carecircle_http") {
		t.Errorf("/metrics without METRICS_TOKEN in production = %d %s", res.StatusCode, body)
	}
	if res, body := get("/health", "https"); res.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"status":"up"}` {
		t.Errorf("public /health in production = %d %s", res.StatusCode, body)
	}
}
