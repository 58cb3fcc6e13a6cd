package care

import (
	"errors"
	"testing"
	"time"
)

func TestMatchDose(t *testing.T) {
	t.Parallel()
	sched := MedicationSchedule{MedicationID: "m", Timezone: "America/New_York",
		Times: []ClockTime{{8, 0}, {20, 0}}}
	utc := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		at   time.Time
		want time.Time // zero: no dose
	}{
		{"the dose itself", utc(8, 12, 0), utc(8, 12, 0)}, // 08:00 EDT on the spring-forward day
		{"an hour late", utc(8, 13, 0), utc(8, 12, 0)},
		{"mid-afternoon, nearer 20:00", utc(8, 19, 30), utc(9, 0, 0)},
		{"late evening", utc(9, 3, 30), utc(9, 0, 0)}, // 23:30 EDT
		{"just after midnight, nearer the day before", utc(9, 4, 30), time.Time{}},
		{"early morning, nearer its own 08:00", utc(9, 10, 30), utc(9, 12, 0)},
	} {
		got, err := MatchDose(FrequencyTwiceDaily, sched, tc.at)
		if tc.want.IsZero() {
			if !errors.Is(err, ErrNotADoseTime) {
				t.Errorf("%s: got %v, %v; want no dose", tc.name, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if got, err := MatchDose(FrequencyOther, sched, utc(8, 5, 17)); err != nil || !got.Equal(utc(8, 5, 17)) {
		t.Errorf("OTHER: got %v, %v; want the instant as given", got, err)
	}
	start := "2026-03-09"
	sched.StartDate = &start
	if _, err := MatchDose(FrequencyTwiceDaily, sched, utc(8, 13, 0)); !errors.Is(err, ErrNotADoseTime) {
		t.Errorf("before the start date: %v", err)
	}
}

func TestDoseOnDay(t *testing.T) {
	t.Parallel()
	sched := MedicationSchedule{MedicationID: "m", Timezone: "Asia/Tokyo", Times: []ClockTime{{8, 0}}}
	now := time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC) // 05:00 on 3 March in Tokyo
	if got, err := DoseOnDay(FrequencyDaily, sched, ClockTime{8, 0}, now); err != nil || !got.Equal(time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("08:00 = %v, %v", got, err)
	}
	if _, err := DoseOnDay(FrequencyDaily, sched, ClockTime{9, 0}, now); !errors.Is(err, ErrNotADoseTime) {
		t.Errorf("09:00 = %v, want not a dose time", err)
	}
	if got, err := DoseOnDay(FrequencyAsNeeded, sched, ClockTime{9, 0}, now); err != nil || got.Hour() != 0 {
		t.Errorf("as needed 09:00 = %v, %v", got, err)
	}
}
