package care

import (
	"errors"
	"time"
)

// ShiftStatus is the state of a caregiver shift.
type ShiftStatus string

// Shift states. A shift is SCHEDULED when created, may be CONFIRMED by its
// caregiver, is IN_PROGRESS from check-in to check-out and then COMPLETED.
// CANCELLED, COMPLETED and NO_SHOW are final.
const (
	ShiftScheduled  ShiftStatus = "SCHEDULED"
	ShiftConfirmed  ShiftStatus = "CONFIRMED"
	ShiftInProgress ShiftStatus = "IN_PROGRESS"
	ShiftCompleted  ShiftStatus = "COMPLETED"
	ShiftCancelled  ShiftStatus = "CANCELLED"
	ShiftNoShow     ShiftStatus = "NO_SHOW"
)

// ShiftAction is something done to a shift that changes its status.
type ShiftAction string

// Shift actions.
const (
	ShiftConfirm  ShiftAction = "confirm"
	ShiftCheckIn  ShiftAction = "check in"
	ShiftCheckOut ShiftAction = "check out"
	ShiftCancel   ShiftAction = "cancel"
)

// Bounds on shifts.
const (
	// MaxShiftLength is the longest a single shift may last.
	MaxShiftLength = 7 * 24 * time.Hour
	// CheckInLead is how long before its start a shift may be checked in to.
	CheckInLead = 60 * time.Minute
	// HandoffWindow is how soon after a shift ends the next one must start
	// for its caregiver to receive the handoff.
	HandoffWindow = 24 * time.Hour
)

// Errors of the shift rules.
var (
	// ErrShiftTransition: the action is not allowed in the shift's status.
	ErrShiftTransition = errors.New("shift: action not allowed in this status")
	// ErrCheckInTooEarly: check-in opens CheckInLead before the start.
	ErrCheckInTooEarly = errors.New("shift: check-in is not open yet")
	// ErrCheckInTooLate: the shift has already ended.
	ErrCheckInTooLate = errors.New("shift: the shift has already ended")
)

// NextShiftStatus is the shift state machine: the status a shift in from
// moves to when a is done, and false when a is not allowed in from.
//
//	SCHEDULED  --confirm-->   CONFIRMED
//	SCHEDULED, CONFIRMED --check in--> IN_PROGRESS
//	IN_PROGRESS --check out--> COMPLETED
//	SCHEDULED, CONFIRMED --cancel--> CANCELLED
func NextShiftStatus(from ShiftStatus, a ShiftAction) (ShiftStatus, bool) {
	open := from == ShiftScheduled || from == ShiftConfirmed
	switch {
	case a == ShiftConfirm && from == ShiftScheduled:
		return ShiftConfirmed, true
	case a == ShiftCheckIn && open:
		return ShiftInProgress, true
	case a == ShiftCheckOut && from == ShiftInProgress:
		return ShiftCompleted, true
	case a == ShiftCancel && open:
		return ShiftCancelled, true
	}
	return from, false
}

// Shift is a period during which one caregiver looks after a care recipient.
type Shift struct {
	ID              string              `json:"id"`
	CareRecipientID string              `json:"careRecipientId"`
	CaregiverID     string              `json:"caregiverId"`
	Caregiver       *UserRef            `json:"caregiver"`
	CareRecipient   *ShiftCareRecipient `json:"careRecipient"`
	StartTime       time.Time           `json:"startTime"`
	EndTime         time.Time           `json:"endTime"`
	Notes           *string             `json:"notes"`
	Status          ShiftStatus         `json:"status"`
	CheckedInAt     *time.Time          `json:"checkedInAt"`
	CheckedOutAt    *time.Time          `json:"checkedOutAt"`
	// HandoffNotes are left at check-out for the next caregiver.
	HandoffNotes     *string `json:"handoffNotes"`
	CheckoutNotes    *string `json:"checkoutNotes"`
	CheckoutLocation *string `json:"checkoutLocation"`
	// CheckInNotes and CheckInLocation are what the caregiver said on
	// checking in (named as existing clients read them).
	CheckInNotes    *string   `json:"checkInNotes"`
	CheckInLocation *string   `json:"checkInLocation"`
	CreatedByID     *string   `json:"createdById"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// ShiftCareRecipient is the care recipient a shift is for, as shown with it.
type ShiftCareRecipient struct {
	ID       string `json:"id"`
	FamilyID string `json:"familyId"`
	FullName string `json:"fullName"`
	Timezone string `json:"timezone"`
}

// Apply does a to the shift at now: it moves the status and stamps check-in
// and check-out. It returns ErrShiftTransition when a is not allowed in the
// current status, and for check-in ErrCheckInTooEarly or ErrCheckInTooLate
// outside [start - CheckInLead, end). On error the shift is unchanged.
func (sh *Shift) Apply(a ShiftAction, now time.Time) error {
	next, ok := NextShiftStatus(sh.Status, a)
	if !ok {
		return ErrShiftTransition
	}
	switch a {
	case ShiftCheckIn:
		if now.Before(sh.StartTime.Add(-CheckInLead)) {
			return ErrCheckInTooEarly
		}
		if !now.Before(sh.EndTime) {
			return ErrCheckInTooLate
		}
		at := now
		sh.CheckedInAt = &at
	case ShiftCheckOut:
		at := now
		sh.CheckedOutAt = &at
	}
	sh.Status = next
	return nil
}

// ShiftReminderSource is what the reminder planner needs to know about a
// shift that is about to start.
type ShiftReminderSource struct {
	ShiftID           string
	CareRecipientID   string
	CareRecipientName string
	FamilyID          string
	CaregiverID       string
	// Timezone is the care recipient's zone, in which the reminder reads.
	Timezone  string
	StartTime time.Time
	EndTime   time.Time
	// UpdatedAt tells the planner whether the shift changed since planning.
	UpdatedAt time.Time
}
