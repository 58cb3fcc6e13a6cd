package mail

import "errors"

// ErrTemporary is wrapped by delivery failures worth retrying later through
// the same provider: a refused connection, a timeout, an SMTP 4xx reply, an
// HTTP 429 or 5xx.
var ErrTemporary = errors.New("temporary delivery failure")

// ErrPermanent is wrapped by delivery failures that retrying through the same
// provider will not fix: a rejected address or credentials, an SMTP 5xx
// reply, an HTTP 4xx other than 429.
var ErrPermanent = errors.New("permanent delivery failure")

// ErrQuotaExceeded is returned when routine mail does not fit the day's
// quota of any provider; the caller defers it to NextDay or sends it by
// push or in-app instead.
var ErrQuotaExceeded = errors.New("mail: daily email quota exceeded")

// Temporary reports whether err, or any failure joined into it, is worth
// retrying later.
func Temporary(err error) bool { return errors.Is(err, ErrTemporary) }
