package care

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func medZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func medStr(s string) *string { return &s }

func TestParseScheduledTimes(t *testing.T) {
	t.Parallel()
	got, problems := ParseScheduledTimes([]string{"20:00", "08:00", "13:30"})
	if problems != nil || !reflect.DeepEqual(FormatClockTimes(got), []string{"08:00", "13:30", "20:00"}) {
		t.Fatalf("valid times = %v, %v", got, problems)
	}
	if got, problems := ParseScheduledTimes(nil); problems != nil || FormatClockTimes(got) == nil || len(got) != 0 {
		t.Fatalf("no times = %v, %v", got, problems)
	}
	tooMany := make([]string, 25)
	for i := range tooMany {
		tooMany[i] = ClockTime{i % 24, i / 24}.String()
	}
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"8:00"}, `"8:00" is not a time of day`},
		{[]string{"24:00"}, `"24:00" is not a time of day`},
		{[]string{"08:60"}, `"08:60" is not a time of day`},
		{[]string{"08:00", "12:00", "08:00"}, "08:00 is listed more than once"},
		{tooMany, "at most 24"},
	} {
		if _, problems := ParseScheduledTimes(tc.in); len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
			t.Errorf("ParseScheduledTimes(%v) problems = %v, want %q", tc.in, problems, tc.want)
		}
	}
}

func TestCheckDoseLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		active   bool
		existing DoseStatus // "" for none
		want     error
	}{
		{true, "", nil},
		{true, DosePending, nil},
		{true, DoseMissed, nil},
		{true, DoseGiven, ErrDoseAlreadyLogged},
		{true, DoseSkipped, ErrDoseAlreadyLogged},
		{false, "", ErrMedicationInactive},
		{false, DoseMissed, ErrMedicationInactive},
	} {
		var existing *MedicationLog
		if tc.existing != "" {
			existing = &MedicationLog{Status: tc.existing}
		}
		if err := CheckDoseLog(tc.active, existing); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("CheckDoseLog(%v, %q) = %v, want %v", tc.active, tc.existing, err, tc.want)
		}
	}
}

func TestDoseInstantsHonourDates(t *testing.T) {
	t.Parallel()
	tokyo := medZone(t, "Asia/Tokyo")
	times := []ClockTime{{8, 0}, {20, 0}}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	got := DoseInstants(times, tokyo, medStr("2026-03-03"), medStr("2026-03-04"), from, to)
	var local []string
	for _, d := range got {
		local = append(local, d.In(tokyo).Format("2006-01-02 15:04"))
	}
	want := []string{"2026-03-03 08:00", "2026-03-03 20:00", "2026-03-04 08:00", "2026-03-04 20:00"}
	if !reflect.DeepEqual(local, want) {
		t.Fatalf("doses = %v, want %v", local, want)
	}
	if n := len(DoseInstants(times, tokyo, nil, nil, from, to)); n != 10 {
		t.Fatalf("open-ended doses = %d, want 10", n)
	}
}

