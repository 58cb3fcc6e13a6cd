package care

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	// The zone database is embedded so IANA zones resolve on machines without
	// /usr/share/zoneinfo.
	_ "time/tzdata"
)

// DefaultTimezone is the zone of a user who names none.
const DefaultTimezone = "America/New_York"

// ValidTimezone reports whether name is an IANA zone such as "Asia/Tokyo".
// "Local" and the empty name are refused: a schedule must name its place.
func ValidTimezone(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// NormalizeEmail trims and lower-cases an address; ok is false when it is not
// a plain address (no display name, no angle brackets).
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", false
	}
	return s, true
}

// PasswordProblem explains why pw is not acceptable, or returns "".
// Passwords are 12–128 characters with a lower-case letter, an upper-case
// letter and a digit.
func PasswordProblem(pw string) string {
	n := utf8.RuneCountInString(pw)
	if n < 12 {
		return "must be at least 12 characters"
	}
	if n > 128 {
		return "must be at most 128 characters"
	}
	var lower, upper, digit bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		}
	}
	if !lower || !upper || !digit {
		return "must contain a lower-case letter, an upper-case letter and a digit"
	}
	return ""
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ()./-]{5,24}$`)

// ValidPhone reports whether s looks like a phone number.
func ValidPhone(s string) bool { return phonePattern.MatchString(s) }

// BloodTypes lists the accepted blood type values.
func BloodTypes() []string {
	return []string{"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-", "Unknown"}
}

// ValidBloodType reports whether s is one of BloodTypes.
func ValidBloodType(s string) bool {
	for _, b := range BloodTypes() {
		if s == b {
			return true
		}
	}
	return false
}

// ValidDate reports whether s is a calendar date YYYY-MM-DD.
func ValidDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// MaskEmail shows enough of an address to recognise it: "j***@x.com".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(email)
	return string(first) + "***" + email[at:]
}
