package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// Paging of a medication's dose logs.
const (
	defaultDoseLogLimit = 50
	maxDoseLogLimit     = 500
	maxSkipReasonLen    = 500
)

// doseLogBody is the body of POST /medications/{medicationId}/log. Its
// scheduledTime is either "HH:mm", that dose today in the care recipient's
// zone, or an instant, matched to the nearest dose of its local day
// (care.MatchDose): existing clients send both.
type doseLogBody struct {
	Status        string  `json:"status"`
	ScheduledTime string  `json:"scheduledTime"`
	SkipReason    *string `json:"skipReason"`
	Notes         *string `json:"notes"`

	at    time.Time      // the parsed instant, when an instant was given
	clock care.ClockTime // the parsed dose time, when "HH:mm" was given
	daily bool           // whether "HH:mm" was given
}

func (b *doseLogBody) Validate(p Problems) {
	p.oneOf("status", b.Status, care.DoseStatuses()...)
	if b.ScheduledTime == "" {
		p.Add("scheduledTime", "is required")
	} else if c, err := care.ParseClockTime(b.ScheduledTime); err == nil {
		b.clock, b.daily = c, true
	} else if t, err := time.Parse(time.RFC3339, b.ScheduledTime); err != nil {
		p.Add("scheduledTime", "must be a dose time HH:mm or an RFC 3339 timestamp such as 2026-03-08T08:00:00-05:00")
	} else {
		b.at = t.UTC()
	}
	b.SkipReason = p.optText("skipReason", b.SkipReason, maxSkipReasonLen)
	switch {
	case care.DoseStatus(b.Status) == care.DoseSkipped && b.SkipReason == nil:
		p.Add("skipReason", "is required when status is SKIPPED")
	case care.DoseStatus(b.Status) != care.DoseSkipped && b.SkipReason != nil:
		p.Add("skipReason", "is only allowed when status is SKIPPED")
	}
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
}

// logDose records what happened to one dose: 201 with a new log, 200 when
// it replaces a PENDING or MISSED one, 409 when the dose already has a final
// log or the medication is inactive. The rest of the family is notified.
func (s *Server) logDose(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "medicationId")
	if err != nil {
		return err
	}
	m, err := s.store.Medication(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Medication")
	}
	if err != nil {
		return err
	}
	cr, _, err := s.careRecipientMember(r.Context(), p, m.CareRecipientID, writer)
	if err != nil {
		return err
	}
	var b doseLogBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if !m.IsActive {
		return conflict("This medication is inactive; reactivate it to log doses")
	}
	sched, err := medicationSchedule(m, cr)
	if err != nil {
		return err
	}
	var notDose *care.DoseTimeError
	if b.daily {
		b.at, err = care.DoseOnDay(m.Frequency, sched, b.clock, s.clock.Now())
	} else {
		b.at, err = care.MatchDose(m.Frequency, sched, b.at)
	}
	if err == nil {
		err = care.CheckDoseTime(m.Frequency, sched, b.at, s.clock.Now())
	}
	if errors.As(err, &notDose) {
		return Problems{"scheduledTime": {"is not a dose time: " + notDose.Reason}}.Err()
	} else if err != nil {
		return err
	}
	var log *care.MedicationLog
	var created bool
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		log, created, err = s.store.LogDose(ctx, m.ID, care.DoseEntry{
			Status: care.DoseStatus(b.Status), ScheduledTime: b.at, SkipReason: b.SkipReason,
			Notes: b.Notes, LoggedByID: p.User.ID,
		})
		if err != nil {
			return err
		}
		err = s.emit(ctx, domainEvent{Type: events.MedicationLogged, FamilyID: cr.FamilyID, CareRecipientID: cr.ID,
			ActorID: p.User.ID, Data: events.MedicationLoggedData{MedicationLog: log, MedicationName: m.Name, Dosage: m.Dosage}})
		if err != nil {
			return err
		}
		return s.notifyDoseLogged(ctx, p, cr, m, log)
	})
	switch {
	case errors.Is(err, care.ErrDoseAlreadyLogged):
		return conflict("This dose is already logged")
	case errors.Is(err, care.ErrMedicationInactive):
		return conflict("This medication is inactive; reactivate it to log doses")
	case errors.Is(err, store.ErrNotFound):
		return notFound("Medication")
	case err != nil:
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, log)
	return nil
}

// medicationSchedule is m's schedule in its care recipient's zone.
func medicationSchedule(m *care.Medication, cr *care.CareRecipient) (care.MedicationSchedule, error) {
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
func (s *Server) notifyDoseLogged(ctx context.Context, p *Principal, cr *care.CareRecipient, m *care.Medication, l *care.MedicationLog) error {
	text := care.DoseLoggedText(p.User.FullName, cr, m, l.Status, l.ScheduledTime)
	return s.notifyFamily(ctx, cr.FamilyID, p.User.ID, nil, care.NotificationDraft{
		Type: care.NotifyMedicationLogged, Title: text.Title, Body: text.Body,
		Data: map[string]any{
			"medicationId": m.ID, "careRecipientId": cr.ID, "logId": l.ID, "status": l.Status,
			"scheduledTime": l.ScheduledTime.Format(time.RFC3339),
		},
		DedupeKey: "medication-logged:" + l.ID + ":" + string(l.Status),
	})
}

// listMedicationLogs lists a medication's dose logs, newest dose first,
// optionally within startDate..endDate (both inclusive; RFC 3339 instants,
// or YYYY-MM-DD dates in the care recipient's zone).
func (s *Server) listMedicationLogs(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, m, err := s.medicationAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cr.Timezone)
	if err != nil {
		return fmt.Errorf("care recipient %s: zone: %w", cr.ID, err)
	}
	rng, err := doseLogQuery(r, loc)
	if err != nil {
		return err
	}
	logs, err := s.store.MedicationLogs(r.Context(), m.ID, rng)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, logs)
	return nil
}

// doseLogQuery reads startDate, endDate and limit.
func doseLogQuery(r *http.Request, loc *time.Location) (store.MedicationLogRange, error) {
	q := r.URL.Query()
	p := Problems{}
	rng := store.MedicationLogRange{Limit: defaultDoseLogLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDoseLogLimit {
			p.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(maxDoseLogLimit))
		}
		rng.Limit = n
	}
	rng.From, rng.To = p.dateRange(q, loc)
	return rng, p.Err()
}
