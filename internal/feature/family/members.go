package family

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// memberError explains the member rules: a family keeps at least one admin,
// and a member that is not there is not found.
func memberError(err error) error {
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		return feature.Conflict("A family must keep at least one admin: make another member ADMIN first")
	case errors.Is(err, store.ErrNotFound):
		return feature.NotFound("Member")
	}
	return err
}

// Members lists the members of a family of the actor's.
func (s *Service) Members(ctx context.Context, a feature.Actor, familyID string) ([]care.Member, error) {
	if _, err := s.Access(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	return s.b.Store.Members(ctx, familyID)
}

// ChangeRole gives the member memberID the role read (an admin's command).
// The last admin keeps their role (KindConflict). Giving a member the role
// they have changes nothing and announces nothing.
func (s *Service) ChangeRole(ctx context.Context, a feature.Actor, familyID, memberID string, read feature.Input[care.Role]) (*care.Member, error) {
	if _, err := s.Access(ctx, a, familyID, feature.Admin); err != nil {
		return nil, err
	}
	role, err := read()
	if err != nil {
		return nil, err
	}
	var m *care.Member
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		was, err := s.b.Store.Member(ctx, familyID, memberID)
		if err != nil {
			return err
		}
		if m, err = s.b.Store.ChangeMemberRole(ctx, familyID, memberID, role); err != nil {
			return err
		}
		s.b.MembershipsChanged(ctx, m.UserID)
		if was.Role == m.Role {
			return nil
		}
		return s.b.Emit(ctx, feature.Event{Type: events.MemberRoleUpdated, FamilyID: familyID, ActorID: a.ID(),
			Data: events.MemberRoleData{Member: m, PreviousRole: was.Role}})
	})
	if err != nil {
		return nil, memberError(err)
	}
	return m, nil
}

// Remove ends the membership memberID (an admin removing someone, or
// leaving themselves) and releases what the member had taken on in the
// family (Deps.Release), in one transaction. The last admin cannot be
// removed (KindConflict).
func (s *Service) Remove(ctx context.Context, a feature.Actor, familyID, memberID string) error {
	if _, err := s.Access(ctx, a, familyID, feature.Admin); err != nil {
		return err
	}
	m, err := s.b.Store.Member(ctx, familyID, memberID)
	if err != nil {
		return memberError(err)
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		if err := s.b.Store.RemoveMember(ctx, familyID, memberID); err != nil {
			return err
		}
		s.b.MembershipsChanged(ctx, m.UserID)
		typ, why := events.MemberRemoved, memberName(m)+" was removed from the family"
		if m.UserID == a.ID() {
			typ, why = events.MemberLeft, memberName(m)+" left the family"
		}
		if err := s.b.Emit(ctx, feature.Event{Type: typ, FamilyID: familyID, ActorID: a.ID(), Data: m}); err != nil {
			return err
		}
		return s.Release(ctx, a, familyID, m.UserID, why)
	})
	return memberError(err)
}

// memberName is how messages to the family name a member.
func memberName(m *care.Member) string {
	if m.User != nil && m.User.FullName != "" {
		return m.User.FullName
	}
	return "A member"
}

// resettable reports whether an account in state st may reset its
// password, as for a forgotten password: suspended and deleted accounts may
// not.
func resettable(st care.UserStatus) bool {
	return st == care.UserActive || st == care.UserPending
}

// memberResetLimit bounds the resets of one member's password by the
// admins of all their families.
var memberResetLimit = kv.Limit{Count: 3, Period: time.Hour}

// ResetPassword sends the member userID a password reset link (never a
// password) and signs them out of every device, closing their realtime
// connections: a family admin's command, for a member whose account may
// have been taken over. The new link voids any earlier one. An admin resets
// their own password through their settings instead (KindInvalid). The link
// is transactional mail: when it cannot be sent now the failure says when
// to try again and nothing changes (no link, no sign-out). read checks the
// (empty) input once access is checked.
func (s *Service) ResetPassword(ctx context.Context, a feature.Actor, familyID, userID string, read feature.Input[struct{}]) error {
	if _, err := s.Access(ctx, a, familyID, feature.Admin); err != nil {
		return err
	}
	if _, err := read(); err != nil {
		return err
	}
	m, err := s.b.Store.MemberOf(ctx, familyID, userID)
	if err != nil {
		return memberError(err)
	}
	if m.UserID == a.ID() {
		return feature.Invalid("Change your own password from your settings instead")
	}
	u, err := s.b.Store.UserByID(ctx, m.UserID)
	if feature.IsNotFound(err) || (err == nil && !resettable(u.Status)) {
		return feature.NotFound("Member")
	}
	if err != nil {
		return err
	}
	if err := s.d.Limit(ctx, "family:member-reset:"+u.ID, memberResetLimit); err != nil {
		return err
	}
	token := auth.NewOpaqueToken()
	msg := mail.PasswordResetMessage(s.d.PublicURL, u.Email, u.FullName, token, s.d.ResetTTL)
	if err := s.b.SendNow(ctx, msg, "The password reset link"); err != nil {
		return fmt.Errorf("reset member password: %w", err)
	}
	if err := s.b.Store.CreatePasswordReset(ctx, u.ID, auth.HashToken(token), s.d.ResetTTL); err != nil {
		return fmt.Errorf("reset member password: %w", err)
	}
	if _, err := s.b.Store.RevokeUserSessions(ctx, u.ID, "", "password reset by a family admin"); err != nil {
		return fmt.Errorf("reset member password: %w", err)
	}
	if s.d.SessionsEnded != nil {
		s.d.SessionsEnded(ctx, u.ID)
	}
	return nil
}
