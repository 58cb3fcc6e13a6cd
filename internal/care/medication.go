package care

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// MedicationForm is how a medication is taken.
type MedicationForm string

// Medication forms.
const (
	FormTablet    MedicationForm = "TABLET"
	FormCapsule   MedicationForm = "CAPSULE"
	FormLiquid    MedicationForm = "LIQUID"
	FormInjection MedicationForm = "INJECTION"
	FormPatch     MedicationForm = "PATCH"
	FormCream     MedicationForm = "CREAM"
	FormInhaler   MedicationForm = "INHALER"
	FormDrops     MedicationForm = "DROPS"
	FormOther     MedicationForm = "OTHER"
)

// MedicationForms lists the accepted forms.
func MedicationForms() []string {
	return []string{"TABLET", "CAPSULE", "LIQUID", "INJECTION", "PATCH", "CREAM", "INHALER", "DROPS", "OTHER"}
}

// MedicationFrequency is how often a medication is taken.
type MedicationFrequency string

// Medication frequencies. Every frequency but AS_NEEDED has a schedule of
// wall-clock dose times.
const (
	FrequencyDaily           MedicationFrequency = "DAILY"
	FrequencyTwiceDaily      MedicationFrequency = "TWICE_DAILY"
	FrequencyThreeTimesDaily MedicationFrequency = "THREE_TIMES_DAILY"
	FrequencyFourTimesDaily  MedicationFrequency = "FOUR_TIMES_DAILY"
	FrequencyWeekly          MedicationFrequency = "WEEKLY"
	FrequencyAsNeeded        MedicationFrequency = "AS_NEEDED"
	FrequencyOther           MedicationFrequency = "OTHER"
)

// MedicationFrequencies lists the accepted frequencies.
func MedicationFrequencies() []string {
	return []string{"DAILY", "TWICE_DAILY", "THREE_TIMES_DAILY", "FOUR_TIMES_DAILY", "WEEKLY", "AS_NEEDED", "OTHER"}
}

// Scheduled reports whether doses of this frequency happen at fixed times.
func (f MedicationFrequency) Scheduled() bool { return f != FrequencyAsNeeded }

// DoseStatus is what happened to one dose.
type DoseStatus string

// Dose log states. A PENDING or MISSED log may later be replaced by another
// status (the dose was given late, after all); GIVEN and SKIPPED are final.
const (
	DoseGiven   DoseStatus = "GIVEN"
	DoseSkipped DoseStatus = "SKIPPED"
	DoseMissed  DoseStatus = "MISSED"
	DosePending DoseStatus = "PENDING"
	// DoseUpcoming is never stored: a scheduled dose that is not yet due and
	// has no log, as today's schedule shows it.
	DoseUpcoming DoseStatus = "UPCOMING"
)

// DoseStatuses lists the statuses a log may be written with.
func DoseStatuses() []string { return []string{"GIVEN", "SKIPPED", "MISSED", "PENDING"} }

// Bounds on medications.
const (
	// MaxDosesPerDay bounds timesPerDay and the number of scheduled times.
	MaxDosesPerDay = 24
	// DoseLogLookBack is how far back a scheduled dose may be logged.
	DoseLogLookBack = 7 * 24 * time.Hour
	// DoseLogLookAhead is how far ahead a scheduled dose may be logged.
	DoseLogLookAhead = 24 * time.Hour
	// AsNeededLogWindow is how far from now an as-needed dose may be logged.
	AsNeededLogWindow = 24 * time.Hour
)

// Errors of the medication rules.
var (
	// ErrMedicationInactive: doses of a deactivated medication are not logged.
	ErrMedicationInactive = errors.New("medication: the medication is inactive")
	// ErrDoseAlreadyLogged: the dose has a final log (GIVEN or SKIPPED).
	ErrDoseAlreadyLogged = errors.New("medication: this dose is already logged")
	// ErrNotADoseTime: the instant is not a dose of the medication that may
	// be logged now. CheckDoseTime returns it as a *DoseTimeError.
	ErrNotADoseTime = errors.New("medication: not a dose time")
)

// DoseTimeError explains why an instant is not a dose that may be logged.
type DoseTimeError struct {
	// Reason is a sentence fit for the person logging the dose.
	Reason string
}

func (e *DoseTimeError) Error() string { return ErrNotADoseTime.Error() + ": " + e.Reason }

// Unwrap makes the error match ErrNotADoseTime.
func (e *DoseTimeError) Unwrap() error { return ErrNotADoseTime }

