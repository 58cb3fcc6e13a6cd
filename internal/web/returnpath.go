package web

import (
	"net/url"
	"strings"
	"unicode"
)

// defaultReturnPath is where a page sends the user when no safe return path
// was given.
const defaultReturnPath = "/dashboard"

// safeNext is the one check of every page's return path (?next=): it keeps
// a path on this site or answers defaultReturnPath. Browsers forgive a lot
// in a URL (they drop TABs and newlines, read "\" as "/", follow "//host"
// to another site), so the path is refused unless, as given and after each
// round of percent-decoding, it
//   - starts with exactly one "/" (no "//", no "/\", no scheme such as
//     "javascript:"),
//   - holds no control character, whitespace or backslash anywhere,
//   - parses as a path with no scheme and no host.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 {
		return defaultReturnPath
	}
	for s := next; ; {
		if !sameSitePath(s) {
			return defaultReturnPath
		}
		decoded, err := url.PathUnescape(s)
		if err != nil {
			return defaultReturnPath
		}
		if decoded == s {
			break
		}
		s = decoded
	}
	return next
}

// sameSitePath checks one decoding of a return path.
func sameSitePath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return false
	}
	for _, r := range s {
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar ||
			unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && !u.IsAbs()
}
