package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/store"
)

// Phone verification: a 6-digit code texted to the account's number proves
// the user receives texts there. Only verified numbers are sent SMS.
const (
	phoneCodeTTL      = 10 * time.Minute // lifetime of a texted code
	phoneCodeMaxTries = 5                // wrong tries that void a code
	phoneCodeCooldown = time.Minute      // least time between two texts
)

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
// becomes the account's, unverified) or to the account's number.
func (s *Server) sendPhoneCode(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b phoneVerificationRequest
	if err := decodeOptional(w, r, &b); err != nil {
		return err
	}
	if s.sms == nil {
		return conflict("Text messages are not set up on this server, so phone numbers cannot be verified")
	}
	ctx := r.Context()
	u := p.User
	phone := b.Phone
	if phone == nil {
		if u.Phone == nil || *u.Phone == "" {
			return unprocessable(`The account has no phone number: send one as {"phone": "+15551234567"}`)
		}
		n, err := sms.NormalizeE164(*u.Phone)
		if err != nil {
			return unprocessable("The account's phone number has no country code: send it again with one, such as +15551234567")
		}
		phone = &n
	}
	if u.PhoneVerified && u.Phone != nil && *u.Phone == *phone {
		return conflict("This phone number is already verified")
	}
	// Each text costs money and reaches a person: bound them per account
	// and per number, whoever asks.
	if err := s.limit(ctx, "phone:code:"+u.ID, kv.Limit{Count: 5, Period: time.Hour}); err != nil {
		return err
	}
	if err := s.limit(ctx, "phone:code-to:"+*phone, kv.Limit{Count: 5, Period: time.Hour}); err != nil {
		return err
	}
	key := store.UserKey(store.PurposePhoneVerify, u.ID)
	ok, retry, err := s.codes.Cooldown(ctx, key, phoneCodeCooldown)
	if err != nil {
		return err
	}
	if !ok {
		return tooManyRequests(retry)
	}
	if u.Phone == nil || *u.Phone != *phone {
		// The number is stored as it will be texted; a new one is unverified.
		if u, err = s.store.UpdateUser(ctx, u.ID, store.UserPatch{Phone: phone}); err != nil {
			return err
		}
	}
	code := auth.NewCode()
	if err := s.codes.Put(ctx, key, phoneCodeHash(u.ID, *phone, code), phoneCodeTTL); err != nil {
		return err
	}
	if err := s.sms.SendSMS(ctx, *phone, phoneCodeText(s.cfg.PublicURL, code)); err != nil {
		return s.smsFailure(ctx, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message":          "A verification code has been sent by text message.",
		"phone":            *phone,
		"expiresInSeconds": int(phoneCodeTTL / time.Second),
	})
	return nil
}

// phoneCodeHash is the stored form of a code, bound to its user and to the
// number it was texted to: once the account's number changes, a code sent
// to the old one proves nothing.
func phoneCodeHash(userID, phone, code string) string {
	return auth.HashToken(string(store.PurposePhoneVerify) + ":" + userID + ":" + phone + ":" + code)
}

// phoneCodeText is the text message. Its last line binds the code to the
// app's origin (WebOTP), so a browser can offer to fill it in.
func phoneCodeText(publicURL, code string) string {
	text := fmt.Sprintf("CareCircle: your verification code is %s. It expires in %d minutes. Do not share it.",
		code, int(phoneCodeTTL/time.Minute))
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		text += "\n\n@" + u.Host + " #" + code
	}
	return text
}

// smsFailure explains a text that did not go out: a number that cannot
// receive texts is the caller's to fix (422); anything else is the
// provider's or the server's, to try again after the cooldown.
func (s *Server) smsFailure(ctx context.Context, err error) error {
	var apiErr *sms.APIError
	switch {
	case errors.Is(err, sms.ErrInvalidNumber):
		return unprocessable("This phone number cannot receive text messages")
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest:
		msg := "This phone number cannot receive text messages"
		if apiErr.Message != "" {
			msg += ": " + apiErr.Message
		}
		return unprocessable("%s", msg)
	}
	s.logger.ErrorContext(ctx, "verification text not sent", slog.Any("error", err),
		slog.Bool("temporary", sms.Temporary(err)), slog.String("requestId", requestID(ctx)))
	return &Error{
		Status:  http.StatusBadGateway,
		Message: "The text message could not be sent. Try again in a minute.",
		Header:  http.Header{"Retry-After": {strconv.Itoa(int(phoneCodeCooldown / time.Second))}},
	}
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
	u := p.User
	if u.Phone == nil || *u.Phone == "" {
		return unprocessable("The account has no phone number to verify")
	}
	if u.PhoneVerified {
		return conflict("This phone number is already verified")
	}
	outcome, err := s.codes.Check(ctx, store.UserKey(store.PurposePhoneVerify, u.ID), phoneCodeHash(u.ID, *u.Phone, b.Code), phoneCodeMaxTries)
	if err != nil {
		return err
	}
	if outcome != care.CodeAccepted {
		return codeRefusal(outcome)
	}
	u, err = s.store.MarkPhoneVerified(ctx, u.ID, *u.Phone)
	if errors.Is(err, store.ErrNotFound) {
		return conflict("The phone number changed after the code was sent. Request a new code.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Phone number verified", "phoneVerified": true, "user": u})
	return nil
}

// unprocessable is a 422: the request is well formed but the account's
// state does not allow it.
func unprocessable(format string, args ...any) *Error {
	return errorf(http.StatusUnprocessableEntity, format, args...)
}
