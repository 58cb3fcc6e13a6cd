// Package appointments is the application layer of appointments: single
// and recurring appointments (series), transport to them and their
// reminders, with the fields existing clients send in place of the
// contract's. Its commands check access, apply the rules (the pure ones
// are in internal/care), run one transaction, and record their events and
// notifications (see internal/feature).
package appointments

import (
	"context"
	"errors"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Service runs the appointments' commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }

// Filter picks a care recipient's appointments (see store.AppointmentFilter).
type Filter = store.AppointmentFilter

// access loads the appointment id and checks the actor's membership in its
// care recipient's family. With crID (the appointment asked for under its
// care recipient), the care recipient is checked first, and an appointment
// of another care recipient is KindNotFound.
func (s *Service) access(ctx context.Context, a feature.Actor, crID, id string, n feature.Need) (*care.Appointment, *care.CareRecipient, error) {
	nested := crID != ""
	var cr *care.CareRecipient
	var err error
	if nested {
		if cr, _, err = s.b.CareRecipient(ctx, a, crID, n); err != nil {
			return nil, nil, err
		}
	}
	appt, err := s.b.Store.Appointment(ctx, id)
	if feature.IsNotFound(err) || (err == nil && nested && appt.CareRecipientID != crID) {
		return nil, nil, feature.NotFound("Appointment")
	}
	if err != nil {
		return nil, nil, err
	}
	if !nested {
		if cr, _, err = s.b.CareRecipient(ctx, a, appt.CareRecipientID, n); err != nil {
			return nil, nil, err
		}
	}
	return appt, cr, nil
}

// seriesAccess loads the stored occurrences of the series seriesID and
// checks the actor's membership in its care recipient's family.
func (s *Service) seriesAccess(ctx context.Context, a feature.Actor, seriesID string, n feature.Need) ([]care.Appointment, *care.CareRecipient, error) {
	list, err := s.b.Store.SeriesAppointments(ctx, seriesID)
	if feature.IsNotFound(err) {
		return nil, nil, feature.NotFound("Appointment series")
	}
	if err != nil {
		return nil, nil, err
	}
	cr, _, err := s.b.CareRecipient(ctx, a, list[0].CareRecipientID, n)
	if err != nil {
		return nil, nil, err
	}
	return list, cr, nil
}

// notFound turns the store's "no such row" from a write into the
// appointment's KindNotFound (it was deleted meanwhile).
func notFound(err error) error {
	if feature.IsNotFound(err) {
		return feature.NotFound("Appointment")
	}
	return err
}

// writeError maps the store's refusals of an appointment write to what the
// caller sees; transportField names the input field holding the driver.
func writeError(err error, transportField string) error {
	switch {
	case errors.Is(err, store.ErrAppointmentDoctor):
		return feature.FieldError("doctorId", "must be one of this care recipient's doctors")
	case errors.Is(err, store.ErrTransportAssignee):
		return feature.FieldError(transportField, "must be an active member of this family")
	case errors.Is(err, care.ErrAppointmentTransition):
		return feature.Conflict("This status change is not allowed for the appointment's current status")
	case errors.Is(err, store.ErrReference):
		return feature.Invalid("A referenced doctor or member no longer exists")
	}
	return err
}

// zone is the care recipient's zone, in which appointments' days and
// recurrences are kept; UTC if the stored name no longer loads.
func zone(cr *care.CareRecipient) *time.Location {
	loc, err := time.LoadLocation(cr.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// localDate is t's calendar date in loc, as midnight UTC.
func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DayStart is the first instant of the calendar date d (read as a UTC
// midnight) in loc, also on days whose midnight a DST change skips.
func DayStart(d time.Time, loc *time.Location) time.Time {
	return care.ClockTime{}.On(d.Year(), d.Month(), d.Day(), loc).UTC()
}

// emit announces a change to appointments of cr; data is the appointment
// as callers see it (as it was, for a deletion), or a summary of a change
// to a series.
func (s *Service) emit(ctx context.Context, a feature.Actor, cr *care.CareRecipient, typ string, data any) error {
	return s.b.Emit(ctx, feature.Event{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: a.ID(), Data: data})
}
