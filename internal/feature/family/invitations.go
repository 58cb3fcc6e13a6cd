package family

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// NewInvitation is an invitation to make: whom (a normalised email), with
// which role, and an optional message from the admin.
type NewInvitation struct {
	Email   string
	Role    care.Role
	Message *string
}

// invitationError explains why an invitation cannot be used or made. An
// expired invitation is KindGone wherever it is used; one that was already
// accepted, declined or cancelled is KindInvalid.
func invitationError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return feature.NotFound("Invitation")
	case errors.Is(err, store.ErrInvitationExpired):
		return feature.Errorf(feature.KindGone, "This invitation has expired; ask for a new one")
	case errors.Is(err, store.ErrInvitationClosed):
		return errClosed
	case errors.Is(err, store.ErrInvitationEmail):
		return feature.Forbidden("This invitation was sent to a different email address")
	case errors.Is(err, store.ErrAlreadyMember):
		return feature.Forbidden("This person is already a member of the family")
	case errors.Is(err, store.ErrAlreadyInvited):
		return feature.Forbidden("This email address already has a pending invitation to the family")
	}
	return err
}

// errClosed refuses an invitation already accepted, declined or cancelled.
var errClosed = feature.Invalid("This invitation has already been used or cancelled")

// tokenHash returns the hash the invitation link's token is stored under;
// an implausible token is simply not found.
func tokenHash(token string) (string, error) {
	if token == "" || len(token) > 256 {
		return "", feature.NotFound("Invitation")
	}
	return auth.HashToken(token), nil
}

