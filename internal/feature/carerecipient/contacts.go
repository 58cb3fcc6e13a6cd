package carerecipient

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
)

// contacts reads and writes the care recipients' emergency contacts.
func contacts(b *feature.Base) feature.Records[care.EmergencyContact] {
	return feature.Records[care.EmergencyContact]{
		Base: b, What: "Emergency contact", Load: b.Store.EmergencyContact,
		ID:     func(c *care.EmergencyContact) string { return c.ID },
		Owner:  func(c *care.EmergencyContact) *string { return &c.CareRecipientID },
		Create: b.Store.CreateEmergencyContact, Update: b.Store.UpdateEmergencyContact, Delete: b.Store.DeleteEmergencyContact,
	}
}

// CreateEmergencyContact adds an emergency contact to the care recipient
// crID (a writer's command); a primary contact demotes the previous one.
func (s *Service) CreateEmergencyContact(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.EmergencyContact]) (*care.EmergencyContact, error) {
	return s.contacts.Add(ctx, a, crID, read, events.EmergencyContactCreated)
}

// EmergencyContacts lists the care recipient crID's emergency contacts,
// the primary one first.
func (s *Service) EmergencyContacts(ctx context.Context, a feature.Actor, crID string) ([]care.EmergencyContact, error) {
	return feature.ListOf(ctx, s.b, a, crID, s.b.Store.EmergencyContacts)
}

// UpdateEmergencyContact edits the emergency contact id as the edit read
// gives (a writer's command); making it primary demotes the previous
// primary contact.
func (s *Service) UpdateEmergencyContact(ctx context.Context, a feature.Actor, id string, read feature.Input[feature.Edit[care.EmergencyContact]]) (*care.EmergencyContact, error) {
	c, cr, _, err := s.contacts.Get(ctx, a, "", id, feature.Writer)
	if err != nil {
		return nil, err
	}
	return s.contacts.Edit(ctx, a, cr, c, read, events.EmergencyContactUpdated)
}

// DeleteEmergencyContact deletes the emergency contact id (a writer's
// command).
func (s *Service) DeleteEmergencyContact(ctx context.Context, a feature.Actor, id string) error {
	c, cr, _, err := s.contacts.Get(ctx, a, "", id, feature.Writer)
	if err != nil {
		return err
	}
	return s.contacts.Remove(ctx, a, cr, c, events.EmergencyContactDeleted)
}
