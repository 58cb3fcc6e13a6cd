package api

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// disconnects records what the API asked the realtime layer to close.
type disconnects struct {
	mu    sync.Mutex
	calls []string
}

func (d *disconnects) DisconnectSession(userID, sessionID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, "session "+userID+" "+sessionID)
	return nil
}

func (d *disconnects) DisconnectUser(userID, keepSessionID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, "user "+userID+" keep="+keepSessionID)
	return nil
}

// take returns the calls since the last take.
func (d *disconnects) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.calls
	d.calls = nil
	return out
}

// sessionOf is the session an access token belongs to.
func (h *harness) sessionOf(token string) string {
	h.t.Helper()
	c, err := h.api.tokens.Parse(token)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.SessionID
}

// Every way a session ends tells the realtime layer to close exactly that
// session's connections, or the user's (all, or all but the caller's).
func TestEndedSessionsCloseTheirRealtimeConnections(t *testing.T) {
	t.Parallel()
	rt := &disconnects{}
	h := sqliteHarness(t, harnessOptions{realtime: rt})
	expect := func(what string, want ...string) {
		t.Helper()
		if got := rt.take(); !slices.Equal(got, want) {
			t.Fatalf("%s closed %q, want %q", what, got, want)
		}
	}
	u := h.newUser("ann@example.com")
	a, _ := signIn(h.login(u.Email, "Password1234"))
	b, _ := signIn(h.login(u.Email, "Password1234"))
	c, cRefresh := signIn(h.login(u.Email, "Password1234"))

	h.request("POST", "/auth/logout", a, nil).expect(200)
	expect("logout", "session "+u.ID+" "+h.sessionOf(a))
	h.request("POST", "/auth/logout", b, map[string]any{"refreshToken": cRefresh}).expect(200)
	expect("logout with another session's token", "session "+u.ID+" "+h.sessionOf(c), "session "+u.ID+" "+h.sessionOf(b))

	d, _ := signIn(h.login(u.Email, "Password1234"))
	h.request("POST", "/auth/change-password", d, map[string]any{"currentPassword": "Password1234", "newPassword": strongPassword}).expect(200)
	expect("change password", "user "+u.ID+" keep="+h.sessionOf(d))
	// A refused change ends nothing.
	h.request("POST", "/auth/change-password", d, map[string]any{"currentPassword": "wrong", "newPassword": "Another-pass-77"}).errorEnvelope(400)
	expect("refused change password")

	h.request("POST", "/auth/logout-all", d, nil).expect(200)
	expect("logout all", "user "+u.ID+" keep=")

	h.request("POST", "/auth/forgot-password", "", map[string]any{"email": u.Email}).expect(200)
	token := resetRE.FindStringSubmatch(h.mail.last(t, u.Email).Text)[1]
	h.request("POST", "/auth/reset-password", "", map[string]any{"token": token, "newPassword": "Another-pass-77"}).expect(200)
	expect("reset password", "user "+u.ID+" keep=")

	admin := h.newUser("bo@example.com")
	member := h.newUser("cy@example.com")
	fam := h.createFamilyAs(admin, "The Lees")
	h.joinFamily(admin, fam, member, "CAREGIVER")
	rt.take()
	h.request("POST", fmt.Sprintf("/families/%s/members/%s/reset-password", fam, member.ID), admin.Token, nil).expect(200)
	expect("a family admin's reset", "user "+member.ID+" keep=")

	h.request("DELETE", "/user/delete-account", u.Token, nil).errorEnvelope(401) // signed out by the reset
	ann := h.signInAgain(testUser{User: u.User})
	h.request("DELETE", "/user/delete-account", ann.Token, nil).expect(200)
	expect("account deletion", "user "+u.ID+" keep=")
}

