package api

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Bounds on the care data's free-text fields, in characters.
const (
	maxNameLen    = 100
	maxShortText  = 200
	maxAddressLen = 500
	maxNotesLen   = 5000
	maxListItems  = 50
	maxURLLen     = 2048
)

// line checks a required one-line text field (a name) and returns it trimmed.
func (p Problems) line(field, v string, max int) string {
	v = p.text(field, v, max)
	p.oneLine(field, &v)
	return v
}

// optLine checks an optional one-line text field; blank becomes nil.
func (p Problems) optLine(field string, v *string, max int) *string {
	t := p.optText(field, v, max)
	p.oneLine(field, t)
	return t
}

// oneLine refuses line breaks in names, which end up in email subjects.
func (p Problems) oneLine(field string, v *string) {
	if v != nil && strings.ContainsAny(*v, "\r\n") {
		p.Add(field, "must be a single line")
	}
}

// contactEmail checks an optional email field; blank becomes nil.
func (p Problems) contactEmail(field string, v *string) *string {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	e := p.email(field, *v)
	return &e
}

// webURL checks an optional http(s) URL field; blank becomes nil.
func (p Problems) webURL(field string, v *string) *string {
	t := p.optText(field, v, maxURLLen)
	if t == nil {
		return nil
	}
	u, err := url.Parse(*t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add(field, "must be an http or https URL")
	}
	return t
}

// birthDate checks an optional YYYY-MM-DD date that is not in the future
// anywhere on Earth (the latest zone is UTC+14) and not before 1900.
func (p Problems) birthDate(field string, v *string, now time.Time) *string {
	t := p.optText(field, v, 10)
	if t == nil {
		return nil
	}
	latest := now.UTC().Add(14 * time.Hour).Format(time.DateOnly)
	switch {
	case !care.ValidDate(*t):
		p.Add(field, "must be a date in the form YYYY-MM-DD")
	case *t > latest:
		p.Add(field, "must not be in the future")
	case *t < "1900-01-01":
		p.Add(field, "must not be before 1900-01-01")
	}
	return t
}

// bloodType checks an optional blood type; blank becomes nil.
func (p Problems) bloodType(field string, v *string) *string {
	t := p.optText(field, v, 10)
	if t != nil {
		p.oneOf(field, *t, care.BloodTypes()...)
	}
	return t
}

// stringList checks a list of short texts (allergies, conditions): at most
// maxListItems, each non-blank and at most maxShortText characters. It
// returns the trimmed items, never nil.
func (p Problems) stringList(field string, v []string) []string {
	if len(v) > maxListItems {
		p.Add(field, "must have at most "+strconv.Itoa(maxListItems)+" items")
		return []string{}
	}
	out := make([]string, 0, len(v))
	for i, item := range v {
		out = append(out, p.text(field+"["+strconv.Itoa(i)+"]", item, maxShortText))
	}
	return out
}

// The PATCH helpers below normalise an Optional in place: after validation
// a blank optional field reads as null.

// patchOptional checks an optional field of a PATCH body with check, which
// returns the normalised value (nil for blank).
func patchOptional(o *Optional[string], check func(*string) *string) {
	if !o.Set || o.Null {
		return
	}
	if t := check(&o.Value); t == nil {
		o.Null = true
	} else {
		o.Value = *t
	}
}

// patchRequired checks a required field of a PATCH body: it may be absent,
// but not null.
func (p Problems) patchRequired(field string, o *Optional[string], check func(string) string) {
	switch {
	case !o.Set:
	case o.Null:
		p.Add(field, "must not be null")
	default:
		o.Value = check(o.Value)
	}
}

// assign applies a PATCH value to an optional field: null clears it.
func assign[T any](dst **T, o Optional[T]) {
	if o.Set {
		*dst = o.Ptr()
	}
}

// assignRequired applies a PATCH value to a required field.
func assignRequired[T any](dst *T, o Optional[T]) {
	if o.Set && !o.Null {
		*dst = o.Value
	}
}