// Medication is a medicine a care recipient takes. ScheduledTimes are
// "HH:mm" wall-clock times in the care recipient's zone, sorted.
type Medication struct {
	ID              string              `json:"id"`
	CareRecipientID string              `json:"careRecipientId"`
	Name            string              `json:"name"`
	GenericName     *string             `json:"genericName"`
	Dosage          string              `json:"dosage"`
	Form            MedicationForm      `json:"form"`
	Frequency       MedicationFrequency `json:"frequency"`
	TimesPerDay     *int                `json:"timesPerDay"`
	ScheduledTimes  []string            `json:"scheduledTimes"`
	Instructions    *string             `json:"instructions"`
	PrescribedBy    *string             `json:"prescribedBy"`
	Pharmacy        *string             `json:"pharmacy"`
	PharmacyPhone   *string             `json:"pharmacyPhone"`
	CurrentSupply   *int                `json:"currentSupply"`
	RefillAt        *int                `json:"refillAt"`
	LastRefillDate  *string             `json:"lastRefillDate"`
	IsActive        bool                `json:"isActive"`
	StartDate       *string             `json:"startDate"`
	EndDate         *string             `json:"endDate"`
	Notes           *string             `json:"notes"`
	CreatedAt       time.Time           `json:"createdAt"`
	UpdatedAt       time.Time           `json:"updatedAt"`
}

