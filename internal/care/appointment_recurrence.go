package care

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Bounds on recurrence expansion. Nothing ever expands a rule without one:
// a rule may be unbounded (no COUNT, no UNTIL).
const (
	// MaxSeriesOccurrences is the most occurrences a series may store, and
	// the most virtual occurrences one listing returns.
	MaxSeriesOccurrences = 366
	// DefaultSeriesOccurrences is how many occurrences a series stores
	// unless asked otherwise.
	DefaultSeriesOccurrences = 52
	// maxRecurrenceInterval bounds INTERVAL.
	maxRecurrenceInterval = 366
	// firstOccurrenceWithin is how soon after DTSTART a rule must first occur.
	firstOccurrenceWithin = 10
	// maxSkippedOccurrences bounds how many occurrences a window listing
	// walks past before its window (a daily rule over 250 years).
	maxSkippedOccurrences = 100_000
)

// RecurrencePresets are the named recurrences a client may ask for instead
// of writing a rule.
func RecurrencePresets() []string {
	return []string{"none", "daily", "weekly", "biweekly", "monthly"}
}

// PresetRule is the RRULE of a named recurrence ("" for none); ok is false
// for an unknown name.
func PresetRule(preset string) (rule string, ok bool) {
	switch preset {
	case "none":
		return "", true
	case "daily":
		return "FREQ=DAILY", true
	case "weekly":
		return "FREQ=WEEKLY", true
	case "biweekly":
		return "FREQ=WEEKLY;INTERVAL=2", true
	case "monthly":
		return "FREQ=MONTHLY", true
	}
	return "", false
}

// RecurrenceError explains why a recurrence rule was refused; its message
// is fit to show a client.
type RecurrenceError struct{ Reason string }

// Error returns the reason.
func (e *RecurrenceError) Error() string { return e.Reason }

func recurrenceErr(format string, args ...any) error {
	return &RecurrenceError{Reason: fmt.Sprintf(format, args...)}
}

// Recurrence is a validated RFC 5545 recurrence rule whose DTSTART is an
// appointment's start, read as a wall-clock time in the care recipient's
// zone: every occurrence happens at that local time of day, across DST
// changes.
type Recurrence struct {
	opt rrule.ROption // Dtstart is in loc
	loc *time.Location
}

// ParseRecurrence reads a rule for a series starting at start in loc. text
// is "DTSTART...\nRRULE:..." or just "RRULE:..." or "FREQ=...". A DTSTART in
// text must name the instant start (as UTC, with a TZID, or as a local time
// in loc); the rule's DTSTART becomes start in loc either way.
//
// Accepted: FREQ of DAILY, WEEKLY, MONTHLY or YEARLY; INTERVAL up to 366;
// COUNT or UNTIL (not both); BYDAY, BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO,
// BYSETPOS, WKST. The time of day always comes from start, so BYHOUR,
// BYMINUTE and BYSECOND are refused, and so is a rule that does not occur
// within ten years of its start. Errors are *RecurrenceError.
func ParseRecurrence(text string, start time.Time, loc *time.Location) (*Recurrence, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return nil, recurrenceErr("must not be empty")
	}
	lines := strings.Split(text, "\n")
	var dtstart, rule string
	switch len(lines) {
	case 1:
		rule = lines[0]
	case 2:
		dtstart, rule = strings.TrimSpace(lines[0]), lines[1]
		if !strings.HasPrefix(strings.ToUpper(dtstart), "DTSTART") {
			return nil, recurrenceErr("must be an RRULE, optionally preceded by a DTSTART line")
		}
	default:
		return nil, recurrenceErr("must be an RRULE, optionally preceded by a DTSTART line")
	}
	// Names and values of an RRULE are case-insensitive (RFC 5545 3.1).
	rule = strings.ToUpper(strings.TrimSpace(rule))
	rule = strings.TrimPrefix(rule, "RRULE:")
	parts, err := ruleParts(rule)
	if err != nil {
		return nil, err
	}
	opt, err := rrule.StrToROptionInLocation(rule, loc)
	if err != nil {
		return nil, recurrenceErr("is not a valid RRULE: %v", err)
	}
	if until := parts["UNTIL"]; len(until) == len(rrule.DateFormat) {
		// A date UNTIL includes that whole local date.
		opt.Until = endOfLocalDate(opt.Until, loc)
	}
	start = start.Truncate(time.Second)
	if dtstart != "" {
		const name = "DTSTART"
		if len(dtstart) <= len(name)+1 || !strings.ContainsAny(dtstart[len(name):len(name)+1], ":;") {
			return nil, recurrenceErr("has a malformed DTSTART")
		}
		at, err := rrule.StrToDtStart(dtstart[len(name)+1:], loc)
		if err != nil {
			return nil, recurrenceErr("has a malformed DTSTART")
		}
		if !at.Equal(start) {
			return nil, recurrenceErr("DTSTART must be the appointment's startTime")
		}
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
	default:
		return nil, recurrenceErr("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
	}
	switch {
	case len(opt.Byhour) > 0 || len(opt.Byminute) > 0 || len(opt.Bysecond) > 0:
		return nil, recurrenceErr("must not have BYHOUR, BYMINUTE or BYSECOND: the time of day is the startTime's")
	case len(opt.Byeaster) > 0:
		return nil, recurrenceErr("must not have BYEASTER")
	case opt.Interval > maxRecurrenceInterval:
		return nil, recurrenceErr("INTERVAL must be at most %d", maxRecurrenceInterval)
	case opt.Count > 0 && !opt.Until.IsZero():
		return nil, recurrenceErr("must not have both COUNT and UNTIL")
	}
	opt.Dtstart = start.In(loc)
	if _, err := rrule.NewRRule(*opt); err != nil {
		return nil, recurrenceErr("is not a valid RRULE: %v", err)
	}
	r := &Recurrence{opt: *opt, loc: loc}
	if !r.occursSoon() {
		return nil, recurrenceErr("never occurs within %d years of its start", firstOccurrenceWithin)
	}
	return r, nil
}

