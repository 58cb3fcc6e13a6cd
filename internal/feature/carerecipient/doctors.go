package carerecipient

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
)

// doctors reads and writes the care recipients' doctors.
func doctors(b *feature.Base) feature.Records[care.Doctor] {
	return feature.Records[care.Doctor]{
		Base: b, What: "Doctor", Load: b.Store.Doctor,
		ID:     func(d *care.Doctor) string { return d.ID },
		Owner:  func(d *care.Doctor) *string { return &d.CareRecipientID },
		Create: b.Store.CreateDoctor, Update: b.Store.UpdateDoctor, Delete: b.Store.DeleteDoctor,
	}
}

// CreateDoctor adds a doctor to the care recipient crID (a writer's
// command).
func (s *Service) CreateDoctor(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.Doctor]) (*care.Doctor, error) {
	return s.doctors.Add(ctx, a, crID, read, events.DoctorCreated)
}

// Doctors lists the care recipient crID's doctors.
func (s *Service) Doctors(ctx context.Context, a feature.Actor, crID string) ([]care.Doctor, error) {
	return feature.ListOf(ctx, s.b, a, crID, s.b.Store.Doctors)
}

// Doctor returns the doctor id.
func (s *Service) Doctor(ctx context.Context, a feature.Actor, id string) (*care.Doctor, error) {
	d, _, _, err := s.doctors.Get(ctx, a, "", id, feature.AnyMember)
	return d, err
}

// UpdateDoctor edits the doctor id as the edit read gives (a writer's
// command).
func (s *Service) UpdateDoctor(ctx context.Context, a feature.Actor, id string, read feature.Input[feature.Edit[care.Doctor]]) (*care.Doctor, error) {
	d, cr, _, err := s.doctors.Get(ctx, a, "", id, feature.Writer)
	if err != nil {
		return nil, err
	}
	return s.doctors.Edit(ctx, a, cr, d, read, events.DoctorUpdated)
}

// DeleteDoctor deletes the doctor id (a writer's command).
func (s *Service) DeleteDoctor(ctx context.Context, a feature.Actor, id string) error {
	d, cr, _, err := s.doctors.Get(ctx, a, "", id, feature.Writer)
	if err != nil {
		return err
	}
	return s.doctors.Remove(ctx, a, cr, d, events.DoctorDeleted)
}
