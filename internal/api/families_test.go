package api

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/store"
)

// sqlText is a value full of SQL metacharacters; it must round-trip unchanged.
const sqlText = `Robert'); DROP TABLE families; -- "quoted" \ backslash % _ $1 ?`

var inviteLinkRE = regexp.MustCompile(`/accept-invite/([A-Za-z0-9_-]+)`)

// createFamilyAs creates a family owned (as ADMIN) by u and returns its id.
func (h *harness) createFamilyAs(u testUser, name string) string {
	h.t.Helper()
	return h.request("POST", "/families", u.Token, map[string]any{"name": name}).expect(201).Map()["id"].(string)
}

// inviteToken invites email to the family and returns the token from the
// link in the invitation mail.
func (h *harness) inviteToken(admin testUser, familyID, email, role string) string {
	h.t.Helper()
	h.request("POST", "/families/"+familyID+"/invite", admin.Token, map[string]any{"email": email, "role": role}).expect(201)
	return h.lastInviteToken(email)
}

// lastInviteToken reads the token from the newest invitation mail to email.
func (h *harness) lastInviteToken(email string) string {
	h.t.Helper()
	m := inviteLinkRE.FindStringSubmatch(h.mail.last(h.t, email).Text)
	if m == nil {
		h.t.Fatalf("no accept-invite link in the mail to %s", email)
	}
	return m[1]
}

// joinFamily brings u into the family with role through an invitation and
// returns u's membership id.
func (h *harness) joinFamily(admin testUser, familyID string, u testUser, role string) string {
	h.t.Helper()
	tok := h.inviteToken(admin, familyID, u.Email, role)
	fam := h.request("POST", "/families/invitations/"+tok+"/accept", u.Token, nil).expect(200).Map()
	for _, m := range fam["members"].([]any) {
		if m := m.(map[string]any); m["userId"] == u.ID {
			return m["id"].(string)
		}
	}
	h.t.Fatalf("%s is not among the members after accepting: %v", u.Email, fam)
	return ""
}

