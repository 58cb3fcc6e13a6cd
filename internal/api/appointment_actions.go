package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/appointments"
)

// updateAppointment edits one appointment (of a series, only this
// occurrence). A status change must follow the appointment state machine
// (409 otherwise).
func (s *Server) updateAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := appointmentIDs(r)
	if err != nil {
		return err
	}
	out, err := s.svc.Appointments.Update(r.Context(), *p, crID, id, func() (appointments.Change, error) {
		var b appointmentPatch
		if err := decode(w, r, &b); err != nil {
			return appointments.Change{}, err
		}
		return appointments.Change{Apply: b.edit, DoctorName: b.DoctorName}, nil
	})
	return writeOK(w, out, err)
}

// edit changes a as the patch asks: its fields, times, aliases and status.
func (b *appointmentPatch) edit(a *care.Appointment) error {
	b.apply(a)
	if err := b.applyTimes(a); err != nil {
		return err
	}
	if err := b.applyAliases(a); err != nil {
		return err
	}
	if b.Status.Set {
		return a.SetStatus(care.AppointmentStatus(b.Status.Value))
	}
	return nil
}

func (s *Server) deleteAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByIDs(w, r, p, appointmentIDs, s.svc.Appointments.Delete)
}

// cancelAppointment cancels one scheduled or confirmed appointment; one
// already cancelled, completed or missed is 409. It takes no body.
func (s *Server) cancelAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := appointmentIDs(r)
	if err != nil {
		return err
	}
	out, err := s.svc.Appointments.Cancel(r.Context(), *p, crID, id, func() error {
		var none struct{}
		return decodeOptional(w, r, &none)
	})
	return writeOK(w, out, err)
}

// assignTransport makes a family member the appointment's driver, replacing
// any earlier assignment, and tells them. It answers the assignment.
func (s *Server) assignTransport(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := appointmentIDs(r)
	if err != nil {
		return err
	}
	out, err := s.svc.Appointments.AssignTransport(r.Context(), *p, crID, id, func() (appointments.Transport, error) {
		var b transportBody
		err := decode(w, r, &b)
		return appointments.Transport{AssignedToID: b.AssignedToID, Notes: b.Notes}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out.TransportAssignment)
	return nil
}

// confirmTransport records that the assigned driver will drive; only they
// may (403 for anyone else), and only once someone is assigned (404).
func (s *Server) confirmTransport(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := appointmentIDs(r)
	if err != nil {
		return err
	}
	out, err := s.svc.Appointments.ConfirmTransport(r.Context(), *p, crID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out.TransportAssignment)
	return nil
}

// seriesFrom reads ?fromDate: a date in the care recipient's zone loc (from
// the start of that day) or an RFC 3339 instant; nil (now) when absent.
func seriesFrom(r *http.Request, loc *time.Location) (*time.Time, error) {
	v := r.URL.Query().Get("fromDate")
	if v == "" {
		return nil, nil
	}
	p := Problems{}
	from, ok := p.appointmentBound("fromDate", v, loc, false)
	if !ok {
		return nil, p.Err()
	}
	return &from, nil
}

// seriesChange answers a change to a series.
type seriesChange struct {
	Count        int                `json:"count"`
	Appointments []care.Appointment `json:"appointments,omitempty"`
}

// updateAppointmentSeries edits every scheduled or confirmed occurrence of a
// series starting at or after ?fromDate. A new startTime moves each of them
// to its local time of day, in the care recipient's zone, on its own date
// (and moves the rule's DTSTART the same way); endTime sets the duration.
func (s *Server) updateAppointmentSeries(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "seriesId")
	if err != nil {
		return err
	}
	out, err := s.svc.Appointments.UpdateSeries(r.Context(), *p, id, func(loc *time.Location) (appointments.SeriesChange, error) {
		from, err := seriesFrom(r, loc)
		if err != nil {
			return appointments.SeriesChange{}, err
		}
		var b appointmentSeriesPatch
		if err := decode(w, r, &b); err != nil {
			return appointments.SeriesChange{}, err
		}
		rules := map[string]*string{} // old rule text → moved rule text
		return appointments.SeriesChange{From: from, Change: appointments.Change{
			Apply:      func(a *care.Appointment) error { return b.moveOccurrence(a, loc, rules) },
			DoctorName: b.DoctorName,
		}}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, seriesChange{Count: len(out), Appointments: out})
	return nil
}

// moveOccurrence applies the series patch to one occurrence a. A new start
// moves it to that local time of day on its own date in loc (and the rule's
// DTSTART with it; rules caches each moved rule by its old text).
func (b *appointmentSeriesPatch) moveOccurrence(a *care.Appointment, loc *time.Location, rules map[string]*string) error {
	b.apply(a)
	if err := b.applyAliases(a); err != nil {
		return err
	}
	if b.start == nil {
		return nil
	}
	d := a.Duration()
	if b.end != nil {
		d = b.end.Sub(*b.start)
	}
	a.StartTime = care.AtLocalClock(a.StartTime, *b.start, loc)
	a.EndTime = a.StartTime.Add(d)
	if a.RecurrenceRule != nil {
		moved, ok := rules[*a.RecurrenceRule]
		if !ok {
			rule, err := care.LoadRecurrence(*a.RecurrenceRule, loc)
			if err != nil {
				return err // rules are validated before they are stored
			}
			text := rule.WithStartClock(*b.start).String()
			moved, rules[*a.RecurrenceRule] = &text, &text
		}
		a.RecurrenceRule = moved
	}
	return nil
}

// cancelAppointmentSeries cancels every scheduled or confirmed occurrence of
// a series starting at or after ?fromDate, answering how many.
func (s *Server) cancelAppointmentSeries(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "seriesId")
	if err != nil {
		return err
	}
	n, err := s.svc.Appointments.CancelSeries(r.Context(), *p, id, func(loc *time.Location) (*time.Time, error) {
		from, err := seriesFrom(r, loc)
		if err != nil {
			return nil, err
		}
		var none struct{}
		return from, decodeOptional(w, r, &none)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, seriesChange{Count: n})
	return nil
}