// A family admin's reset of a member mails the member a link (never a
// password), voids the member's earlier links and signs them out; only
// admins may, only for another active member.
func TestFamilyAdminResetsAMembersPassword(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		admin, caregiver, viewer, outsider := h.newUser("admin@example.com"), h.newUser("care@example.com"),
			h.newUser("view@example.com"), h.newUser("out@example.com")
		fam := h.createFamilyAs(admin, "The Lees")
		h.joinFamily(admin, fam, caregiver, "CAREGIVER")
		h.joinFamily(admin, fam, viewer, "VIEWER")
		reset := func(target string) string { return fmt.Sprintf("/families/%s/members/%s/reset-password", fam, target) }

		h.request("POST", reset(viewer.ID), "", nil).errorEnvelope(401)
		h.request("POST", reset(viewer.ID), outsider.Token, nil).errorEnvelope(403)
		h.request("POST", reset(viewer.ID), caregiver.Token, nil).errorEnvelope(403)
		h.request("POST", reset(caregiver.ID), viewer.Token, nil).errorEnvelope(403)
		h.request("POST", reset(outsider.ID), admin.Token, nil).errorEnvelope(404)
		h.request("POST", reset(admin.ID), admin.Token, nil).errorEnvelope(400)
		h.request("POST", reset("not-an-id"), admin.Token, nil).errorEnvelope(400)
		h.request("POST", reset(viewer.ID), admin.Token, map[string]any{"password": "x"}).errorEnvelope(400)
		if n := h.mail.count(viewer.Email); n != 1 { // the invitation only
			t.Fatalf("refused resets sent %d mails", n-1)
		}
		h.request("GET", "/auth/me", viewer.Token, nil).expect(200)

		h.request("POST", "/auth/forgot-password", "", map[string]any{"email": viewer.Email}).expect(200)
		own := resetRE.FindStringSubmatch(h.mail.last(t, viewer.Email).Text)[1]
		h.request("POST", reset(viewer.ID), admin.Token, nil).expect(200)
		h.request("GET", "/auth/me", viewer.Token, nil).errorEnvelope(401)
		h.request("GET", "/auth/me", admin.Token, nil).expect(200)
		msg := h.mail.last(t, viewer.Email).Text
		link := resetRE.FindStringSubmatch(msg)
		if link == nil || link[1] == own {
			t.Fatalf("no new reset link in %q", msg)
		}
		h.request("GET", "/auth/verify-reset-token/"+own, "", nil).errorEnvelope(400)
		h.request("POST", "/auth/reset-password", "", map[string]any{"token": link[1], "newPassword": strongPassword}).expect(200)
		signIn(h.login(viewer.Email, strongPassword))
	})
}

// Requesting a new reset link voids the ones mailed before; a reset voids
// them all.
func TestNewResetLinkVoidsOlderOnes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		var links []string
		for range 3 {
			h.request("POST", "/auth/forgot-password", "", map[string]any{"email": u.Email}).expect(200)
			links = append(links, resetRE.FindStringSubmatch(h.mail.last(t, u.Email).Text)[1])
		}
		for _, old := range links[:2] {
			h.request("GET", "/auth/verify-reset-token/"+old, "", nil).errorEnvelope(400)
			h.request("POST", "/auth/reset-password", "", map[string]any{"token": old, "newPassword": strongPassword}).errorEnvelope(400)
		}
		h.login(u.Email, strongPassword).errorEnvelope(401)
		h.request("GET", "/auth/verify-reset-token/"+links[2], "", nil).expect(200)
		h.request("POST", "/auth/reset-password", "", map[string]any{"token": links[2], "newPassword": strongPassword}).expect(200)
		for _, l := range links {
			h.request("POST", "/auth/reset-password", "", map[string]any{"token": l, "newPassword": "Another-pass-77"}).errorEnvelope(400)
		}
		signIn(h.login(u.Email, strongPassword))
	})
}

// The lockout treats an address with no account exactly as one with an
// account: the same answers after as many wrong passwords, and every
// attempt, locked or not, costs one password check.
func TestLockoutDoesNotTellWhoHasAnAccount(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		const nobody = "nobody@example.com"
		type answer struct {
			status  int
			message string
		}
		// Every password check the server runs is counted.
		var checks atomic.Int64
		check := h.api.checkPassword
		h.api.checkPassword = func(hash, password string) bool {
			checks.Add(1)
			return check(hash, password)
		}
		try := func(email, password string) (answer, int64) {
			before := checks.Load()
			res := h.login(email, password)
			m := res.Map()
			msg, _ := m["message"].(string)
			return answer{res.Status, msg}, checks.Load() - before
		}
		for i := 1; i <= 7; i++ {
			known, kt := try(u.Email, "Wrong-password-1")
			unknown, ut := try(nobody, "Wrong-password-1")
			if known != unknown {
				t.Fatalf("attempt %d: a real account answers %+v, an unknown address %+v", i, known, unknown)
			}
			want := answer{401, "Invalid email or password"}
			if i > 5 {
				want = answer{403, "Account is locked. Try again later."}
			}
			if known != want {
				t.Fatalf("attempt %d: %+v, want %+v", i, known, want)
			}
			// Locked or not, each answer costs exactly one password check.
			if kt != 1 || ut != 1 {
				t.Fatalf("attempt %d ran %d password checks for the account and %d for the unknown address, want 1 each", i, kt, ut)
			}
		}
		// The right password does not get through the lock either.
		if a, _ := try(u.Email, "Password1234"); a.status != 403 {
			t.Fatalf("right password while locked: %+v", a)
		}
		h.clock.Advance(30 * time.Minute)
		signIn(h.login(u.Email, "Password1234"))
		if a, _ := try(nobody, "Password1234"); a != (answer{401, "Invalid email or password"}) {
			t.Fatalf("unknown address after the lock: %+v", a)
		}
	})
}

