package api

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
)

// meName is the fullName GET /auth/me answers for token.
func (h *harness) meName(token string) string {
	h.t.Helper()
	return h.request("GET", "/auth/me", token, nil).expect(200).Map()["fullName"].(string)
}

// renameBehindTheCache changes the account's name in the database without
// the store telling anyone, as SQL by hand would.
func (h *harness) renameBehindTheCache(userID, name string) {
	h.t.Helper()
	if _, err := h.store.DB().Exec(`UPDATE users SET full_name = $2 WHERE id = $1`, userID, name); err != nil {
		h.t.Fatal(err)
	}
}

// Signed-in requests check their session from the node's memory, and
// every way a session or its account ends or changes through the API is
// seen by the very next request: the session is refused, or the account
// shows as it now is.
func TestSessionsFromMemoryEndOnTheNextRequest(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")

		// The session check is answered from memory: a change the store
		// did not tell of shows only once the entry's TTL has ended.
		if got := h.meName(ann.Token); got != "User ann" {
			t.Fatalf("/auth/me name %q", got)
		}
		h.renameBehindTheCache(ann.ID, "Ann behind the cache")
		if got := h.meName(ann.Token); got != "User ann" {
			t.Fatalf("the second request read %q: the session was not checked from memory", got)
		}
		h.clock.Advance(auth.SessionCacheTTL)
		if got := h.meName(ann.Token); got != "Ann behind the cache" {
			t.Fatalf("after the TTL /auth/me read %q", got)
		}

		// A profile change shows on the next request.
		h.request("PATCH", "/auth/me", ann.Token, map[string]any{"fullName": "Ann Lee"}).expect(200)
		if got := h.meName(ann.Token); got != "Ann Lee" {
			t.Fatalf("after PATCH /auth/me the name is %q", got)
		}

		// Each ending, with the session checked (and kept) just before.
		signedIn := func(u testUser) string {
			tok := h.signIn(u.User)
			h.request("GET", "/auth/me", tok, nil).expect(200)
			return tok
		}
		refused := func(what, tok string) {
			t.Helper()
			m := h.request("GET", "/auth/me", tok, nil).errorEnvelope(401)
			if !strings.Contains(m["message"].(string), "Session has ended") {
				t.Fatalf("after %s: %v", what, m)
			}
		}

		tok := signedIn(ann)
		h.request("POST", "/auth/logout", tok, nil).expect(200)
		refused("sign-out", tok)

		tok, other := signedIn(ann), signedIn(ann)
		h.request("POST", "/auth/logout-all", tok, nil).expect(200)
		refused("sign-out everywhere", tok)
		refused("sign-out everywhere (another session)", other)

		tok, other = signedIn(ann), signedIn(ann)
		h.request("POST", "/auth/change-password", tok, map[string]any{"currentPassword": "Password1234", "newPassword": strongPassword}).expect(200)
		refused("a password change on another session", other)
		h.request("GET", "/auth/me", tok, nil).expect(200)

		bo := h.newUser("bo@example.com")
		ann.Token = tok // the session the password change kept
		fam := h.createFamilyAs(ann, "Lees")
		h.joinFamily(ann, fam, bo, "CAREGIVER")
		boTok := signedIn(bo)
		h.request("POST", "/families/"+fam+"/members/"+bo.ID+"/reset-password", tok, nil).expect(200)
		refused("a password reset by the family's admin", boTok)

		cy := h.newUser("cy@example.com")
		cyTok := signedIn(cy)
		h.request("POST", "/auth/forgot-password", "", map[string]any{"email": cy.Email}).expect(200)
		link := resetRE.FindStringSubmatch(h.mail.last(t, cy.Email).Text)
		h.request("POST", "/auth/reset-password", "", map[string]any{"token": link[1], "newPassword": strongPassword}).expect(200)
		refused("a password reset", cyTok)

		di := h.newUser("di@example.com")
		diTok := signedIn(di)
		h.request("DELETE", "/user/delete-account", diTok, map[string]any{"password": "Password1234"}).expect(200)
		refused("account deletion", diTok)
	})
}

// An operator's suspension is refused on the suspended account's next
// request, and an operator demoted loses the admin routes on theirs.
func TestSessionsFromMemoryEndWhenAnOperatorActs(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
		ann := h.newUser("ann@example.com")
		h.request("GET", "/auth/me", ann.Token, nil).expect(200)
		h.request("POST", "/admin/users/"+ann.ID+"/suspend", root.Token, nil).expect(200)
		h.request("GET", "/auth/me", ann.Token, nil).errorEnvelope(401)

		h.request("GET", "/admin/users", root.Token, nil).expect(200)
		h.setSystemRole(root, care.SystemUser)
		h.request("GET", "/admin/users", root.Token, nil).errorEnvelope(403)
	})
}

// A session is not kept past its own expiry.
func TestSessionsFromMemoryExpire(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	ann := h.newUser("ann@example.com")
	// A fresh session lives 7 days; the access token 15 minutes, so the
	// token is issued just before the session expires.
	sid := sessionOf(t, h, ann.Token)
	h.clock.Advance(7*24*time.Hour - 30*time.Second)
	tok, err := h.api.tokens.Issue(ann.ID, ann.Email, sid)
	if err != nil {
		t.Fatal(err)
	}
	h.request("GET", "/auth/me", tok, nil).expect(200)
	h.clock.Advance(30 * time.Second)
	h.request("GET", "/auth/me", tok, nil).errorEnvelope(401)
}

// sessionOf is the session an access token belongs to.
func sessionOf(t *testing.T, h *harness, token string) string {
	t.Helper()
	c, err := h.api.tokens.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	return c.SessionID
}
