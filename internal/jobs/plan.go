package jobs

import (
	"fmt"
	"sort"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// Reminder kinds, as stored in the ledger.
const (
	KindMedication  = "MEDICATION"
	KindMissedDose  = "MISSED_DOSE"
	KindRefill      = "REFILL"
	KindAppointment = "APPOINTMENT"
	KindShift       = "SHIFT"
)

// medicationOffsets are the minutes before a dose at which it is reminded.
func medicationOffsets() []int { return []int{30, 15, 5, 0} }

// shiftOffsets are the minutes before a shift at which its caregiver is reminded.
func shiftOffsets() []int { return []int{60, 15} }

// maxAppointmentReminder is the longest reminderMinutes an appointment may
// ask for (four weeks); the planner looks this far ahead for appointments.
const maxAppointmentReminder = 28 * 24 * time.Hour

// PlanRules are the tunable parts of planning.
type PlanRules struct {
	// MissedAfter is how long after a dose with no log it counts as missed.
	MissedAfter time.Duration
	// RefillCheckAt is the local time of day of the daily refill check.
	RefillCheckAt care.ClockTime
}

// ledgerKey identifies one reminder instant.
func ledgerKey(kind, entity string, occurrence time.Time, offsetMinutes int) string {
	return fmt.Sprintf("%s:%s:%d:%d", kind, entity, occurrence.Unix(), offsetMinutes)
}

// window is the half-open interval (From, To] of fire times being planned.
type window struct{ From, To time.Time }

func (w window) contains(t time.Time) bool { return t.After(w.From) && !t.After(w.To) }

// planMedications returns the dose reminders, missed-dose checks and daily
// refill checks of the medications whose fire time falls in w.
func planMedications(meds []care.MedicationSchedule, w window, rules PlanRules) []store.LedgerEntry {
	var out []store.LedgerEntry
	zones := map[string]*time.Location{} // loading a zone reads its file
	for _, m := range meds {
		loc, ok := zones[m.Timezone]
		if !ok {
			var err error
			if loc, err = time.LoadLocation(m.Timezone); err != nil {
				continue // zones are validated on write; an unknown one cannot be planned
			}
			zones[m.Timezone] = loc
		}
		// Doses whose reminders (up to 30 min before) or missed check (after)
		// can fire in w.
		from := w.From.Add(-rules.MissedAfter)
		to := w.To.Add(30*time.Minute + time.Second)
		for _, dose := range care.Occurrences(m.Times, loc, from, to) {
			if !withinDates(dose.In(loc), m.StartDate, m.EndDate) {
				continue
			}
			for _, off := range medicationOffsets() {
				fire := dose.Add(-time.Duration(off) * time.Minute)
				if w.contains(fire) {
					out = append(out, entry(KindMedication, m.MedicationID, m.CareRecipientID, dose, off, fire))
				}
			}
			if fire := dose.Add(rules.MissedAfter); w.contains(fire) {
				out = append(out, entry(KindMissedDose, m.MedicationID, m.CareRecipientID, dose, -int(rules.MissedAfter/time.Minute), fire))
			}
		}
		for _, check := range care.Occurrences([]care.ClockTime{rules.RefillCheckAt}, loc, w.From, w.To.Add(time.Second)) {
			if w.contains(check) && withinDates(check.In(loc), m.StartDate, nil) {
				out = append(out, entry(KindRefill, m.MedicationID, m.CareRecipientID, check, 0, check))
			}
		}
	}
	return out
}

// withinDates reports whether local falls on or between the YYYY-MM-DD
// dates (either may be absent).
func withinDates(local time.Time, start, end *string) bool {
	day := local.Format(time.DateOnly)
	if start != nil && *start != "" && day < *start {
		return false
	}
	if end != nil && *end != "" && day > *end {
		return false
	}
	return true
}

// planAppointments returns each appointment's reminders that fire in w.
func planAppointments(appts []care.AppointmentReminderSource, w window) []store.LedgerEntry {
	var out []store.LedgerEntry
	for _, a := range appts {
		for _, m := range a.ReminderMinutes {
			fire := a.StartTime.Add(-time.Duration(m) * time.Minute)
			if w.contains(fire) {
				out = append(out, entry(KindAppointment, a.AppointmentID, a.CareRecipientID, a.StartTime, m, fire))
			}
		}
	}
	return out
}

// planShifts returns the shift reminders (60 and 15 minutes before) that
// fire in w.
func planShifts(shifts []care.ShiftReminderSource, w window) []store.LedgerEntry {
	var out []store.LedgerEntry
	for _, s := range shifts {
		for _, m := range shiftOffsets() {
			fire := s.StartTime.Add(-time.Duration(m) * time.Minute)
			if w.contains(fire) {
				out = append(out, entry(KindShift, s.ShiftID, s.CareRecipientID, s.StartTime, m, fire))
			}
		}
	}
	return out
}

func entry(kind, entity, careRecipient string, occurrence time.Time, offset int, fire time.Time) store.LedgerEntry {
	return store.LedgerEntry{
		Key:             ledgerKey(kind, entity, occurrence, offset),
		Kind:            kind,
		EntityID:        entity,
		CareRecipientID: careRecipient,
		OccurrenceAt:    occurrence.UTC(),
		OffsetMinutes:   offset,
		FireAt:          fire.UTC(),
	}
}

// sortEntries orders entries by fire time, then key, so plans are stable.
func sortEntries(es []store.LedgerEntry) {
	sort.Slice(es, func(i, j int) bool {
		if !es[i].FireAt.Equal(es[j].FireAt) {
			return es[i].FireAt.Before(es[j].FireAt)
		}
		return es[i].Key < es[j].Key
	})
}
