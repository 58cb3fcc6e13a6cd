package api

import (
	"context"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/kv"
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

// register creates a PENDING account and emails it a verification code
// (see account.Register). When the code cannot be emailed now the answer is
// 503 with Retry-After.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var b registerRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:register:"+s.clientIP(r), kv.Limit{Count: 10, Period: time.Hour}); err != nil {
		return err
	}
	u, err := s.svc.Account.Register(ctx, account.Registration{
		FullName: b.FullName, Email: b.Email, Password: b.Password, Phone: b.Phone, Timezone: *b.Timezone,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"message": "Registration successful. Check your email for the verification code.",
		"user":    map[string]string{"id": u.ID, "email": u.Email, "fullName": u.FullName},
	})
	return nil
}

// sendVerificationCode mails u a fresh email verification code (see
// account.Service.SendVerificationCode): 429 within the cooldown of the
// last one, 503 with Retry-After when it cannot be emailed now.
func (s *Server) sendVerificationCode(ctx context.Context, u *care.User) error {
	return s.svc.Account.SendVerificationCode(ctx, u)
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
	in, err := s.svc.Account.VerifyEmail(ctx, b.Email, b.OTP, s.client(r))
	if err != nil {
		return err
	}
	s.writeSignIn(w, "Email verified successfully", in)
	return nil
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
	if err := s.svc.Account.ResendVerification(ctx, b.Email); err != nil {
		return err
	}
	writeAuthMessage(w, resendMessage)
	return nil
}
