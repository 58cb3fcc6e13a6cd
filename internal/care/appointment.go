package care

import (
	"errors"
	"slices"
	"strconv"
	"time"
)

// AppointmentType is the kind of an appointment.
type AppointmentType string

// Appointment types.
const (
	AppointmentDoctorVisit     AppointmentType = "DOCTOR_VISIT"
	AppointmentPhysicalTherapy AppointmentType = "PHYSICAL_THERAPY"
	AppointmentLabWork         AppointmentType = "LAB_WORK"
	AppointmentImaging         AppointmentType = "IMAGING"
	AppointmentSpecialist      AppointmentType = "SPECIALIST"
	AppointmentHomeHealth      AppointmentType = "HOME_HEALTH"
	AppointmentOther           AppointmentType = "OTHER"
)

// AppointmentTypes lists every appointment type, for validation messages.
func AppointmentTypes() []string {
	return []string{string(AppointmentDoctorVisit), string(AppointmentPhysicalTherapy),
		string(AppointmentLabWork), string(AppointmentImaging), string(AppointmentSpecialist),
		string(AppointmentHomeHealth), string(AppointmentOther)}
}

// AppointmentStatus is the state of an appointment.
type AppointmentStatus string

// Appointment states. An appointment is SCHEDULED when created, may be
// CONFIRMED, and ends COMPLETED, CANCELLED or NO_SHOW (all three final).
const (
	AppointmentScheduled AppointmentStatus = "SCHEDULED"
	AppointmentConfirmed AppointmentStatus = "CONFIRMED"
	AppointmentCompleted AppointmentStatus = "COMPLETED"
	AppointmentCancelled AppointmentStatus = "CANCELLED"
	AppointmentNoShow    AppointmentStatus = "NO_SHOW"
)

// AppointmentStatuses lists every appointment status, for validation messages.
func AppointmentStatuses() []string {
	return []string{string(AppointmentScheduled), string(AppointmentConfirmed),
		string(AppointmentCompleted), string(AppointmentCancelled), string(AppointmentNoShow)}
}

// Open reports whether the appointment is still to happen (SCHEDULED or
// CONFIRMED): only open appointments are reminded, moved with their series
// or cancelled.
func (s AppointmentStatus) Open() bool {
	return s == AppointmentScheduled || s == AppointmentConfirmed
}

// ErrAppointmentTransition: the status change is not allowed from the
// appointment's current status.
var ErrAppointmentTransition = errors.New("appointment: status change not allowed")

// AppointmentTransitionAllowed is the appointment state machine: whether an
// appointment in from may move to to.
//
//	SCHEDULED --> CONFIRMED --> COMPLETED
//	SCHEDULED, CONFIRMED --> CANCELLED, NO_SHOW
//
// Staying in the same status is no transition and always allowed.
func AppointmentTransitionAllowed(from, to AppointmentStatus) bool {
	switch {
	case from == to:
		return true
	case from == AppointmentScheduled && to == AppointmentConfirmed:
		return true
	case from == AppointmentConfirmed && to == AppointmentCompleted:
		return true
	case from.Open() && (to == AppointmentCancelled || to == AppointmentNoShow):
		return true
	}
	return false
}

// Bounds on appointments.
const (
	// MaxAppointmentLength is the longest a single appointment may last.
	MaxAppointmentLength = 24 * time.Hour
	// MaxReminderMinutes is the earliest a reminder may come before an
	// appointment: four weeks. The reminder planner looks this far ahead.
	MaxReminderMinutes = 28 * 24 * 60
	// MaxReminders is how many reminder offsets one appointment may have.
	MaxReminders = 10
)

// DefaultReminderMinutes are the reminders of an appointment that names
// none: an hour and a day before.
func DefaultReminderMinutes() []int { return []int{60, 1440} }

