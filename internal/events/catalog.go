package events

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// The catalog: every domain event type CareCircle publishes, with the Go
// struct its data decodes into and how it reaches realtime clients. A
// producer builds the data from the struct; Build refuses a type that is
// not listed here, and data with a field its struct does not have. The
// realtime mapping (channels and message names) and the RabbitMQ routing
// key (the type) come from here.
//
// To add an event: add its Type constant below, its data struct (or reuse a
// care type), and a line in specs; give it a realtime name only if the
// contract lists one.
//
// Build adds familyId and careRecipientId to every event's data (see
// ScopeFields), so the structs need not carry them.

// Event types: the envelope's type and the RabbitMQ routing key.
const (
	MedicationCreated       = "medication.created"
	MedicationUpdated       = "medication.updated"
	MedicationDeleted       = "medication.deleted"
	MedicationLogged        = "medication.logged"
	MedicationMissed        = "medication.missed"
	MedicationRefillNeeded  = "medication.refill_needed"
	MedicationReminder      = "medication.reminder"
	AppointmentCreated      = "appointment.created"
	AppointmentUpdated      = "appointment.updated"
	AppointmentCancelled    = "appointment.cancelled"
	AppointmentDeleted      = "appointment.deleted"
	AppointmentReminder     = "appointment.reminder"
	AppointmentTransport    = "appointment.transport_assigned"
	ShiftAssigned           = "shift.assigned"
	ShiftConfirmed          = "shift.confirmed"
	ShiftCheckedIn          = "shift.checked_in"
	ShiftCheckedOut         = "shift.checked_out"
	ShiftCancelled          = "shift.cancelled"
	ShiftHandoff            = "shift.handoff"
	ShiftReminder           = "shift.reminder"
	EmergencyAlertCreated   = "emergency.alert.created"
	EmergencyAlertAcked     = "emergency.alert.acknowledged"
	EmergencyAlertResolved  = "emergency.alert.resolved"
	TimelineEntryCreated    = "timeline.entry.created"
	TimelineEntryUpdated    = "timeline.entry.updated"
	TimelineEntryDeleted    = "timeline.entry.deleted"
	DocumentUploaded        = "document.uploaded"
	DocumentDeleted         = "document.deleted"
	CareRecipientCreated    = "care_recipient.created"
	CareRecipientUpdated    = "care_recipient.updated"
	CareRecipientDeleted    = "care_recipient.deleted"
	DoctorCreated           = "doctor.created"
	DoctorUpdated           = "doctor.updated"
	DoctorDeleted           = "doctor.deleted"
	EmergencyContactCreated = "emergency_contact.created"
	EmergencyContactUpdated = "emergency_contact.updated"
	EmergencyContactDeleted = "emergency_contact.deleted"
	FamilyCreated           = "family.created"
	FamilyUpdated           = "family.updated"
	FamilyDeleted           = "family.deleted"
	MemberInvited           = "family.member.invited"
	MemberJoined            = "family.member.joined"
	MemberRemoved           = "family.member.removed"
	MemberLeft              = "family.member.left"
	MemberRoleUpdated       = "family.member.role_updated"
	InvitationDeclined      = "family.invitation.declined"
	InvitationCancelled     = "family.invitation.cancelled"
	InvitationResent        = "family.invitation.resent"
	NotificationCreated     = "notification.created"
)

// Audience says which realtime channels hear of an event.
type Audience int

// Audiences.
const (
	// ToRooms: family:{familyId} and care-recipient:{careRecipientId}.
	ToRooms Audience = iota
	// ToUsers: user:{id} for each user the data is addressed to (see
	// Addressed), and no room.
	ToUsers
	// ToRemovedMember: the rooms, then you_were_removed to the member, who
	// loses the family's channels at once.
	ToRemovedMember
	// ToLeavingMember: the rooms; the member who left loses the family's
	// channels at once.
	ToLeavingMember
	// ToRoleChangedMember: the rooms, then your_role_changed to the member.
	ToRoleChangedMember
	// ToDeletedFamily: the family room, then everyone loses its channels.
	ToDeletedFamily
)

// Realtime is how an event reaches clients: the contract's realtime
// message name, the data's action for names several events share
// (shift_update, timeline_entry), and the channels. An empty Name means
// clients are not told.
type Realtime struct {
	Name   string
	Action string
	To     Audience
}

