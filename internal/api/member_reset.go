package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// memberResetMessage answers a family admin's password reset of a member.
const memberResetMessage = "A password reset link has been sent to the member. They have been signed out everywhere."

// resetMemberPassword is POST /families/{familyId}/members/{userId}/reset-password
// [A]: a family admin sends a member a password reset link (never a
// password) and signs them out of every device, closing their realtime
// connections, for a member whose account may have been taken over. The
// new link voids any earlier one. An admin resets their own password
// through change-password instead. The link is transactional mail: when it
// cannot be sent now the answer is 503 with Retry-After and nothing changes
// (no link, no sign-out), so the admin can simply try again.
func (s *Server) resetMemberPassword(w http.ResponseWriter, r *http.Request, p *Principal) error {
	userID, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	familyID, _, err := s.familyAccess(r, p, admin)
	if err != nil {
		return err
	}
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	ctx := r.Context()
	m, err := s.store.MemberOf(ctx, familyID, userID)
	if err != nil {
		return memberError(err)
	}
	if m.UserID == p.User.ID {
		return badRequest("Change your own password from your settings instead")
	}
	u, err := s.store.UserByID(ctx, m.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !resettable(u.Status)) {
		return notFound("Member")
	}
	if err != nil {
		return err
	}
	if err := s.limit(ctx, "family:member-reset:"+u.ID, kv.Limit{Count: 3, Period: time.Hour}); err != nil {
		return err
	}
	token := auth.NewOpaqueToken()
	msg := mail.PasswordResetMessage(s.cfg.PublicURL, u.Email, u.FullName, token, resetTokenTTL)
	if err := s.sendNow(ctx, msg, "The password reset link"); err != nil {
		return fmt.Errorf("reset member password: %w", err)
	}
	if err := s.store.CreatePasswordReset(ctx, u.ID, auth.HashToken(token), resetTokenTTL); err != nil {
		return fmt.Errorf("reset member password: %w", err)
	}
	if _, err := s.store.RevokeUserSessions(ctx, u.ID, "", "password reset by a family admin"); err != nil {
		return fmt.Errorf("reset member password: %w", err)
	}
	s.sessionsEnded(ctx, u.ID, "")
	writeAuthMessage(w, memberResetMessage)
	return nil
}
