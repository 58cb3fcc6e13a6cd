package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// updateAppointment edits one appointment (of a series, only this
// occurrence). A status change must follow the appointment state machine
// (409 otherwise).
func (s *Server) updateAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, cr, err := s.appointmentAccess(r, p, writer)
	if err != nil {
		return err
	}
	var b appointmentPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if err := s.resolvePatchDoctorName(r.Context(), cr.ID, &b); err != nil {
		return err
	}
	var out *care.Appointment
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var was care.AppointmentStatus
		var err error
		out, err = s.store.UpdateAppointment(ctx, a.ID, func(a *care.Appointment) error {
			was = a.Status
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
		})
		if err != nil {
			return err
		}
		typ := events.AppointmentUpdated
		if out.Status == care.AppointmentCancelled && was != care.AppointmentCancelled {
			typ = events.AppointmentCancelled
		}
		return s.emitAppointment(ctx, p, cr, typ, events.AppointmentChangeData{Appointment: out})
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Appointment")
	}
	if err != nil {
		return appointmentWriteError(err, "transportAssignedToId")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, cr, err := s.appointmentAccess(r, p, writer)
	if err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if err := s.store.DeleteAppointment(ctx, a.ID); err != nil {
			return err
		}
		return s.emitAppointment(ctx, p, cr, events.AppointmentDeleted, a)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Appointment")
	}
	if err != nil {
		return err
	}
	writeDeleted(w)
	return nil
}

// errNotOpen refuses cancelling an appointment that is already over.
func errNotOpen() error {
	return conflict("Only a scheduled or confirmed appointment can be cancelled")
}

// cancelAppointment cancels one scheduled or confirmed appointment; one
// already cancelled, completed or missed is 409. It takes no body.
func (s *Server) cancelAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, cr, err := s.appointmentAccess(r, p, writer)
	if err != nil {
		return err
	}
	var none struct{}
	if err := decodeOptional(w, r, &none); err != nil {
		return err
	}
	var out *care.Appointment
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.store.UpdateAppointment(ctx, a.ID, func(a *care.Appointment) error {
			if !a.Status.Open() {
				return errNotOpen()
			}
			return a.SetStatus(care.AppointmentCancelled)
		})
		if err != nil {
			return err
		}
		return s.emitAppointment(ctx, p, cr, events.AppointmentCancelled, events.AppointmentChangeData{Appointment: out})
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Appointment")
	}
	if err != nil {
		return appointmentWriteError(err, "")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// assignTransport makes a family member the appointment's driver, replacing
// any earlier assignment, and tells them. It answers the assignment.
func (s *Server) assignTransport(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, cr, err := s.appointmentAccess(r, p, writer)
	if err != nil {
		return err
	}
	var b transportBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var out *care.Appointment
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if out, err = s.store.AssignTransport(ctx, a.ID, b.AssignedToID, b.Notes); err != nil {
			return err
		}
		if err := s.emitAppointment(ctx, p, cr, events.AppointmentTransport, transportAssigned(*out)); err != nil {
			return err
		}
		return s.notifyTransport(ctx, p, cr, *out, care.AppointmentWhat(cr, out, 1))
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Appointment")
	}
	if err != nil {
		return appointmentWriteError(err, "assignedToId")
	}
	writeJSON(w, http.StatusCreated, out.TransportAssignment)
	return nil
}

// confirmTransport records that the assigned driver will drive; only they
// may (403 for anyone else), and only once someone is assigned (404).
func (s *Server) confirmTransport(w http.ResponseWriter, r *http.Request, p *Principal) error {
	a, cr, err := s.appointmentAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	var out *care.Appointment
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if out, err = s.store.ConfirmTransport(ctx, a.ID, p.User.ID); err != nil {
			return err
		}
		return s.emitAppointment(ctx, p, cr, events.AppointmentUpdated, events.AppointmentChangeData{Appointment: out})
	})
	switch {
	case errors.Is(err, store.ErrTransportNotAssignee):
		return forbidden("Only the assigned member can confirm the transport")
	case errors.Is(err, store.ErrNoTransport):
		return notFound("Transport assignment")
	case errors.Is(err, store.ErrNotFound):
		return notFound("Appointment")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, out.TransportAssignment)
	return nil
}

