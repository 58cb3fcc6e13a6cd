package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// Registration is a sign-up, checked and normalised.
type Registration struct {
	FullName string
	Email    string
	Password string
	Phone    *string
	Timezone string
}

// errEmailTaken refuses a sign-up for an address with an account.
var errEmailTaken = feature.Conflict("An account with this email already exists")

// Register creates a PENDING account and emails it a verification code,
// answering the account. When the code cannot be emailed now the failure is
// KindUnavailable with the wait, and the account stays PENDING without a
// code: the same sign-up sent again (same password) or a resend then mails
// a code.
func (s *Service) Register(ctx context.Context, in Registration) (*care.User, error) {
	if u, err := s.b.Store.UserByEmail(ctx, in.Email); err == nil {
		// The same person signing up again before verifying (their first
		// code could not be sent, or never came) gets a new code, or, within
		// a minute of the last one, that one; anyone else is told the
		// address is taken.
		if u.Status != care.UserPending || !s.check(u.PasswordHash, in.Password) {
			return nil, errEmailTaken
		}
		if err := s.SendVerificationCode(ctx, u); err != nil && feature.KindOf(err) != feature.KindTooMany {
			return nil, fmt.Errorf("register: %w", err)
		}
		return u, nil
	} else if !feature.IsNotFound(err) {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	u, err := s.b.Store.CreateUser(ctx, store.NewUser{
		Email: in.Email, PasswordHash: hash, FullName: in.FullName, Phone: in.Phone,
		Timezone: in.Timezone, Status: care.UserPending,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, errEmailTaken
	}
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if err := s.SendVerificationCode(ctx, u); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return u, nil
}

// SendVerificationCode issues a fresh email verification code to u and mails
// it as transactional mail (a system admin's resend for a PENDING account
// goes through it too). Within the cooldown of the last code it fails
// with KindTooMany. A code is kept only once it was sent: when it cannot be
// sent now (KindUnavailable), the previous code, if any, still works and
// the cooldown is given back, so the next try is not refused.
func (s *Service) SendVerificationCode(ctx context.Context, u *care.User) error {
	key := store.UserKey(store.PurposeEmailVerify, u.ID)
	ok, retry, err := s.codes.Cooldown(ctx, key, VerifyCodeCooldown)
	if err != nil {
		return err
	}
	if !ok {
		return tooMany(retry)
	}
	code := auth.NewCode()
	msg := mail.VerificationCodeMessage(s.public, u.Email, u.FullName, code, VerifyCodeTTL)
	if err := s.b.SendNow(ctx, msg, "The verification code"); err != nil {
		if cerr := s.codes.EndCooldown(context.WithoutCancel(ctx), key); cerr != nil {
			s.b.Logger.ErrorContext(ctx, "verification code cooldown not ended", slog.Any("error", cerr))
		}
		return err
	}
	// Stored after the send: a person cannot type the code in the
	// milliseconds between the two.
	return s.codes.Put(ctx, key, verifyCodeHash(u.ID, code), VerifyCodeTTL)
}

// verifyCodeHash is the stored form of a code: bound to its user, so equal
// codes of two users never share a hash.
func verifyCodeHash(userID, code string) string {
	return auth.HashToken(string(store.PurposeEmailVerify) + ":" + userID + ":" + code)
}

// VerifyEmail spends a verification code, activates the account and signs
// the user in on the client's device.
func (s *Service) VerifyEmail(ctx context.Context, email, code string, c Client) (*SignIn, error) {
	u, err := s.b.Store.UserByEmail(ctx, email)
	if feature.IsNotFound(err) {
		return nil, CodeRefusal(care.CodeAbsent)
	}
	if err != nil {
		return nil, err
	}
	if u.Status != care.UserPending {
		// Verified already, or barred: the code is gone either way.
		return nil, CodeRefusal(care.CodeAbsent)
	}
	outcome, err := s.codes.Check(ctx, store.UserKey(store.PurposeEmailVerify, u.ID), verifyCodeHash(u.ID, code), VerifyCodeMaxTries)
	if err != nil {
		return nil, err
	}
	if outcome != care.CodeAccepted {
		return nil, CodeRefusal(outcome)
	}
	if u, err = s.b.Store.ActivateUser(ctx, u.ID); err != nil {
		return nil, err
	}
	return s.signIn(ctx, u, false, c)
}

// CodeRefusal explains why a code (emailed or texted) was not accepted.
func CodeRefusal(o care.CodeOutcome) error {
	switch o {
	case care.CodeRejected:
		return feature.Invalid("Invalid verification code")
	case care.CodeVoided:
		return feature.Invalid("Too many wrong codes. Request a new verification code.")
	case care.CodeExpired:
		return feature.Invalid("The verification code has expired. Request a new one.")
	default:
		return feature.Invalid("Invalid or expired verification code")
	}
}

// ResendVerification mails a new code to the PENDING account of email, at
// most once a minute. Any other address is sent nothing, and no failure
// tells it apart.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	u, err := s.b.Store.UserByEmail(ctx, email)
	switch {
	case feature.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case u.Status != care.UserPending:
		return nil
	}
	if err := s.SendVerificationCode(ctx, u); err != nil {
		return fmt.Errorf("resend verification: %w", err)
	}
	return nil
}