// signInAgain gives u a new session and access token, for use after the
// clock has moved past the old token's lifetime.
func (h *harness) signInAgain(u testUser) testUser {
	h.t.Helper()
	sess, err := h.store.CreateSession(context.Background(), store.NewSession{UserID: u.ID, TTL: 7 * 24 * time.Hour,
		RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	if err != nil {
		h.t.Fatal(err)
	}
	tok, err := h.api.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return testUser{User: u.User, Token: tok}
}

// fieldErrors returns the per-field reasons of a validation error.
func fieldErrors(m map[string]any) map[string]any {
	f, _ := m["errors"].(map[string]any)
	return f
}

const noSuchID = "00000000-0000-4000-8000-000000000000"

func TestFamilyLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bob := h.newUser("bob@example.com")
		eve := h.newUser("eve@example.com")

		fam := h.request("POST", "/families", ann.Token, map[string]any{"name": "  The Lees ", "nickname": "Mum"}).expect(201).Map()
		id := fam["id"].(string)
		members := fam["members"].([]any)
		m0 := members[0].(map[string]any)
		user := m0["user"].(map[string]any)
		if fam["name"] != "The Lees" || len(members) != 1 || m0["role"] != "ADMIN" || m0["nickname"] != "Mum" ||
			user["email"] != "ann@example.com" || user["fullName"] != "User ann" || user["id"] != ann.ID {
			t.Fatalf("created family = %v", fam)
		}
		if crs, invs := fam["careRecipients"].([]any), fam["invitations"].([]any); len(crs) != 0 || len(invs) != 0 {
			t.Fatalf("new family lists = %v, %v", crs, invs)
		}

		list := h.request("GET", "/families", ann.Token, nil).expect(200).List()
		if len(list) != 1 || list[0]["id"] != id || list[0]["role"] != "ADMIN" || list[0]["memberCount"] != 1.0 {
			t.Fatalf("GET /families = %v", list)
		}
		if l := h.request("GET", "/families", eve.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("eve's families = %v", l)
		}

		h.joinFamily(ann, id, bob, "CAREGIVER")
		got := h.request("GET", "/families/"+id, bob.Token, nil).expect(200).Map()
		if len(got["members"].([]any)) != 2 {
			t.Fatalf("family after bob joined = %v", got)
		}
		if ms := h.request("GET", "/families/"+id+"/members", bob.Token, nil).expect(200).List(); len(ms) != 2 || ms[1]["role"] != "CAREGIVER" {
			t.Fatalf("members = %v", ms)
		}
		if l := h.request("GET", "/families", bob.Token, nil).expect(200).List(); len(l) != 1 || l[0]["role"] != "CAREGIVER" || l[0]["memberCount"] != 2.0 {
			t.Fatalf("bob's families = %v", l)
		}

		// Not a member, no such family, not an id.
		h.request("GET", "/families/"+id, eve.Token, nil).errorEnvelope(403)
		h.request("GET", "/families/"+id+"/members", eve.Token, nil).errorEnvelope(403)
		h.request("GET", "/families/"+noSuchID, ann.Token, nil).errorEnvelope(404)
		h.request("GET", "/families/not-a-uuid", ann.Token, nil).errorEnvelope(400)
		h.request("GET", "/families", "", nil).errorEnvelope(401)

		// Rename: ADMIN only, validated, null refused.
		h.request("PATCH", "/families/"+id, bob.Token, map[string]any{"name": "Bob's"}).errorEnvelope(403)
		m := h.request("PATCH", "/families/"+id, ann.Token, map[string]any{"name": nil}).errorEnvelope(400)
		if fieldErrors(m)["name"] == nil {
			t.Fatalf("null name = %v", m)
		}
		h.request("PATCH", "/families/"+id, ann.Token, map[string]any{"name": strings.Repeat("x", 101)}).errorEnvelope(400)
		h.request("PATCH", "/families/"+id, ann.Token, map[string]any{"name": "A\nB"}).errorEnvelope(400)
		h.request("PATCH", "/families/"+id, ann.Token, map[string]any{"title": "x"}).errorEnvelope(400)
		if r := h.request("PATCH", "/families/"+id, ann.Token, map[string]any{"name": "Lee family"}).expect(200).Map(); r["name"] != "Lee family" {
			t.Fatalf("renamed = %v", r)
		}
		if r := h.request("PATCH", "/families/"+id, ann.Token, map[string]any{}).expect(200).Map(); r["name"] != "Lee family" {
			t.Fatalf("empty patch = %v", r)
		}

		// Delete: ADMIN only.
		h.request("DELETE", "/families/"+id, bob.Token, nil).errorEnvelope(403)
		if r := h.request("DELETE", "/families/"+id, ann.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("delete = %v", r)
		}
		h.request("GET", "/families/"+id, ann.Token, nil).errorEnvelope(404)
		if l := h.request("GET", "/families", bob.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("bob's families after delete = %v", l)
		}
	})
}

func TestCreateFamilyValidation(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	ann := h.newUser("ann@example.com")
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"missing name", map[string]any{}, "name"},
		{"blank name", map[string]any{"name": "   "}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("n", 101)}, "name"},
		{"name not a string", map[string]any{"name": 7}, "name"},
		{"long nickname", map[string]any{"name": "x", "nickname": strings.Repeat("n", 51)}, "nickname"},
		{"unknown field", map[string]any{"name": "x", "owner": "me"}, "owner"},
	} {
		m := h.request("POST", "/families", ann.Token, tc.body).errorEnvelope(400)
		if fieldErrors(m)[tc.field] == nil {
			t.Errorf("%s: errors = %v, want one for %s", tc.name, m["errors"], tc.field)
		}
	}
	if l := h.request("GET", "/families", ann.Token, nil).expect(200).List(); len(l) != 0 {
		t.Fatalf("refused requests created families: %v", l)
	}
	// A name of 100 characters is fine.
	h.request("POST", "/families", ann.Token, map[string]any{"name": strings.Repeat("é", 100)}).expect(201)
}

