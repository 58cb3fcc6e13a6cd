package care

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func starts(occ []Occurrence) []string {
	out := []string{}
	for _, o := range occ {
		out = append(out, o.Start.UTC().Format(time.RFC3339))
	}
	return out
}

func TestAppointmentTransitions(t *testing.T) {
	t.Parallel()
	all := []AppointmentStatus{AppointmentScheduled, AppointmentConfirmed, AppointmentCompleted, AppointmentCancelled, AppointmentNoShow}
	allowed := map[[2]AppointmentStatus]bool{
		{AppointmentScheduled, AppointmentConfirmed}: true,
		{AppointmentConfirmed, AppointmentCompleted}: true,
		{AppointmentScheduled, AppointmentCancelled}: true,
		{AppointmentScheduled, AppointmentNoShow}:    true,
		{AppointmentConfirmed, AppointmentCancelled}: true,
		{AppointmentConfirmed, AppointmentNoShow}:    true,
	}
	for _, from := range all {
		for _, to := range all {
			want := from == to || allowed[[2]AppointmentStatus{from, to}]
			if got := AppointmentTransitionAllowed(from, to); got != want {
				t.Errorf("%s -> %s: allowed %v, want %v", from, to, got, want)
			}
			a := Appointment{Status: from}
			err := a.SetStatus(to)
			if want != (err == nil) || (err != nil && (!errors.Is(err, ErrAppointmentTransition) || a.Status != from)) {
				t.Errorf("%s -> %s: SetStatus = %v, status %s", from, to, err, a.Status)
			}
		}
	}
}

func TestNormalizeReminderMinutes(t *testing.T) {
	t.Parallel()
	if got, why := NormalizeReminderMinutes(nil); why != "" || !slices.Equal(got, []int{60, 1440}) {
		t.Errorf("default = %v %q", got, why)
	}
	if got, why := NormalizeReminderMinutes([]int{}); why != "" || len(got) != 0 {
		t.Errorf("empty = %v %q", got, why)
	}
	if got, why := NormalizeReminderMinutes([]int{1440, 15, 1440, 0, 40320}); why != "" || !slices.Equal(got, []int{0, 15, 1440, 40320}) {
		t.Errorf("dedupe = %v %q", got, why)
	}
	for _, bad := range [][]int{{-1}, {40321}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}} {
		if _, why := NormalizeReminderMinutes(bad); why == "" {
			t.Errorf("%v accepted", bad)
		}
	}
	// Duplicates do not count against the limit.
	if _, why := NormalizeReminderMinutes([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10}); why != "" {
		t.Errorf("ten distinct refused: %s", why)
	}
}

