package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/appointments"
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
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	list, err := s.svc.Appointments.List(r.Context(), *p, crID, func(loc *time.Location) (appointments.Filter, error) {
		q, problems := r.URL.Query(), Problems{}
		var f appointments.Filter
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
		return f, problems.Err()
	})
	return writeOK(w, list, err)
}

// upcomingAppointments lists the appointments starting in the next ?days
// (1 to 366, default 30) that are not cancelled, earliest first.
func (s *Server) upcomingAppointments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	list, err := s.svc.Appointments.StartingWithin(r.Context(), *p, crID, func() (int, error) {
		return queryWholeNumber(r, "days", appointmentUpcomingDays, 1, appointmentUpcomingMaxDays)
	})
	return writeOK(w, list, err)
}

// appointmentDay lists the appointments, in any status, that overlap one
// calendar day in the care recipient's zone: ?date=YYYY-MM-DD, by default
// their today.
func (s *Server) appointmentDay(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	list, err := s.svc.Appointments.Day(r.Context(), *p, crID, func() (*time.Time, error) {
		v := r.URL.Query().Get("date")
		if v == "" {
			return nil, nil
		}
		problems := Problems{}
		d, ok := problems.appointmentDate("date", v)
		if !ok {
			return nil, problems.Err()
		}
		return &d, nil
	})
	return writeOK(w, list, err)
}

// listAppointmentSeries lists the care recipient's recurring series with
// their counts, first, last and next occurrence.
func (s *Server) listAppointmentSeries(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "careRecipientId", s.svc.Appointments.Series, writeOK)
}

func (s *Server) getAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByIDs(w, r, p, appointmentIDs, s.svc.Appointments.Get, writeOK)
}

// appointmentOccurrences lists the occurrences of the appointment's rule
// that overlap [?startDate, ?endDate] (dates in the care recipient's zone or
// RFC 3339 instants; by default from now for a year), at most 366: stored
// ones as they are now, the others virtual. A single appointment is its
// only occurrence.
func (s *Server) appointmentOccurrences(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := appointmentIDs(r)
	if err != nil {
		return err
	}
	out, err := s.svc.Appointments.Occurrences(r.Context(), *p, crID, id, func(loc *time.Location, now time.Time) (appointments.Window, error) {
		q, problems := r.URL.Query(), Problems{}
		from, to := now, time.Time{}
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
		return appointments.Window{From: from, To: to}, problems.Err()
	})
	return writeOK(w, out, err)
}