// NormalizeReminderMinutes checks reminder offsets (minutes before the
// start) and returns them deduplicated, in ascending order; reason explains
// why they are refused. nil means the default.
func NormalizeReminderMinutes(v []int) (out []int, reason string) {
	if v == nil {
		return DefaultReminderMinutes(), ""
	}
	out = []int{}
	for _, m := range v {
		if m < 0 || m > MaxReminderMinutes {
			return nil, "each must be between 0 and " + strconv.Itoa(MaxReminderMinutes) + " minutes"
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) > MaxReminders {
		return nil, "must have at most " + strconv.Itoa(MaxReminders) + " distinct entries"
	}
	slices.Sort(out)
	return out, ""
}

// Appointment is a visit, test or session a care recipient has, possibly one
// occurrence of a recurring series.
type Appointment struct {
	ID              string             `json:"id"`
	CareRecipientID string             `json:"careRecipientId"`
	DoctorID        *string            `json:"doctorId"`
	Doctor          *AppointmentDoctor `json:"doctor"`
	Title           string             `json:"title"`
	Type            AppointmentType    `json:"type"`
	StartTime       time.Time          `json:"startTime"`
	EndTime         time.Time          `json:"endTime"`
	Location        *string            `json:"location"`
	Address         *string            `json:"address"`
	Notes           *string            `json:"notes"`
	IsRecurring     bool               `json:"isRecurring"`
	// RecurrenceRule is the series' rule in RFC 5545 text, its DTSTART in the
	// care recipient's zone ("DTSTART;TZID=Asia/Tokyo:20260302T090000\nRRULE:...").
	RecurrenceRule      *string              `json:"recurrenceRule"`
	RecurringSeriesID   *string              `json:"recurringSeriesId"`
	RecurringIndex      *int                 `json:"recurringIndex"`
	ReminderMinutes     []int                `json:"reminderMinutes"`
	Status              AppointmentStatus    `json:"status"`
	TransportAssignment *TransportAssignment `json:"transportAssignment"`
	CreatedByID         *string              `json:"createdById"`
	CreatedAt           time.Time            `json:"createdAt"`
	UpdatedAt           time.Time            `json:"updatedAt"`
}

// Duration is how long the appointment lasts.
func (a *Appointment) Duration() time.Duration { return a.EndTime.Sub(a.StartTime) }

// SetStatus moves the appointment to status, or returns
// ErrAppointmentTransition (leaving it unchanged) when the state machine
// does not allow it.
func (a *Appointment) SetStatus(status AppointmentStatus) error {
	if !AppointmentTransitionAllowed(a.Status, status) {
		return ErrAppointmentTransition
	}
	a.Status = status
	return nil
}

// AppointmentDoctor is the doctor an appointment is with, as shown with it.
type AppointmentDoctor struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Specialty *string `json:"specialty"`
}

// TransportAssignment names the family member who takes the care recipient
// to an appointment. An appointment has at most one.
type TransportAssignment struct {
	ID            string    `json:"id"`
	AppointmentID string    `json:"appointmentId"`
	AssignedToID  string    `json:"assignedToId"`
	AssignedTo    *UserRef  `json:"assignedTo"`
	Notes         *string   `json:"notes"`
	Confirmed     bool      `json:"confirmed"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// AppointmentSeries summarises one recurring series of a care recipient.
type AppointmentSeries struct {
	SeriesID       string          `json:"seriesId"`
	Title          string          `json:"title"`
	Type           AppointmentType `json:"type"`
	RecurrenceRule *string         `json:"recurrenceRule"`
	// TotalCount counts the stored occurrences; OpenCount those still
	// SCHEDULED or CONFIRMED.
	TotalCount      int        `json:"totalCount"`
	OpenCount       int        `json:"openCount"`
	FirstOccurrence time.Time  `json:"firstOccurrence"`
	LastOccurrence  time.Time  `json:"lastOccurrence"`
	NextOccurrence  *time.Time `json:"nextOccurrence"`
	// NextAppointmentID is the open occurrence starting at NextOccurrence.
	NextAppointmentID *string `json:"nextAppointmentId"`
}

// SummarizeSeries groups recurring appointments by series, in the order
// their series first appear in appts (which should be by start time). The
// next occurrence is the earliest open one starting at or after now; title,
// type and rule are those of that occurrence, else of the latest one.
func SummarizeSeries(appts []Appointment, now time.Time) []AppointmentSeries {
	out := []AppointmentSeries{}
	at := map[string]int{}
	for i := range appts {
		a := &appts[i]
		if a.RecurringSeriesID == nil {
			continue
		}
		k, ok := at[*a.RecurringSeriesID]
		if !ok {
			k = len(out)
			at[*a.RecurringSeriesID] = k
			out = append(out, AppointmentSeries{SeriesID: *a.RecurringSeriesID,
				FirstOccurrence: a.StartTime, LastOccurrence: a.StartTime})
		}
		s := &out[k]
		s.TotalCount++
		if a.StartTime.Before(s.FirstOccurrence) {
			s.FirstOccurrence = a.StartTime
		}
		latest := !a.StartTime.Before(s.LastOccurrence)
		if latest {
			s.LastOccurrence = a.StartTime
		}
		next := a.Status.Open() && !a.StartTime.Before(now) &&
			(s.NextOccurrence == nil || a.StartTime.Before(*s.NextOccurrence))
		if a.Status.Open() {
			s.OpenCount++
		}
		if next {
			start, id := a.StartTime, a.ID
			s.NextOccurrence, s.NextAppointmentID = &start, &id
		}
		if next || (s.NextOccurrence == nil && latest) {
			s.Title, s.Type, s.RecurrenceRule = a.Title, a.Type, a.RecurrenceRule
		}
	}
	return out
}

// AppointmentReminderSource is what the reminder planner needs to know about
// an open appointment that is about to start.
type AppointmentReminderSource struct {
	AppointmentID   string
	CareRecipientID string
	FamilyID        string
	Title           string
	// Timezone is the care recipient's zone, in which the reminder reads.
	Timezone        string
	StartTime       time.Time
	ReminderMinutes []int
	// UpdatedAt tells the planner whether the appointment changed since planning.
	UpdatedAt time.Time
}
