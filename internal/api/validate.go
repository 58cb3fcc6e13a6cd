package api

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/carecircle/carecircle/internal/care"
)

// text checks a required free-text field: trimmed, non-empty, at most max
// characters, no control characters. It returns the trimmed value.
func (p Problems) text(field, v string, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		p.Add(field, "is required")
	default:
		p.checkText(field, v, max)
	}
	return v
}

// optText checks an optional free-text field; empty becomes nil.
func (p Problems) optText(field string, v *string, max int) *string {
	if v == nil {
		return nil
	}
	t := strings.TrimSpace(*v)
	if t == "" {
		return nil
	}
	p.checkText(field, t, max)
	return &t
}

func (p Problems) checkText(field, v string, max int) {
	if n := utf8.RuneCountInString(v); n > max {
		p.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			p.Add(field, "must not contain control characters")
			return
		}
	}
}

// email checks and normalises an email field.
func (p Problems) email(field, v string) string {
	e, ok := care.NormalizeEmail(v)
	if !ok {
		p.Add(field, "must be a valid email address")
	}
	return e
}

// timezone checks an IANA zone field.
func (p Problems) timezone(field, v string) {
	if !care.ValidTimezone(v) {
		p.Add(field, "must be an IANA time zone such as America/New_York")
	}
}

// phone checks an optional phone field.
func (p Problems) phone(field string, v *string) *string {
	t := p.optText(field, v, 32)
	if t != nil && !care.ValidPhone(*t) {
		p.Add(field, "must be a phone number")
	}
	return t
}

// uuidField checks a required UUID field.
func (p Problems) uuidField(field, v string) {
	if !validUUID(v) {
		p.Add(field, "must be a UUID")
	}
}

// oneOf checks that v is one of the allowed values.
func (p Problems) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.Add(field, "must be one of "+strings.Join(allowed, ", "))
}

// password checks a new password against the policy.
func (p Problems) password(field, v string) {
	if why := care.PasswordProblem(v); why != "" {
		p.Add(field, why)
	}
}
