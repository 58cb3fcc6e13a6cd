package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
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

// appointmentAccess loads the appointment {appointmentId} and checks the
// principal's membership in its care recipient's family. Under
// /care-recipients/{careRecipientId}, an appointment of another care
// recipient is 404.
func (s *Server) appointmentAccess(r *http.Request, p *Principal, n need) (*care.Appointment, *care.CareRecipient, error) {
	id, err := pathID(r, "appointmentId")
	if err != nil {
		return nil, nil, err
	}
	nested := r.PathValue("careRecipientId") != ""
	var crID string
	if nested {
		if crID, err = pathID(r, "careRecipientId"); err != nil {
			return nil, nil, err
		}
	}
	var cr *care.CareRecipient
	if nested {
		if cr, _, err = s.careRecipientMember(r.Context(), p, crID, n); err != nil {
			return nil, nil, err
		}
	}
	a, err := s.store.Appointment(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && nested && a.CareRecipientID != crID) {
		return nil, nil, notFound("Appointment")
	}
	if err != nil {
		return nil, nil, err
	}
	if !nested {
		if cr, _, err = s.careRecipientMember(r.Context(), p, a.CareRecipientID, n); err != nil {
			return nil, nil, err
		}
	}
	return a, cr, nil
}

// seriesAccess loads the stored occurrences of the series {seriesId} and
// checks the principal's membership in its care recipient's family.
func (s *Server) seriesAccess(r *http.Request, p *Principal, n need) ([]care.Appointment, *care.CareRecipient, error) {
	id, err := pathID(r, "seriesId")
	if err != nil {
		return nil, nil, err
	}
	list, err := s.store.SeriesAppointments(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("Appointment series")
	}
	if err != nil {
		return nil, nil, err
	}
	cr, _, err := s.careRecipientMember(r.Context(), p, list[0].CareRecipientID, n)
	if err != nil {
		return nil, nil, err
	}
	return list, cr, nil
}

// appointmentZone is the care recipient's zone, in which appointments'
// days and recurrences are kept; UTC if the stored name no longer loads.
func appointmentZone(cr *care.CareRecipient) *time.Location {
	loc, err := time.LoadLocation(cr.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// appointmentWriteError maps the store's refusals of an appointment write
// to what the client sees; transportField names the body field holding the
// driver.
func appointmentWriteError(err error, transportField string) error {
	switch {
	case errors.Is(err, store.ErrAppointmentDoctor):
		return Problems{"doctorId": {"must be one of this care recipient's doctors"}}.Err()
	case errors.Is(err, store.ErrTransportAssignee):
		return Problems{transportField: {"must be an active member of this family"}}.Err()
	case errors.Is(err, care.ErrAppointmentTransition):
		return conflict("This status change is not allowed for the appointment's current status")
	case errors.Is(err, store.ErrReference):
		return badRequest("A referenced doctor or member no longer exists")
	}
	return err
}

// appointmentQueryInt reads an optional whole-number query parameter within
// [lo, hi], def when absent.
func appointmentQueryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, Problems{name: {"must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}}.Err()
	}
	return n, nil
}

// appointmentInstant checks an RFC 3339 timestamp between 1970 and 2199,
// truncated to the second (recurrence rules count in seconds).
func (p Problems) appointmentInstant(field, v string) (time.Time, bool) {
	if v == "" {
		p.Add(field, "is required")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		p.Add(field, "must be an RFC 3339 timestamp such as 2026-03-02T09:00:00Z")
		return time.Time{}, false
	}
	if t.Year() < 1970 || t.Year() >= 2200 {
		p.Add(field, "must be between 1970 and 2199")
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Second), true
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
		return appointmentDayStart(d, loc), true
	}
	return p.appointmentInstant(field, v)
}

// appointmentDayStart is the first instant of the calendar date d (read as
// a UTC midnight) in loc, also on days whose midnight a DST change skips.
func appointmentDayStart(d time.Time, loc *time.Location) time.Time {
	return care.ClockTime{}.On(d.Year(), d.Month(), d.Day(), loc).UTC()
}

// emitAppointment announces a change to appointments of cr; data is the
// appointment as the API answers it (as it was, for a deletion), or a
// summary of a change to a series.
func (s *Server) emitAppointment(ctx context.Context, p *Principal, cr *care.CareRecipient, typ string, data any) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: p.User.ID, Data: data})
}
