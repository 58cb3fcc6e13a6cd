package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestPublicURLFollowsPort: started on a PORT of its own with no
// PUBLIC_URL, the binary links to http://localhost:PORT in its emails,
// trusts that origin for cookie-authenticated writes, and says so at start.
func TestPublicURLFollowsPort(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"RATE_LIMIT_ENABLED": "false"})
	port := strings.TrimPrefix(a.base, "http://127.0.0.1:")
	public := "http://localhost:" + port
	if public == "http://localhost:4000" {
		t.Fatal("the test's own port is 4000, the old default: nothing would be shown")
	}

	a.signUp("ann@example.com", a.outboxCode)
	if text := a.outboxMail("ann@example.com").Text; !strings.Contains(text, public+"/verify-email") {
		t.Errorf("verification mail does not link to %s:\n%s", public, text)
	}
	if log := a.logText(); !strings.Contains(log, "config.publicURL="+public) {
		t.Errorf("the start-up line does not show publicURL=%s:\n%s", public, log)
	}

	// The browser talks to localhost:PORT; the request below reaches the
	// server as 127.0.0.1:PORT, so only PUBLIC_URL can make that origin trusted.
	code, hdr, b := a.request("POST", a.base+a.prefix+"/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Correct-horse-42"}, nil)
	if code != http.StatusOK {
		t.Fatalf("login = %d: %s", code, b)
	}
	var cookies []string
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	for origin, want := range map[string]int{public: http.StatusCreated, "http://localhost:4000": http.StatusForbidden} {
		code, _, b := a.request("POST", a.base+a.prefix+"/families", "", map[string]any{"name": "The Lees"},
			http.Header{"Origin": {origin}, "Cookie": {strings.Join(cookies, "; ")}})
		if code != want {
			t.Errorf("cookie-authenticated write from Origin %s = %d, want %d: %s", origin, code, want, b)
		}
	}
}
