// Package emergency is the application layer of emergencies: alerts a
// member raises for a care recipient, acknowledged and resolved by the
// family, and the emergency information card paramedics or a hospital ask
// for. Its commands check access, run one transaction, and record their
// events and notifications (see internal/feature).
package emergency

import (
	"context"
	"errors"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Service runs the emergencies' commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }

// NewAlert is an emergency to raise.
type NewAlert struct {
	Type        care.AlertType
	Title       string
	Description string
	Location    *string
}

// Raise raises an emergency for the care recipient crID (a writer's
// command): the alert, its event and a notification to every other active
// member commit together, and the notification goes out on every channel
// at once (see internal/notify: EMERGENCY_ALERT ignores quiet hours and the
// preference switches, and may take the email reserve).
func (s *Service) Raise(ctx context.Context, a feature.Actor, crID string, read feature.Input[NewAlert]) (*care.EmergencyAlert, error) {
	cr, m, err := s.b.CareRecipient(ctx, a, crID, feature.Writer)
	if err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	var al *care.EmergencyAlert
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		al, err = s.b.Store.CreateEmergencyAlert(ctx, store.NewEmergencyAlert{CareRecipientID: cr.ID, CreatedByID: a.ID(),
			Type: in.Type, Title: in.Title, Description: in.Description, Location: in.Location})
		if err != nil {
			return err
		}
		if err := s.b.Emit(ctx, feature.Event{Type: events.EmergencyAlertCreated, FamilyID: m.FamilyID, CareRecipientID: cr.ID,
			ActorID: a.ID(), Data: al}); err != nil {
			return err
		}
		data := notificationData(al, m.FamilyID, a)
		data["description"] = al.Description
		if al.Location != nil {
			data["location"] = *al.Location
		}
		// The title is the alert's own: the email puts it under its
		// "EMERGENCY ALERT for ..." heading, push and SMS lead with it.
		text := care.EmergencyAlertText(a.User.FullName, cr, al)
		return s.b.NotifyFamily(ctx, m.FamilyID, a.ID(), nil, care.NotificationDraft{
			Type:      care.NotifyEmergencyAlert,
			Title:     text.Title,
			Body:      text.Body,
			Data:      data,
			DedupeKey: "emergency-alert:" + al.ID,
		})
	})
	if errors.Is(err, store.ErrReference) {
		return nil, feature.NotFound("Care recipient") // deleted while the alert was raised
	}
	if err != nil {
		return nil, err
	}
	return al, nil
}

// notificationData is what every notification about an alert carries:
// what internal/notify reads to link and describe it.
func notificationData(al *care.EmergencyAlert, familyID string, a feature.Actor) map[string]any {
	return map[string]any{
		"alertId": al.ID, "careRecipientId": al.CareRecipientID, "familyId": familyID,
		"type": string(al.Type), "title": al.Title, "status": string(al.Status),
		"raisedBy": raisedBy(al), "actorId": a.ID(), "actorName": a.User.FullName,
	}
}

// raisedBy is the name of the member who raised the alert, "" when their
// account is gone.
func raisedBy(al *care.EmergencyAlert) string {
	if al.CreatedBy != nil {
		return al.CreatedBy.FullName
	}
	return ""
}

// Open lists the care recipient's ACTIVE and ACKNOWLEDGED alerts, newest
// first.
func (s *Service) Open(ctx context.Context, a feature.Actor, crID string) ([]care.EmergencyAlert, error) {
	return feature.ListOf(ctx, s.b, a, crID, s.b.Store.OpenEmergencyAlerts)
}

// History lists the care recipient's alerts in every status, newest first,
// at most limit.
func (s *Service) History(ctx context.Context, a feature.Actor, crID string, limit int) ([]care.EmergencyAlert, error) {
	return feature.ListOf(ctx, s.b, a, crID, func(ctx context.Context, crID string) ([]care.EmergencyAlert, error) {
		return s.b.Store.EmergencyAlertHistory(ctx, crID, limit)
	})
}

// step is what differs between acknowledging and resolving.
type step struct {
	action care.AlertAction
	need   feature.Need
	// read reads the resolution notes, once the actor may act.
	read   func() (*string, error)
	event  string
	notify care.NotificationType
	// text words the family's notification: actor, care recipient, alert.
	text func(actor string, cr *care.CareRecipient, al *care.EmergencyAlert) care.Text
}

// transition takes st.action on the alert id of the care recipient crID;
// an alert of another care recipient is KindNotFound. The status check is
// the conditional update itself, so concurrent actions apply one at a time
// and the loser gets KindConflict. The change, its event and the other
// members' notification commit together. Follow-ups reach the family as
// ordinary news (their own notification types, honouring quiet hours), not
// by the emergency path: nobody is woken at night to hear an alert is over.
func (s *Service) transition(ctx context.Context, a feature.Actor, crID, id string, st step) (*care.EmergencyAlert, error) {
	cr, m, err := s.b.CareRecipient(ctx, a, crID, st.need)
	if err != nil {
		return nil, err
	}
	cur, err := s.b.Store.EmergencyAlert(ctx, id)
	if feature.IsNotFound(err) || (err == nil && cur.CareRecipientID != crID) {
		return nil, feature.NotFound("Emergency alert")
	}
	if err != nil {
		return nil, err
	}
	notes, err := st.read()
	if err != nil {
		return nil, err
	}
	var al *care.EmergencyAlert
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		al, err = s.b.Store.TransitionEmergencyAlert(ctx, id, store.AlertChange{Action: st.action, ActorID: a.ID(), ResolutionNotes: notes})
		if err != nil {
			return err
		}
		if err := s.b.Emit(ctx, feature.Event{Type: st.event, FamilyID: m.FamilyID, CareRecipientID: cr.ID,
			ActorID: a.ID(), Data: al}); err != nil {
			return err
		}
		text := st.text(a.User.FullName, cr, al)
		return s.b.NotifyFamily(ctx, m.FamilyID, a.ID(), nil, care.NotificationDraft{
			Type:      st.notify,
			Title:     text.Title,
			Body:      text.Body,
			Data:      notificationData(al, m.FamilyID, a),
			DedupeKey: fmt.Sprintf("emergency-%s:%s", st.action, al.ID),
		})
	})
	var refused *care.AlertTransitionError
	switch {
	case errors.As(err, &refused):
		return nil, feature.Conflict("Cannot %s an alert that is %s", refused.Action, refused.From)
	case feature.IsNotFound(err):
		return nil, feature.NotFound("Emergency alert")
	case err != nil:
		return nil, err
	}
	return al, nil
}

// Acknowledge records that a member has seen an ACTIVE alert and is acting
// on it; any member may. read checks the command's (empty) input.
func (s *Service) Acknowledge(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[struct{}]) (*care.EmergencyAlert, error) {
	return s.transition(ctx, a, crID, id, step{
		action: care.AlertAcknowledge, need: feature.AnyMember,
		read:  func() (*string, error) { _, err := read(); return nil, err },
		event: events.EmergencyAlertAcked, notify: care.NotifyEmergencyAcknowledged,
		text: care.EmergencyAcknowledgedText,
	})
}

// Resolve closes an ACTIVE or ACKNOWLEDGED alert with the notes read
// returns on how it ended; members who are not VIEWERs may.
func (s *Service) Resolve(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[*string]) (*care.EmergencyAlert, error) {
	return s.transition(ctx, a, crID, id, step{
		action: care.AlertResolve, need: feature.Writer, read: read,
		event: events.EmergencyAlertResolved, notify: care.NotifyEmergencyResolved,
		text: care.EmergencyResolvedText,
	})
}
