package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// forgotPasswordMessage answers every reset request alike, so the answer
// does not tell whether an account exists.
const forgotPasswordMessage = "If an account exists for this email, a password reset link has been sent."

// maxResetTokenLen bounds a reset token from a client; real ones are 43 characters.
const maxResetTokenLen = 128

// forgotPassword mails a password reset link to the account, if there is
// one that may sign in, and answers the same either way. The link is
// transactional mail: when it cannot be sent now the answer is 503 with
// Retry-After, and nothing is stored (earlier links keep working).
func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	var b emailRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:forgot:"+b.Email, kv.Limit{Count: 3, Period: time.Hour}); err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, b.Email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !resettable(u.Status)) {
		writeAuthMessage(w, forgotPasswordMessage)
		return nil
	}
	if err != nil {
		return err
	}
	token := auth.NewOpaqueToken()
	msg := mail.PasswordResetMessage(s.cfg.PublicURL, u.Email, u.FullName, token, resetTokenTTL)
	if err := s.sendNow(ctx, msg, "The password reset link"); err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	// Stored (voiding the earlier links) only once sent; nobody opens the
	// link in the milliseconds between the two.
	if err := s.store.CreatePasswordReset(ctx, u.ID, auth.HashToken(token), resetTokenTTL); err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	writeAuthMessage(w, forgotPasswordMessage)
	return nil
}

// resettable reports whether an account in state st may reset its password:
// suspended and deleted accounts may not.
func resettable(st care.UserStatus) bool {
	return st == care.UserActive || st == care.UserPending
}

// invalidResetToken is the answer for any reset token that cannot be used.
func invalidResetToken() *Error { return badRequest("Invalid or expired reset token") }

// verifyResetToken tells the reset page whether its link still works, and
// whose account it is for (masked).
func (s *Server) verifyResetToken(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	if token == "" || len(token) > maxResetTokenLen {
		return invalidResetToken()
	}
	u, err := s.store.PasswordResetUser(r.Context(), auth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !resettable(u.Status)) {
		return invalidResetToken()
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "email": care.MaskEmail(u.Email)})
	return nil
}

// resetPasswordRequest is the body of POST /auth/reset-password.
type resetPasswordRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"newPassword"`
}

// Validate checks the token's presence and the new password's strength.
func (b *resetPasswordRequest) Validate(p Problems) {
	switch {
	case b.Token == "":
		p.Add("token", "is required")
	case len(b.Token) > maxResetTokenLen:
		p.Add("token", "is not a reset token")
	}
	p.password("newPassword", b.NewPassword)
}

// resetPassword sets a new password with a reset link's token, which it
// spends, and ends every session of the account with its realtime
// connections.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var b resetPasswordRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	tokenHash := auth.HashToken(b.Token)
	// Check first, so a dead token costs no password hashing.
	u, err := s.store.PasswordResetUser(ctx, tokenHash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !resettable(u.Status)) {
		return invalidResetToken()
	}
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(b.NewPassword)
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if _, err := s.store.ResetPassword(ctx, tokenHash, hash); errors.Is(err, store.ErrNotFound) {
		return invalidResetToken()
	} else if err != nil {
		return err
	}
	s.sessionsEnded(ctx, u.ID, "")
	s.liftLoginLock(ctx, u.Email)
	writeAuthMessage(w, "Password has been reset. Please sign in with your new password.")
	return nil
}

// changePasswordRequest is the body of POST /auth/change-password.
type changePasswordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// Validate checks presence and the new password's strength.
func (b *changePasswordRequest) Validate(p Problems) {
	if b.CurrentPassword == "" {
		p.Add("currentPassword", "is required")
	}
	p.password("newPassword", b.NewPassword)
	if b.NewPassword != "" && b.NewPassword == b.CurrentPassword {
		p.Add("newPassword", "must differ from the current password")
	}
}

// changePassword replaces the caller's password after checking the current
// one, and ends every other session with its realtime connections. A wrong current password is a 400 with
// a field error rather than a 401, which clients take to mean "signed out".
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b changePasswordRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:change-password:"+p.User.ID, kv.Limit{Count: 5, Period: 15 * time.Minute}); err != nil {
		return err
	}
	if !auth.CheckPassword(p.User.PasswordHash, b.CurrentPassword) {
		return Problems{"currentPassword": {"is incorrect"}}.Err()
	}
	hash, err := auth.HashPassword(b.NewPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.store.ChangePassword(ctx, p.User.ID, hash, p.Session.ID); err != nil {
		return err
	}
	s.sessionsEnded(ctx, p.User.ID, p.Session.ID)
	s.liftLoginLock(ctx, p.User.Email)
	writeAuthMessage(w, "Password changed. Other devices have been signed out.")
	return nil
}
