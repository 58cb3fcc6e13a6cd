package care

import "time"

// ActivityKind names what a family activity item is.
type ActivityKind string

// Kinds of family activity: what was recorded about each care recipient of
// the family.
const (
	ActivityTimelineEntry  ActivityKind = "timeline_entry"
	ActivityMedicationLog  ActivityKind = "medication_log"
	ActivityAppointment    ActivityKind = "appointment"
	ActivityEmergencyAlert ActivityKind = "emergency_alert"
)

// Activity is one item of a family's activity feed. Type is its kind;
// Category is the item's own type within that kind (a timeline entry's
// type, "MEDICATION" for a dose, an appointment's or an alert's type).
type Activity struct {
	ID                string         `json:"id"`
	Type              ActivityKind   `json:"type"`
	Category          string         `json:"category"`
	Title             string         `json:"title"`
	Description       *string        `json:"description"`
	CareRecipientID   string         `json:"careRecipientId"`
	CareRecipientName string         `json:"careRecipientName"`
	ActorName         *string        `json:"actorName"`
	Severity          *string        `json:"severity"`
	Status            *string        `json:"status"`
	Timestamp         time.Time      `json:"timestamp"`
	Metadata          map[string]any `json:"metadata"`
}

// ActivityPage is one page of a family's activity, newest first, with the
// number of items in the whole feed.
type ActivityPage struct {
	Activities []Activity `json:"activities"`
	Total      int        `json:"total"`
	FamilyID   string     `json:"familyId"`
}
