package carerecipient

import (
	"context"
	"errors"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// contactAccess loads the emergency contact id (KindNotFound when there is
// none) and checks the actor's membership in their care recipient's
// family.
func (s *Service) contactAccess(ctx context.Context, a feature.Actor, id string, n feature.Need) (*care.EmergencyContact, *care.CareRecipient, error) {
	c, err := s.b.Store.EmergencyContact(ctx, id)
	if feature.IsNotFound(err) {
		return nil, nil, feature.NotFound("Emergency contact")
	}
	if err != nil {
		return nil, nil, err
	}
	cr, _, err := s.b.CareRecipient(ctx, a, c.CareRecipientID, n)
	if err != nil {
		return nil, nil, err
	}
	return c, cr, nil
}

// contactNotFound turns the store's "no such row" from a write into the
// emergency contact's KindNotFound (it was deleted meanwhile).
func contactNotFound(err error) error {
	if feature.IsNotFound(err) {
		return feature.NotFound("Emergency contact")
	}
	return err
}

// CreateEmergencyContact adds an emergency contact to the care recipient
// crID (a writer's command); a primary contact demotes the previous one.
func (s *Service) CreateEmergencyContact(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.EmergencyContact]) (*care.EmergencyContact, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.Writer)
	if err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	in.CareRecipientID = cr.ID
	var c *care.EmergencyContact
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.b.Store.CreateEmergencyContact(ctx, in); err != nil {
			return err
		}
		return s.emitAbout(ctx, a, cr, events.EmergencyContactCreated, c)
	})
	if errors.Is(err, store.ErrReference) || feature.IsNotFound(err) {
		return nil, feature.NotFound("Care recipient")
	}
	return c, err
}

// EmergencyContacts lists the care recipient crID's emergency contacts,
// the primary one first.
func (s *Service) EmergencyContacts(ctx context.Context, a feature.Actor, crID string) ([]care.EmergencyContact, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	return s.b.Store.EmergencyContacts(ctx, cr.ID)
}

// UpdateEmergencyContact edits the emergency contact id as the edit read
// gives (a writer's command); making it primary demotes the previous
// primary contact.
func (s *Service) UpdateEmergencyContact(ctx context.Context, a feature.Actor, id string, read feature.Input[feature.Edit[care.EmergencyContact]]) (*care.EmergencyContact, error) {
	c, cr, err := s.contactAccess(ctx, a, id, feature.Writer)
	if err != nil {
		return nil, err
	}
	edit, err := read()
	if err != nil {
		return nil, err
	}
	var out *care.EmergencyContact
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.b.Store.UpdateEmergencyContact(ctx, c.ID, edit); err != nil {
			return err
		}
		return s.emitAbout(ctx, a, cr, events.EmergencyContactUpdated, out)
	})
	return out, contactNotFound(err)
}

// DeleteEmergencyContact deletes the emergency contact id (a writer's
// command).
func (s *Service) DeleteEmergencyContact(ctx context.Context, a feature.Actor, id string) error {
	c, cr, err := s.contactAccess(ctx, a, id, feature.Writer)
	if err != nil {
		return err
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		if err := s.b.Store.DeleteEmergencyContact(ctx, c.ID); err != nil {
			return err
		}
		return s.emitAbout(ctx, a, cr, events.EmergencyContactDeleted, c)
	})
	return contactNotFound(err)
}
