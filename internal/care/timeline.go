package care

import "time"

// TimelineType says what a timeline entry records.
type TimelineType string

// Timeline entry types.
const (
	TimelineNote               TimelineType = "NOTE"
	TimelineVitals             TimelineType = "VITALS"
	TimelineSymptom            TimelineType = "SYMPTOM"
	TimelineIncident           TimelineType = "INCIDENT"
	TimelineMood               TimelineType = "MOOD"
	TimelineMeal               TimelineType = "MEAL"
	TimelineActivity           TimelineType = "ACTIVITY"
	TimelineSleep              TimelineType = "SLEEP"
	TimelineBathroom           TimelineType = "BATHROOM"
	TimelineMedicationChange   TimelineType = "MEDICATION_CHANGE"
	TimelineAppointmentSummary TimelineType = "APPOINTMENT_SUMMARY"
	TimelineOther              TimelineType = "OTHER"
)

// TimelineTypes lists the timeline entry types in the contract's order.
func TimelineTypes() []string {
	return []string{"NOTE", "VITALS", "SYMPTOM", "INCIDENT", "MOOD", "MEAL", "ACTIVITY", "SLEEP", "BATHROOM",
		"MEDICATION_CHANGE", "APPOINTMENT_SUMMARY", "OTHER"}
}

// Severity grades how serious a timeline entry is.
type Severity string

// Severities, from least to most serious.
const (
	SeverityLow      Severity = "LOW"
	SeverityMedium   Severity = "MEDIUM"
	SeverityHigh     Severity = "HIGH"
	SeverityCritical Severity = "CRITICAL"
)

// Severities lists the severities from least to most serious.
func Severities() []string { return []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"} }

// Urgent reports whether an entry of this severity is announced to the
// family as soon as it is recorded.
func (s Severity) Urgent() bool { return s == SeverityHigh || s == SeverityCritical }

// Bounds on timeline entries.
const (
	// MaxTimelineAttachments bounds the attachment links of one entry.
	MaxTimelineAttachments = 10
	// MaxVitalsDays bounds the vitals history one request reads.
	MaxVitalsDays = 365
)

// TimelineEntry is something recorded about a care recipient's day: a note,
// vitals, a symptom, an incident.
type TimelineEntry struct {
	ID              string       `json:"id"`
	CareRecipientID string       `json:"careRecipientId"`
	CreatedByID     *string      `json:"createdById"`
	CreatedBy       *UserRef     `json:"createdBy"`
	Type            TimelineType `json:"type"`
	Title           string       `json:"title"`
	Description     *string      `json:"description"`
	Severity        *Severity    `json:"severity"`
	Vitals          *Vitals      `json:"vitals"`
	// Attachments are links to photos or files that go with the entry.
	Attachments []string  `json:"attachments"`
	OccurredAt  time.Time `json:"occurredAt"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// IsUrgent reports whether the entry's severity is HIGH or CRITICAL.
func (e *TimelineEntry) IsUrgent() bool { return e.Severity != nil && e.Severity.Urgent() }

// MayChangeTimelineEntry reports whether a member with role may edit or
// delete an entry: its author or a family ADMIN, and never a VIEWER.
func MayChangeTimelineEntry(role Role, userID string, e *TimelineEntry) bool {
	switch {
	case !role.CanWrite():
		return false
	case role == RoleAdmin:
		return true
	}
	return e.CreatedByID != nil && *e.CreatedByID == userID
}