func TestCheckDoseTime(t *testing.T) {
	t.Parallel()
	// 2026-03-08 is the spring-forward day in New York: 08:00 EDT is 12:00Z,
	// while 08:00 the day before (EST) is 13:00Z.
	now := time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC)
	sched := MedicationSchedule{MedicationID: "m", Timezone: "America/New_York", Times: []ClockTime{{8, 0}, {20, 0}}}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		freq MedicationFrequency
		at   string
		ok   bool
	}{
		{"today's 08:00 after the change", FrequencyDaily, "2026-03-08T12:00:00Z", true},
		{"the same instant in local notation", FrequencyDaily, "2026-03-08T08:00:00-04:00", true},
		{"08:00 EST on the day of the change", FrequencyDaily, "2026-03-08T13:00:00Z", false},
		{"yesterday's 08:00 before the change", FrequencyDaily, "2026-03-07T13:00:00Z", true},
		{"tonight's dose", FrequencyDaily, "2026-03-09T00:00:00Z", true},
		{"tomorrow morning, within a day", FrequencyDaily, "2026-03-09T12:00:00Z", true},
		{"tomorrow night, beyond a day", FrequencyDaily, "2026-03-10T00:00:00Z", false},
		{"a minute off", FrequencyDaily, "2026-03-08T12:01:00Z", false},
		{"seven days back", FrequencyDaily, "2026-03-01T13:00:00Z", false}, // 08:00 EST on 03-01 is 7d2h back
		{"six days back", FrequencyDaily, "2026-03-02T13:00:00Z", true},
		{"as needed, any instant today", FrequencyAsNeeded, "2026-03-08T10:17:23Z", true},
		{"as needed, 23h ahead", FrequencyAsNeeded, "2026-03-09T14:00:00Z", true},
		{"as needed, 25h back", FrequencyAsNeeded, "2026-03-07T14:00:00Z", false},
	} {
		err := CheckDoseTime(tc.freq, sched, at(tc.at), now)
		var dte *DoseTimeError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.ok && (!errors.As(err, &dte) || !errors.Is(err, ErrNotADoseTime) || dte.Reason == ""):
			t.Errorf("%s: error = %v, want a DoseTimeError", tc.name, err)
		}
	}
	bounded := sched
	bounded.StartDate = medStr("2026-03-08")
	if err := CheckDoseTime(FrequencyDaily, bounded, at("2026-03-07T13:00:00Z"), now); !errors.Is(err, ErrNotADoseTime) {
		t.Fatalf("a dose before the start date = %v", err)
	}
}

func TestLocalDay(t *testing.T) {
	t.Parallel()
	// 20:00Z on 2 March is already 3 March in Tokyo.
	y, m, d, start, end := LocalDay(time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC), medZone(t, "Asia/Tokyo"))
	if y != 2026 || m != time.March || d != 3 || !start.Equal(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)) || end.Sub(start) != 24*time.Hour {
		t.Fatalf("Tokyo day = %d-%d-%d [%v, %v)", y, m, d, start, end)
	}
	// The spring-forward day in New York lasts 23 hours.
	_, _, d, start, end = LocalDay(time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC), medZone(t, "America/New_York"))
	if d != 8 || !start.Equal(time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)) || end.Sub(start) != 23*time.Hour {
		t.Fatalf("New York DST day = %d [%v, %v)", d, start, end)
	}
}

func TestDaySchedule(t *testing.T) {
	t.Parallel()
	ny := medZone(t, "America/New_York")
	now := time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC) // 11:00 EDT
	m := Medication{ID: "m", Frequency: FrequencyTwiceDaily, ScheduledTimes: []string{"02:00", "02:30", "08:00", "20:00"}}
	given := MedicationLog{ID: "l", ScheduledTime: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), Status: DoseGiven}
	e := DaySchedule(m, ny, 2026, time.March, 8, []MedicationLog{given}, now)
	type dose struct {
		time   string
		at     time.Time
		status DoseStatus
	}
	var got []dose
	for _, d := range e.Doses {
		got = append(got, dose{d.Time, d.ScheduledAt, d.Status})
	}
	// 02:00 and 02:30 fall in the DST gap and both mean 03:00 EDT (07:00Z):
	// one dose, not two.
	want := []dose{
		{"02:00", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), DosePending},
		{"08:00", time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), DoseGiven},
		{"20:00", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), DoseUpcoming},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("doses = %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(e.ScheduledTimes, m.ScheduledTimes) {
		t.Fatalf("scheduledTimes = %v, want the medication's %v", e.ScheduledTimes, m.ScheduledTimes)
	}
	if e.Doses[1].Log == nil || e.Doses[1].Log.ID != "l" || len(e.Logs) != 1 {
		t.Fatalf("the 08:00 dose lacks its log: %+v", e)
	}
	m.StartDate = medStr("2026-03-09")
	if e := DaySchedule(m, ny, 2026, time.March, 8, nil, now); len(e.Doses) != 0 || e.Logs == nil || len(e.ScheduledTimes) != 4 {
		t.Fatalf("before the start date = %+v", e)
	}
	m.StartDate, m.Frequency, m.ScheduledTimes = nil, FrequencyAsNeeded, []string{}
	if e := DaySchedule(m, ny, 2026, time.March, 8, []MedicationLog{given}, now); len(e.Doses) != 0 || len(e.Logs) != 1 || e.ScheduledTimes == nil {
		t.Fatalf("as needed = %+v", e)
	}
}
