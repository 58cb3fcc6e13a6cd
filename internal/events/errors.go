package events

import "errors"

var (
	// ErrNacked reports that the broker refused to take responsibility for a
	// published message; the caller should publish it again later.
	ErrNacked = errors.New("events: broker nacked the message")
	// ErrConfirmTimeout reports that no publisher confirm arrived in time; the
	// message may or may not have been stored, so it should be published again.
	ErrConfirmTimeout = errors.New("events: no publisher confirm in time")
	// ErrClosed reports use of a closed Publisher.
	ErrClosed = errors.New("events: publisher closed")
)

// permanentError marks a handler failure that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return "permanent: " + p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as a failure that retrying will not fix, so the
// consumer dead-letters the message at once instead of retrying it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
