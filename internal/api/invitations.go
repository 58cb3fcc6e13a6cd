package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// invitationRoutes registers the invitation life cycle: invite, look up by
// link, accept or decline, and cancel or resend.
func (s *Server) invitationRoutes() {
	s.authed("POST", "/families/{familyId}/invite", s.invite)
	s.authed("GET", "/families/{familyId}/invitations", s.listInvitations)
	s.route("GET", "/families/invitations/{token}/details", s.invitationDetails)
	s.authed("POST", "/families/invitations/{token}/accept", s.acceptInvitation)
	s.route("POST", "/families/invitations/{token}/decline", s.declineInvitation)
	s.authed("DELETE", "/families/invitations/{invitationId}", s.cancelInvitation)
	s.authed("POST", "/families/invitations/{invitationId}/resend", s.resendInvitation)
}

// invitationError explains why an invitation cannot be used or made. An
// expired invitation is 410 Gone wherever it is used; one that was already
// accepted, declined or cancelled is 400.
func invitationError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("Invitation")
	case errors.Is(err, store.ErrInvitationExpired):
		return errorf(http.StatusGone, "This invitation has expired; ask for a new one")
	case errors.Is(err, store.ErrInvitationClosed):
		return badRequest("This invitation has already been used or cancelled")
	case errors.Is(err, store.ErrInvitationEmail):
		return forbidden("This invitation was sent to a different email address")
	case errors.Is(err, store.ErrAlreadyMember):
		return forbidden("This person is already a member of the family")
	case errors.Is(err, store.ErrAlreadyInvited):
		return forbidden("This email address already has a pending invitation to the family")
	}
	return err
}

// tokenHash reads the {token} of an invitation link and returns the hash it
// is stored under; an implausible token is simply not found.
func tokenHash(r *http.Request) (string, error) {
	tok := r.PathValue("token")
	if tok == "" || len(tok) > 256 {
		return "", notFound("Invitation")
	}
	return auth.HashToken(tok), nil
}

type inviteBody struct {
	Email   string    `json:"email"`
	Role    care.Role `json:"role"`
	Message *string   `json:"message"`
}

func (b *inviteBody) Validate(p Problems) {
	b.Email = p.email("email", b.Email)
	p.oneOf("role", string(b.Role), care.Roles()...)
	b.Message = p.optText("message", b.Message, 1000)
}