// LoadRecurrence reads a stored rule, whose DTSTART line gives the series'
// start (as written by String).
func LoadRecurrence(text string, loc *time.Location) (*Recurrence, error) {
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	first = strings.TrimSpace(first)
	const name = "DTSTART"
	if len(first) <= len(name)+1 || !strings.EqualFold(first[:len(name)], name) {
		return nil, recurrenceErr("has no DTSTART")
	}
	start, err := rrule.StrToDtStart(first[len(name)+1:], loc)
	if err != nil {
		return nil, recurrenceErr("has a malformed DTSTART")
	}
	return ParseRecurrence(text, start, loc)
}

// ruleParts splits an RRULE into its parts, refusing what the rrule parser
// would silently read as "absent" (a zero or negative COUNT or INTERVAL) and
// repeated parts.
func ruleParts(rule string) (map[string]string, error) {
	parts := map[string]string{}
	for _, part := range strings.Split(rule, ";") {
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, recurrenceErr("is not a valid RRULE: %q is not NAME=VALUE", part)
		}
		if _, dup := parts[key]; dup {
			return nil, recurrenceErr("has %s more than once", key)
		}
		parts[key] = value
		if key == "COUNT" || key == "INTERVAL" {
			if n, err := strconv.Atoi(value); err != nil || n < 1 {
				return nil, recurrenceErr("%s must be a positive whole number", key)
			}
		}
	}
	return parts, nil
}

// endOfLocalDate is the last second of t's local date in loc.
func endOfLocalDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	return ClockTime{}.On(next.Year(), next.Month(), next.Day(), loc).Add(-time.Second).UTC()
}

// occursSoon reports whether the rule, without its COUNT and UNTIL, occurs
// within firstOccurrenceWithin years of its start. The rrule iterator skips
// non-matching dates one period at a time up to the year 9999, so a rule
// that never matches (the 30th of February) would spin for a long while.
// The Gregorian calendar repeats exactly every 400 years (146097 days,
// 20871 weeks), so the same rule started 400·k years later, close to 9999,
// matches on the same dates and gives up within a few hundred years.
func (r *Recurrence) occursSoon() bool {
	probe := r.opt
	probe.Count, probe.Until = 0, time.Time{}
	d := probe.Dtstart
	if k := (9989 - d.Year()) / 400; k > 0 {
		probe.Dtstart = time.Date(d.Year()+400*k, d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), 0, r.loc)
	}
	rule, err := rrule.NewRRule(probe)
	if err != nil {
		return false
	}
	first, ok := rule.Iterator()()
	return ok && !first.After(probe.Dtstart.AddDate(firstOccurrenceWithin, 0, 0))
}

