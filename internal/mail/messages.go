package mail

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"
)

// VerificationCodeMessage is the email that carries a sign-up code. The code comes
// first in the text, so a reader (or a script) finds it before anything else
// that looks like a number. publicURL is the web app's base address.
func VerificationCodeMessage(publicURL, to, fullName, code string, ttl time.Duration) Message {
	link := strings.TrimRight(publicURL, "/") + "/verify-email?email=" + url.QueryEscape(to)
	life := humanDuration(ttl)
	text := fmt.Sprintf("Your CareCircle verification code is %s\n\n"+
		"Hi %s,\n\nEnter this code to finish creating your account: %s\n"+
		"It expires in %s.\n\nIf you did not sign up for CareCircle, you can ignore this email.\n",
		code, fullName, link, life)
	body := fmt.Sprintf(`<p>Hi %s,</p>
<p>Your CareCircle verification code is</p>
<p style="font-size:24px;font-weight:bold;letter-spacing:4px">%s</p>
<p>Enter it on the <a href="%s">verification page</a> to finish creating your account. It expires in %s.</p>
<p>If you did not sign up for CareCircle, you can ignore this email.</p>`,
		html.EscapeString(fullName), html.EscapeString(code), html.EscapeString(link), life)
	return Message{
		To:       to,
		Subject:  "Your CareCircle verification code",
		Text:     text,
		HTML:     page(body),
		Template: "verification-code",
	}
}

// PasswordResetMessage is the email with a link to choose a new password:
// publicURL/reset-password?token=….
func PasswordResetMessage(publicURL, to, fullName, token string, ttl time.Duration) Message {
	link := strings.TrimRight(publicURL, "/") + "/reset-password?token=" + url.QueryEscape(token)
	life := humanDuration(ttl)
	text := fmt.Sprintf("Hi %s,\n\nSomeone asked to reset the password of your CareCircle account.\n"+
		"To choose a new password, open this link within %s:\n\n%s\n\n"+
		"If it was not you, ignore this email: your password stays as it is.\n",
		fullName, life, link)
	body := fmt.Sprintf(`<p>Hi %s,</p>
<p>Someone asked to reset the password of your CareCircle account.</p>
<p><a href="%s">Choose a new password</a> (the link works for %s).</p>
<p>If it was not you, ignore this email: your password stays as it is.</p>`,
		html.EscapeString(fullName), html.EscapeString(link), life)
	return Message{
		To:       to,
		Subject:  "Reset your CareCircle password",
		Text:     text,
		HTML:     page(body),
		Template: "password-reset",
	}
}

// page wraps an HTML fragment in a minimal document.
func page(body string) string {
	return "<!doctype html>\n<html><body style=\"font-family:sans-serif;line-height:1.5\">\n" +
		body + "\n</body></html>\n"
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