// invitationSent is the answer to invite.
type invitationSent struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      care.Role `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// invite records an invitation and emails its link to the invitee. The
// link is transactional mail: when it cannot be sent now the invitation is
// removed again (it was never announced) and the answer is 503 with
// Retry-After, so the admin invites again later.
func (s *Server) invite(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, _, err := s.familyAccess(r, p, admin)
	if err != nil {
		return err
	}
	var b inviteBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	token := auth.NewOpaqueToken()
	// Recorded first, so the checks (already a member, already invited)
	// answer before any mail goes out; announced only once the link is sent.
	inv, err := s.store.CreateInvitation(ctx, store.NewInvitation{
		FamilyID: familyID, Email: b.Email, Role: b.Role, InvitedByID: p.User.ID,
		Message: b.Message, TokenHash: auth.HashToken(token), TTL: care.InvitationTTL,
	})
	if err != nil {
		return invitationError(err)
	}
	if err := s.sendInvitation(ctx, inv, p.User.FullName, token, inv.ExpiresAt); err != nil {
		if derr := s.store.DeleteInvitation(context.WithoutCancel(ctx), inv.ID); derr != nil {
			s.logger.ErrorContext(ctx, "unsent invitation not removed", slog.String("invitationId", inv.ID),
				slog.Any("error", derr))
		}
		return err
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		return s.emitInvitation(ctx, p, events.MemberInvited, inv)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, invitationSent{ID: inv.ID, Email: inv.Email, Role: inv.Role, ExpiresAt: inv.ExpiresAt})
	return nil
}

// sendInvitation emails the invitation link (token, valid until expiresAt)
// as transactional mail: sent now, or the 503 that says when to try again.
func (s *Server) sendInvitation(ctx context.Context, inv *care.Invitation, inviterName, token string, expiresAt time.Time) error {
	familyName := ""
	if f, err := s.store.Family(ctx, inv.FamilyID); err == nil {
		familyName = f.Name
	}
	msg := ""
	if inv.Message != nil {
		msg = *inv.Message
	}
	m := mail.InvitationMessage(s.cfg.PublicURL, mail.Invitation{
		To: inv.Email, FamilyName: familyName, InviterName: inviterName, Role: string(inv.Role),
		Message: msg, Token: token, ExpiresAt: expiresAt,
	})
	return s.sendNow(ctx, m, "The invitation")
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, _, err := s.familyAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	invs, err := s.store.PendingInvitations(r.Context(), familyID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, invs)
	return nil
}

// invitationDetails shows the holder of a link what they were invited to.
func (s *Server) invitationDetails(w http.ResponseWriter, r *http.Request) error {
	hash, err := tokenHash(r)
	if err != nil {
		return err
	}
	d, err := s.store.InvitationDetails(r.Context(), hash)
	if err != nil {
		return invitationError(err)
	}
	switch d.Status {
	case care.InvitationPending:
	case care.InvitationExpired:
		return invitationError(store.ErrInvitationExpired)
	default:
		return invitationError(store.ErrInvitationClosed)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// acceptInvitation makes the signed-in invitee a member and answers with the
// family.
func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, p *Principal) error {
	hash, err := tokenHash(r)
	if err != nil {
		return err
	}
	var familyID string
	err = s.invitationChange(r.Context(), func(ctx context.Context) error {
		var err error
		if familyID, err = s.store.AcceptInvitation(ctx, hash, p.User.ID, p.User.Email); err != nil {
			return err
		}
		s.membershipsChanged(ctx, p.User.ID)
		m, err := s.store.MemberOf(ctx, familyID, p.User.ID)
		if err != nil {
			return err
		}
		return s.emit(ctx, domainEvent{Type: events.MemberJoined, FamilyID: familyID, ActorID: p.User.ID, Data: m})
	})
	if err != nil {
		return invitationError(err)
	}
	d, err := s.familyDetails(r.Context(), familyID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) declineInvitation(w http.ResponseWriter, r *http.Request) error {
	hash, err := tokenHash(r)
	if err != nil {
		return err
	}
	d, err := s.store.InvitationDetails(r.Context(), hash)
	if err != nil {
		return invitationError(err)
	}
	err = s.invitationChange(r.Context(), func(ctx context.Context) error {
		if err := s.store.DeclineInvitation(ctx, hash); err != nil {
			return err
		}
		d.Status = care.InvitationDeclined
		return s.emit(ctx, domainEvent{Type: events.InvitationDeclined, FamilyID: d.FamilyID, Data: d})
	})
	if err != nil {
		return invitationError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Invitation declined"})
	return nil
}

// invitationAdmin loads the invitation {invitationId} and checks that the
// principal is an ADMIN of its family.
func (s *Server) invitationAdmin(r *http.Request, p *Principal) (*care.Invitation, error) {
	id, err := pathID(r, "invitationId")
	if err != nil {
		return nil, err
	}
	inv, err := s.store.Invitation(r.Context(), id)
	if err != nil {
		return nil, invitationError(err)
	}
	if _, err := s.familyMember(r.Context(), p, inv.FamilyID, admin); err != nil {
		return nil, err
	}
	return inv, nil
}

func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request, p *Principal) error {
	inv, err := s.invitationAdmin(r, p)
	if err != nil {
		return err
	}
	err = s.invitationChange(r.Context(), func(ctx context.Context) error {
		if err := s.store.CancelInvitation(ctx, inv.ID); err != nil {
			return err
		}
		inv.Status = care.InvitationCancelled
		return s.emitInvitation(ctx, p, events.InvitationCancelled, inv)
	})
	if err != nil {
		return invitationError(err)
	}
	writeDeleted(w)
	return nil
}

// resendInvitation issues a new link with a new expiry, which makes the old
// link useless, and emails it again. The new link is sent first and kept
// only once sent: when it cannot be sent now the answer is 503 with
// Retry-After and the old link keeps working.
func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request, p *Principal) error {
	inv, err := s.invitationAdmin(r, p)
	if err != nil {
		return err
	}
	if inv.Status != care.InvitationPending && inv.Status != care.InvitationExpired {
		return invitationError(store.ErrInvitationClosed)
	}
	token := auth.NewOpaqueToken()
	if err := s.sendInvitation(r.Context(), inv, p.User.FullName, token, s.clock.Now().Add(care.InvitationTTL)); err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if inv, err = s.store.RenewInvitation(ctx, inv.ID, auth.HashToken(token), care.InvitationTTL); err != nil {
			return err
		}
		return s.emitInvitation(ctx, p, events.InvitationResent, inv)
	})
	if err != nil {
		return invitationError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Invitation resent", "expiresAt": inv.ExpiresAt})
	return nil
}

// emitInvitation announces a change to an invitation; inv is the invitation
// as it now is (it never carries the link's token).
func (s *Server) emitInvitation(ctx context.Context, p *Principal, typ string, inv *care.Invitation) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: inv.FamilyID, ActorID: p.User.ID, Data: inv})
}

// invitationChange runs a change to an invitation in one transaction with its
// events. An invitation found expired on the way is refused, but the change
// that marks it EXPIRED still commits.
func (s *Server) invitationChange(ctx context.Context, fn func(ctx context.Context) error) error {
	var expired error
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		err := fn(ctx)
		if errors.Is(err, store.ErrInvitationExpired) {
			expired = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return expired
}