// Start is the series' first possible instant (DTSTART).
func (r *Recurrence) Start() time.Time { return r.opt.Dtstart.UTC() }

// HasEnd reports whether the rule ends by itself (COUNT or UNTIL).
func (r *Recurrence) HasEnd() bool { return r.opt.Count > 0 || !r.opt.Until.IsZero() }

// EndOn ends the rule with the local date day (its last occurrence may fall
// on that date). It fails when the rule already has a COUNT or UNTIL.
func (r *Recurrence) EndOn(year int, month time.Month, day int) error {
	if r.HasEnd() {
		return recurrenceErr("already has a COUNT or UNTIL; give recurrenceEndDate or those, not both")
	}
	r.opt.Until = endOfLocalDate(time.Date(year, month, day, 12, 0, 0, 0, r.loc), r.loc)
	return nil
}

// String is the rule in RFC 5545 text with its DTSTART in the zone, e.g.
// "DTSTART;TZID=America/New_York:20260302T090000\nRRULE:FREQ=WEEKLY;COUNT=10".
func (r *Recurrence) String() string {
	opt := r.opt
	if !opt.Until.IsZero() {
		// UNTIL must be UTC when DTSTART names a zone (RFC 5545 3.3.10).
		opt.Until = opt.Until.UTC()
	}
	return opt.String()
}

// WithStartClock is the same rule with its DTSTART moved to the local time
// of day of at (in the rule's zone), on the same local date.
func (r *Recurrence) WithStartClock(at time.Time) *Recurrence {
	out := *r
	out.opt.Dtstart = AtLocalClock(r.opt.Dtstart, at, r.loc).In(r.loc)
	return &out
}

// Occurrence is one instant of a series: Index counts from the series'
// first occurrence (0).
type Occurrence struct {
	Index int
	Start time.Time
}

// iterate calls yield with each occurrence in order until yield returns
// false, the rule ends, or limit occurrences have been produced.
func (r *Recurrence) iterate(limit int, yield func(Occurrence) bool) {
	rule, err := rrule.NewRRule(r.opt)
	if err != nil {
		return // validated by ParseRecurrence
	}
	next := rule.Iterator()
	for i := 0; i < limit; i++ {
		t, ok := next()
		if !ok || !yield(Occurrence{Index: i, Start: r.normalize(t)}) {
			return
		}
	}
}

// normalize pins an occurrence to the DTSTART's local time of day on its
// local date, with the zone rules of ClockTime.On: a time skipped by a DST
// gap moves to the end of the gap, a repeated one takes its first instant.
func (r *Recurrence) normalize(t time.Time) time.Time {
	return AtLocalClock(t.In(r.loc), r.opt.Dtstart, r.loc)
}

// First returns the first n occurrences (fewer when the rule ends sooner).
func (r *Recurrence) First(n int) []Occurrence {
	out := []Occurrence{}
	r.iterate(n, func(o Occurrence) bool {
		out = append(out, o)
		return true
	})
	return out
}

// Between returns, in order, the occurrences of a series whose appointments
// last d and overlap [from, to), at most limit of them.
func (r *Recurrence) Between(from, to time.Time, d time.Duration, limit int) []Occurrence {
	out := []Occurrence{}
	skipped := 0
	r.iterate(maxSkippedOccurrences+limit, func(o Occurrence) bool {
		switch {
		case !o.Start.Before(to):
			return false
		case !o.Start.Add(d).After(from):
			skipped++
			return skipped < maxSkippedOccurrences
		}
		out = append(out, o)
		return len(out) < limit
	})
	return out
}

// AtLocalClock is the instant on day's local date in loc at clock's local
// time of day in loc (to the second), with the DST rules of ClockTime.On.
func AtLocalClock(day, clock time.Time, loc *time.Location) time.Time {
	y, m, d := day.In(loc).Date()
	c := clock.In(loc)
	at := ClockTime{Hour: c.Hour(), Minute: c.Minute()}.On(y, m, d, loc)
	return at.Add(time.Duration(c.Second()) * time.Second).UTC()
}