func TestParseRecurrenceForms(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	start := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC) // Monday 09:00 EST
	want := []string{"2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"}
	for _, text := range []string{
		"FREQ=WEEKLY;COUNT=3",
		"freq=weekly;count=3",
		"RRULE:FREQ=WEEKLY;COUNT=3",
		"DTSTART:20260302T140000Z\nRRULE:FREQ=WEEKLY;COUNT=3",
		"DTSTART;TZID=America/New_York:20260302T090000\r\nRRULE:FREQ=WEEKLY;COUNT=3",
		"DTSTART:20260302T090000\nRRULE:FREQ=WEEKLY;COUNT=3", // floating: the care recipient's zone
		"  FREQ=WEEKLY;UNTIL=20260316T130000Z  ",
		"FREQ=WEEKLY;UNTIL=20260316", // a date UNTIL includes that day
	} {
		r, err := ParseRecurrence(text, start, ny)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if got := starts(r.First(10)); !slices.Equal(got, want) {
			t.Errorf("%q: occurrences %v, want %v", text, got, want)
		}
		// The stored text reads back to the same series.
		again, err := LoadRecurrence(r.String(), ny)
		if err != nil {
			t.Errorf("%q: reparse %q: %v", text, r.String(), err)
		} else if got := starts(again.First(10)); !slices.Equal(got, want) {
			t.Errorf("%q: reparsed occurrences %v", text, got)
		}
	}
	if _, err := LoadRecurrence("FREQ=WEEKLY", ny); err == nil {
		t.Error("LoadRecurrence accepted a rule without DTSTART")
	}
	r, _ := ParseRecurrence("FREQ=WEEKLY;COUNT=3", start, ny)
	if got := r.String(); got != "DTSTART;TZID=America/New_York:20260302T090000\nRRULE:FREQ=WEEKLY;COUNT=3" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseRecurrenceRefusals(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	start := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	for _, text := range []string{
		"",
		"WEEKLY",
		"FREQ=FORTNIGHTLY",
		"BYDAY=MO",
		"FREQ=HOURLY",
		"FREQ=MINUTELY;COUNT=5",
		"FREQ=WEEKLY;BYHOUR=9",
		"FREQ=DAILY;BYMINUTE=30",
		"FREQ=WEEKLY;COUNT=0",
		"FREQ=WEEKLY;COUNT=-3",
		"FREQ=WEEKLY;COUNT=many",
		"FREQ=WEEKLY;INTERVAL=0",
		"FREQ=WEEKLY;INTERVAL=1000",
		"FREQ=WEEKLY;COUNT=2;UNTIL=20270101T000000Z",
		"FREQ=WEEKLY;BYDAY=XX",
		"FREQ=WEEKLY;;",
		"FREQ=WEEKLY;FREQ=DAILY",
		"FREQ=WEEKLY;COLOR=RED",
		"FREQ=MONTHLY;BYMONTHDAY=40",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
		"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=40",
		"FREQ=YEARLY;BYEASTER=0",
		"DTSTART:garbage\nRRULE:FREQ=DAILY",
		"DTSTART\nRRULE:FREQ=DAILY",
		"DTSTART:20260303T140000Z\nRRULE:FREQ=DAILY",                  // not the startTime
		"DTSTART;TZID=Mars/Olympus:20260302T090000\nRRULE:FREQ=DAILY", // unknown zone
		"RRULE:FREQ=DAILY\nDTSTART:20260302T140000Z",
		"DTSTART:20260302T140000Z\nRRULE:FREQ=DAILY\nEXDATE:20260303T140000Z",
	} {
		_, err := ParseRecurrence(text, start, ny)
		var re *RecurrenceError
		if !errors.As(err, &re) || re.Reason == "" {
			t.Errorf("%q: err = %v, want a RecurrenceError", text, err)
		}
	}
}

func TestRecurrenceKeepsLocalTimeAcrossDST(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	// Daily at 02:30 New York time: 2026-03-08 has no 02:30 (clocks jump
	// to 03:00), so that day's occurrence is at 03:00 EDT.
	r, err := ParseRecurrence("FREQ=DAILY;COUNT=3", time.Date(2026, 3, 7, 7, 30, 0, 0, time.UTC), ny)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := starts(r.First(5)), []string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}; !slices.Equal(got, want) {
		t.Errorf("spring forward: %v, want %v", got, want)
	}
	// Daily at 01:30: on 2026-11-01 it happens twice; the first (EDT) counts.
	r, err = ParseRecurrence("FREQ=DAILY;COUNT=3", time.Date(2026, 10, 31, 5, 30, 0, 0, time.UTC), ny)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := starts(r.First(5)), []string{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}; !slices.Equal(got, want) {
		t.Errorf("fall back: %v, want %v", got, want)
	}
	// Monthly on the 31st skips shorter months, as RFC 5545 says.
	r, err = ParseRecurrence("FREQ=MONTHLY;COUNT=3", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), mustZone(t, "Asia/Tokyo"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := starts(r.First(5)), []string{"2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"}; !slices.Equal(got, want) {
		t.Errorf("monthly 31st: %v, want %v", got, want)
	}
}

