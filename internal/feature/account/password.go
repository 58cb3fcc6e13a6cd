package account

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/mail"
)

// MaxResetTokenLen bounds a reset token from a client; real ones are 43
// characters.
const MaxResetTokenLen = 128

// resettable reports whether an account in state st may reset its
// password: suspended and deleted accounts may not.
func resettable(st care.UserStatus) bool {
	return st == care.UserActive || st == care.UserPending
}

// errInvalidResetToken refuses any reset token that cannot be used.
var errInvalidResetToken = feature.Invalid("Invalid or expired reset token")

// ForgotPassword mails a password reset link to the account of email, if
// there is one that may sign in; any other address is sent nothing, and no
// failure tells it apart. The link is transactional mail: when it cannot
// be sent now the failure is KindUnavailable with the wait, and nothing is
// stored (earlier links keep working).
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	u, err := s.b.Store.UserByEmail(ctx, email)
	if feature.IsNotFound(err) || (err == nil && !resettable(u.Status)) {
		return nil
	}
	if err != nil {
		return err
	}
	token := auth.NewOpaqueToken()
	msg := mail.PasswordResetMessage(s.public, u.Email, u.FullName, token, ResetTokenTTL)
	if err := s.b.SendNow(ctx, msg, "The password reset link"); err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	// Stored (voiding the earlier links) only once sent; nobody opens the
	// link in the milliseconds between the two.
	if err := s.b.Store.CreatePasswordReset(ctx, u.ID, auth.HashToken(token), ResetTokenTTL); err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	return nil
}

// resetUser is the account a live reset token is for.
func (s *Service) resetUser(ctx context.Context, tokenHash string) (*care.User, error) {
	u, err := s.b.Store.PasswordResetUser(ctx, tokenHash)
	if feature.IsNotFound(err) || (err == nil && !resettable(u.Status)) {
		return nil, errInvalidResetToken
	}
	return u, err
}

// CheckResetToken tells the reset page whether its link still works, and
// answers the email of the account it is for, masked.
func (s *Service) CheckResetToken(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > MaxResetTokenLen {
		return "", errInvalidResetToken
	}
	u, err := s.resetUser(ctx, auth.HashToken(token))
	if err != nil {
		return "", err
	}
	return care.MaskEmail(u.Email), nil
}

// ResetPassword sets a new password with a reset link's token, which it
// spends, and ends every session of the account with its realtime
// connections.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	tokenHash := auth.HashToken(token)
	// Check first, so a dead token costs no password hashing.
	u, err := s.resetUser(ctx, tokenHash)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(newPassword)
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if _, err := s.b.Store.ResetPassword(ctx, tokenHash, hash); feature.IsNotFound(err) {
		return errInvalidResetToken
	} else if err != nil {
		return err
	}
	s.sessionsEnded(ctx, u.ID, "")
	s.liftLoginLock(ctx, u.Email)
	return nil
}

// ChangePassword replaces the actor's password after checking the current
// one, and ends every other session with its realtime connections. A wrong
// current password is a field error (KindInvalid) rather than
// KindUnauthenticated, which clients take to mean "signed out".
func (s *Service) ChangePassword(ctx context.Context, a feature.Actor, current, next string) error {
	if !s.check(a.User.PasswordHash, current) {
		return feature.FieldError("currentPassword", "is incorrect")
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.b.Store.ChangePassword(ctx, a.User.ID, hash, a.Session.ID); err != nil {
		return err
	}
	s.sessionsEnded(ctx, a.User.ID, a.Session.ID)
	s.liftLoginLock(ctx, a.User.Email)
	return nil
}
