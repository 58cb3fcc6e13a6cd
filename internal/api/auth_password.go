package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/kv"
)

// forgotPasswordMessage answers every reset request alike, so the answer
// does not tell whether an account exists.
const forgotPasswordMessage = "If an account exists for this email, a password reset link has been sent."

// forgotPassword mails a password reset link to the account, if there is
// one that may sign in, and answers the same either way. When the link
// cannot be sent now the answer is 503 with Retry-After.
func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	var b emailRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:forgot:"+b.Email, kv.Limit{Count: 3, Period: time.Hour}); err != nil {
		return err
	}
	if err := s.svc.Account.ForgotPassword(ctx, b.Email); err != nil {
		return err
	}
	writeAuthMessage(w, forgotPasswordMessage)
	return nil
}

// verifyResetToken tells the reset page whether its link still works, and
// whose account it is for (masked).
func (s *Server) verifyResetToken(w http.ResponseWriter, r *http.Request) error {
	email, err := s.svc.Account.CheckResetToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "email": email})
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
	case len(b.Token) > account.MaxResetTokenLen:
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
	if err := s.svc.Account.ResetPassword(r.Context(), b.Token, b.NewPassword); err != nil {
		return err
	}
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
// one, and ends every other session with its realtime connections. A wrong
// current password is a 400 with a field error rather than a 401, which
// clients take to mean "signed out".
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b changePasswordRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:change-password:"+p.User.ID, kv.Limit{Count: 5, Period: 15 * time.Minute}); err != nil {
		return err
	}
	if err := s.svc.Account.ChangePassword(ctx, *p, b.CurrentPassword, b.NewPassword); err != nil {
		return err
	}
	writeAuthMessage(w, "Password changed. Other devices have been signed out.")
	return nil
}
