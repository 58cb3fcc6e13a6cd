package care

import (
	"errors"
	"fmt"
	"time"
)

// AlertType says what kind of emergency an alert is about.
type AlertType string

// Emergency alert types.
const (
	AlertFall            AlertType = "FALL"
	AlertMedical         AlertType = "MEDICAL"
	AlertMissing         AlertType = "MISSING"
	AlertHospitalization AlertType = "HOSPITALIZATION"
	AlertOther           AlertType = "OTHER"
)

// AlertTypes lists the emergency alert types in the contract's order.
func AlertTypes() []string {
	return []string{string(AlertFall), string(AlertMedical), string(AlertMissing), string(AlertHospitalization), string(AlertOther)}
}

// AlertStatus is where an emergency alert is in its life.
type AlertStatus string

// Emergency alert states. An alert is ACTIVE when raised, ACKNOWLEDGED once
// a member has seen it and is acting, and RESOLVED when it is over. RESOLVED
// is final.
const (
	AlertActive       AlertStatus = "ACTIVE"
	AlertAcknowledged AlertStatus = "ACKNOWLEDGED"
	AlertResolved     AlertStatus = "RESOLVED"
)

// Open reports whether the alert still needs attention.
func (s AlertStatus) Open() bool { return s == AlertActive || s == AlertAcknowledged }

// AlertAction is something a member does to an alert that changes its status.
type AlertAction string

// Emergency alert actions.
const (
	AlertAcknowledge AlertAction = "acknowledge"
	AlertResolve     AlertAction = "resolve"
)

// ErrAlertTransition: the action is not allowed in the alert's status.
var ErrAlertTransition = errors.New("emergency alert: action not allowed in this status")

// AlertTransitionError refuses an action on an alert in a status that does
// not allow it. It is an ErrAlertTransition.
type AlertTransitionError struct {
	Action AlertAction
	From   AlertStatus
}

func (e *AlertTransitionError) Error() string {
	return fmt.Sprintf("emergency alert: cannot %s an alert that is %s", e.Action, e.From)
}

// Is makes the error match ErrAlertTransition.
func (e *AlertTransitionError) Is(target error) bool { return target == ErrAlertTransition }

// AlertSources lists the statuses from which an alert may take action a:
//
//	ACTIVE               --acknowledge--> ACKNOWLEDGED
//	ACTIVE, ACKNOWLEDGED --resolve-->     RESOLVED
func AlertSources(a AlertAction) []AlertStatus {
	switch a {
	case AlertAcknowledge:
		return []AlertStatus{AlertActive}
	case AlertResolve:
		return []AlertStatus{AlertActive, AlertAcknowledged}
	}
	return nil
}

// NextAlertStatus is the alert state machine: the status an alert in from
// moves to when a is done, and false when a is not allowed in from.
func NextAlertStatus(from AlertStatus, a AlertAction) (AlertStatus, bool) {
	for _, s := range AlertSources(a) {
		if s != from {
			continue
		}
		if a == AlertAcknowledge {
			return AlertAcknowledged, true
		}
		return AlertResolved, true
	}
	return from, false
}

// EmergencyAlert is an emergency a member raised for a care recipient; it
// reaches every member of the family at once, on every channel.
type EmergencyAlert struct {
	ID              string      `json:"id"`
	CareRecipientID string      `json:"careRecipientId"`
	CreatedByID     *string     `json:"createdById"`
	CreatedBy       *UserRef    `json:"createdBy"`
	Type            AlertType   `json:"type"`
	Title           string      `json:"title"`
	Description     string      `json:"description"`
	Location        *string     `json:"location"`
	Status          AlertStatus `json:"status"`
	AcknowledgedAt  *time.Time  `json:"acknowledgedAt"`
	// AcknowledgedByID is the member who acknowledged it first.
	AcknowledgedByID *string    `json:"acknowledgedById"`
	ResolvedAt       *time.Time `json:"resolvedAt"`
	ResolvedByID     *string    `json:"resolvedById"`
	ResolutionNotes  *string    `json:"resolutionNotes"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt"`
}

// KeyDocumentTypes are the document types the emergency card lists: what
// paramedics and a hospital ask for.
func KeyDocumentTypes() []string {
	return []string{"INSURANCE_CARD", "PHOTO_ID", "POWER_OF_ATTORNEY", "DNR"}
}

// EmergencyDocument is a key document as the emergency card lists it.
type EmergencyDocument struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Status    string     `json:"status"`
	MimeType  string     `json:"mimeType"`
	ExpiresAt *time.Time `json:"expiresAt"`
	CreatedAt time.Time  `json:"createdAt"`
}

// EmergencyMember is a family member as the emergency card lists them: who
// to call among the family.
type EmergencyMember struct {
	UserID   string `json:"userId"`
	FullName string `json:"fullName"`
	// Name repeats FullName, as existing clients read it.
	Name     string  `json:"name"`
	Nickname *string `json:"nickname"`
	Role     Role    `json:"role"`
	Phone    *string `json:"phone"`
	Email    string  `json:"email"`
}

// EmergencyHospital is where the care recipient is usually taken.
type EmergencyHospital struct {
	Name    *string `json:"name"`
	Address *string `json:"address"`
}

// EmergencyInsurance is the care recipient's health insurance.
type EmergencyInsurance struct {
	Provider     *string `json:"provider"`
	PolicyNumber *string `json:"policyNumber"`
}

// EmergencyInfo is the emergency card of a care recipient: everything a
// first responder or a hospital asks for, on one page.
type EmergencyInfo struct {
	CareRecipientID   string              `json:"careRecipientId"`
	FamilyID          string              `json:"familyId"`
	FullName          string              `json:"fullName"`
	PreferredName     *string             `json:"preferredName"`
	DateOfBirth       *string             `json:"dateOfBirth"`
	Age               *int                `json:"age"`
	PhotoURL          *string             `json:"photoUrl"`
	BloodType         *string             `json:"bloodType"`
	Allergies         []string            `json:"allergies"`
	Conditions        []string            `json:"conditions"`
	Notes             *string             `json:"notes"`
	Timezone          string              `json:"timezone"`
	Medications       []Medication        `json:"medications"`
	EmergencyContacts []EmergencyContact  `json:"emergencyContacts"`
	FamilyMembers     []EmergencyMember   `json:"familyMembers"`
	Doctors           []Doctor            `json:"doctors"`
	Hospital          EmergencyHospital   `json:"hospital"`
	Insurance         EmergencyInsurance  `json:"insurance"`
	Documents         []EmergencyDocument `json:"documents"`
	ActiveAlerts      []EmergencyAlert    `json:"activeAlerts"`
	GeneratedAt       time.Time           `json:"generatedAt"`
}

// AgeOn is the age in whole years on day of someone born on dateOfBirth
// (YYYY-MM-DD), and false when the date does not parse or lies after day.
func AgeOn(dateOfBirth string, day time.Time) (int, bool) {
	b, err := time.Parse(time.DateOnly, dateOfBirth)
	if err != nil {
		return 0, false
	}
	age := day.Year() - b.Year()
	if day.Month() < b.Month() || (day.Month() == b.Month() && day.Day() < b.Day()) {
		age--
	}
	if age < 0 {
		return 0, false
	}
	return age, true
}
