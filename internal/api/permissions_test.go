package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// The permission matrix: every route, called by each kind of caller, must
// answer the expected status. Each call gets a fresh family, so a call that
// succeeds (a delete, say) cannot change what the next caller sees.

// caller is one column of the matrix.
type caller int

const (
	anonymous caller = iota
	outsider         // signed in, not a member of the family
	viewer
	caregiver
	familyAdmin
	callerCount
)

func (c caller) String() string {
	return [...]string{"anonymous", "non-member", "VIEWER", "CAREGIVER", "ADMIN"}[c]
}

// statuses are the expected answers for anonymous, non-member, VIEWER,
// CAREGIVER and ADMIN, in that order.
type statuses [callerCount]int

// matrixUsers are the accounts shared by every fixture of a test.
type matrixUsers struct {
	admin, caregiver, viewer, outsider testUser
}

// fixture is a fresh family with one member of each role and one of each
// thing its routes act on. Request builders add what else they need.
type fixture struct {
	t *testing.T
	h *harness
	matrixUsers
	FamilyID          string
	AdminMemberID     string
	CaregiverMemberID string
	ViewerMemberID    string
	CareRecipientID   string
	DoctorID          string
	ContactID         string
	// A pending invitation, addressed to the outsider's email.
	InvitationID string
	InviteToken  string
}

// matrixCase is one row of the matrix.
type matrixCase struct {
	name   string
	method string
	// request builds the path (under the API prefix) and body on a fresh fixture.
	request func(f *fixture) (path string, body any)
	want    statuses
}

// path is a request builder for a fixed path without a body.
func path(format string, ids ...func(f *fixture) string) func(f *fixture) (string, any) {
	return withBody(nil, format, ids...)
}

// withBody is a request builder for a path and a body.
func withBody(body any, format string, ids ...func(f *fixture) string) func(f *fixture) (string, any) {
	return func(f *fixture) (string, any) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id(f)
		}
		return fmt.Sprintf(format, args...), body
	}
}

// Id selectors for the path builders.
func familyID(f *fixture) string        { return f.FamilyID }
func careRecipientID(f *fixture) string { return f.CareRecipientID }
func doctorID(f *fixture) string        { return f.DoctorID }
func contactID(f *fixture) string       { return f.ContactID }
func invitationID(f *fixture) string    { return f.InvitationID }
func inviteToken(f *fixture) string     { return f.InviteToken }
func viewerMemberID(f *fixture) string  { return f.ViewerMemberID }

// Common rows of expectations.
var (
	// [P] public
	public = func(ok int) statuses { return statuses{ok, ok, ok, ok, ok} }
	// signed in, no family needed
	signedIn = func(ok int) statuses { return statuses{401, ok, ok, ok, ok} }
	// [M] any member
	member = func(ok int) statuses { return statuses{401, 403, ok, ok, ok} }
	// [nV] a member who is not VIEWER
	nonViewer = func(ok int) statuses { return statuses{401, 403, 403, ok, ok} }
	// [A] family ADMIN
	adminOnly = func(ok int) statuses { return statuses{401, 403, 403, 403, ok} }
)

// newMatrixUsers creates the four accounts once per test.
func newMatrixUsers(h *harness) matrixUsers {
	return matrixUsers{
		admin:     h.newUser("admin@example.com"),
		caregiver: h.newUser("carer@example.com"),
		viewer:    h.newUser("viewer@example.com"),
		outsider:  h.newUser("outsider@example.com"),
	}
}

