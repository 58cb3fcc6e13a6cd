package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/appointments"
)

// createdAppointment answers POST .../appointments: the (first) appointment,
// and for a series its id and size.
type createdAppointment struct {
	care.Appointment
	SeriesID     *string `json:"seriesId,omitempty"`
	TotalCreated int     `json:"totalCreated,omitempty"`
}

// createAppointment creates one appointment or, when the body asks for a
// recurrence, a series (as createRecurringAppointments does), answering with
// its first appointment.
func (s *Server) createAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	res, err := s.createAppointments(w, r, p, false)
	if err != nil {
		return err
	}
	out := createdAppointment{Appointment: res.Appointments[0]}
	if res.SeriesID != "" {
		out.SeriesID, out.TotalCreated = &res.SeriesID, res.TotalCreated
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// createRecurringAppointments expands a recurrence in the care recipient's
// zone and stores its first ?maxOccurrences (default 52, at most 366)
// occurrences as one series, in one transaction.
func (s *Server) createRecurringAppointments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	res, err := s.createAppointments(w, r, p, true)
	return writeCreated(w, res, err)
}

// createAppointments creates what the body asks for; with series, the body
// must ask for a recurrence.
func (s *Server) createAppointments(w http.ResponseWriter, r *http.Request, p *Principal, series bool) (*appointments.Created, error) {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return nil, err
	}
	return s.svc.Appointments.Create(r.Context(), *p, crID, func(loc *time.Location) (appointments.Draft, error) {
		limit, err := queryWholeNumber(r, "maxOccurrences", care.DefaultSeriesOccurrences, 1, care.MaxSeriesOccurrences)
		if err != nil {
			return appointments.Draft{}, err
		}
		var b appointmentBody
		if err := decode(w, r, &b); err != nil {
			return appointments.Draft{}, err
		}
		if series && !b.recurring() {
			return appointments.Draft{}, Problems{"recurrence": {"is required (or recurrenceRule)"}}.Err()
		}
		return b.draft(loc, limit)
	})
}

// draft is the new appointment the body asks for, its recurrence read in
// the care recipient's zone loc; a series holds at most limit occurrences.
func (b *appointmentBody) draft(loc *time.Location, limit int) (appointments.Draft, error) {
	rule, err := b.recurrence(loc)
	if err != nil {
		return appointments.Draft{}, err
	}
	d := appointments.Draft{
		Appointment: care.Appointment{
			DoctorID: b.DoctorID, Title: b.Title, Type: care.AppointmentType(b.Type),
			StartTime: b.start, EndTime: b.end, Location: b.Location, Address: b.Address, Notes: b.Notes,
			ReminderMinutes: b.ReminderMinutes,
		},
		DoctorName: b.DoctorName, Rule: rule, RuleField: "recurrenceRule", Limit: limit,
	}
	if b.RecurrenceRule == nil {
		d.RuleField = "recurrence"
	}
	if b.TransportAssignedToID != nil {
		d.TransportToID = *b.TransportAssignedToID
	}
	return d, nil
}
