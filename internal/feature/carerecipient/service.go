// Package carerecipient is the application layer of care recipients: the
// person a family cares for, with their doctors and emergency contacts. Its
// commands check access, run one transaction, record their events and drop
// the family's cached view when a care recipient changes (see
// internal/feature).
package carerecipient

import (
	"context"
	"errors"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Service runs the commands and queries of care recipients, their doctors
// and their emergency contacts.
type Service struct {
	b        *feature.Base
	crs      feature.Records[care.CareRecipient]
	doctors  feature.Records[care.Doctor]
	contacts feature.Records[care.EmergencyContact]
}

// New builds the service on the shared base. A change to a care recipient
// drops their family's cached view, which lists them.
func New(b *feature.Base) *Service {
	crs := feature.Records[care.CareRecipient]{
		Base: b, What: "Care recipient", Load: b.Store.CareRecipient,
		ID:     func(cr *care.CareRecipient) string { return cr.ID },
		Owner:  func(cr *care.CareRecipient) *string { return &cr.ID },
		Update: b.Store.UpdateCareRecipient, Delete: b.Store.DeleteCareRecipient,
		Changed: func(ctx context.Context, cr *care.CareRecipient) { b.FamilyChanged(ctx, cr.FamilyID) },
	}
	return &Service{b: b, crs: crs, doctors: doctors(b), contacts: contacts(b)}
}

// Create adds a care recipient to the family familyID (a writer's command).
// Their schedule is kept in the zone read gives, or else in the creating
// user's (or the default zone when the user's is not a valid one).
func (s *Service) Create(ctx context.Context, a feature.Actor, familyID string, read feature.Input[care.CareRecipient]) (*care.CareRecipient, error) {
	if _, err := s.b.Family(ctx, a, familyID, feature.Writer); err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	in.FamilyID = familyID
	if in.Timezone == "" {
		in.Timezone = a.User.Timezone
		if !care.ValidTimezone(in.Timezone) {
			in.Timezone = care.DefaultTimezone
		}
	}
	var cr *care.CareRecipient
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if cr, err = s.b.Store.CreateCareRecipient(ctx, in); err != nil {
			return err
		}
		s.b.FamilyChanged(ctx, familyID)
		return s.b.EmitAbout(ctx, a, cr, events.CareRecipientCreated, cr)
	})
	if errors.Is(err, store.ErrReference) {
		return nil, feature.NotFound("Family")
	}
	return cr, err
}

// List lists the family's care recipients, from the family's cached view.
func (s *Service) List(ctx context.Context, a feature.Actor, familyID string) ([]care.CareRecipient, error) {
	if _, err := s.b.Family(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	v, err := s.b.FamilyView(ctx, familyID)
	if err != nil {
		return nil, err
	}
	return v.CareRecipients, nil
}

// Get returns the care recipient id with their doctors and emergency
// contacts.
func (s *Service) Get(ctx context.Context, a feature.Actor, id string) (*care.CareRecipientDetails, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, id, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	d := care.CareRecipientDetails{CareRecipient: *cr}
	if d.Doctors, err = s.b.Store.Doctors(ctx, cr.ID); err != nil {
		return nil, err
	}
	if d.EmergencyContacts, err = s.b.Store.EmergencyContacts(ctx, cr.ID); err != nil {
		return nil, err
	}
	return &d, nil
}

// Update edits the care recipient id as the edit read gives (a writer's
// command).
func (s *Service) Update(ctx context.Context, a feature.Actor, id string, read feature.Input[feature.Edit[care.CareRecipient]]) (*care.CareRecipient, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, id, feature.Writer)
	if err != nil {
		return nil, err
	}
	return s.crs.Edit(ctx, a, cr, cr, read, events.CareRecipientUpdated)
}

// Delete deletes the care recipient id with everything recorded about them
// (a family admin's command).
func (s *Service) Delete(ctx context.Context, a feature.Actor, id string) error {
	cr, _, err := s.b.CareRecipient(ctx, a, id, feature.Admin)
	if err != nil {
		return err
	}
	return s.crs.Remove(ctx, a, cr, cr, events.CareRecipientDeleted)
}
