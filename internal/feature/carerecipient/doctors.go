package carerecipient

import (
	"context"
	"errors"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// doctorAccess loads the doctor id (KindNotFound when there is none) and
// checks the actor's membership in their care recipient's family.
func (s *Service) doctorAccess(ctx context.Context, a feature.Actor, id string, n feature.Need) (*care.Doctor, *care.CareRecipient, error) {
	d, err := s.b.Store.Doctor(ctx, id)
	if feature.IsNotFound(err) {
		return nil, nil, feature.NotFound("Doctor")
	}
	if err != nil {
		return nil, nil, err
	}
	cr, _, err := s.b.CareRecipient(ctx, a, d.CareRecipientID, n)
	if err != nil {
		return nil, nil, err
	}
	return d, cr, nil
}

// doctorNotFound turns the store's "no such row" from a write into the
// doctor's KindNotFound (it was deleted meanwhile).
func doctorNotFound(err error) error {
	if feature.IsNotFound(err) {
		return feature.NotFound("Doctor")
	}
	return err
}

// CreateDoctor adds a doctor to the care recipient crID (a writer's
// command).
func (s *Service) CreateDoctor(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.Doctor]) (*care.Doctor, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.Writer)
	if err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	in.CareRecipientID = cr.ID
	var d *care.Doctor
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if d, err = s.b.Store.CreateDoctor(ctx, in); err != nil {
			return err
		}
		return s.emitAbout(ctx, a, cr, events.DoctorCreated, d)
	})
	if errors.Is(err, store.ErrReference) {
		return nil, feature.NotFound("Care recipient")
	}
	return d, err
}

// Doctors lists the care recipient crID's doctors.
func (s *Service) Doctors(ctx context.Context, a feature.Actor, crID string) ([]care.Doctor, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	return s.b.Store.Doctors(ctx, cr.ID)
}

// Doctor returns the doctor id.
func (s *Service) Doctor(ctx context.Context, a feature.Actor, id string) (*care.Doctor, error) {
	d, _, err := s.doctorAccess(ctx, a, id, feature.AnyMember)
	return d, err
}

// UpdateDoctor edits the doctor id as the edit read gives (a writer's
// command).
func (s *Service) UpdateDoctor(ctx context.Context, a feature.Actor, id string, read feature.Input[feature.Edit[care.Doctor]]) (*care.Doctor, error) {
	d, cr, err := s.doctorAccess(ctx, a, id, feature.Writer)
	if err != nil {
		return nil, err
	}
	edit, err := read()
	if err != nil {
		return nil, err
	}
	var out *care.Doctor
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.b.Store.UpdateDoctor(ctx, d.ID, edit); err != nil {
			return err
		}
		return s.emitAbout(ctx, a, cr, events.DoctorUpdated, out)
	})
	return out, doctorNotFound(err)
}

// DeleteDoctor deletes the doctor id (a writer's command).
func (s *Service) DeleteDoctor(ctx context.Context, a feature.Actor, id string) error {
	d, cr, err := s.doctorAccess(ctx, a, id, feature.Writer)
	if err != nil {
		return err
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		if err := s.b.Store.DeleteDoctor(ctx, d.ID); err != nil {
			return err
		}
		return s.emitAbout(ctx, a, cr, events.DoctorDeleted, d)
	})
	return doctorNotFound(err)
}
