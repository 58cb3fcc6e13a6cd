// Package sms sends CareCircle's text messages — emergency alerts, opted-in
// notifications and phone verification codes — through a Twilio-compatible
// HTTP API, to E.164 numbers only. Failures are classified: ErrTemporary
// (the provider is rate limiting or failing, or could not be reached; try
// again later) or ErrPermanent (the number, the message or the account was
// refused; trying again will not help), with the provider's own error code
// and message in *APIError.
package sms

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Sender sends one text message to an E.164 number.
type Sender interface {
	SendSMS(ctx context.Context, to, body string) error
}

// ErrTemporary is wrapped by failures worth retrying later: a connection
// refused or timed out, an HTTP 429 or 5xx.
var ErrTemporary = errors.New("temporary SMS failure")

// ErrPermanent is wrapped by failures that retrying will not fix: an invalid
// or unreachable number, an empty or oversized message, rejected
// credentials — any HTTP 4xx other than 429.
var ErrPermanent = errors.New("permanent SMS failure")

// ErrInvalidNumber reports a number that is not in E.164 form (it also
// wraps ErrPermanent).
var ErrInvalidNumber = errors.New("sms: not an E.164 phone number")

// ErrInvalidBody reports an empty message or one longer than MaxBodyLength
// (it also wraps ErrPermanent).
var ErrInvalidBody = errors.New("sms: message body is empty or too long")

// MaxBodyLength is the most characters one message may carry; the provider
// splits it into segments.
const MaxBodyLength = 1600

// Temporary reports whether err is worth retrying later.
func Temporary(err error) bool { return errors.Is(err, ErrTemporary) }

// e164 is "+", a country code that does not start with 0, and at most 15
// digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidE164 reports whether s is a phone number in E.164 form, such as
// +15551234567.
func ValidE164(s string) bool { return e164.MatchString(s) }

// numberFormatting are the characters people write between digits.
var numberFormatting = strings.NewReplacer(" ", "", "\u00a0", "", "-", "", ".", "", "(", "", ")", "", "/", "")

// NormalizeE164 turns a number as people write it in international form
// ("+1 (555) 123-4567", "0044 20 7946 0000") into E.164. A number without
// its country code cannot be placed and fails with ErrInvalidNumber.
func NormalizeE164(s string) (string, error) {
	n := numberFormatting.Replace(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(n, "00"); ok {
		n = "+" + rest
	}
	if !ValidE164(n) {
		return "", ErrInvalidNumber
	}
	return n, nil
}

// validBody reports whether body can be sent as one message.
func validBody(body string) bool {
	return strings.TrimSpace(body) != "" && utf8.ValidString(body) && utf8.RuneCountInString(body) <= MaxBodyLength
}

// maskNumber keeps the country code's first digits and the last four, so
// logs and errors identify a number without revealing it.
func maskNumber(n string) string {
	if len(n) <= 6 {
		return strings.Repeat("*", len(n))
	}
	return n[:2] + strings.Repeat("*", len(n)-6) + n[len(n)-4:]
}
