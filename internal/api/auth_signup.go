package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// resendMessage answers every resend request alike, so the answer does not
// tell whether an account exists.
const resendMessage = "If an account is waiting for verification, a new code has been sent."

// registerRequest is the body of POST /auth/register.
type registerRequest struct {
	FullName string  `json:"fullName"`
	Email    string  `json:"email"`
	Password string  `json:"password"`
	Phone    *string `json:"phone"`
	Timezone *string `json:"timezone"`
}

// Validate checks and normalises the sign-up; an absent or empty timezone
// becomes the default.
func (b *registerRequest) Validate(p Problems) {
	b.FullName = p.text("fullName", b.FullName, 100)
	b.Email = p.email("email", b.Email)
	p.password("password", b.Password)
	b.Phone = p.phone("phone", b.Phone)
	if b.Timezone == nil || *b.Timezone == "" {
		tz := care.DefaultTimezone
		b.Timezone = &tz
	}
	p.timezone("timezone", *b.Timezone)
}

// register creates a PENDING account and emails it a verification code.
// When the code cannot be emailed now the answer is 503 with Retry-After and
// the account stays PENDING without a code: the same sign-up sent again (same
// password) or a resend then mails a code.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var b registerRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:register:"+s.clientIP(r), kv.Limit{Count: 10, Period: time.Hour}); err != nil {
		return err
	}
	if u, err := s.store.UserByEmail(ctx, b.Email); err == nil {
		// The same person signing up again before verifying (their first
		// code could not be sent, or never came) gets a new code, or, within
		// a minute of the last one, that one; anyone else is told the
		// address is taken.
		if u.Status != care.UserPending || !auth.CheckPassword(u.PasswordHash, b.Password) {
			return conflict("An account with this email already exists")
		}
		var e *Error
		if err := s.sendVerificationCode(ctx, u); err != nil && !(errors.As(err, &e) && e.Status == http.StatusTooManyRequests) {
			return fmt.Errorf("register: %w", err)
		}
		writeRegistered(w, u)
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash, err := auth.HashPassword(b.Password)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	u, err := s.store.CreateUser(ctx, store.NewUser{
		Email: b.Email, PasswordHash: hash, FullName: b.FullName, Phone: b.Phone,
		Timezone: *b.Timezone, Status: care.UserPending,
	})
	if errors.Is(err, store.ErrConflict) {
		return conflict("An account with this email already exists")
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := s.sendVerificationCode(ctx, u); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	writeRegistered(w, u)
	return nil
}

// writeRegistered answers a sign-up whose code was sent.
func writeRegistered(w http.ResponseWriter, u *care.User) {
	writeJSON(w, http.StatusCreated, map[string]any{
		"message": "Registration successful. Check your email for the verification code.",
		"user":    map[string]string{"id": u.ID, "email": u.Email, "fullName": u.FullName},
	})
}

// sendVerificationCode issues a fresh email verification code to u and mails
// it as transactional mail. Within the cooldown of the last code it fails
// with a 429. A code is kept only once it was sent: when it cannot be sent
// now (a 503 with Retry-After), the previous code, if any, still works and
// the cooldown is given back, so the next try is not refused.
func (s *Server) sendVerificationCode(ctx context.Context, u *care.User) error {
	key := store.UserKey(store.PurposeEmailVerify, u.ID)
	ok, retry, err := s.codes.Cooldown(ctx, key, verifyCodeCooldown)
	if err != nil {
		return err
	}
	if !ok {
		return tooManyRequests(retry)
	}
	code := auth.NewCode()
	msg := mail.VerificationCodeMessage(s.cfg.PublicURL, u.Email, u.FullName, code, verifyCodeTTL)
	if err := s.sendNow(ctx, msg, "The verification code"); err != nil {
		if cerr := s.codes.EndCooldown(context.WithoutCancel(ctx), key); cerr != nil {
			s.logger.ErrorContext(ctx, "verification code cooldown not ended", slog.Any("error", cerr))
		}
		return err
	}
	// Stored after the send: a person cannot type the code in the
	// milliseconds between the two.
	return s.codes.Put(ctx, key, verifyCodeHash(u.ID, code), verifyCodeTTL)
}

// verifyCodeHash is the stored form of a code: bound to its user, so equal
// codes of two users never share a hash.
func verifyCodeHash(userID, code string) string {
	return auth.HashToken(string(store.PurposeEmailVerify) + ":" + userID + ":" + code)
}

// verifyEmailRequest is the body of POST /auth/verify-email.
type verifyEmailRequest struct {
	Email string `json:"email"`
	OTP   string `json:"otp"`
}

// Validate checks the address and the code's shape.
func (b *verifyEmailRequest) Validate(p Problems) {
	b.Email = p.email("email", b.Email)
	if !sixDigits(b.OTP) {
		p.Add("otp", "must be the 6-digit code from the email")
	}
}

// sixDigits reports whether s is exactly six ASCII digits.
func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// verifyEmail spends a verification code, activates the account and signs
// the user in.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	var b verifyEmailRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:verify:"+b.Email, kv.Limit{Count: 10, Period: 15 * time.Minute}); err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, b.Email)
	if errors.Is(err, store.ErrNotFound) {
		return codeRefusal(care.CodeAbsent)
	}
	if err != nil {
		return err
	}
	if u.Status != care.UserPending {
		// Verified already, or barred: the code is gone either way.
		return codeRefusal(care.CodeAbsent)
	}
	outcome, err := s.codes.Check(ctx, store.UserKey(store.PurposeEmailVerify, u.ID), verifyCodeHash(u.ID, b.OTP), verifyCodeMaxTries)
	if err != nil {
		return err
	}
	if outcome != care.CodeAccepted {
		return codeRefusal(outcome)
	}
	if u, err = s.store.ActivateUser(ctx, u.ID); err != nil {
		return err
	}
	tok, err := s.startSession(w, r, u, false)
	if err != nil {
		return err
	}
	return s.writeSignIn(ctx, w, "Email verified successfully", tok, u)
}

// codeRefusal is the 400 that explains why a code was not accepted.
func codeRefusal(o care.CodeOutcome) error {
	switch o {
	case care.CodeRejected:
		return badRequest("Invalid verification code")
	case care.CodeVoided:
		return badRequest("Too many wrong codes. Request a new verification code.")
	case care.CodeExpired:
		return badRequest("The verification code has expired. Request a new one.")
	default:
		return badRequest("Invalid or expired verification code")
	}
}

// emailRequest is a body holding only an email address.
type emailRequest struct {
	Email string `json:"email"`
}

// Validate checks the address.
func (b *emailRequest) Validate(p Problems) { b.Email = p.email("email", b.Email) }

// resendVerification mails a new code to a PENDING account, at most once a
// minute. Any other address gets the same answer and no mail.
func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) error {
	var b emailRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:resend:"+b.Email, kv.Limit{Count: 5, Period: time.Hour}); err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, b.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeAuthMessage(w, resendMessage)
		return nil
	case err != nil:
		return err
	case u.Status != care.UserPending:
		writeAuthMessage(w, resendMessage)
		return nil
	}
	if err := s.sendVerificationCode(ctx, u); err != nil {
		return fmt.Errorf("resend verification: %w", err)
	}
	writeAuthMessage(w, resendMessage)
	return nil
}