// Spec is one catalog entry.
type Spec struct {
	Type string
	// Data is the Go type of the event's data.
	Data reflect.Type
	// Realtime is how clients hear of it.
	Realtime Realtime
	// Notifies is true when the data carries the ids of notifications the
	// change wrote (Notified), for the channels (push, email, SMS) to
	// deliver.
	Notifies bool
	// fields are Fields, computed once.
	fields []string
}

// Fields are the JSON field names the event's data may carry, nested ones
// as "parent.child": its struct's fields, ScopeFields, and "action" when the
// realtime message adds one.
func (s Spec) Fields() []string { return slices.Clone(s.fields) }

func (s Spec) computeFields() []string {
	seen := map[string]bool{}
	jsonFields(s.Data, "", seen, 0)
	for _, f := range ScopeFields() {
		seen[f] = true
	}
	if s.Realtime.Action != "" {
		seen["action"] = true
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// ScopeFields are the fields Build adds to every event's data object.
func ScopeFields() []string { return []string{"familyId", "careRecipientId"} }

// Catalog lists every event type, in a stable order.
func Catalog() []Spec {
	out := make([]Spec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Spec) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// Lookup finds the catalog entry of an event type.
func Lookup(typ string) (Spec, bool) {
	s, ok := specs[typ]
	return s, ok
}

// Notifies reports whether events of type typ carry notification ids for
// the channels to deliver.
func Notifies(typ string) bool { return specs[typ].Notifies }

func spec[T any](typ string, rt Realtime) Spec {
	s := Spec{Type: typ, Data: reflect.TypeFor[T](), Realtime: rt}
	s.fields = s.computeFields()
	return s
}

func notifying[T any](typ string, rt Realtime) Spec {
	s := spec[T](typ, rt)
	s.Notifies = true
	return s
}

func rooms(name, action string) Realtime { return Realtime{Name: name, Action: action} }

// specs is the catalog by type. It is never written after package init.
var specs = func() map[string]Spec {
	m := map[string]Spec{}
	for _, s := range []Spec{
		spec[care.Medication](MedicationCreated, rooms("medication_created", "")),
		spec[care.Medication](MedicationUpdated, rooms("medication_updated", "")),
		spec[care.Medication](MedicationDeleted, rooms("medication_deleted", "")),
		spec[MedicationLoggedData](MedicationLogged, rooms("medication_logged", "")),
		notifying[DoseReminderData](MedicationMissed, rooms("medication_missed", "")),
		notifying[RefillData](MedicationRefillNeeded, rooms("medication_refill_needed", "")),
		notifying[DoseReminderData](MedicationReminder, rooms("medication_reminder", "")),

		spec[AppointmentCreatedData](AppointmentCreated, rooms("appointment_created", "")),
		spec[AppointmentChangeData](AppointmentUpdated, rooms("appointment_updated", "")),
		spec[AppointmentChangeData](AppointmentCancelled, rooms("appointment_cancelled", "")),
		spec[care.Appointment](AppointmentDeleted, rooms("appointment_deleted", "")),
		notifying[AppointmentReminderData](AppointmentReminder, rooms("appointment_reminder", "")),
		spec[TransportData](AppointmentTransport, Realtime{}),

		spec[care.Shift](ShiftAssigned, rooms("shift_assigned", "")),
		spec[care.Shift](ShiftConfirmed, Realtime{}),
		spec[care.Shift](ShiftCheckedIn, rooms("shift_update", "check_in")),
		spec[care.Shift](ShiftCheckedOut, rooms("shift_update", "check_out")),
		spec[care.Shift](ShiftCancelled, rooms("shift_update", "cancelled")),
		spec[ShiftHandoffData](ShiftHandoff, rooms("shift_handoff", "")),
		// A shift reminder concerns its caregiver only.
		notifying[ShiftReminderData](ShiftReminder, Realtime{Name: "shift_reminder", To: ToUsers}),

		spec[care.EmergencyAlert](EmergencyAlertCreated, rooms("emergency_alert", "")),
		spec[care.EmergencyAlert](EmergencyAlertAcked, rooms("emergency_acknowledged", "")),
		spec[care.EmergencyAlert](EmergencyAlertResolved, rooms("emergency_resolved", "")),

		spec[care.TimelineEntry](TimelineEntryCreated, rooms("timeline_entry", "created")),
		spec[care.TimelineEntry](TimelineEntryUpdated, rooms("timeline_entry", "updated")),
		spec[care.TimelineEntry](TimelineEntryDeleted, rooms("timeline_entry", "deleted")),

		spec[DocumentData](DocumentUploaded, rooms("document_uploaded", "")),
		spec[DocumentData](DocumentDeleted, rooms("document_deleted", "")),

		spec[care.CareRecipient](CareRecipientCreated, rooms("care_recipient_created", "")),
		spec[care.CareRecipient](CareRecipientUpdated, rooms("care_recipient_updated", "")),
		spec[care.CareRecipient](CareRecipientDeleted, rooms("care_recipient_deleted", "")),
		spec[care.Doctor](DoctorCreated, Realtime{}),
		spec[care.Doctor](DoctorUpdated, Realtime{}),
		spec[care.Doctor](DoctorDeleted, Realtime{}),
		spec[care.EmergencyContact](EmergencyContactCreated, Realtime{}),
		spec[care.EmergencyContact](EmergencyContactUpdated, Realtime{}),
		spec[care.EmergencyContact](EmergencyContactDeleted, Realtime{}),

		spec[care.FamilyDetails](FamilyCreated, Realtime{}),
		spec[care.Family](FamilyUpdated, Realtime{}),
		spec[FamilyDeletedData](FamilyDeleted, Realtime{Name: "family_deleted", To: ToDeletedFamily}),
		// An invitation concerns someone who is not a member yet; members
		// see it in the pending invitations list.
		spec[care.Invitation](MemberInvited, Realtime{}),
		spec[care.Member](MemberJoined, rooms("family_member_joined", "")),
		spec[care.Member](MemberRemoved, Realtime{Name: "family_member_removed", To: ToRemovedMember}),
		spec[care.Member](MemberLeft, Realtime{Name: "family_member_removed", To: ToLeavingMember}),
		spec[MemberRoleData](MemberRoleUpdated, Realtime{Name: "family_member_role_updated", To: ToRoleChangedMember}),
		spec[care.InvitationDetails](InvitationDeclined, Realtime{}),
		spec[care.Invitation](InvitationCancelled, Realtime{}),
		spec[care.Invitation](InvitationResent, Realtime{}),

		notifying[NotificationData](NotificationCreated, Realtime{Name: "notification", To: ToUsers}),
	} {
		m[s.Type] = s
	}
	return m
}()

// Notified is the part of an event's data naming the notifications the
// change wrote and their recipients.
type Notified struct {
	UserIDs         []string `json:"userIds"`
	NotificationIDs []string `json:"notificationIds"`
}

// Addressed is data meant for some users only (realtime ToUsers).
type Addressed interface {
	// AddressedTo lists the users whose user:{id} channel hears of it.
	AddressedTo() []string
}

// MedicationLoggedData is medication.logged's data: the dose log, with the
// medication's name and dosage.
type MedicationLoggedData struct {
	*care.MedicationLog
	MedicationName string `json:"medicationName"`
	Dosage         string `json:"dosage"`
}

// DoseReminderData is the data of medication.reminder (a dose is due) and
// medication.missed (a dose went unlogged).
type DoseReminderData struct {
	MedicationID    string `json:"medicationId"`
	MedicationName  string `json:"medicationName"`
	CareRecipientID string `json:"careRecipientId"`
	// ScheduledTime is the dose's instant, RFC 3339 in UTC.
	ScheduledTime string `json:"scheduledTime"`
	MinutesBefore int    `json:"minutesBefore"`
	Timezone      string `json:"timezone"`
	Notified
}

// RefillData is medication.refill_needed's data.
type RefillData struct {
	MedicationID    string `json:"medicationId"`
	CareRecipientID string `json:"careRecipientId"`
	CurrentSupply   int    `json:"currentSupply"`
	RefillAt        int    `json:"refillAt"`
	Urgent          bool   `json:"urgent"`
	// Date is the day of the alert in the care recipient's zone.
	Date string `json:"date"`
	Notified
}

// AppointmentCreatedData is appointment.created's data: the appointment as
// the API answers it; for a recurring series, its first appointment with the
// series and the ids of every appointment it stored.
type AppointmentCreatedData struct {
	care.Appointment
	SeriesID       string   `json:"seriesId,omitempty"`
	TotalCreated   int      `json:"totalCreated,omitempty"`
	AppointmentIDs []string `json:"appointmentIds,omitempty"`
}

// AppointmentChangeData is the data of appointment.updated and
// appointment.cancelled: the appointment as the API answers it, or, for a
// change to a recurring series from a date on, the series change.
type AppointmentChangeData struct {
	*care.Appointment
	*SeriesChange
}

// SeriesChange is a change to the occurrences of a recurring appointment
// series from FromDate on.
type SeriesChange struct {
	SeriesID string    `json:"seriesId"`
	FromDate time.Time `json:"fromDate"`
	Count    int       `json:"count"`
	// AppointmentIDs are the changed occurrences, when they are listed.
	AppointmentIDs []string `json:"appointmentIds,omitempty"`
}

// AppointmentReminderData is appointment.reminder's data.
type AppointmentReminderData struct {
	AppointmentID   string `json:"appointmentId"`
	CareRecipientID string `json:"careRecipientId"`
	ScheduledTime   string `json:"scheduledTime"`
	MinutesBefore   int    `json:"minutesBefore"`
	Timezone        string `json:"timezone"`
	Notified
}

// TransportData is appointment.transport_assigned's data: who drives, and
// the series when the appointment recurs.
type TransportData struct {
	*care.TransportAssignment
	RecurringSeriesID *string `json:"recurringSeriesId"`
}

// ShiftHandoffData is shift.handoff's data: the shift that ended, the next
// one, and the notes passed on.
type ShiftHandoffData struct {
	ShiftID         string    `json:"shiftId"`
	PreviousShiftID string    `json:"previousShiftId"`
	FromCaregiverID string    `json:"fromCaregiverId"`
	ToCaregiverID   string    `json:"toCaregiverId"`
	HandoffNotes    *string   `json:"handoffNotes"`
	StartTime       time.Time `json:"startTime"`
}

// ShiftReminderData is shift.reminder's data: the shift about to start and
// its caregiver.
type ShiftReminderData struct {
	ShiftID         string `json:"shiftId"`
	CaregiverID     string `json:"caregiverId"`
	CareRecipientID string `json:"careRecipientId"`
	ScheduledTime   string `json:"scheduledTime"`
	MinutesBefore   int    `json:"minutesBefore"`
	Timezone        string `json:"timezone"`
	Notified
}

// AddressedTo is the shift's caregiver.
func (d ShiftReminderData) AddressedTo() []string {
	if d.CaregiverID == "" {
		return nil
	}
	return []string{d.CaregiverID}
}

// DocumentData is the data of document.uploaded and document.deleted: the
// document as the API answers it.
type DocumentData struct {
	ID            string     `json:"id"`
	FamilyID      string     `json:"familyId"`
	UploadedByID  *string    `json:"uploadedById"`
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	MimeType      string     `json:"mimeType"`
	SizeBytes     int64      `json:"sizeBytes"`
	Filename      string     `json:"filename"`
	ExpiresAt     *time.Time `json:"expiresAt"`
	Notes         *string    `json:"notes"`
	SHA256        *string    `json:"sha256"`
	PageCount     *int       `json:"pageCount"`
	FailureReason *string    `json:"failureReason"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	HasThumbnail  bool       `json:"hasThumbnail"`
}

// FamilyDeletedData is family.deleted's data: the family and its members
// at the time.
type FamilyDeletedData struct {
	*care.Family
	UserIDs []string `json:"userIds"`
	// CareRecipientIDs, when listed, are the care recipients whose
	// channels close with the family's.
	CareRecipientIDs []string `json:"careRecipientIds,omitempty"`
}

// MemberRoleData is family.member.role_updated's data: the member with the
// new role, and the role before.
type MemberRoleData struct {
	*care.Member
	PreviousRole care.Role `json:"previousRole"`
}

// NotificationData is notification.created's data: who got which
// notification, and what it says.
type NotificationData struct {
	Notified
	Type  care.NotificationType `json:"type"`
	Title string                `json:"title"`
	Body  string                `json:"body"`
	// Data is the notification's own data.
	Data json.RawMessage `json:"data"`
}

// AddressedTo is the notified users.
func (d NotificationData) AddressedTo() []string { return d.UserIDs }

// DecodeData decodes e's data into its catalog struct (a pointer to it).
func DecodeData(e Event) (any, error) {
	s, ok := specs[e.Type]
	if !ok {
		return nil, unknownType(e.Type)
	}
	v := reflect.New(s.Data)
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, v.Interface()); err != nil {
			return nil, invalid("%s data: %v", e.Type, err)
		}
	}
	return v.Interface(), nil
}

// jsonFields adds the JSON field names of t (a struct, or a pointer to one)
// to seen, nested ones under prefix, to a depth of three.
func jsonFields(t reflect.Type, prefix string, seen map[string]bool, depth int) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || depth > 3 || t == reflect.TypeFor[time.Time]() {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && tag == "" {
			jsonFields(f.Type, prefix, seen, depth)
			continue
		}
		name := tag
		if name == "" {
			name = f.Name
		}
		seen[prefix+name] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		jsonFields(ft, prefix+name+".", seen, depth+1)
	}
}
