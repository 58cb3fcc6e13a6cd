package webtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCrossOriginClient: a client served from another origin listed in
// ALLOWED_ORIGINS (as the original web client is) signs in, reads with its
// cookie, refreshes by cookie and signs out with credentialed fetch; a page
// from an origin not listed cannot read the API's answers.
func TestCrossOriginClient(t *testing.T) {
	t.Parallel()
	page := func() *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>client</title><p>client</p>`)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	client, stranger := page(), page()
	s := startServerWithEnv(t, map[string]string{"ALLOWED_ORIGINS": client.URL}, nil)
	s.signUp("Ann Lee", "ann@example.com")
	api := s.base + "/api/v1"

	tb := newTab(t, "client")
	tb.do(chromedp.Navigate(client.URL))
	call := func(method, path, body string) string {
		t.Helper()
		js := fmt.Sprintf(`fetch(%q, {method: %q, credentials: 'include', headers: {'Content-Type': 'application/json'}%s})
			.then(r => r.text().then(b => r.status + ' ' + b), e => 'failed ' + e)`,
			api+path, method, map[bool]string{true: ", body: " + fmt.Sprintf("%q", body), false: ""}[body != ""])
		return eval[string](tb, js)
	}
	expect := func(got, prefix string) {
		t.Helper()
		if len(got) < len(prefix) || got[:len(prefix)] != prefix {
			t.Fatalf("got %q, want %s…", got, prefix)
		}
	}
	expect(call("POST", "/auth/login", `{"email":"ann@example.com","password":"`+password+`"}`), "200 ")
	expect(call("GET", "/auth/me", ""), `200 {"id"`)
	expect(call("PATCH", "/auth/me", `{"fullName":"Ann from the client"}`), "200 ")
	expect(call("POST", "/auth/refresh", ""), "200 ")
	expect(call("GET", "/auth/me", ""), "200 ")
	expect(call("POST", "/auth/logout", ""), "200 ")
	expect(call("GET", "/auth/me", ""), "401 ")
	if me := s.call("POST", "/auth/login", "", map[string]any{"email": "ann@example.com", "password": password}, 200); me["user"].(map[string]any)["fullName"] != "Ann from the client" {
		t.Fatalf("the cross-origin write did not land: %v", me["user"])
	}

	other := newTab(t, "stranger")
	other.do(chromedp.Navigate(stranger.URL))
	got := eval[string](other, fmt.Sprintf(`fetch(%q, {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},
		body: %q}).then(r => 'read ' + r.status, e => 'blocked')`, api+"/auth/login", `{"email":"ann@example.com","password":"`+password+`"}`))
	if got != "blocked" {
		t.Fatalf("a page from another origin read the answer: %s", got)
	}
}
