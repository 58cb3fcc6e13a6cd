package realtime

import (
	"encoding/json"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
)

// Message is what a client receives on a channel: the contract's realtime
// event name, its data, the domain event's id and when it happened.
type Message struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	ID        string          `json:"id"`
	Timestamp string          `json:"timestamp"`
}

// route is how events of type typ reach clients: the realtime message name,
// its action and audience, from the event catalog (internal/events). ok is
// false for a type the catalog does not list; an empty name means clients
// are not told.
func route(typ string) (r events.Realtime, ok bool) {
	spec, ok := events.Lookup(typ)
	return spec.Realtime, ok
}

// Names of the realtime events sent to the affected member only.
const (
	youWereRemoved  = "you_were_removed"
	yourRoleChanged = "your_role_changed"
)

// contractNames lists the realtime events of the API contract, in its order.
func contractNames() []string {
	return []string{
		"medication_logged", "medication_created", "medication_updated", "medication_deleted",
		"medication_reminder", "medication_missed", "medication_refill_needed", "appointment_created",
		"appointment_updated", "appointment_cancelled", "appointment_deleted", "appointment_reminder",
		"shift_assigned", "shift_update", "shift_handoff", "shift_reminder",
		"emergency_alert", "emergency_acknowledged", "emergency_resolved", "timeline_entry", "document_uploaded",
		"document_deleted", "care_recipient_created", "care_recipient_updated", "care_recipient_deleted",
		"family_member_joined", "family_member_removed", "family_member_role_updated", youWereRemoved,
		yourRoleChanged, "family_deleted", "notification",
	}
}

// encode renders the message for event name with the domain event's data;
// extra fields (the action of shift_update and timeline_entry) are merged
// into the data object.
func encode(name string, e events.Event, extra map[string]string) ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	if len(extra) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
			obj = map[string]json.RawMessage{}
		}
		for k, v := range extra {
			b, _ := json.Marshal(v)
			obj[k] = b
		}
		merged, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("realtime: encode %s: %w", name, err)
		}
		data = merged
	}
	return json.Marshal(Message{
		Event:     name,
		Data:      data,
		ID:        e.ID,
		Timestamp: e.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
	})
}

// memberUserID is the user id of the member a member event concerns, from
// its catalog data (care.Member, or events.MemberRoleData for a new role).
func memberUserID(e events.Event) string {
	v, err := events.DecodeData(e)
	if err != nil {
		return ""
	}
	switch d := v.(type) {
	case *care.Member:
		return d.UserID
	case *events.MemberRoleData:
		if d.Member != nil {
			return d.UserID
		}
	}
	return ""
}

// addressedTo lists the users an event for users only is meant for, as its
// catalog data says (events.Addressed).
func addressedTo(e events.Event) ([]string, error) {
	v, err := events.DecodeData(e)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", outbox.ErrPermanent, e.Type, e.ID, err)
	}
	a, ok := v.(events.Addressed)
	if !ok {
		return nil, fmt.Errorf("%w: %s data names no users", outbox.ErrPermanent, e.Type)
	}
	return a.AddressedTo(), nil
}