// API answers are not kept by caches, errors included; the VAPID key, the
// same for everyone, may be.
func TestAPIAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	fam := h.createFamilyAs(u, "The Lees")
	for _, res := range []*response{
		h.request("GET", "/auth/me", u.Token, nil).expect(200),
		h.request("GET", "/families/"+fam, u.Token, nil).expect(200),
		h.request("GET", "/families", u.Token, nil).expect(200),
		h.request("GET", "/auth/sessions", u.Token, nil).expect(200),
		h.login(u.Email, "Password1234").expect(200),
		h.request("GET", "/auth/me", "", nil).expect(401),
		h.request("GET", "/nope", "", nil).expect(404),
	} {
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store: %s", cc, res.Body)
		}
	}
	if cc := h.request("GET", "/notifications/vapid-public-key", u.Token, nil).expect(200).Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("VAPID key Cache-Control %q, want public", cc)
	}
}

// In production: HSTS on every answer that came over HTTPS (here through
// the trusted proxy's X-Forwarded-Proto), never over plain HTTP, and never
// outside production.
func TestStrictTransportSecurity(t *testing.T) {
	t.Parallel()
	prod := sqliteHarness(t, harnessOptions{production: true, metricsToken: "scrape-secret"})
	dev := sqliteHarness(t, harnessOptions{})
	for _, p := range []string{"/health", "/health/live", "/api/v1/auth/me", "/api/v1/nope", "/metrics"} {
		if got := prod.request("GET", p, "", nil, "X-Forwarded-Proto", "https").Header.Get("Strict-Transport-Security"); got != hstsValue {
			t.Errorf("%s over HTTPS in production: HSTS %q", p, got)
		}
		if got := prod.request("GET", p, "", nil, "X-Forwarded-Proto", "https, http").Header.Get("Strict-Transport-Security"); got != hstsValue {
			t.Errorf("%s over HTTPS, then HTTP between proxies: HSTS %q", p, got)
		}
		for _, proto := range []string{"", "http", "http, https"} {
			if got := prod.request("GET", p, "", nil, "X-Forwarded-Proto", proto).Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("%s over %q in production: HSTS %q", p, proto, got)
			}
		}
		if got := dev.request("GET", p, "", nil, "X-Forwarded-Proto", "https").Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s in development: HSTS %q", p, got)
		}
	}
	if !strings.Contains(hstsValue, "includeSubDomains") {
		t.Fatal("HSTS without includeSubDomains")
	}
	var age int
	if _, err := fmt.Sscanf(hstsValue, "max-age=%d;", &age); err != nil || age < 365*24*3600 {
		t.Fatalf("HSTS max-age %d, want at least a year", age)
	}
}

// In production /metrics is closed without METRICS_TOKEN and /health says
// only up or down, unless an operator asks.
func TestProductionHidesMetricsAndHealthDetail(t *testing.T) {
	t.Parallel()
	open := sqliteHarness(t, harnessOptions{production: true})
	open.request("GET", "/metrics", "", nil).errorEnvelope(404)
	open.request("GET", "/metrics", "anything", nil).errorEnvelope(404)
	if b := string(open.request("GET", "/health", "", nil).expect(200).Body); strings.TrimSpace(b) != `{"status":"up"}` {
		t.Fatalf("public /health in production = %s", b)
	}

	h := sqliteHarness(t, harnessOptions{production: true, metricsToken: "scrape-secret"})
	h.request("GET", "/metrics", "", nil).errorEnvelope(401)
	h.request("GET", "/metrics", "wrong", nil).errorEnvelope(401)
	if b := string(h.request("GET", "/metrics", "scrape-secret", nil).expect(200).Body); !strings.Contains(b, "carecircle_http_requests_total") {
		t.Fatalf("/metrics with the token = %s", b)
	}
	user := h.newUser("ann@example.com")
	sysadmin := h.newUser("root@example.com")
	if _, err := h.store.DB().Exec(`UPDATE users SET system_role = 'ADMIN' WHERE id = $1`, sysadmin.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "wrong", user.Token} {
		if b := string(h.request("GET", "/health", tok, nil).expect(200).Body); strings.TrimSpace(b) != `{"status":"up"}` {
			t.Fatalf("/health for %q in production = %s", tok, b)
		}
	}
	for _, tok := range []string{"scrape-secret", sysadmin.Token} {
		m := h.request("GET", "/health", tok, nil).expect(200).Map()
		if m["status"] != "ok" || m["components"].(map[string]any)["database"] == nil {
			t.Fatalf("/health for an operator in production = %v", m)
		}
	}
	// A system admin's cookie counts as well (a GET: no CSRF check).
	if m := h.request("GET", "/health", "", nil, "Cookie", "access_token="+sysadmin.Token).expect(200).Map(); m["components"] == nil {
		t.Fatalf("/health for a system admin's cookie = %v", m)
	}
}
