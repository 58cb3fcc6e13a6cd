package appointments

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Change is an edit of an appointment, or of each occurrence of a series,
// as a caller asks for it.
type Change struct {
	// Apply changes the appointment as asked, and refuses a result that
	// breaks a rule.
	Apply feature.Edit[care.Appointment]
	// DoctorName, sent by existing clients in place of a doctor's id,
	// names one of the care recipient's doctors, letter case aside; a name
	// matching none clears the doctor and heads the notes (replacing a
	// name put there before), so nothing the client sent is lost.
	DoctorName *string
}

// edit returns the edit c makes, with its doctor's name looked up among
// the care recipient's doctors.
func (s *Service) edit(ctx context.Context, crID string, c Change) (feature.Edit[care.Appointment], error) {
	if c.DoctorName == nil {
		return c.Apply, nil
	}
	name := *c.DoctorName
	id, found, err := s.doctorNamed(ctx, crID, name)
	if err != nil {
		return nil, err
	}
	return func(a *care.Appointment) error {
		if err := c.Apply(a); err != nil {
			return err
		}
		if found {
			a.DoctorID = &id
			return nil
		}
		a.DoctorID = nil
		notes := "Doctor: " + name
		if a.Notes != nil && *a.Notes != "" {
			rest := *a.Notes
			if strings.HasPrefix(rest, "Doctor: ") {
				_, rest, _ = strings.Cut(rest, "\n")
			}
			if rest != "" {
				notes += "\n" + rest
			}
		}
		a.Notes = &notes
		return nil
	}, nil
}

// Update edits one appointment (of a series, only this occurrence), which
// the actor may reach as Get says (a writer's command). A status change
// must follow the appointment state machine (KindConflict otherwise); a
// change to CANCELLED is announced as a cancellation.
func (s *Service) Update(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[Change]) (*care.Appointment, error) {
	appt, cr, err := s.access(ctx, a, crID, id, feature.Writer)
	if err != nil {
		return nil, err
	}
	c, err := read()
	if err != nil {
		return nil, err
	}
	edit, err := s.edit(ctx, cr.ID, c)
	if err != nil {
		return nil, err
	}
	var out *care.Appointment
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var was care.AppointmentStatus
		var err error
		out, err = s.b.Store.UpdateAppointment(ctx, appt.ID, func(x *care.Appointment) error {
			was = x.Status
			return edit(x)
		})
		if err != nil {
			return err
		}
		typ := events.AppointmentUpdated
		if out.Status == care.AppointmentCancelled && was != care.AppointmentCancelled {
			typ = events.AppointmentCancelled
		}
		return s.b.EmitAbout(ctx, a, cr, typ, events.AppointmentChangeData{Appointment: out})
	})
	if err != nil {
		return nil, writeError(s.appts.Missing(err), "transportAssignedToId")
	}
	return out, nil
}

// Delete deletes an appointment (of a series, only this occurrence).
func (s *Service) Delete(ctx context.Context, a feature.Actor, crID, id string) error {
	appt, cr, err := s.access(ctx, a, crID, id, feature.Writer)
	if err != nil {
		return err
	}
	return s.appts.Remove(ctx, a, cr, appt, events.AppointmentDeleted)
}

// errNotOpen refuses cancelling an appointment that is already over.
var errNotOpen = feature.Conflict("Only a scheduled or confirmed appointment can be cancelled")

// Cancel cancels one scheduled or confirmed appointment; one already
// cancelled, completed or missed is a conflict. check reads the command's
// (empty) input once access is checked.
func (s *Service) Cancel(ctx context.Context, a feature.Actor, crID, id string, check func() error) (*care.Appointment, error) {
	appt, cr, err := s.access(ctx, a, crID, id, feature.Writer)
	if err != nil {
		return nil, err
	}
	if err := check(); err != nil {
		return nil, err
	}
	var out *care.Appointment
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.b.Store.UpdateAppointment(ctx, appt.ID, func(x *care.Appointment) error {
			if !x.Status.Open() {
				return errNotOpen
			}
			return x.SetStatus(care.AppointmentCancelled)
		})
		if err != nil {
			return err
		}
		return s.b.EmitAbout(ctx, a, cr, events.AppointmentCancelled, events.AppointmentChangeData{Appointment: out})
	})
	if err != nil {
		return nil, writeError(s.appts.Missing(err), "")
	}
	return out, nil
}

// Transport is a driver to an appointment, as a caller assigns them.
type Transport struct {
	AssignedToID string
	Notes        *string
}

// AssignTransport makes a family member the appointment's driver,
// replacing any earlier assignment, and tells them. It returns the
// appointment with its assignment.
func (s *Service) AssignTransport(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[Transport]) (*care.Appointment, error) {
	appt, cr, err := s.access(ctx, a, crID, id, feature.Writer)
	if err != nil {
		return nil, err
	}
	t, err := read()
	if err != nil {
		return nil, err
	}
	var out *care.Appointment
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.b.Store.AssignTransport(ctx, appt.ID, t.AssignedToID, t.Notes); err != nil {
			return err
		}
		if err := s.b.EmitAbout(ctx, a, cr, events.AppointmentTransport, transportAssigned(*out)); err != nil {
			return err
		}
		return s.notifyTransport(ctx, a, cr, *out, care.AppointmentWhat(cr, out, 1))
	})
	if err != nil {
		return nil, writeError(s.appts.Missing(err), "assignedToId")
	}
	return out, nil
}