// seriesFrom reads ?fromDate: a date in the care recipient's zone (from the
// start of that day) or an RFC 3339 instant; by default now.
func (s *Server) seriesFrom(r *http.Request, cr *care.CareRecipient) (time.Time, error) {
	v := r.URL.Query().Get("fromDate")
	if v == "" {
		return s.clock.Now(), nil
	}
	p := Problems{}
	from, ok := p.appointmentBound("fromDate", v, appointmentZone(cr), false)
	if !ok {
		return time.Time{}, p.Err()
	}
	return from, nil
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
	list, cr, err := s.seriesAccess(r, p, writer)
	if err != nil {
		return err
	}
	from, err := s.seriesFrom(r, cr)
	if err != nil {
		return err
	}
	var b appointmentSeriesPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if err := s.resolvePatchDoctorName(r.Context(), cr.ID, &b.appointmentPatch); err != nil {
		return err
	}
	loc := appointmentZone(cr)
	seriesID := *list[0].RecurringSeriesID
	rules := map[string]*string{} // old rule text → moved rule text
	var out []care.Appointment
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if out, err = s.store.UpdateSeries(ctx, seriesID, from, func(a *care.Appointment) error {
			return b.moveOccurrence(a, loc, rules)
		}); err != nil || len(out) == 0 {
			return err
		}
		return s.emitAppointment(ctx, p, cr, events.AppointmentUpdated, seriesChanged(seriesID, from, out))
	})
	if err != nil {
		return appointmentWriteError(err, "transportAssignedToId")
	}
	writeJSON(w, http.StatusOK, seriesChange{Count: len(out), Appointments: out})
	return nil
}

// seriesChanged is the data of the event of a change to a series from a
// date on: the series, how many occurrences changed and which.
func seriesChanged(seriesID string, from time.Time, list []care.Appointment) events.AppointmentChangeData {
	ids := make([]string, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	return events.AppointmentChangeData{SeriesChange: &events.SeriesChange{SeriesID: seriesID, FromDate: from.UTC(), Count: len(list), AppointmentIDs: ids}}
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
	list, cr, err := s.seriesAccess(r, p, writer)
	if err != nil {
		return err
	}
	from, err := s.seriesFrom(r, cr)
	if err != nil {
		return err
	}
	var none struct{}
	if err := decodeOptional(w, r, &none); err != nil {
		return err
	}
	seriesID := *list[0].RecurringSeriesID
	var n int
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if n, err = s.store.CancelSeries(ctx, seriesID, from); err != nil || n == 0 {
			return err
		}
		return s.emitAppointment(ctx, p, cr, events.AppointmentCancelled, events.AppointmentChangeData{
			SeriesChange: &events.SeriesChange{SeriesID: seriesID, FromDate: from.UTC(), Count: n}})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, seriesChange{Count: n})
	return nil
}

// releaseTransport takes someone whose membership of a family has just
// ended off driving to the appointments still to come (see
// store.DropTransport), in the transaction that ends it: each appointment is
// announced (appointment.updated), and the family's admins, but not the one
// who made the change, are told in one notification that they need a
// driver. why says what happened, as in "Bo Lee left the family".
func (s *Server) releaseTransport(ctx context.Context, p *Principal, familyID, userID, why string) error {
	as, err := s.store.DropTransport(ctx, familyID, userID, s.clock.Now())
	if err != nil || len(as) == 0 {
		return err
	}
	crs := map[string]*care.CareRecipient{}
	ids := make([]string, len(as))
	for i := range as {
		cr := crs[as[i].CareRecipientID]
		if cr == nil {
			if cr, err = s.store.CareRecipient(ctx, as[i].CareRecipientID); err != nil {
				return err
			}
			crs[cr.ID] = cr
		}
		if err := s.emitAppointment(ctx, p, cr, events.AppointmentUpdated, events.AppointmentChangeData{Appointment: &as[i]}); err != nil {
			return err
		}
		ids[i] = as[i].ID
	}
	first, cr := as[0], crs[as[0].CareRecipientID]
	text := care.AppointmentsNeedDriverText(why, len(as), cr, &first)
	return s.notifyFamily(ctx, familyID, p.User.ID, []care.Role{care.RoleAdmin}, care.NotificationDraft{
		Type:  care.NotifyGeneral,
		Title: text.Title,
		Body:  text.Body,
		Data: map[string]any{
			"appointmentId": first.ID, "appointmentIds": ids, "careRecipientId": cr.ID,
			"startTime": first.StartTime.Format(time.RFC3339),
		},
		DedupeKey: "transport-released:" + familyID + ":" + userID + ":" + first.ID,
	})
}
