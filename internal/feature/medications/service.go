// Package medications is the application layer of medications: the
// medications of a care recipient, today's dose schedule and the dose log.
// Its commands check access, apply the rules (the pure ones are in
// internal/care), run one transaction, and record their events and
// notifications (see internal/feature).
package medications

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Service runs the medications' commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }

// errInactive refuses dose logs for a stopped medication.
var errInactive = feature.Conflict("This medication is inactive; reactivate it to log doses")

// access checks the actor's membership in the family of the care recipient
// crID, then loads the medication medID, which must be the care
// recipient's (KindNotFound otherwise).
func (s *Service) access(ctx context.Context, a feature.Actor, crID, medID string, n feature.Need) (*care.CareRecipient, *care.Medication, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, n)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.b.Store.Medication(ctx, medID)
	if feature.IsNotFound(err) || (err == nil && m.CareRecipientID != cr.ID) {
		return nil, nil, feature.NotFound("Medication")
	}
	if err != nil {
		return nil, nil, err
	}
	return cr, m, nil
}

// notFound turns the store's "no such row" from a write into the
// medication's KindNotFound (it was deleted meanwhile).
func notFound(err error) error {
	if feature.IsNotFound(err) {
		return feature.NotFound("Medication")
	}
	return err
}

// Create adds a medication to the care recipient crID (a writer's command).
func (s *Service) Create(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.Medication]) (*care.Medication, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.Writer)
	if err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	in.CareRecipientID = cr.ID
	var m *care.Medication
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.b.Store.CreateMedication(ctx, in); err != nil {
			return err
		}
		return s.emit(ctx, a, cr, events.MedicationCreated, m)
	})
	if errors.Is(err, store.ErrReference) {
		return nil, feature.NotFound("Care recipient")
	}
	return m, err
}

// List lists the care recipient's active medications, or all of them.
func (s *Service) List(ctx context.Context, a feature.Actor, crID string, activeOnly bool) ([]care.Medication, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	return s.b.Store.Medications(ctx, cr.ID, activeOnly)
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
	edit, err := read()
	if err != nil {
		return nil, err
	}
	var out *care.Medication
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.b.Store.UpdateMedication(ctx, m.ID, edit); err != nil {
			return err
		}
		return s.emit(ctx, a, cr, events.MedicationUpdated, out)
	})
	return out, notFound(err)
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
		return s.emit(ctx, a, cr, events.MedicationUpdated, out)
	})
	return out, notFound(err)
}

// Delete deletes a medication with its dose logs.
func (s *Service) Delete(ctx context.Context, a feature.Actor, crID, medID string) error {
	cr, m, err := s.access(ctx, a, crID, medID, feature.Writer)
	if err != nil {
		return err
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		if err := s.b.Store.DeleteMedication(ctx, m.ID); err != nil {
			return err
		}
		return s.emit(ctx, a, cr, events.MedicationDeleted, m)
	})
	return notFound(err)
}

// emit announces a change to one of cr's medications; m is the medication
// as callers see it (as it was, for a deletion).
func (s *Service) emit(ctx context.Context, a feature.Actor, cr *care.CareRecipient, typ string, m *care.Medication) error {
	return s.b.Emit(ctx, feature.Event{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: a.ID(), Data: m})
}

// zone is the IANA zone of a care recipient, where its dates are read.
func zone(cr *care.CareRecipient) (*time.Location, error) {
	loc, err := time.LoadLocation(cr.Timezone)
	if err != nil {
		return nil, fmt.Errorf("care recipient %s: zone: %w", cr.ID, err)
	}
	return loc, nil
}
