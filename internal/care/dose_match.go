package care

import (
	"fmt"
	"strings"
	"time"
)

// TakesAnyInstant reports whether a dose of a medication taken at this
// frequency may be logged at any instant rather than at a dose time: as
// needed, or on a pattern the schedule does not describe (OTHER).
func (f MedicationFrequency) TakesAnyInstant() bool {
	return f == FrequencyAsNeeded || f == FrequencyOther
}

// DefaultDoseTimes are the dose times a new medication gets when none are
// given, by frequency (existing clients may omit them): 08:00, then spread
// over the waking day. AS_NEEDED and OTHER get none.
func DefaultDoseTimes(f MedicationFrequency) []string {
	switch f {
	case FrequencyDaily, FrequencyWeekly:
		return []string{"08:00"}
	case FrequencyTwiceDaily:
		return []string{"08:00", "20:00"}
	case FrequencyThreeTimesDaily:
		return []string{"08:00", "14:00", "20:00"}
	case FrequencyFourTimesDaily:
		return []string{"08:00", "12:00", "16:00", "20:00"}
	}
	return []string{}
}

// DoseOnDay is the dose at clock time c on the local date of now in the
// schedule's zone. For a scheduled medication c must be one of its times.
func DoseOnDay(frequency MedicationFrequency, sched MedicationSchedule, c ClockTime, now time.Time) (time.Time, error) {
	loc, err := time.LoadLocation(sched.Timezone)
	if err != nil {
		return time.Time{}, fmt.Errorf("medication %s: zone %q: %w", sched.MedicationID, sched.Timezone, err)
	}
	year, month, day := now.In(loc).Date()
	at := c.On(year, month, day, loc).UTC()
	if frequency.TakesAnyInstant() {
		return at, nil
	}
	for _, t := range sched.Times {
		if t == c {
			return at, nil
		}
	}
	return time.Time{}, &DoseTimeError{Reason: fmt.Sprintf("%s is not one of the medication's dose times (%s)",
		c, strings.Join(FormatClockTimes(sched.Times), ", "))}
}

// MatchDose finds the dose an instant stands for, as clients that compute
// the instant in another zone send it: the nearest dose on the instant's
// local date in the schedule's zone, provided no dose of another day is
// nearer (so the instant lies within half the gap to the neighbouring
// doses). Medications that take any instant keep it as given. An instant
// that matches no dose is a *DoseTimeError.
func MatchDose(frequency MedicationFrequency, sched MedicationSchedule, at time.Time) (time.Time, error) {
	if frequency.TakesAnyInstant() {
		return at, nil
	}
	loc, err := time.LoadLocation(sched.Timezone)
	if err != nil {
		return time.Time{}, fmt.Errorf("medication %s: zone %q: %w", sched.MedicationID, sched.Timezone, err)
	}
	_, _, _, dayStart, dayEnd := LocalDay(at, loc)
	// The neighbouring days' doses bound how far from a dose the instant
	// may be.
	doses := DoseInstants(sched.Times, loc, sched.StartDate, sched.EndDate, dayStart.Add(-48*time.Hour), dayEnd.Add(48*time.Hour))
	var best time.Time
	bestGap := time.Duration(-1)
	for _, d := range doses {
		if d.Before(dayStart) || !d.Before(dayEnd) {
			continue
		}
		if gap := absDuration(d.Sub(at)); bestGap < 0 || gap < bestGap {
			best, bestGap = d, gap
		}
	}
	reason := &DoseTimeError{Reason: fmt.Sprintf("it is not near one of the medication's dose times (%s, %s) on that day",
		strings.Join(FormatClockTimes(sched.Times), ", "), sched.Timezone)}
	if bestGap < 0 {
		return time.Time{}, reason
	}
	for _, d := range doses {
		if (d.Before(dayStart) || !d.Before(dayEnd)) && absDuration(d.Sub(at)) < bestGap {
			return time.Time{}, reason
		}
	}
	return best.UTC(), nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
