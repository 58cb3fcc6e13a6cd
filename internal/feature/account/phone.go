package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/store"
)

// Phone verification: a 6-digit code texted to the account's number proves
// the user receives texts there. Only verified numbers are sent SMS.
const (
	PhoneCodeTTL      = 10 * time.Minute // lifetime of a texted code
	PhoneCodeMaxTries = 5                // wrong tries that void a code
	PhoneCodeCooldown = time.Minute      // least time between two texts
)

// ErrTextNotSent reports a verification text the provider or the server
// could not send; a new code may be asked for after PhoneCodeCooldown.
var ErrTextNotSent = errors.New("the text message could not be sent")

// errAlreadyVerified refuses to verify a number verified already.
var errAlreadyVerified = feature.Conflict("This phone number is already verified")

// unprocessable is a KindUnprocessable failure: the request is well formed
// but the account's state does not allow it.
func unprocessable(msg string) error { return feature.Errorf(feature.KindUnprocessable, "%s", msg) }

// SendPhoneCode texts a verification code to phone (in E.164 form), which
// becomes the account's number, unverified, or, when phone is nil, to the
// account's number, and answers the number texted. allow is asked, once
// the number is known and before anything is sent, whether another text
// may go to it (the caller's rate limits).
func (s *Service) SendPhoneCode(ctx context.Context, a feature.Actor, phone *string, allow func(phone string) error) (string, error) {
	if s.sms == nil {
		return "", feature.Conflict("Text messages are not set up on this server, so phone numbers cannot be verified")
	}
	u := a.User
	if phone == nil {
		if u.Phone == nil || *u.Phone == "" {
			return "", unprocessable(`The account has no phone number: send one as {"phone": "+15551234567"}`)
		}
		n, err := sms.NormalizeE164(*u.Phone)
		if err != nil {
			return "", unprocessable("The account's phone number has no country code: send it again with one, such as +15551234567")
		}
		phone = &n
	}
	if u.PhoneVerified && u.Phone != nil && *u.Phone == *phone {
		return "", errAlreadyVerified
	}
	if err := allow(*phone); err != nil {
		return "", err
	}
	key := store.UserKey(store.PurposePhoneVerify, u.ID)
	ok, retry, err := s.codes.Cooldown(ctx, key, PhoneCodeCooldown)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", tooMany(retry)
	}
	if u.Phone == nil || *u.Phone != *phone {
		// The number is stored as it will be texted; a new one is unverified.
		if u, err = s.b.Store.UpdateUser(ctx, u.ID, store.UserPatch{Phone: phone}); err != nil {
			return "", err
		}
	}
	code := auth.NewCode()
	if err := s.codes.Put(ctx, key, phoneCodeHash(u.ID, *phone, code), PhoneCodeTTL); err != nil {
		return "", err
	}
	if err := s.sms.SendSMS(ctx, *phone, phoneCodeText(s.public, code)); err != nil {
		return "", s.smsFailure(ctx, err)
	}
	return *phone, nil
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
		code, int(PhoneCodeTTL/time.Minute))
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		text += "\n\n@" + u.Host + " #" + code
	}
	return text
}

// smsFailure explains a text that did not go out: a number that cannot
// receive texts is the caller's to fix (KindUnprocessable); anything else
// is the provider's or the server's (ErrTextNotSent), logged here.
func (s *Service) smsFailure(ctx context.Context, err error) error {
	var apiErr *sms.APIError
	switch {
	case errors.Is(err, sms.ErrInvalidNumber):
		return unprocessable("This phone number cannot receive text messages")
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest:
		msg := "This phone number cannot receive text messages"
		if apiErr.Message != "" {
			msg += ": " + apiErr.Message
		}
		return unprocessable(msg)
	}
	s.b.Logger.ErrorContext(ctx, "verification text not sent", slog.Any("error", err),
		slog.Bool("temporary", sms.Temporary(err)), slog.String("requestId", feature.Correlation(ctx)))
	return ErrTextNotSent
}

// VerifyPhone spends a texted code and marks the account's number
// verified, answering the updated account.
func (s *Service) VerifyPhone(ctx context.Context, a feature.Actor, code string) (*care.User, error) {
	u := a.User
	if u.Phone == nil || *u.Phone == "" {
		return nil, unprocessable("The account has no phone number to verify")
	}
	if u.PhoneVerified {
		return nil, errAlreadyVerified
	}
	outcome, err := s.codes.Check(ctx, store.UserKey(store.PurposePhoneVerify, u.ID), phoneCodeHash(u.ID, *u.Phone, code), PhoneCodeMaxTries)
	if err != nil {
		return nil, err
	}
	if outcome != care.CodeAccepted {
		return nil, CodeRefusal(outcome)
	}
	u, err = s.b.Store.MarkPhoneVerified(ctx, u.ID, *u.Phone)
	if feature.IsNotFound(err) {
		return nil, feature.Conflict("The phone number changed after the code was sent. Request a new code.")
	}
	return u, err
}
