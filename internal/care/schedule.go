package care

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ClockTime is a wall-clock time of day ("08:00"), meaningful only with the
// zone of the person whose schedule it is.
type ClockTime struct {
	Hour, Minute int
}

// ParseClockTime reads "HH:mm" (24-hour, zero-padded).
func ParseClockTime(s string) (ClockTime, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return ClockTime{}, fmt.Errorf("%q is not HH:mm", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return ClockTime{}, fmt.Errorf("%q is not HH:mm", s)
	}
	return ClockTime{hh, mm}, nil
}

// String formats the time as "HH:mm".
func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// On returns the instant at which this wall-clock time occurs on the given
// local date in loc. A time skipped by a DST gap occurs at the first instant
// after the gap (02:30 on a spring-forward night is 03:00); a time repeated
// by a DST overlap occurs once, at its first occurrence.
func (c ClockTime) On(year int, month time.Month, day int, loc *time.Location) time.Time {
	guess := time.Date(year, month, day, c.Hour, c.Minute, 0, 0, loc)
	// The offsets in force around the guess; a transition changes it by at
	// most a few hours, so these cover both sides of any transition.
	offsets := map[int]bool{}
	for _, d := range []time.Duration{-6 * time.Hour, 0, 6 * time.Hour} {
		_, off := guess.Add(d).Zone()
		offsets[off] = true
	}
	wall := time.Date(year, month, day, c.Hour, c.Minute, 0, 0, time.UTC)
	var valid []time.Time
	for off := range offsets {
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if y, mo, d := t.Date(); y == year && mo == month && d == day && t.Hour() == c.Hour && t.Minute() == c.Minute {
			valid = append(valid, t)
		}
	}
	if len(valid) > 0 {
		sort.Slice(valid, func(i, j int) bool { return valid[i].Before(valid[j]) })
		return valid[0]
	}
	// In a gap: every interpretation lands outside it. The one read with the
	// earlier offset lies after the transition; its zone period starts at the
	// transition, which is the first instant after the gap.
	minOff := 1 << 30
	for off := range offsets {
		minOff = min(minOff, off)
	}
	after := wall.Add(-time.Duration(minOff) * time.Second).In(loc)
	start, _ := after.ZoneBounds()
	return start
}

// Occurrences returns every instant in [from, to) at which one of times
// occurs in loc, in order, each once.
func Occurrences(times []ClockTime, loc *time.Location, from, to time.Time) []time.Time {
	if !from.Before(to) || len(times) == 0 {
		return nil
	}
	var out []time.Time
	// Local dates from the day before from to the day after to, so instants
	// near midnight and transitions are never missed.
	first, last := civilDate(from.In(loc)).AddDate(0, 0, -1), civilDate(to.In(loc)).AddDate(0, 0, 1)
	seen := map[int64]bool{}
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		for _, c := range times {
			t := c.On(day.Year(), day.Month(), day.Day(), loc)
			if !t.Before(from) && t.Before(to) && !seen[t.Unix()] {
				seen[t.Unix()] = true
				out = append(out, t)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// civilDate is the calendar date of t as midnight UTC, for day arithmetic
// free of zone transitions.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
