package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestInvitations(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		ann := newUser(t, s, "ann@example.com")
		bob := newUser(t, s, "bob@example.com")
		f := newFamily(t, s, "Lees", ann)
		msg := "Join us; it's 'fun' -- really"
		invite := func(email string, role care.Role) (*care.Invitation, string, error) {
			tok := auth.NewOpaqueToken()
			inv, err := s.CreateInvitation(ctx, store.NewInvitation{FamilyID: f.ID, Email: email, Role: role,
				InvitedByID: ann.ID, Message: &msg, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL})
			return inv, tok, err
		}

		inv, tok, err := invite(bob.Email, care.RoleCaregiver)
		if err != nil || inv.Status != care.InvitationPending || inv.InvitedByID != ann.ID || *inv.Message != msg ||
			!inv.ExpiresAt.Equal(t0.Add(care.InvitationTTL).Truncate(time.Microsecond)) {
			t.Fatalf("CreateInvitation = %+v, %v", inv, err)
		}
		if _, _, err := invite(bob.Email, care.RoleViewer); !errors.Is(err, store.ErrAlreadyInvited) {
			t.Fatalf("second invitation = %v", err)
		}
		if _, _, err := invite(ann.Email, care.RoleViewer); !errors.Is(err, store.ErrAlreadyMember) {
			t.Fatalf("inviting a member = %v", err)
		}
		pending, err := s.PendingInvitations(ctx, f.ID)
		if err != nil || len(pending) != 1 || pending[0].ID != inv.ID {
			t.Fatalf("PendingInvitations = %+v, %v", pending, err)
		}
		d, err := s.InvitationDetails(ctx, auth.HashToken(tok))
		if err != nil || d.ID != inv.ID || d.FamilyName != "Lees" || d.InviterName != ann.FullName ||
			d.Status != care.InvitationPending || d.Email != bob.Email || d.Role != care.RoleCaregiver {
			t.Fatalf("InvitationDetails = %+v, %v", d, err)
		}
		if _, err := s.InvitationDetails(ctx, auth.HashToken("nope")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token = %v", err)
		}

		if _, err := s.AcceptInvitation(ctx, auth.HashToken(tok), ann.ID, ann.Email); !errors.Is(err, store.ErrInvitationEmail) {
			t.Fatalf("accept with another email = %v", err)
		}
		famID, err := s.AcceptInvitation(ctx, auth.HashToken(tok), bob.ID, bob.Email)
		if err != nil || famID != f.ID {
			t.Fatalf("AcceptInvitation = %q, %v", famID, err)
		}
		if m, err := s.MemberOf(ctx, f.ID, bob.ID); err != nil || m.Role != care.RoleCaregiver {
			t.Fatalf("bob's membership = %+v, %v", m, err)
		}
		if _, err := s.AcceptInvitation(ctx, auth.HashToken(tok), bob.ID, bob.Email); !errors.Is(err, store.ErrInvitationClosed) {
			t.Fatalf("accept twice = %v", err)
		}
		if got, err := s.Invitation(ctx, inv.ID); err != nil || got.Status != care.InvitationAccepted {
			t.Fatalf("accepted invitation = %+v, %v", got, err)
		}

		// Decline, cancel.
		cy, cyTok, err := invite("cy@example.com", care.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeclineInvitation(ctx, auth.HashToken(cyTok)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Invitation(ctx, cy.ID); got.Status != care.InvitationDeclined {
			t.Fatalf("declined status = %s", got.Status)
		}
		if err := s.CancelInvitation(ctx, cy.ID); !errors.Is(err, store.ErrInvitationClosed) {
			t.Fatalf("cancel declined = %v", err)
		}
		dee, deeTok, err := invite("dee@example.com", care.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CancelInvitation(ctx, dee.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, auth.HashToken(deeTok), bob.ID, "dee@example.com"); !errors.Is(err, store.ErrInvitationClosed) {
			t.Fatalf("accept cancelled = %v", err)
		}
		if _, err := s.RenewInvitation(ctx, dee.ID, auth.HashToken(auth.NewOpaqueToken()), care.InvitationTTL); !errors.Is(err, store.ErrInvitationClosed) {
			t.Fatalf("renew cancelled = %v", err)
		}

		// Expiry by the clock, then renewal with a new token.
		eve, eveTok, err := invite("eve@example.com", care.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(care.InvitationTTL)
		if pending, _ := s.PendingInvitations(ctx, f.ID); len(pending) != 0 {
			t.Fatalf("expired invitations still pending: %+v", pending)
		}
		if got, _ := s.Invitation(ctx, eve.ID); got.Status != care.InvitationExpired {
			t.Fatalf("Invitation after expiry reads %s", got.Status)
		}
		if _, err := s.AcceptInvitation(ctx, auth.HashToken(eveTok), bob.ID, "eve@example.com"); !errors.Is(err, store.ErrInvitationExpired) {
			t.Fatalf("accept expired = %v", err)
		}
		if d, err := s.InvitationDetails(ctx, auth.HashToken(eveTok)); err != nil || d.Status != care.InvitationExpired {
			t.Fatalf("expired details = %+v, %v", d, err)
		}
		if _, _, err := invite("eve@example.com", care.RoleViewer); err != nil {
			t.Fatalf("an expired invitation must not block a new one: %v", err)
		}
		newTok := auth.NewOpaqueToken()
		if _, err := s.RenewInvitation(ctx, eve.ID, auth.HashToken(newTok), care.InvitationTTL); !errors.Is(err, store.ErrAlreadyInvited) {
			t.Fatalf("renew beside a newer invitation = %v", err)
		}
		fay, fayTok, err := invite("fay@example.com", care.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		renewed, err := s.RenewInvitation(ctx, fay.ID, auth.HashToken(newTok), care.InvitationTTL)
		if err != nil || renewed.Status != care.InvitationPending || !renewed.ExpiresAt.Equal(clk.Now().Add(care.InvitationTTL).Truncate(time.Microsecond)) {
			t.Fatalf("RenewInvitation = %+v, %v", renewed, err)
		}
		if _, err := s.InvitationDetails(ctx, auth.HashToken(fayTok)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old token after renewal = %v", err)
		}
		if d, err := s.InvitationDetails(ctx, auth.HashToken(newTok)); err != nil || d.ID != fay.ID {
			t.Fatalf("new token = %+v, %v", d, err)
		}
	})
}