// newFixture builds a fresh family directly in the store.
func newFixture(t *testing.T, h *harness, u matrixUsers) *fixture {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, h: h, matrixUsers: u}
	fam, adm, err := h.store.CreateFamily(ctx, "Matrix family", u.admin.ID, nil)
	must(err)
	f.FamilyID, f.AdminMemberID = fam.ID, adm.ID
	join := func(user testUser, role care.Role) string {
		tok := auth.NewOpaqueToken()
		_, err := h.store.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: user.Email, Role: role,
			InvitedByID: u.admin.ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL})
		must(err)
		_, err = h.store.AcceptInvitation(ctx, auth.HashToken(tok), user.ID, user.Email)
		must(err)
		m, err := h.store.MemberOf(ctx, fam.ID, user.ID)
		must(err)
		return m.ID
	}
	f.CaregiverMemberID = join(u.caregiver, care.RoleCaregiver)
	f.ViewerMemberID = join(u.viewer, care.RoleViewer)
	cr, err := h.store.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Grandma", Timezone: "Asia/Tokyo"})
	must(err)
	f.CareRecipientID = cr.ID
	d, err := h.store.CreateDoctor(ctx, care.Doctor{CareRecipientID: cr.ID, Name: "Dr. Who"})
	must(err)
	f.DoctorID = d.ID
	c, err := h.store.CreateEmergencyContact(ctx, care.EmergencyContact{CareRecipientID: cr.ID, Name: "Sam", Relationship: "son", Phone: "+1 555 0100"})
	must(err)
	f.ContactID = c.ID
	f.InviteToken = auth.NewOpaqueToken()
	inv, err := h.store.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: u.outsider.Email, Role: care.RoleViewer,
		InvitedByID: u.admin.ID, TokenHash: auth.HashToken(f.InviteToken), TTL: care.InvitationTTL})
	must(err)
	f.InvitationID = inv.ID
	return f
}

// token signs the caller in afresh ("" when anonymous), so that a case
// which ends sessions (logout, password change) cannot affect the next.
func (f *fixture) token(c caller) string {
	switch c {
	case outsider:
		return f.h.signIn(f.outsider.User)
	case viewer:
		return f.h.signIn(f.viewer.User)
	case caregiver:
		return f.h.signIn(f.caregiver.User)
	case familyAdmin:
		return f.h.signIn(f.admin.User)
	}
	return ""
}

// runMatrix checks every case for every caller on SQLite.
func runMatrix(t *testing.T, cases []matrixCase) {
	t.Helper()
	runMatrixWith(t, harnessOptions{}, cases)
}

// runMatrixWith is runMatrix on a server built with opts.
func runMatrixWith(t *testing.T, opts harnessOptions, cases []matrixCase) {
	t.Helper()
	h := sqliteHarness(t, opts)
	users := newMatrixUsers(h)
	for _, tc := range cases {
		for c := caller(0); c < callerCount; c++ {
			f := newFixture(t, h, users)
			p, body := tc.request(f)
			res := h.request(tc.method, p, f.token(c), body)
			if res.Status != tc.want[c] {
				t.Errorf("%s %s (%s) as %s: status %d, want %d: %s", tc.method, p, tc.name, c, res.Status, tc.want[c], res.Body)
			}
		}
	}
}

