// Package medications is the application layer of medications: the
// medications of a care recipient, today's dose schedule and the dose log.
// Its commands check access, apply the rules (the pure ones are in
// internal/care), run one transaction, and record their events and
// notifications (see internal/feature).
package medications

import (
	"context"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
)

// Service runs the medications' commands and queries.
type Service struct {
	b    *feature.Base
	meds feature.Records[care.Medication]
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service {
	return &Service{b: b, meds: feature.Records[care.Medication]{
		Base: b, What: "Medication", Load: b.Store.Medication,
		ID:     func(m *care.Medication) string { return m.ID },
		Owner:  func(m *care.Medication) *string { return &m.CareRecipientID },
		Create: b.Store.CreateMedication, Update: b.Store.UpdateMedication, Delete: b.Store.DeleteMedication,
	}}
}

// errInactive refuses dose logs for a stopped medication.
var errInactive = feature.Conflict("This medication is inactive; reactivate it to log doses")

// access checks the actor's membership in the family of the care recipient
// crID, then loads the medication medID, which must be the care
// recipient's (KindNotFound otherwise).
func (s *Service) access(ctx context.Context, a feature.Actor, crID, medID string, n feature.Need) (*care.CareRecipient, *care.Medication, error) {
	m, cr, _, err := s.meds.Of(ctx, a, crID, medID, n)
	return cr, m, err
}

// Create adds a medication to the care recipient crID (a writer's command).
func (s *Service) Create(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.Medication]) (*care.Medication, error) {
	return s.meds.Add(ctx, a, crID, read, events.MedicationCreated)
}

// List lists the care recipient's active medications, or all of them.
func (s *Service) List(ctx context.Context, a feature.Actor, crID string, activeOnly bool) ([]care.Medication, error) {
	return feature.ListOf(ctx, s.b, a, crID, func(ctx context.Context, crID string) ([]care.Medication, error) {
		return s.b.Store.Medications(ctx, crID, activeOnly)
	})
}

// Get returns one of the care recipient's medications.
func (s *Service) Get(ctx context.Context, a feature.Actor, crID, medID string) (*care.Medication, error) {
	_, m, err := s.access(ctx, a, crID, medID, feature.AnyMember)
	return m, err
}

// Update edits a medication: the edit read changes it as the caller asked
// and checks the result as a whole (a schedule for scheduled frequencies,
// end not before start), so an update never leaves an inconsistent
// medication.
func (s *Service) Update(ctx context.Context, a feature.Actor, crID, medID string, read feature.Input[feature.Edit[care.Medication]]) (*care.Medication, error) {
	cr, m, err := s.access(ctx, a, crID, medID, feature.Writer)
	if err != nil {
		return nil, err
	}
	return s.meds.Edit(ctx, a, cr, m, read, events.MedicationUpdated)
}

// Deactivate stops a medication: no more reminders or dose logs, its
// history kept. Deactivating an inactive medication changes nothing (and
// announces nothing).
func (s *Service) Deactivate(ctx context.Context, a feature.Actor, crID, medID string) (*care.Medication, error) {
	cr, m, err := s.access(ctx, a, crID, medID, feature.Writer)
	if err != nil {
		return nil, err
	}
	var out *care.Medication
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		wasActive := false
		var err error
		out, err = s.b.Store.UpdateMedication(ctx, m.ID, func(m *care.Medication) error {
			wasActive, m.IsActive = m.IsActive, false
			return nil
		})
		if err != nil || !wasActive {
			return err
		}
		return s.b.EmitAbout(ctx, a, cr, events.MedicationUpdated, out)
	})
	return out, s.meds.Missing(err)
}

// Delete deletes a medication with its dose logs.
func (s *Service) Delete(ctx context.Context, a feature.Actor, crID, medID string) error {
	cr, m, err := s.access(ctx, a, crID, medID, feature.Writer)
	if err != nil {
		return err
	}
	return s.meds.Remove(ctx, a, cr, m, events.MedicationDeleted)
}

// zone is the IANA zone of a care recipient, where its dates are read.
func (s *Service) zone(cr *care.CareRecipient) (*time.Location, error) {
	loc, err := s.b.Location(cr.Timezone)
	if err != nil {
		return nil, fmt.Errorf("care recipient %s: zone: %w", cr.ID, err)
	}
	return loc, nil
}