// MedicationLog records what happened to one dose: one log per medication
// and scheduled instant.
type MedicationLog struct {
	ID            string     `json:"id"`
	MedicationID  string     `json:"medicationId"`
	GivenByID     *string    `json:"givenById"`
	GivenBy       *UserRef   `json:"givenBy"`
	ScheduledTime time.Time  `json:"scheduledTime"`
	GivenTime     *time.Time `json:"givenTime"`
	Status        DoseStatus `json:"status"`
	SkipReason    *string    `json:"skipReason"`
	Notes         *string    `json:"notes"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// DoseEntry is what a family member records about a dose.
type DoseEntry struct {
	Status        DoseStatus
	ScheduledTime time.Time
	SkipReason    *string
	Notes         *string
	// LoggedByID is the member recording it.
	LoggedByID string
}

// CheckDoseLog decides whether entry may be written for a medication in its
// current state, given the dose's existing log (nil when there is none).
func CheckDoseLog(active bool, existing *MedicationLog) error {
	if !active {
		return ErrMedicationInactive
	}
	if existing != nil && existing.Status != DosePending && existing.Status != DoseMissed {
		return ErrDoseAlreadyLogged
	}
	return nil
}

// MedicationSchedule is what the reminder engine needs to know about one
// active, scheduled medication.
type MedicationSchedule struct {
	MedicationID    string
	CareRecipientID string
	FamilyID        string
	Name            string
	Dosage          string
	// Timezone is the care recipient's IANA zone, in which Times are kept.
	Timezone  string
	Times     []ClockTime
	StartDate *string // YYYY-MM-DD, first local date with doses
	EndDate   *string // YYYY-MM-DD, last local date with doses
}

// Doses returns every dose instant of the schedule in [from, to), in order.
func (m MedicationSchedule) Doses(from, to time.Time) ([]time.Time, error) {
	loc, err := time.LoadLocation(m.Timezone)
	if err != nil {
		return nil, fmt.Errorf("medication %s: zone %q: %w", m.MedicationID, m.Timezone, err)
	}
	return DoseInstants(m.Times, loc, m.StartDate, m.EndDate, from, to), nil
}

// DoseInstants returns every instant in [from, to) at which one of times
// occurs in loc on a local date within [startDate, endDate] (either bound
// may be nil), in order.
func DoseInstants(times []ClockTime, loc *time.Location, startDate, endDate *string, from, to time.Time) []time.Time {
	all := Occurrences(times, loc, from, to)
	out := all[:0]
	for _, t := range all {
		if InDateRange(t.In(loc).Format(time.DateOnly), startDate, endDate) {
			out = append(out, t)
		}
	}
	return out
}

// InDateRange reports whether the YYYY-MM-DD date lies within [start, end];
// a nil bound is open.
func InDateRange(date string, start, end *string) bool {
	return (start == nil || date >= *start) && (end == nil || date <= *end)
}

// ParseScheduledTimes checks "HH:mm" dose times: each valid, none repeated,
// at most MaxDosesPerDay. It returns them sorted, or the reasons they are
// not acceptable.
func ParseScheduledTimes(in []string) ([]ClockTime, []string) {
	var problems []string
	if len(in) > MaxDosesPerDay {
		return nil, []string{fmt.Sprintf("must have at most %d times", MaxDosesPerDay)}
	}
	seen := map[ClockTime]bool{}
	out := make([]ClockTime, 0, len(in))
	for _, s := range in {
		c, err := ParseClockTime(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q is not a time of day in the form HH:mm", s))
			continue
		}
		if seen[c] {
			problems = append(problems, fmt.Sprintf("%s is listed more than once", c))
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	sortClockTimes(out)
	return out, nil
}

// FormatClockTimes writes dose times as "HH:mm" strings, never nil.
func FormatClockTimes(times []ClockTime) []string {
	out := make([]string, 0, len(times))
	for _, c := range times {
		out = append(out, c.String())
	}
	return out
}

func sortClockTimes(times []ClockTime) {
	sort.Slice(times, func(i, j int) bool {
		a, b := times[i], times[j]
		return a.Hour < b.Hour || (a.Hour == b.Hour && a.Minute < b.Minute)
	})
}

// CheckDoseTime decides whether a dose at instant at may be logged at now:
// an as-needed (or OTHER) dose within AsNeededLogWindow of now; a scheduled one only
// at one of its dose instants from DoseLogLookBack before now to
// DoseLogLookAhead after it. Otherwise the error is a *DoseTimeError.
func CheckDoseTime(frequency MedicationFrequency, sched MedicationSchedule, at, now time.Time) error {
	if frequency.TakesAnyInstant() {
		if d := at.Sub(now); d > AsNeededLogWindow || d < -AsNeededLogWindow {
			return &DoseTimeError{Reason: "a dose of this medication must be within 24 hours of now"}
		}
		return nil
	}
	doses, err := sched.Doses(now.Add(-DoseLogLookBack), now.Add(DoseLogLookAhead+time.Nanosecond))
	if err != nil {
		return err
	}
	for _, d := range doses {
		if d.Equal(at) {
			return nil
		}
	}
	return &DoseTimeError{Reason: fmt.Sprintf("it must be one of the medication's dose times (%s, %s) on a day it is taken, within the last 7 days or the next day",
		strings.Join(FormatClockTimes(sched.Times), ", "), sched.Timezone)}
}

// ScheduledDose is one dose of today's schedule as the API shows it.
type ScheduledDose struct {
	Time        string         `json:"time"`
	ScheduledAt time.Time      `json:"scheduledTime"`
	Log         *MedicationLog `json:"log"`
	Status      DoseStatus     `json:"status"`
}

// DayScheduleEntry is one medication's doses and logs on one local day.
// ScheduledTimes repeats the medication's "HH:mm" times, which existing
// clients map over as strings; Doses is the per-dose detail.
type DayScheduleEntry struct {
	Medication     Medication      `json:"medication"`
	ScheduledTimes []string        `json:"scheduledTimes"`
	Logs           []MedicationLog `json:"logs"`
	Doses          []ScheduledDose `json:"doses"`
}

// DaySchedule lays out a medication's doses on the local date (year, month,
// day) in loc, matching each to its log among logs (those of that day), and
// judging each dose without a log against now: UPCOMING before it is due,
// PENDING after. A medication not in effect on that date has no doses.
func DaySchedule(m Medication, loc *time.Location, year int, month time.Month, day int, logs []MedicationLog, now time.Time) DayScheduleEntry {
	e := DayScheduleEntry{Medication: m, ScheduledTimes: m.ScheduledTimes, Logs: logs, Doses: []ScheduledDose{}}
	if e.ScheduledTimes == nil {
		e.ScheduledTimes = []string{}
	}
	if e.Logs == nil {
		e.Logs = []MedicationLog{}
	}
	date := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	if !m.Frequency.Scheduled() || !InDateRange(date, m.StartDate, m.EndDate) {
		return e
	}
	seen := map[int64]bool{}
	for _, s := range m.ScheduledTimes {
		c, err := ParseClockTime(s)
		if err != nil {
			continue // stored times are validated on write
		}
		at := c.On(year, month, day, loc).UTC()
		if seen[at.UnixNano()] {
			continue // two times folded into one instant by a DST gap
		}
		seen[at.UnixNano()] = true
		d := ScheduledDose{Time: c.String(), ScheduledAt: at, Status: DoseUpcoming}
		for i := range logs {
			if logs[i].ScheduledTime.Equal(at) {
				d.Log = &logs[i]
				break
			}
		}
		switch {
		case d.Log != nil:
			d.Status = d.Log.Status
		case !at.After(now):
			d.Status = DosePending
		}
		e.Doses = append(e.Doses, d)
	}
	return e
}

// LocalDay returns the local calendar date of now in loc and the instants
// at which that day starts and the next one starts.
func LocalDay(now time.Time, loc *time.Location) (year int, month time.Month, day int, start, end time.Time) {
	year, month, day = now.In(loc).Date()
	midnight := ClockTime{}
	next := time.Date(year, month, day+1, 0, 0, 0, 0, time.UTC)
	start = midnight.On(year, month, day, loc)
	end = midnight.On(next.Year(), next.Month(), next.Day(), loc)
	return year, month, day, start, end
}
