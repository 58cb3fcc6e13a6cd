package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/feature/appointments"
)

// appointmentRoutes registers appointments: single and recurring creation,
// the calendar views, status changes, transport, and edits of a whole
// series. Item routes exist both at /appointments/{id} and nested under the
// care recipient.
func (s *Server) appointmentRoutes() {
	const base = "/care-recipients/{careRecipientId}/appointments"
	s.authed("POST", base, s.createAppointment)
	s.authed("GET", base, s.listAppointments)
	s.authed("POST", base+"/recurring", s.createRecurringAppointments)
	s.authed("GET", base+"/upcoming", s.upcomingAppointments)
	s.authed("GET", base+"/day", s.appointmentDay)
	s.authed("GET", base+"/recurring/series", s.listAppointmentSeries)
	for _, item := range []string{"/appointments/{appointmentId}", base + "/{appointmentId}"} {
		s.authed("GET", item, s.getAppointment)
		s.authed("PATCH", item, s.updateAppointment)
		s.authed("DELETE", item, s.deleteAppointment)
		s.authed("GET", item+"/occurrences", s.appointmentOccurrences)
		s.authed("POST", item+"/transport", s.assignTransport)
		s.authed("POST", item+"/transport/confirm", s.confirmTransport)
	}
	s.authed("PATCH", base+"/{appointmentId}/cancel", s.cancelAppointment)
	// "PATCH /appointments/series/{seriesId}" and "PATCH /appointments/{id}/cancel"
	// would both match /appointments/series/cancel, a conflict ServeMux
	// refuses; one pattern serves both.
	s.authed("PATCH", "/appointments/{first}/{second}", s.patchAppointmentPath)
	s.authed("PATCH", "/appointments/series/{seriesId}/cancel", s.cancelAppointmentSeries)
}

// patchAppointmentPath routes PATCH /appointments/series/{seriesId} and
// PATCH /appointments/{appointmentId}/cancel.
func (s *Server) patchAppointmentPath(w http.ResponseWriter, r *http.Request, p *Principal) error {
	first, second := r.PathValue("first"), r.PathValue("second")
	switch {
	case first == "series":
		r.SetPathValue("seriesId", second)
		return s.updateAppointmentSeries(w, r, p)
	case second == "cancel":
		r.SetPathValue("appointmentId", first)
		return s.cancelAppointment(w, r, p)
	}
	// What the server answers for any unknown path.
	return &Error{Status: http.StatusNotFound, Message: "Cannot " + r.Method + " " + r.URL.Path}
}

// appointmentIDs reads the path's appointment id and, when the route is
// nested under its care recipient, the care recipient's id ("" otherwise).
func appointmentIDs(r *http.Request) (crID, id string, err error) {
	if id, err = pathID(r, "appointmentId"); err != nil {
		return "", "", err
	}
	if r.PathValue("careRecipientId") != "" {
		if crID, err = pathID(r, "careRecipientId"); err != nil {
			return "", "", err
		}
	}
	return crID, id, nil
}

// appointmentInstant checks an RFC 3339 timestamp between 1970 and 2199,
// truncated to the second (recurrence rules count in seconds).
func (p Problems) appointmentInstant(field, v string) (time.Time, bool) {
	t, ok := p.instant(field, v)
	return t.Truncate(time.Second), ok
}

// appointmentDate reads a YYYY-MM-DD date between 1970 and 2199, as
// midnight UTC standing for that calendar date.
func (p Problems) appointmentDate(field, v string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil || d.Year() < 1970 || d.Year() >= 2200 {
		p.Add(field, "must be a date in the form YYYY-MM-DD between 1970 and 2199")
		return time.Time{}, false
	}
	return d, true
}

// appointmentBound reads a query bound: a date (YYYY-MM-DD, in loc) standing
// for the start of that day, or with endOfDay its end; or an RFC 3339
// instant. ok is false when absent or invalid (then a problem is recorded).
func (p Problems) appointmentBound(field, v string, loc *time.Location, endOfDay bool) (time.Time, bool) {
	if len(v) == len(time.DateOnly) {
		d, ok := p.appointmentDate(field, v)
		if !ok {
			return time.Time{}, false
		}
		if endOfDay {
			d = d.AddDate(0, 0, 1)
		}
		return appointments.DayStart(d, loc), true
	}
	return p.appointmentInstant(field, v)
}
