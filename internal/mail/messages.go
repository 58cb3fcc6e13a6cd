package mail

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// VerificationCodeMessage is the email that carries a sign-up code. The code comes
// first in the text, so a reader (or a script) finds it before anything else
// that looks like a number. publicURL is the web app's base address.
func VerificationCodeMessage(publicURL, to, fullName, code string, ttl time.Duration) Message {
	m := mustRender("email-verification", VerificationData{
		Name:      fullName,
		Code:      code,
		VerifyURL: strings.TrimRight(publicURL, "/") + "/verify-email?email=" + url.QueryEscape(to),
		ExpiresIn: ttl,
	})
	m.To = to
	return m
}

// PasswordResetMessage is the email with a link to choose a new password:
// publicURL/reset-password?token=….
func PasswordResetMessage(publicURL, to, fullName, token string, ttl time.Duration) Message {
	m := mustRender("password-reset", PasswordResetData{
		Name:      fullName,
		ResetURL:  strings.TrimRight(publicURL, "/") + "/reset-password?token=" + url.QueryEscape(token),
		ExpiresIn: ttl,
	})
	m.To = to
	return m
}

// humanDuration says a lifetime the way a person would: "5 minutes", "1 hour".
func humanDuration(d time.Duration) string {
	unit, n := "minute", int(d/time.Minute)
	if d >= time.Hour && d%time.Hour == 0 {
		unit, n = "hour", int(d/time.Hour)
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
