package realtime

import (
	"encoding/json"
	"fmt"

	"github.com/carecircle/carecircle/internal/events"
)

// Message is what a client receives on a channel: the contract's realtime
// event name, its data, the domain event's id and when it happened.
type Message struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	ID        string          `json:"id"`
	Timestamp string          `json:"timestamp"`
}

// audience says who, besides the rooms of the family and the care recipient,
// hears of an event, and what else changes for them.
type audience int

const (
	// rooms: family:{familyId} and care-recipient:{careRecipientId}.
	rooms audience = iota
	// notifiedUsers: user:{id} for each of the data's userIds, and no room.
	notifiedUsers
	// removedMember: the rooms, you_were_removed to the member, who loses
	// the family's channels at once.
	removedMember
	// leavingMember: the rooms; the member who left loses the family's
	// channels at once.
	leavingMember
	// roleChangedMember: the rooms, and your_role_changed to the member.
	roleChangedMember
	// deletedFamily: the family room, then everyone loses its channels.
	deletedFamily
)

// route is how one domain event type reaches clients. An empty name means
// the event is not sent to clients.
type route struct {
	name   string
	action string // data.action: shift_update's, timeline_entry's
	to     audience
}

// routes maps every domain event type to its realtime event. It is the one
// place that knows the contract's realtime names.
var routes = map[string]route{
	"medication.created":       {name: "medication_created"},
	"medication.updated":       {name: "medication_updated"},
	"medication.deleted":       {name: "medication_deleted"},
	"medication.logged":        {name: "medication_logged"},
	"medication.missed":        {name: "medication_missed"},
	"medication.refill_needed": {name: "medication_refill_needed"},
	"medication.reminder":      {name: "medication_reminder"},

	"appointment.created":   {name: "appointment_created"},
	"appointment.updated":   {name: "appointment_updated"},
	"appointment.cancelled": {name: "appointment_cancelled"},
	"appointment.deleted":   {name: "appointment_deleted"},
	"appointment.reminder":  {name: "appointment_reminder"},

	"shift.assigned":    {name: "shift_assigned"},
	"shift.checked_in":  {name: "shift_update", action: "check_in"},
	"shift.checked_out": {name: "shift_update", action: "check_out"},
	"shift.cancelled":   {name: "shift_update", action: "cancelled"},
	"shift.handoff":     {name: "shift_handoff"},
	"shift.reminder":    {name: "shift_reminder"},

	"emergency.alert.created":      {name: "emergency_alert"},
	"emergency.alert.acknowledged": {name: "emergency_acknowledged"},
	"emergency.alert.resolved":     {name: "emergency_resolved"},

	"timeline.entry.created": {name: "timeline_entry", action: "created"},
	"timeline.entry.updated": {name: "timeline_entry", action: "updated"},
	"timeline.entry.deleted": {name: "timeline_entry", action: "deleted"},

	"document.uploaded": {name: "document_uploaded"},
	"document.deleted":  {name: "document_deleted"},

	"care_recipient.created": {name: "care_recipient_created"},
	"care_recipient.updated": {name: "care_recipient_updated"},
	"care_recipient.deleted": {name: "care_recipient_deleted"},

	"family.member.joined":       {name: "family_member_joined"},
	"family.member.removed":      {name: "family_member_removed", to: removedMember},
	"family.member.left":         {name: "family_member_removed", to: leavingMember},
	"family.member.role_updated": {name: "family_member_role_updated", to: roleChangedMember},
	// An invitation concerns someone who is not a member yet; members see
	// it in the pending invitations list.
	"family.member.invited": {},
	"family.deleted":        {name: "family_deleted", to: deletedFamily},

	"notification.created": {name: "notification", to: notifiedUsers},
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

// memberUserID finds the affected member's user id in a member event's data:
// userId, memberUserId, or member.userId / user.id.
func memberUserID(data json.RawMessage) string {
	var d struct {
		UserID       string `json:"userId"`
		MemberUserID string `json:"memberUserId"`
		Member       *struct {
			UserID string `json:"userId"`
		} `json:"member"`
		User *struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	switch {
	case d.UserID != "":
		return d.UserID
	case d.MemberUserID != "":
		return d.MemberUserID
	case d.Member != nil && d.Member.UserID != "":
		return d.Member.UserID
	case d.User != nil:
		return d.User.ID
	}
	return ""
}

// userIDs reads the data's userIds (notification.created), or its single
// userId.
func userIDs(data json.RawMessage) []string {
	var d struct {
		UserIDs []string `json:"userIds"`
		UserID  string   `json:"userId"`
	}
	if json.Unmarshal(data, &d) != nil {
		return nil
	}
	if len(d.UserIDs) == 0 && d.UserID != "" {
		return []string{d.UserID}
	}
	return d.UserIDs
}
