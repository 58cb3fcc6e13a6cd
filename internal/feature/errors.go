package feature

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/store"
)

// Kind is what went wrong, in terms a caller can show: the API answers
// each kind with its HTTP status, the pages with a page.
type Kind uint8

// The kinds of failure a command or query reports.
const (
	KindInvalid         Kind = iota + 1 // the input breaks a rule (400)
	KindUnauthenticated                 // who is asking is not known (401)
	KindForbidden                       // the actor may not do this (403)
	KindNotFound                        // no such thing, or not the actor's to see (404)
	KindConflict                        // the state does not allow it (409)
	KindGone                            // it existed and has ended (410)
	KindTooLarge                        // the input is too big (413)
	KindUnsupported                     // a kind of input not taken (415)
	KindUnprocessable                   // well formed but unusable (422)
	KindTooMany                         // slow down (429)
	KindNotImplemented                  // not offered by this deployment (501)
	KindUnavailable                     // a part it needs is away (503)
)

// Error is a failure a caller may show: its Kind and a message for people.
type Error struct {
	Kind    Kind
	Message string
	// Fields name the inputs at fault, with their reasons (KindInvalid).
	Fields map[string][]string
	// RetryAfter says when to try again (KindTooMany, KindUnavailable).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an Error of kind k.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports input that breaks a rule.
func Invalid(format string, args ...any) *Error { return Errorf(KindInvalid, format, args...) }

// Forbidden reports that the actor may not do this.
func Forbidden(format string, args ...any) *Error { return Errorf(KindForbidden, format, args...) }

// NotFound reports that what (a noun: "Medication") does not exist or is
// not the actor's to see.
func NotFound(what string) *Error { return Errorf(KindNotFound, "%s not found", what) }

// Conflict reports that the current state does not allow the change.
func Conflict(format string, args ...any) *Error { return Errorf(KindConflict, format, args...) }

// Fields reports input at fault, field by field; nil when there is none.
// Its message names the fields, as the contract's envelope does.
func Fields(problems map[string][]string) error {
	if len(problems) == 0 {
		return nil
	}
	names := make([]string, 0, len(problems))
	for f := range problems {
		names = append(names, f)
	}
	sort.Strings(names)
	return &Error{Kind: KindInvalid, Message: "Validation failed for: " + strings.Join(names, ", "), Fields: problems}
}

// FieldError reports one field at fault.
func FieldError(field, reason string) error {
	return Fields(map[string][]string{field: {reason}})
}

// IsNotFound reports whether err is the store's "no such row".
func IsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// KindOf returns err's Kind, or 0 for a fault.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// AsError returns the Error a caller may show for err: err itself when it
// is one, or the meaning of the store's sentinels (no such row, a
// concurrent or duplicate write, a reference to nothing); false for a
// fault.
func AsError(err error) (*Error, bool) {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e, true
	case errors.Is(err, store.ErrNotFound):
		return NotFound("Resource"), true
	case errors.Is(err, store.ErrConflict):
		return Conflict("The resource already exists or was changed concurrently"), true
	case errors.Is(err, store.ErrReference):
		return Invalid("A referenced resource does not exist"), true
	}
	return nil, false
}