func TestRecurrenceBoundsAndEnds(t *testing.T) {
	t.Parallel()
	tokyo := mustZone(t, "Asia/Tokyo")
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // 09:00 in Tokyo
	huge, err := ParseRecurrence("FREQ=DAILY;COUNT=10000", start, tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if got := huge.First(52); len(got) != 52 || got[51].Index != 51 {
		t.Errorf("First(52) of COUNT=10000 gave %d", len(got))
	}
	unbounded, err := ParseRecurrence("FREQ=WEEKLY", start, tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if unbounded.HasEnd() || len(unbounded.First(MaxSeriesOccurrences)) != MaxSeriesOccurrences {
		t.Error("unbounded rule not capped by its limit")
	}
	short, _ := ParseRecurrence("FREQ=WEEKLY;COUNT=2", start, tokyo)
	if got := short.First(52); len(got) != 2 {
		t.Errorf("COUNT=2 gave %d", len(got))
	}
	// An end date includes occurrences on that local date.
	ends, _ := ParseRecurrence("FREQ=WEEKLY", start, tokyo)
	if err := ends.EndOn(2026, 3, 16); err != nil {
		t.Fatal(err)
	}
	if got := starts(ends.First(52)); !slices.Equal(got, []string{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"}) {
		t.Errorf("EndOn: %v", got)
	}
	if !strings.Contains(ends.String(), "UNTIL=20260316T145959Z") {
		t.Errorf("EndOn rule %q", ends.String())
	}
	if err := short.EndOn(2026, 4, 1); err == nil {
		t.Error("EndOn accepted a rule with COUNT")
	}
}

func TestRecurrenceBetween(t *testing.T) {
	t.Parallel()
	tokyo := mustZone(t, "Asia/Tokyo")
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	r, _ := ParseRecurrence("FREQ=DAILY", start, tokyo)
	// A one-hour appointment that started before the window still overlaps it.
	got := r.Between(time.Date(2026, 3, 10, 0, 30, 0, 0, time.UTC), time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC), time.Hour, 100)
	if s := starts(got); !slices.Equal(s, []string{"2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z", "2026-03-12T00:00:00Z"}) || got[0].Index != 8 {
		t.Errorf("Between: %v (first index %d)", s, got[0].Index)
	}
	if got := r.Between(start, start.AddDate(5, 0, 0), time.Hour, MaxSeriesOccurrences); len(got) != MaxSeriesOccurrences {
		t.Errorf("Between capped at %d", len(got))
	}
	if got := r.Between(start.AddDate(0, 0, -10), start, time.Hour, 10); len(got) != 0 {
		t.Errorf("Between before the start: %v", starts(got))
	}
}

func TestRecurrenceWithStartClock(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	r, _ := ParseRecurrence("FREQ=WEEKLY;COUNT=2", time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), ny)
	// Move to 10:30 New York time, given as an instant on another day.
	moved := r.WithStartClock(time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC))
	if got := starts(moved.First(5)); !slices.Equal(got, []string{"2026-03-02T15:30:00Z", "2026-03-09T14:30:00Z"}) {
		t.Errorf("moved: %v", got)
	}
	if got := AtLocalClock(time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), time.Date(2026, 1, 5, 16, 15, 30, 0, time.UTC), ny); !got.Equal(time.Date(2026, 3, 9, 15, 15, 30, 0, time.UTC)) {
		t.Errorf("AtLocalClock = %v", got)
	}
}

func TestSummarizeSeries(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC) }
	s1, s2 := "s1", "s2"
	mk := func(id string, series *string, d int, st AppointmentStatus, title string) Appointment {
		return Appointment{ID: id, RecurringSeriesID: series, StartTime: day(d), Status: st, Title: title, Type: AppointmentOther}
	}
	got := SummarizeSeries([]Appointment{
		mk("a", &s1, 1, AppointmentCompleted, "old"),
		mk("x", nil, 2, AppointmentScheduled, "single"),
		mk("b", &s1, 8, AppointmentCancelled, "old"),
		mk("c", &s2, 9, AppointmentCancelled, "gone"),
		mk("d", &s1, 15, AppointmentScheduled, "new"),
		mk("e", &s1, 22, AppointmentConfirmed, "new"),
	}, day(10))
	if len(got) != 2 {
		t.Fatalf("%d series", len(got))
	}
	a, b := got[0], got[1]
	if a.SeriesID != "s1" || a.TotalCount != 4 || a.OpenCount != 2 || !a.FirstOccurrence.Equal(day(1)) ||
		!a.LastOccurrence.Equal(day(22)) || a.NextOccurrence == nil || !a.NextOccurrence.Equal(day(15)) ||
		*a.NextAppointmentID != "d" || a.Title != "new" {
		t.Errorf("s1 = %+v", a)
	}
	if b.SeriesID != "s2" || b.TotalCount != 1 || b.OpenCount != 0 || b.NextOccurrence != nil || b.Title != "gone" {
		t.Errorf("s2 = %+v", b)
	}
}