// Invite records an invitation to the family (an admin's command) and
// emails its link to the invitee. It is recorded first, so the checks
// (already a member, already invited) answer before any mail goes out, and
// announced only once the link is sent. The link is transactional mail:
// when it cannot be sent now the invitation is removed again (it was never
// announced) and the failure says when to try again.
func (s *Service) Invite(ctx context.Context, a feature.Actor, familyID string, read feature.Input[NewInvitation]) (*care.Invitation, error) {
	if _, err := s.Access(ctx, a, familyID, feature.Admin); err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	token := auth.NewOpaqueToken()
	inv, err := s.b.Store.CreateInvitation(ctx, store.NewInvitation{
		FamilyID: familyID, Email: in.Email, Role: in.Role, InvitedByID: a.ID(),
		Message: in.Message, TokenHash: auth.HashToken(token), TTL: care.InvitationTTL,
	})
	if err != nil {
		return nil, invitationError(err)
	}
	if err := s.send(ctx, inv, a.User.FullName, token, inv.ExpiresAt); err != nil {
		if derr := s.b.Store.DeleteInvitation(context.WithoutCancel(ctx), inv.ID); derr != nil {
			s.b.Logger.ErrorContext(ctx, "unsent invitation not removed", slog.String("invitationId", inv.ID),
				slog.Any("error", derr))
		}
		return nil, err
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		return s.emit(ctx, a, events.MemberInvited, inv)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// send emails the invitation link (token, valid until expiresAt) as
// transactional mail: sent now, or the failure that says when to try again.
func (s *Service) send(ctx context.Context, inv *care.Invitation, inviterName, token string, expiresAt time.Time) error {
	familyName := ""
	if f, err := s.b.Store.Family(ctx, inv.FamilyID); err == nil {
		familyName = f.Name
	}
	msg := ""
	if inv.Message != nil {
		msg = *inv.Message
	}
	m := mail.InvitationMessage(s.d.PublicURL, mail.Invitation{
		To: inv.Email, FamilyName: familyName, InviterName: inviterName, Role: string(inv.Role),
		Message: msg, Token: token, ExpiresAt: expiresAt,
	})
	return s.b.SendNow(ctx, m, "The invitation")
}

// Invitations lists the open invitations of a family of the actor's.
func (s *Service) Invitations(ctx context.Context, a feature.Actor, familyID string) ([]care.Invitation, error) {
	if _, err := s.Access(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	return s.b.Store.PendingInvitations(ctx, familyID)
}

// Lookup describes the invitation of the link token to whoever holds it,
// whatever its status (a pending one whose time ran out is marked EXPIRED
// on the way); KindNotFound when there is none.
func (s *Service) Lookup(ctx context.Context, token string) (*care.InvitationDetails, error) {
	hash, err := tokenHash(token)
	if err != nil {
		return nil, err
	}
	return s.lookup(ctx, hash)
}

// lookup describes the invitation whose token has the hash.
func (s *Service) lookup(ctx context.Context, hash string) (*care.InvitationDetails, error) {
	d, err := s.b.Store.InvitationDetails(ctx, hash)
	if err != nil {
		return nil, invitationError(err)
	}
	return d, nil
}

// Details shows the holder of the link token what they were invited to,
// while the invitation can still be used: an expired one is KindGone, one
// already used or cancelled KindInvalid.
func (s *Service) Details(ctx context.Context, token string) (*care.InvitationDetails, error) {
	d, err := s.Lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	switch d.Status {
	case care.InvitationPending:
	case care.InvitationExpired:
		return nil, invitationError(store.ErrInvitationExpired)
	default:
		return nil, errClosed
	}
	return d, nil
}

// Accept makes the actor, the invitee signed in, a member of the family of
// the link token's invitation, with the invited role, and returns the
// family with its members, care recipients and invitations.
func (s *Service) Accept(ctx context.Context, a feature.Actor, token string) (*care.FamilyDetails, error) {
	hash, err := tokenHash(token)
	if err != nil {
		return nil, err
	}
	var familyID string
	err = s.change(ctx, func(ctx context.Context) error {
		var err error
		if familyID, err = s.b.Store.AcceptInvitation(ctx, hash, a.ID(), a.User.Email); err != nil {
			return err
		}
		s.b.MembershipsChanged(ctx, a.ID())
		m, err := s.b.Store.MemberOf(ctx, familyID, a.ID())
		if err != nil {
			return err
		}
		return s.b.Emit(ctx, feature.Event{Type: events.MemberJoined, FamilyID: familyID, ActorID: a.ID(), Data: m})
	})
	if err != nil {
		return nil, invitationError(err)
	}
	return s.details(ctx, familyID)
}

// Decline declines the invitation of the link token, on behalf of whoever
// holds it.
func (s *Service) Decline(ctx context.Context, token string) error {
	hash, err := tokenHash(token)
	if err != nil {
		return err
	}
	d, err := s.lookup(ctx, hash)
	if err != nil {
		return err
	}
	err = s.change(ctx, func(ctx context.Context) error {
		if err := s.b.Store.DeclineInvitation(ctx, hash); err != nil {
			return err
		}
		d.Status = care.InvitationDeclined
		return s.b.Emit(ctx, feature.Event{Type: events.InvitationDeclined, FamilyID: d.FamilyID, Data: d})
	})
	return invitationError(err)
}

// adminInvitation loads the invitation id and checks that the actor is an
// ADMIN of its family.
func (s *Service) adminInvitation(ctx context.Context, a feature.Actor, id string) (*care.Invitation, error) {
	inv, err := s.b.Store.Invitation(ctx, id)
	if err != nil {
		return nil, invitationError(err)
	}
	if _, err := s.b.Member(ctx, a, inv.FamilyID, feature.Admin); err != nil {
		return nil, err
	}
	return inv, nil
}

// Cancel cancels the invitation id, so its link no longer works (an admin
// of its family's command).
func (s *Service) Cancel(ctx context.Context, a feature.Actor, id string) error {
	inv, err := s.adminInvitation(ctx, a, id)
	if err != nil {
		return err
	}
	err = s.change(ctx, func(ctx context.Context) error {
		if err := s.b.Store.CancelInvitation(ctx, inv.ID); err != nil {
			return err
		}
		inv.Status = care.InvitationCancelled
		return s.emit(ctx, a, events.InvitationCancelled, inv)
	})
	return invitationError(err)
}

// Resend issues a new link for the invitation id with a new expiry, which
// makes the old link useless, and emails it again (an admin of its family's
// command), for an invitation still pending or expired. The new link is
// sent first and kept only once sent: when it cannot be sent now the
// failure says when to try again and the old link keeps working. It
// returns the invitation as renewed.
func (s *Service) Resend(ctx context.Context, a feature.Actor, id string) (*care.Invitation, error) {
	inv, err := s.adminInvitation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if inv.Status != care.InvitationPending && inv.Status != care.InvitationExpired {
		return nil, errClosed
	}
	token := auth.NewOpaqueToken()
	if err := s.send(ctx, inv, a.User.FullName, token, s.b.Clock.Now().Add(care.InvitationTTL)); err != nil {
		return nil, err
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		if inv, err = s.b.Store.RenewInvitation(ctx, inv.ID, auth.HashToken(token), care.InvitationTTL); err != nil {
			return err
		}
		return s.emit(ctx, a, events.InvitationResent, inv)
	})
	if err != nil {
		return nil, invitationError(err)
	}
	return inv, nil
}

// emit announces a change to an invitation; inv is the invitation as it
// now is (it never carries the link's token).
func (s *Service) emit(ctx context.Context, a feature.Actor, typ string, inv *care.Invitation) error {
	return s.b.Emit(ctx, feature.Event{Type: typ, FamilyID: inv.FamilyID, ActorID: a.ID(), Data: inv})
}

// change runs a change to an invitation in one transaction with its
// events. An invitation found expired on the way is refused, but the
// change that marks it EXPIRED still commits.
func (s *Service) change(ctx context.Context, fn func(ctx context.Context) error) error {
	var expired error
	err := s.b.Atomically(ctx, func(ctx context.Context) error {
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