func TestLastAdminCannotBeDemotedOrRemoved(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bob := h.newUser("bob@example.com")
		id := h.createFamilyAs(ann, "Lees")
		annMember := h.request("GET", "/families/"+id+"/members", ann.Token, nil).expect(200).List()[0]["id"].(string)
		bobMember := h.joinFamily(ann, id, bob, "CAREGIVER")
		role := func(u testUser, member, role string) *response {
			return h.request("PATCH", "/families/"+id+"/members/"+member+"/role", u.Token, map[string]any{"role": role})
		}

		m := role(ann, annMember, "CAREGIVER").errorEnvelope(409)
		if !strings.Contains(m["message"].(string), "at least one admin") {
			t.Fatalf("demote last admin: %v", m)
		}
		h.request("DELETE", "/families/"+id+"/members/"+annMember, ann.Token, nil).errorEnvelope(409)

		// Only an ADMIN manages members; the body is validated.
		role(bob, bobMember, "ADMIN").errorEnvelope(403)
		h.request("DELETE", "/families/"+id+"/members/"+annMember, bob.Token, nil).errorEnvelope(403)
		if m := role(ann, bobMember, "OWNER").errorEnvelope(400); fieldErrors(m)["role"] == nil {
			t.Fatalf("bad role = %v", m)
		}
		role(ann, noSuchID, "ADMIN").errorEnvelope(404)
		role(ann, "nope", "ADMIN").errorEnvelope(400)

		if r := role(ann, bobMember, "ADMIN").expect(200).Map(); r["role"] != "ADMIN" || r["user"].(map[string]any)["email"] != "bob@example.com" {
			t.Fatalf("promote bob = %v", r)
		}
		role(ann, annMember, "VIEWER").expect(200)
		// Ann is a VIEWER now; Bob is the last admin.
		role(bob, bobMember, "CAREGIVER").errorEnvelope(409)
		h.request("DELETE", "/families/"+id+"/members/"+bobMember, bob.Token, nil).errorEnvelope(409)
		if r := h.request("DELETE", "/families/"+id+"/members/"+annMember, bob.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("remove ann = %v", r)
		}
		h.request("GET", "/families/"+id, ann.Token, nil).errorEnvelope(403)
		h.request("DELETE", "/families/"+id+"/members/"+annMember, bob.Token, nil).errorEnvelope(404)
		if ms := h.request("GET", "/families/"+id+"/members", bob.Token, nil).expect(200).List(); len(ms) != 1 || ms[0]["role"] != "ADMIN" {
			t.Fatalf("members left = %v", ms)
		}

		// Invited again, Ann comes back with the new role.
		again := h.joinFamily(bob, id, ann, "CAREGIVER")
		if again != annMember {
			t.Fatalf("rejoined as member %s, was %s", again, annMember)
		}
		if l := h.request("GET", "/families", ann.Token, nil).expect(200).List(); len(l) != 1 || l[0]["role"] != "CAREGIVER" {
			t.Fatalf("ann's families = %v", l)
		}
	})
}

func TestFamilyNamesRoundTripSQLMetacharacters(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		id := h.request("POST", "/families", ann.Token, map[string]any{"name": sqlText, "nickname": sqlText[:40]}).expect(201).Map()["id"].(string)
		got := h.request("GET", "/families/"+id, ann.Token, nil).expect(200).Map()
		if got["name"] != sqlText || got["members"].([]any)[0].(map[string]any)["nickname"] != sqlText[:40] {
			t.Fatalf("family = %v", got)
		}
		if l := h.request("GET", "/families", ann.Token, nil).expect(200).List(); len(l) != 1 || l[0]["name"] != sqlText {
			t.Fatalf("families = %v", l)
		}
	})
}