// ConfirmTransport records that the assigned driver will drive; only they
// may (KindForbidden for anyone else), and only once someone is assigned
// (KindNotFound). It returns the appointment with its assignment.
func (s *Service) ConfirmTransport(ctx context.Context, a feature.Actor, crID, id string) (*care.Appointment, error) {
	appt, cr, err := s.access(ctx, a, crID, id, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	var out *care.Appointment
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.b.Store.ConfirmTransport(ctx, appt.ID, a.ID()); err != nil {
			return err
		}
		return s.b.EmitAbout(ctx, a, cr, events.AppointmentUpdated, events.AppointmentChangeData{Appointment: out})
	})
	switch {
	case errors.Is(err, store.ErrTransportNotAssignee):
		return nil, feature.Forbidden("Only the assigned member can confirm the transport")
	case errors.Is(err, store.ErrNoTransport):
		return nil, feature.NotFound("Transport assignment")
	case feature.IsNotFound(err):
		return nil, feature.NotFound("Appointment")
	case err != nil:
		return nil, err
	}
	return out, nil
}

// SeriesChange is an edit of a series' occurrences from a time on.
type SeriesChange struct {
	// From is the earliest start of an occurrence changed; nil for now.
	From *time.Time
	Change
}

// UpdateSeries edits every scheduled or confirmed occurrence of the series
// seriesID starting at or after the change's From (a writer's command).
// read is given the care recipient's zone, in which the change moves the
// occurrences. It returns the occurrences changed.
func (s *Service) UpdateSeries(ctx context.Context, a feature.Actor, seriesID string, read func(loc *time.Location) (SeriesChange, error)) ([]care.Appointment, error) {
	list, cr, err := s.seriesAccess(ctx, a, seriesID, feature.Writer)
	if err != nil {
		return nil, err
	}
	c, err := read(feature.Zone(cr.Timezone))
	if err != nil {
		return nil, err
	}
	from := s.from(c.From)
	edit, err := s.edit(ctx, cr.ID, c.Change)
	if err != nil {
		return nil, err
	}
	id := *list[0].RecurringSeriesID
	var out []care.Appointment
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.b.Store.UpdateSeries(ctx, id, from, edit); err != nil || len(out) == 0 {
			return err
		}
		return s.b.EmitAbout(ctx, a, cr, events.AppointmentUpdated, seriesChanged(id, from, out))
	})
	if err != nil {
		return nil, writeError(err, "transportAssignedToId")
	}
	return out, nil
}

// from is from, or now when nil.
func (s *Service) from(from *time.Time) time.Time {
	if from == nil {
		return s.b.Clock.Now()
	}
	return *from
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

// CancelSeries cancels every scheduled or confirmed occurrence of the
// series seriesID starting at or after the time read returns (nil for now;
// it is given the care recipient's zone), and returns how many.
func (s *Service) CancelSeries(ctx context.Context, a feature.Actor, seriesID string, read func(loc *time.Location) (*time.Time, error)) (int, error) {
	list, cr, err := s.seriesAccess(ctx, a, seriesID, feature.Writer)
	if err != nil {
		return 0, err
	}
	at, err := read(feature.Zone(cr.Timezone))
	if err != nil {
		return 0, err
	}
	from := s.from(at)
	id := *list[0].RecurringSeriesID
	var n int
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if n, err = s.b.Store.CancelSeries(ctx, id, from); err != nil || n == 0 {
			return err
		}
		return s.b.EmitAbout(ctx, a, cr, events.AppointmentCancelled, events.AppointmentChangeData{
			SeriesChange: &events.SeriesChange{SeriesID: id, FromDate: from.UTC(), Count: n}})
	})
	return n, err
}

// ReleaseTransport takes someone whose membership of a family has just
// ended off driving to the appointments still to come (see
// store.DropTransport), in the transaction that ends it: each appointment
// is announced (appointment.updated), and the family's admins, but not the
// actor, are told in one notification that they need a driver. why says
// what happened, as in "Bo Lee left the family".
func (s *Service) ReleaseTransport(ctx context.Context, a feature.Actor, familyID, userID, why string) error {
	as, err := s.b.Store.DropTransport(ctx, familyID, userID, s.b.Clock.Now())
	if err != nil || len(as) == 0 {
		return err
	}
	crs := map[string]*care.CareRecipient{}
	ids := make([]string, len(as))
	for i := range as {
		cr := crs[as[i].CareRecipientID]
		if cr == nil {
			if cr, err = s.b.Store.CareRecipient(ctx, as[i].CareRecipientID); err != nil {
				return err
			}
			crs[cr.ID] = cr
		}
		if err := s.b.EmitAbout(ctx, a, cr, events.AppointmentUpdated, events.AppointmentChangeData{Appointment: &as[i]}); err != nil {
			return err
		}
		ids[i] = as[i].ID
	}
	first, cr := as[0], crs[as[0].CareRecipientID]
	text := care.AppointmentsNeedDriverText(why, len(as), cr, &first)
	return s.b.NotifyFamily(ctx, familyID, a.ID(), []care.Role{care.RoleAdmin}, care.NotificationDraft{
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
