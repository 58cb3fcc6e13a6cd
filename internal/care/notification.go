package care

import (
	"encoding/json"
	"time"
)

// NotificationType names what a notification is about.
type NotificationType string

// Notification types.
const (
	NotifyEmergencyAlert      NotificationType = "EMERGENCY_ALERT"
	NotifyMedicationReminder  NotificationType = "MEDICATION_REMINDER"
	NotifyMedicationMissed    NotificationType = "MEDICATION_MISSED"
	NotifyMedicationLogged    NotificationType = "MEDICATION_LOGGED"
	NotifyRefillAlert         NotificationType = "REFILL_ALERT"
	NotifyAppointmentReminder NotificationType = "APPOINTMENT_REMINDER"
	NotifyShiftReminder       NotificationType = "SHIFT_REMINDER"
	NotifyShiftAssigned       NotificationType = "SHIFT_ASSIGNED"
	NotifyShiftHandoff        NotificationType = "SHIFT_HANDOFF"
	NotifyShiftCancelled      NotificationType = "SHIFT_CANCELLED"
	NotifyTimelineUpdate      NotificationType = "TIMELINE_UPDATE"
	NotifyFamilyInvitation    NotificationType = "FAMILY_INVITATION"
	NotifyFamilyUpdate        NotificationType = "FAMILY_UPDATE"
	NotifyDocumentUploaded    NotificationType = "DOCUMENT_UPLOADED"
	NotifyGeneral             NotificationType = "GENERAL"
)

// Notification types of an emergency alert's later steps. They reach the
// family as ordinary news, not by the emergency path.
const (
	NotifyEmergencyAcknowledged NotificationType = "EMERGENCY_ACKNOWLEDGED"
	NotifyEmergencyResolved     NotificationType = "EMERGENCY_RESOLVED"
)

// Notification is a message to one user, shown in the app.
type Notification struct {
	ID        string           `json:"id"`
	UserID    string           `json:"userId"`
	Type      NotificationType `json:"type"`
	Title     string           `json:"title"`
	Body      string           `json:"body"`
	Data      json.RawMessage  `json:"data"`
	Read      bool             `json:"read"`
	ReadAt    *time.Time       `json:"readAt"`
	CreatedAt time.Time        `json:"createdAt"`
	// DedupeKey, when set, makes delivery idempotent: a second notification
	// with the same key for the same user is not created.
	DedupeKey *string `json:"-"`
}

// NotificationDraft is a notification before it is addressed to users.
type NotificationDraft struct {
	Type  NotificationType
	Title string
	Body  string
	Data  map[string]any
	// DedupeKey makes the notification idempotent per user.
	DedupeKey string
}
