package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// How far ahead the upcoming view looks, in days: by default and at most.
const (
	appointmentUpcomingDays    = 30
	appointmentUpcomingMaxDays = 366
)

// appointmentOccurrenceWindow is the default span of the occurrences view.
const appointmentOccurrenceWindow = 366 * 24 * time.Hour

// listAppointments lists the care recipient's appointments, earliest first:
// ?startDate and ?endDate (each a date in the care recipient's zone, endDate
// including that day, or an RFC 3339 instant; either may be absent) keep
// those overlapping the range, ?status those in that status.
func (s *Server) listAppointments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	loc := appointmentZone(cr)
	q, problems := r.URL.Query(), Problems{}
	var f store.AppointmentFilter
	if v := q.Get("startDate"); v != "" {
		if from, ok := problems.appointmentBound("startDate", v, loc, false); ok {
			f.EndAfter = &from
		}
	}
	if v := q.Get("endDate"); v != "" {
		if to, ok := problems.appointmentBound("endDate", v, loc, true); ok {
			f.StartBefore = &to
		}
	}
	if f.EndAfter != nil && f.StartBefore != nil && !f.StartBefore.After(*f.EndAfter) {
		problems.Add("endDate", "must be after startDate")
	}
	if v := q.Get("status"); v != "" {
		problems.oneOf("status", v, care.AppointmentStatuses()...)
		f.Statuses = []care.AppointmentStatus{care.AppointmentStatus(v)}
	}
	if err := problems.Err(); err != nil {
		return err
	}
	list, err := s.store.Appointments(r.Context(), cr.ID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// upcomingAppointments lists the appointments starting in the next ?days
// (1 to 366, default 30) that are not cancelled, earliest first.
func (s *Server) upcomingAppointments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	days, err := shiftQueryInt(r, "days", appointmentUpcomingDays, 1, appointmentUpcomingMaxDays)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	to := now.Add(time.Duration(days) * 24 * time.Hour)
	list, err := s.store.Appointments(r.Context(), cr.ID, store.AppointmentFilter{
		StartFrom: &now, StartBefore: &to,
		Statuses: []care.AppointmentStatus{care.AppointmentScheduled, care.AppointmentConfirmed,
			care.AppointmentCompleted, care.AppointmentNoShow},
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// appointmentDay lists the appointments, in any status, that overlap one
// calendar day in the care recipient's zone: ?date=YYYY-MM-DD, by default
// their today.
func (s *Server) appointmentDay(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	loc := appointmentZone(cr)
	day := localDate(s.clock.Now(), loc)
	if v := r.URL.Query().Get("date"); v != "" {
		problems := Problems{}
		d, ok := problems.appointmentDate("date", v)
		if !ok {
			return problems.Err()
		}
		day = d
	}
	from, to := appointmentDayStart(day, loc), appointmentDayStart(day.AddDate(0, 0, 1), loc)
	list, err := s.store.Appointments(r.Context(), cr.ID, store.AppointmentFilter{EndAfter: &from, StartBefore: &to})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// listAppointmentSeries lists the care recipient's recurring series with
// their counts, first, last and next occurrence.
func (s *Server) listAppointmentSeries(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	list, err := s.store.RecurringAppointments(r.Context(), cr.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, care.SummarizeSeries(list, s.clock.Now()))
	return nil
}

func (s *Server) getAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, _, err := s.appointmentAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// appointmentOccurrences lists the occurrences of the appointment's rule
// that overlap [?startDate, ?endDate] (dates in the care recipient's zone or
// RFC 3339 instants; by default from now for a year), at most 366: stored
// ones as they are now, the others virtual. A single appointment is its
// only occurrence.
func (s *Server) appointmentOccurrences(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, cr, err := s.appointmentAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	loc := appointmentZone(cr)
	q, problems := r.URL.Query(), Problems{}
	from, to := s.clock.Now(), time.Time{}
	okFrom, okTo := true, true
	if v := q.Get("startDate"); v != "" {
		from, okFrom = problems.appointmentBound("startDate", v, loc, false)
	}
	if v := q.Get("endDate"); v != "" {
		to, okTo = problems.appointmentBound("endDate", v, loc, true)
	} else {
		to = from.Add(appointmentOccurrenceWindow)
	}
	if okFrom && okTo && !to.After(from) {
		problems.Add("endDate", "must be after startDate")
	}
	if err := problems.Err(); err != nil {
		return err
	}
	out := []occurrenceView{}
	overlaps := func(start, end time.Time) bool { return start.Before(to) && end.After(from) }
	if a.RecurrenceRule == nil || a.RecurringSeriesID == nil {
		if overlaps(a.StartTime, a.EndTime) {
			out = append(out, storedOccurrence(0, *a))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	rule, err := care.LoadRecurrence(*a.RecurrenceRule, loc)
	if err != nil {
		return err // rules are validated before they are stored
	}
	stored, err := s.store.SeriesAppointments(r.Context(), *a.RecurringSeriesID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	byIndex := map[int]care.Appointment{}
	for _, x := range stored {
		if x.RecurringIndex != nil {
			byIndex[*x.RecurringIndex] = x
		}
	}
	for _, o := range rule.Between(from, to, a.Duration(), care.MaxSeriesOccurrences) {
		if x, ok := byIndex[o.Index]; ok {
			if overlaps(x.StartTime, x.EndTime) {
				out = append(out, storedOccurrence(o.Index, x))
			}
			continue
		}
		out = append(out, virtualOccurrences([]care.Occurrence{o}, a.Duration())...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// storedOccurrence presents a stored appointment as an occurrence.
func storedOccurrence(index int, a care.Appointment) occurrenceView {
	id, status := a.ID, a.Status
	return occurrenceView{Index: index, StartTime: a.StartTime, EndTime: a.EndTime, AppointmentID: &id, Status: &status}
}
