package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/notify/sms"
)

// Phone verification (see internal/feature/account): a 6-digit code texted
// to the account's number proves the user receives texts there.
const (
	phoneCodeTTL      = account.PhoneCodeTTL      // lifetime of a texted code
	phoneCodeMaxTries = account.PhoneCodeMaxTries // wrong tries that void a code
	phoneCodeCooldown = account.PhoneCodeCooldown // least time between two texts
)

// phoneRoutes registers the routes of phone verification.
func (s *Server) phoneRoutes() {
	s.authed("POST", "/user/phone/verification", s.sendPhoneCode)
	s.authed("POST", "/user/phone/verify", s.verifyPhone)
}

// phoneVerificationRequest is the body of POST /user/phone/verification;
// without a phone the account's own number is verified.
type phoneVerificationRequest struct {
	Phone *string `json:"phone"`
}

// Validate normalises a given phone to E.164.
func (b *phoneVerificationRequest) Validate(p Problems) {
	if b.Phone == nil {
		return
	}
	if strings.TrimSpace(*b.Phone) == "" {
		b.Phone = nil
		return
	}
	n, err := sms.NormalizeE164(*b.Phone)
	if err != nil {
		p.Add("phone", "must be a phone number with its country code, such as +15551234567")
		return
	}
	b.Phone = &n
}

// sendPhoneCode texts a verification code to the given number (which
// becomes the account's, unverified) or to the account's number. Each text
// costs money and reaches a person: they are bounded per account and per
// number, whoever asks. A text the provider did not take is a 502 with
// Retry-After.
func (s *Server) sendPhoneCode(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b phoneVerificationRequest
	if err := decodeOptional(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	phone, err := s.svc.Account.SendPhoneCode(ctx, *p, b.Phone, func(phone string) error {
		if err := s.limit(ctx, "phone:code:"+p.User.ID, kv.Limit{Count: 5, Period: time.Hour}); err != nil {
			return err
		}
		return s.limit(ctx, "phone:code-to:"+phone, kv.Limit{Count: 5, Period: time.Hour})
	})
	if errors.Is(err, account.ErrTextNotSent) {
		return &Error{
			Status:  http.StatusBadGateway,
			Message: "The text message could not be sent. Try again in a minute.",
			Header:  http.Header{"Retry-After": {strconv.Itoa(int(phoneCodeCooldown / time.Second))}},
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message":          "A verification code has been sent by text message.",
		"phone":            phone,
		"expiresInSeconds": int(phoneCodeTTL / time.Second),
	})
	return nil
}

// phoneCodeRequest is the body of POST /user/phone/verify.
type phoneCodeRequest struct {
	Code string `json:"code"`
}

// Validate checks the code's shape.
func (b *phoneCodeRequest) Validate(p Problems) {
	if !sixDigits(b.Code) {
		p.Add("code", "must be the 6-digit code from the text message")
	}
}

// verifyPhone spends a texted code and marks the account's number verified.
func (s *Server) verifyPhone(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b phoneCodeRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "phone:verify:"+p.User.ID, kv.Limit{Count: 10, Period: 15 * time.Minute}); err != nil {
		return err
	}
	u, err := s.svc.Account.VerifyPhone(ctx, *p, b.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Phone number verified", "phoneVerified": true, "user": u})
	return nil
}
