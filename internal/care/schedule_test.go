package care

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseClockTime(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"00:00", "08:00", "23:59"} {
		if c, err := ParseClockTime(ok); err != nil || c.String() != ok {
			t.Errorf("%s: %v %v", ok, c, err)
		}
	}
	for _, bad := range []string{"", "8:00", "24:00", "12:60", "aa:bb", "12:00:00", "-1:00", "12-00"} {
		if _, err := ParseClockTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClockTimeOnAcrossDST(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	cases := []struct {
		name string
		c    ClockTime
		date [3]int
		want string
	}{
		{"winter 08:00", ClockTime{8, 0}, [3]int{2026, 1, 15}, "2026-01-15T13:00:00Z"},
		{"summer 08:00", ClockTime{8, 0}, [3]int{2026, 7, 15}, "2026-07-15T12:00:00Z"},
		{"spring-forward day 08:00", ClockTime{8, 0}, [3]int{2026, 3, 8}, "2026-03-08T12:00:00Z"},
		{"fall-back day 08:00", ClockTime{8, 0}, [3]int{2026, 11, 1}, "2026-11-01T13:00:00Z"},
		// 02:30 does not exist on 8 March 2026: fire at 03:00 EDT.
		{"in the gap", ClockTime{2, 30}, [3]int{2026, 3, 8}, "2026-03-08T07:00:00Z"},
		{"gap start", ClockTime{2, 0}, [3]int{2026, 3, 8}, "2026-03-08T07:00:00Z"},
		{"after gap", ClockTime{3, 0}, [3]int{2026, 3, 8}, "2026-03-08T07:00:00Z"},
		// 01:30 happens twice on 1 November 2026: fire at the first (EDT).
		{"in the overlap", ClockTime{1, 30}, [3]int{2026, 11, 1}, "2026-11-01T05:30:00Z"},
	}
	for _, tc := range cases {
		got := tc.c.On(tc.date[0], time.Month(tc.date[1]), tc.date[2], ny)
		if !got.Equal(utc(tc.want)) {
			t.Errorf("%s: got %s, want %s", tc.name, got.UTC().Format(time.RFC3339), tc.want)
		}
	}
}

func TestClockTimeOnOtherZones(t *testing.T) {
	t.Parallel()
	tokyo := mustLoc(t, "Asia/Tokyo")
	if got := (ClockTime{8, 0}).On(2026, 3, 8, tokyo); !got.Equal(utc("2026-03-07T23:00:00Z")) {
		t.Errorf("Tokyo 08:00 = %s", got.UTC())
	}
	// Lord Howe shifts by 30 minutes; 02:15 is in its gap on 4 Oct 2026.
	lh := mustLoc(t, "Australia/Lord_Howe")
	got := (ClockTime{2, 15}).On(2026, 10, 4, lh)
	if h, m, _ := got.In(lh).Clock(); h != 2 || m != 30 {
		t.Errorf("Lord Howe gap time fired at local %02d:%02d, want 02:30", h, m)
	}
}

func TestOccurrencesEachOnce(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	times := []ClockTime{{1, 30}, {8, 0}}
	got := Occurrences(times, ny, utc("2026-10-31T12:00:00Z"), utc("2026-11-02T12:00:00Z"))
	want := []string{
		"2026-11-01T05:30:00Z", // 01:30 EDT, once despite the repeat
		"2026-11-01T13:00:00Z", // 08:00 EST
		"2026-11-02T06:30:00Z", // 01:30 EST
	}
	// The window starts at 08:00 EDT on the 31st, so that 08:00 is included.
	want = append([]string{"2026-10-31T12:00:00Z"}, want...)
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(utc(want[i])) {
			t.Errorf("[%d] got %s, want %s", i, got[i].UTC().Format(time.RFC3339), want[i])
		}
	}
	if Occurrences(times, ny, utc("2026-01-02T00:00:00Z"), utc("2026-01-01T00:00:00Z")) != nil {
		t.Error("empty window produced instants")
	}
}
