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
	b     *feature.Base
	appts feature.Records[care.Appointment]
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service {
	return &Service{b: b, appts: feature.Records[care.Appointment]{
		Base: b, What: "Appointment", Load: b.Store.Appointment,
		ID:     func(appt *care.Appointment) string { return appt.ID },
		Owner:  func(appt *care.Appointment) *string { return &appt.CareRecipientID },
		Delete: b.Store.DeleteAppointment,
	}}
}

// Filter picks a care recipient's appointments (see store.AppointmentFilter).
type Filter = store.AppointmentFilter

// access loads the appointment id and checks the actor's membership in its
// care recipient's family. With crID (the appointment asked for under its
// care recipient), the care recipient is checked first, and an appointment
// of another care recipient is KindNotFound.
func (s *Service) access(ctx context.Context, a feature.Actor, crID, id string, n feature.Need) (*care.Appointment, *care.CareRecipient, error) {
	get := s.appts.Get
	if crID != "" {
		get = s.appts.Of
	}
	appt, cr, _, err := get(ctx, a, crID, id, n)
	return appt, cr, err
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
