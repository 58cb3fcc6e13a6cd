package api

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

func TestInvitationAcceptFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		cy := h.newUser("cy@example.com")
		id := h.createFamilyAs(ann, "The Lees")

		r := h.request("POST", "/families/"+id+"/invite", ann.Token,
			map[string]any{"email": " Bo@Example.com ", "role": "CAREGIVER", "message": "Come help <b>us</b>"}).expect(201).Map()
		if r["email"] != "bo@example.com" || r["role"] != "CAREGIVER" || r["id"] == nil ||
			r["expiresAt"] != testStart.Add(care.InvitationTTL).Format(time.RFC3339) {
			t.Fatalf("invite = %v", r)
		}
		msg := h.mail.last(t, "bo@example.com")
		if !strings.Contains(msg.Subject, "The Lees") || !strings.Contains(msg.Text, "http://carecircle.test/accept-invite/") ||
			!strings.Contains(msg.Text, "Come help <b>us</b>") || !strings.Contains(msg.HTML, "Come help &lt;b&gt;us&lt;/b&gt;") {
			t.Fatalf("invitation mail = %+v", msg)
		}
		tok := h.lastInviteToken("bo@example.com")

		d := h.request("GET", "/families/invitations/"+tok+"/details", "", nil).expect(200).Map()
		if d["id"] != r["id"] || d["familyName"] != "The Lees" || d["inviterName"] != "User ann" ||
			d["role"] != "CAREGIVER" || d["email"] != "bo@example.com" || d["expiresAt"] != r["expiresAt"] {
			t.Fatalf("details = %v", d)
		}
		h.request("GET", "/families/invitations/not-a-real-token/details", "", nil).errorEnvelope(404)
		if invs := h.request("GET", "/families/"+id+"/invitations", ann.Token, nil).expect(200).List(); len(invs) != 1 || invs[0]["status"] != "PENDING" {
			t.Fatalf("pending invitations = %v", invs)
		}
		if fam := h.request("GET", "/families/"+id, ann.Token, nil).expect(200).Map(); len(fam["invitations"].([]any)) != 1 {
			t.Fatalf("family without its pending invitation: %v", fam)
		}

		// Already invited, already a member, not an admin: 403, and no mail.
		sent := h.mail.count("bo@example.com")
		h.request("POST", "/families/"+id+"/invite", ann.Token, map[string]any{"email": "bo@example.com", "role": "VIEWER"}).errorEnvelope(403)
		h.request("POST", "/families/"+id+"/invite", ann.Token, map[string]any{"email": "ann@example.com", "role": "VIEWER"}).errorEnvelope(403)
		h.request("POST", "/families/"+id+"/invite", cy.Token, map[string]any{"email": "dee@example.com", "role": "VIEWER"}).errorEnvelope(403)
		if h.mail.count("bo@example.com") != sent || h.mail.count("dee@example.com") != 0 {
			t.Fatal("a refused invitation sent mail")
		}
		m := h.request("POST", "/families/"+id+"/invite", ann.Token, map[string]any{"email": "nope", "role": "BOSS"}).errorEnvelope(400)
		if fe := fieldErrors(m); fe["email"] == nil || fe["role"] == nil {
			t.Fatalf("invalid invite = %v", m)
		}

		// Only the invited address may accept, and only when signed in.
		h.request("POST", "/families/invitations/"+tok+"/accept", "", nil).errorEnvelope(401)
		h.request("POST", "/families/invitations/"+tok+"/accept", cy.Token, nil).errorEnvelope(403)
		h.request("GET", "/families/"+id, cy.Token, nil).errorEnvelope(403)

		fam := h.request("POST", "/families/invitations/"+tok+"/accept", bo.Token, nil).expect(200).Map()
		if fam["id"] != id || len(fam["members"].([]any)) != 2 || len(fam["invitations"].([]any)) != 0 {
			t.Fatalf("accept = %v", fam)
		}
		if l := h.request("GET", "/families", bo.Token, nil).expect(200).List(); len(l) != 1 || l[0]["role"] != "CAREGIVER" {
			t.Fatalf("bo's families = %v", l)
		}
		// A used link is refused.
		h.request("POST", "/families/invitations/"+tok+"/accept", bo.Token, nil).errorEnvelope(400)
		h.request("GET", "/families/invitations/"+tok+"/details", "", nil).errorEnvelope(400)
		h.request("POST", "/families/invitations/"+tok+"/decline", "", nil).errorEnvelope(400)
	})
}

