package medications

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Dose is what happened to one dose, as a caregiver logs it.
type Dose struct {
	Status care.DoseStatus
	// At is the dose's instant, matched to the nearest dose of its local
	// day (care.MatchDose); or, when Daily, Clock is the dose time today in
	// the care recipient's zone.
	At         time.Time
	Clock      care.ClockTime
	Daily      bool
	SkipReason *string
	Notes      *string
}

// LogDose records what happened to one dose of the medication medID:
// created is false when it replaces a PENDING or MISSED log. A dose with a
// final log, or of an inactive medication, is a conflict. The rest of the
// family is notified.
func (s *Service) LogDose(ctx context.Context, a feature.Actor, medID string, read feature.Input[Dose]) (log *care.MedicationLog, created bool, err error) {
	m, cr, _, err := s.meds.Get(ctx, a, "", medID, feature.Writer)
	if err != nil {
		return nil, false, err
	}
	d, err := read()
	if err != nil {
		return nil, false, err
	}
	if !m.IsActive {
		return nil, false, errInactive
	}
	sched, err := Schedule(m, cr)
	if err != nil {
		return nil, false, err
	}
	now := s.b.Clock.Now()
	at := d.At
	if d.Daily {
		at, err = care.DoseOnDay(m.Frequency, sched, d.Clock, now)
	} else {
		at, err = care.MatchDose(m.Frequency, sched, at)
	}
	if err == nil {
		err = care.CheckDoseTime(m.Frequency, sched, at, now)
	}
	var notDose *care.DoseTimeError
	if errors.As(err, &notDose) {
		return nil, false, feature.FieldError("scheduledTime", "is not a dose time: "+notDose.Reason)
	} else if err != nil {
		return nil, false, err
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		log, created, err = s.b.Store.LogDose(ctx, m.ID, care.DoseEntry{
			Status: d.Status, ScheduledTime: at, SkipReason: d.SkipReason, Notes: d.Notes, LoggedByID: a.ID(),
		})
		if err != nil {
			return err
		}
		err = s.b.Emit(ctx, feature.Event{Type: events.MedicationLogged, FamilyID: cr.FamilyID, CareRecipientID: cr.ID,
			ActorID: a.ID(), Data: events.MedicationLoggedData{MedicationLog: log, MedicationName: m.Name, Dosage: m.Dosage}})
		if err != nil {
			return err
		}
		return s.notifyDoseLogged(ctx, a, cr, m, log)
	})
	switch {
	case errors.Is(err, care.ErrDoseAlreadyLogged):
		return nil, false, feature.Conflict("This dose is already logged")
	case errors.Is(err, care.ErrMedicationInactive):
		return nil, false, errInactive
	case err != nil:
		return nil, false, s.meds.Missing(err)
	}
	return log, created, nil
}

// Schedule is m's schedule in its care recipient's zone.
func Schedule(m *care.Medication, cr *care.CareRecipient) (care.MedicationSchedule, error) {
	times := make([]care.ClockTime, 0, len(m.ScheduledTimes))
	for _, v := range m.ScheduledTimes {
		c, err := care.ParseClockTime(v)
		if err != nil {
			return care.MedicationSchedule{}, fmt.Errorf("medication %s: stored dose time: %w", m.ID, err)
		}
		times = append(times, c)
	}
	return care.MedicationSchedule{
		MedicationID: m.ID, CareRecipientID: cr.ID, FamilyID: cr.FamilyID, Name: m.Name,
		Dosage: m.Dosage, Timezone: cr.Timezone, Times: times, StartDate: m.StartDate, EndDate: m.EndDate,
	}, nil
}

// notifyDoseLogged tells the other active members what was logged, in the
// transaction that logs it.
func (s *Service) notifyDoseLogged(ctx context.Context, a feature.Actor, cr *care.CareRecipient, m *care.Medication, l *care.MedicationLog) error {
	text := care.DoseLoggedText(a.User.FullName, cr, m, l.Status, l.ScheduledTime)
	return s.b.NotifyFamily(ctx, cr.FamilyID, a.ID(), nil, care.NotificationDraft{
		Type: care.NotifyMedicationLogged, Title: text.Title, Body: text.Body,
		Data: map[string]any{
			"medicationId": m.ID, "careRecipientId": cr.ID, "logId": l.ID, "status": l.Status,
			"scheduledTime": l.ScheduledTime.Format(time.RFC3339),
		},
		DedupeKey: "medication-logged:" + l.ID + ":" + string(l.Status),
	})
}

// LogRange picks a medication's dose logs (see store.MedicationLogRange).
type LogRange = store.MedicationLogRange

// Logs lists a medication's dose logs, newest dose first, within the range
// window returns, which it reads in the care recipient's zone (dates are
// local days there).
func (s *Service) Logs(ctx context.Context, a feature.Actor, crID, medID string, window func(loc *time.Location) (LogRange, error)) ([]care.MedicationLog, error) {
	cr, m, err := s.access(ctx, a, crID, medID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	loc, err := s.zone(cr)
	if err != nil {
		return nil, err
	}
	rng, err := window(loc)
	if err != nil {
		return nil, err
	}
	return s.b.Store.MedicationLogs(ctx, m.ID, rng)
}

// Today lays out, for each active medication in effect on the day, the
// day's doses with their logs and status, and all of the day's logs
// (as-needed doses included). The day is date (a calendar date; its zone
// is ignored) or, when date is nil, the current date where the care
// recipient lives; each dose's instant is its wall-clock time on that date
// in their zone, DST included.
func (s *Service) Today(ctx context.Context, a feature.Actor, crID string, date *time.Time) ([]care.DayScheduleEntry, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	loc, err := s.zone(cr)
	if err != nil {
		return nil, err
	}
	now := s.b.Clock.Now()
	at := now
	if date != nil {
		// Noon of that date in the zone: a time every day has.
		at = time.Date(date.Year(), date.Month(), date.Day(), 12, 0, 0, 0, loc)
	}
	year, month, day, start, end := care.LocalDay(at, loc)
	iso := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	meds, byMedication, err := s.b.Store.ActiveMedicationsWithDoseLogs(ctx, cr.ID, start, end)
	if err != nil {
		return nil, err
	}
	out := []care.DayScheduleEntry{}
	for _, m := range meds {
		if !care.InDateRange(iso, m.StartDate, m.EndDate) {
			continue
		}
		out = append(out, care.DaySchedule(m, loc, year, month, day, byMedication[m.ID], now))
	}
	return out, nil
}