// foundationMatrix covers the account, family and care recipient routes.
func foundationMatrix() []matrixCase {
	crBody := map[string]any{"fullName": "Grandpa", "timezone": "Europe/Berlin"}
	return []matrixCase{
		// auth (signed in, no family)
		{"me", "GET", path("/auth/me"), signedIn(200)},
		{"patch me", "PATCH", withBody(map[string]any{"fullName": "New Name"}, "/auth/me"), signedIn(200)},
		{"sessions", "GET", path("/auth/sessions"), signedIn(200)},
		{"onboarding", "POST", path("/auth/complete-onboarding"), signedIn(200)},
		{"invalidate cache", "POST", path("/auth/invalidate-cache"), signedIn(200)},
		{"logout", "POST", path("/auth/logout"), signedIn(200)},
		{"logout all", "POST", path("/auth/logout-all"), signedIn(200)},
		{"change password", "POST", withBody(map[string]any{"currentPassword": "Password1234", "newPassword": "Another-pass-99"}, "/auth/change-password"), signedIn(200)},
		{"forgot password", "POST", withBody(map[string]any{"email": "someone@example.com"}, "/auth/forgot-password"), public(200)},
		{"reset token check", "GET", path("/auth/verify-reset-token/nope"), public(400)},
		// families
		{"create family", "POST", withBody(map[string]any{"name": "Another"}, "/families"), signedIn(201)},
		{"list families", "GET", path("/families"), signedIn(200)},
		{"get family", "GET", path("/families/%s", familyID), member(200)},
		{"members", "GET", path("/families/%s/members", familyID), member(200)},
		{"invitations", "GET", path("/families/%s/invitations", familyID), member(200)},
		{"rename family", "PATCH", withBody(map[string]any{"name": "Renamed"}, "/families/%s", familyID), adminOnly(200)},
		{"delete family", "DELETE", path("/families/%s", familyID), adminOnly(200)},
		{"invite", "POST", withBody(map[string]any{"email": "new@example.com", "role": "VIEWER"}, "/families/%s/invite", familyID), adminOnly(201)},
		{"change role", "PATCH", withBody(map[string]any{"role": "CAREGIVER"}, "/families/%s/members/%s/role", familyID, viewerMemberID), adminOnly(200)},
		{"remove member", "DELETE", path("/families/%s/members/%s", familyID, viewerMemberID), adminOnly(200)},
		{"cancel invitation", "DELETE", path("/families/invitations/%s", invitationID), adminOnly(200)},
		{"resend invitation", "POST", path("/families/invitations/%s/resend", invitationID), adminOnly(200)},
		{"invitation details", "GET", path("/families/invitations/%s/details", inviteToken), public(200)},
		{"decline invitation", "POST", path("/families/invitations/%s/decline", inviteToken), public(200)},
		// Only the invitee (here: the outsider) may accept.
		{"accept invitation", "POST", path("/families/invitations/%s/accept", inviteToken), statuses{401, 200, 403, 403, 403}},
		// care recipients
		{"create care recipient", "POST", withBody(crBody, "/families/%s/care-recipients", familyID), nonViewer(201)},
		{"list care recipients", "GET", path("/families/%s/care-recipients", familyID), member(200)},
		{"get care recipient", "GET", path("/care-recipients/%s", careRecipientID), member(200)},
		{"patch care recipient", "PATCH", withBody(map[string]any{"notes": "Likes tea"}, "/care-recipients/%s", careRecipientID), nonViewer(200)},
		{"delete care recipient", "DELETE", path("/care-recipients/%s", careRecipientID), adminOnly(200)},
		// doctors
		{"create doctor", "POST", withBody(map[string]any{"name": "Dr. Lin"}, "/care-recipients/%s/doctors", careRecipientID), nonViewer(201)},
		{"list doctors", "GET", path("/care-recipients/%s/doctors", careRecipientID), member(200)},
		{"get doctor", "GET", path("/doctors/%s", doctorID), member(200)},
		{"patch doctor", "PATCH", withBody(map[string]any{"specialty": "GP"}, "/doctors/%s", doctorID), nonViewer(200)},
		{"delete doctor", "DELETE", path("/doctors/%s", doctorID), nonViewer(200)},
		// emergency contacts
		{"create contact", "POST", withBody(map[string]any{"name": "Kim", "relationship": "daughter", "phone": "+1 555 0101"}, "/care-recipients/%s/emergency-contacts", careRecipientID), nonViewer(201)},
		{"list contacts", "GET", path("/care-recipients/%s/emergency-contacts", careRecipientID), member(200)},
		{"patch contact", "PATCH", withBody(map[string]any{"isPrimary": true}, "/emergency-contacts/%s", contactID), nonViewer(200)},
		{"delete contact", "DELETE", path("/emergency-contacts/%s", contactID), nonViewer(200)},
	}
}

func TestPermissionMatrixFoundation(t *testing.T) {
	t.Parallel()
	runMatrix(t, foundationMatrix())
}

// TestMissingResourcesAre404AndMalformedIDs400 checks the other two answers
// every id-taking route gives: a well-formed id of nothing is 404, a
// malformed one 400.
func TestMissingResourcesAre404AndMalformedIDs400(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	const missing = "0190f000-0000-7000-8000-000000000000"
	for _, p := range []string{"/care-recipients/%s", "/doctors/%s", "/care-recipients/%s/doctors", "/care-recipients/%s/emergency-contacts"} {
		h.request("GET", fmt.Sprintf(p, missing), u.Token, nil).errorEnvelope(404)
		h.request("GET", fmt.Sprintf(p, "not-a-uuid"), u.Token, nil).errorEnvelope(400)
	}
	h.request("GET", "/families/"+missing, u.Token, nil).errorEnvelope(404)
	h.request("GET", "/families/1234", u.Token, nil).errorEnvelope(400)
}