func TestInvitationDeclineCancelResend(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		cy := h.newUser("cy@example.com")
		id := h.createFamilyAs(ann, "Lees")
		h.joinFamily(ann, id, bo, "CAREGIVER")

		// Decline needs no account.
		tok := h.inviteToken(ann, id, "cy@example.com", "VIEWER")
		if r := h.request("POST", "/families/invitations/"+tok+"/decline", "", nil).expect(200).Map(); r["message"] == nil {
			t.Fatalf("decline = %v", r)
		}
		h.request("GET", "/families/invitations/"+tok+"/details", "", nil).errorEnvelope(400)
		h.request("POST", "/families/invitations/"+tok+"/accept", cy.Token, nil).errorEnvelope(400)

		// Cancel: ADMIN of the invitation's family only.
		h.inviteToken(ann, id, "dee@example.com", "VIEWER")
		invs := h.request("GET", "/families/"+id+"/invitations", bo.Token, nil).expect(200).List()
		if len(invs) != 1 || invs[0]["email"] != "dee@example.com" {
			t.Fatalf("invitations = %v", invs)
		}
		dee := invs[0]["id"].(string)
		deeTok := h.lastInviteToken("dee@example.com")
		h.request("DELETE", "/families/invitations/"+dee, bo.Token, nil).errorEnvelope(403)
		h.request("DELETE", "/families/invitations/"+dee, cy.Token, nil).errorEnvelope(403)
		h.request("DELETE", "/families/invitations/"+noSuchID, ann.Token, nil).errorEnvelope(404)
		h.request("DELETE", "/families/invitations/nope", ann.Token, nil).errorEnvelope(400)
		if r := h.request("DELETE", "/families/invitations/"+dee, ann.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("cancel = %v", r)
		}
		h.request("GET", "/families/invitations/"+deeTok+"/details", "", nil).errorEnvelope(400)
		h.request("DELETE", "/families/invitations/"+dee, ann.Token, nil).errorEnvelope(400)
		h.request("POST", "/families/invitations/"+dee+"/resend", ann.Token, nil).errorEnvelope(400)
		if l := h.request("GET", "/families/"+id+"/invitations", ann.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("invitations after cancel = %v", l)
		}

		// Resend: a new link and expiry; the old link stops working.
		oldTok := h.inviteToken(ann, id, "eve@example.com", "VIEWER")
		eve := h.request("GET", "/families/invitations/"+oldTok+"/details", "", nil).expect(200).Map()["id"].(string)
		h.request("POST", "/families/invitations/"+eve+"/resend", bo.Token, nil).errorEnvelope(403)
		h.clock.Advance(time.Hour)
		ann = h.signInAgain(ann)
		r := h.request("POST", "/families/invitations/"+eve+"/resend", ann.Token, nil).expect(200).Map()
		// {success, message, expiresAt}, as existing clients read it.
		if r["success"] != true || r["message"] == nil || r["expiresAt"] != h.clock.Now().Add(care.InvitationTTL).Format(time.RFC3339) {
			t.Fatalf("resend = %v", r)
		}
		if n := h.mail.count("eve@example.com"); n != 2 {
			t.Fatalf("%d mails to eve, want 2", n)
		}
		newTok := h.lastInviteToken("eve@example.com")
		if newTok == oldTok {
			t.Fatal("resend reused the token")
		}
		h.request("GET", "/families/invitations/"+oldTok+"/details", "", nil).errorEnvelope(404)
		h.request("GET", "/families/invitations/"+newTok+"/details", "", nil).expect(200)
	})
}

func TestInvitationExpiresAfterSevenDays(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		id := h.createFamilyAs(ann, "Lees")
		tok := h.inviteToken(ann, id, "bo@example.com", "VIEWER")
		inv := h.request("GET", "/families/invitations/"+tok+"/details", "", nil).expect(200).Map()["id"].(string)

		h.clock.Advance(care.InvitationTTL - time.Second)
		h.request("GET", "/families/invitations/"+tok+"/details", "", nil).expect(200)
		h.clock.Advance(time.Second)
		ann, bo = h.signInAgain(ann), h.signInAgain(bo)
		m := h.request("GET", "/families/invitations/"+tok+"/details", "", nil).errorEnvelope(410)
		if !strings.Contains(m["message"].(string), "expired") {
			t.Fatalf("expired details = %v", m)
		}
		h.request("POST", "/families/invitations/"+tok+"/accept", bo.Token, nil).errorEnvelope(410)
		h.request("POST", "/families/invitations/"+tok+"/decline", "", nil).errorEnvelope(410)
		h.request("GET", "/families/"+id, bo.Token, nil).errorEnvelope(403)
		if l := h.request("GET", "/families/"+id+"/invitations", ann.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("expired invitation still pending: %v", l)
		}

		// Resending revives it with a fresh week.
		h.request("POST", "/families/invitations/"+inv+"/resend", ann.Token, nil).expect(200)
		fresh := h.lastInviteToken("bo@example.com")
		h.clock.Advance(6 * 24 * time.Hour)
		bo = h.signInAgain(bo)
		h.request("POST", "/families/invitations/"+fresh+"/accept", bo.Token, nil).expect(200)
		h.request("GET", "/families/"+id, bo.Token, nil).expect(200)
	})
}
