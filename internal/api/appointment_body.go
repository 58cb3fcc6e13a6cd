package api

import (
	"errors"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// maxRecurrenceRuleLen bounds the recurrenceRule text.
const maxRecurrenceRuleLen = 1000

// appointmentBody is the body of POST /care-recipients/{id}/appointments
// and .../appointments/recurring.
type appointmentBody struct {
	Title                 string  `json:"title"`
	Type                  string  `json:"type"`
	DoctorID              *string `json:"doctorId"`
	StartTime             string  `json:"startTime"`
	EndTime               string  `json:"endTime"`
	Location              *string `json:"location"`
	Address               *string `json:"address"`
	Notes                 *string `json:"notes"`
	Recurrence            *string `json:"recurrence"`
	RecurrenceRule        *string `json:"recurrenceRule"`
	RecurrenceEndDate     *string `json:"recurrenceEndDate"`
	ReminderMinutes       []int   `json:"reminderMinutes"`
	TransportAssignedToID *string `json:"transportAssignedToId"`
	appointmentAliases

	start, end time.Time // parsed from StartTime and EndTime
}

func (b *appointmentBody) Validate(p Problems) {
	b.mapAppointmentAliases(p)
	b.Title = p.line("title", b.Title, maxShortText)
	p.appointmentType("type", b.Type)
	b.DoctorID = p.optUUID("doctorId", b.DoctorID)
	b.start, b.end = p.appointmentPeriod(b.StartTime, b.EndTime)
	b.Location = p.optLine("location", b.Location, maxShortText)
	b.Address = p.optText("address", b.Address, maxAddressLen)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
	b.ReminderMinutes = p.reminderMinutes("reminderMinutes", b.ReminderMinutes)
	b.TransportAssignedToID = p.optUUID("transportAssignedToId", b.TransportAssignedToID)
	b.RecurrenceRule = p.optText("recurrenceRule", b.RecurrenceRule, maxRecurrenceRuleLen)
	if b.Recurrence != nil {
		p.oneOf("recurrence", *b.Recurrence, care.RecurrencePresets()...)
		if *b.Recurrence == "none" {
			b.Recurrence = nil
		}
	}
	if b.Recurrence != nil && b.RecurrenceRule != nil {
		p.Add("recurrence", "give either recurrence or recurrenceRule, not both")
	}
	b.RecurrenceEndDate = p.optText("recurrenceEndDate", b.RecurrenceEndDate, 40)
	if b.RecurrenceEndDate != nil && !b.recurring() {
		p.Add("recurrenceEndDate", "needs a recurrence or recurrenceRule")
	}
}

// recurring reports whether the body asks for a series.
func (b *appointmentBody) recurring() bool { return b.Recurrence != nil || b.RecurrenceRule != nil }

// recurrence builds the series rule the body asks for, in the care
// recipient's zone, starting at startTime; nil for a single appointment.
func (b *appointmentBody) recurrence(loc *time.Location) (*care.Recurrence, error) {
	if !b.recurring() {
		return nil, nil
	}
	field, text := "recurrenceRule", ""
	if b.RecurrenceRule != nil {
		text = *b.RecurrenceRule
	} else {
		field = "recurrence"
		text, _ = care.PresetRule(*b.Recurrence)
	}
	rule, err := care.ParseRecurrence(text, b.start, loc)
	var re *care.RecurrenceError
	if errors.As(err, &re) {
		return nil, Problems{field: {re.Reason}}.Err()
	}
	if err != nil {
		return nil, err
	}
	if b.RecurrenceEndDate != nil {
		p := Problems{}
		end, ok := p.recurrenceEnd("recurrenceEndDate", *b.RecurrenceEndDate, loc)
		if !ok {
			return nil, p.Err()
		}
		if end.Before(localDate(b.start, loc)) {
			return nil, Problems{"recurrenceEndDate": {"must not be before the startTime's date"}}.Err()
		}
		if err := rule.EndOn(end.Year(), end.Month(), end.Day()); err != nil {
			return nil, Problems{"recurrenceEndDate": {err.Error()}}.Err()
		}
	}
	return rule, nil
}

// recurrenceEnd reads the last date of a series: YYYY-MM-DD, or an RFC 3339
// instant standing for its date in loc. It returns that date as midnight UTC.
func (p Problems) recurrenceEnd(field, v string, loc *time.Location) (time.Time, bool) {
	if len(v) == len(time.DateOnly) {
		return p.appointmentDate(field, v)
	}
	t, ok := p.appointmentInstant(field, v)
	if !ok {
		return time.Time{}, false
	}
	return localDate(t, loc), true
}

// localDate is t's calendar date in loc, as midnight UTC.
func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// appointmentPeriod checks a start and end: RFC 3339, the end after the
// start and at most 24 hours later.
func (p Problems) appointmentPeriod(startTime, endTime string) (start, end time.Time) {
	start, okStart := p.appointmentInstant("startTime", startTime)
	end, okEnd := p.appointmentInstant("endTime", endTime)
	if okStart && okEnd {
		p.appointmentLength(start, end)
	}
	return start, end
}

// appointmentLength checks that end is after start, by at most 24 hours.
func (p Problems) appointmentLength(start, end time.Time) {
	switch {
	case !end.After(start):
		p.Add("endTime", "must be after startTime")
	case end.Sub(start) > care.MaxAppointmentLength:
		p.Add("endTime", "must be at most 24 hours after startTime")
	}
}

// appointmentType checks an appointment type.
func (p Problems) appointmentType(field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	p.oneOf(field, v, care.AppointmentTypes()...)
}

// optUUID checks an optional UUID field; blank becomes nil.
func (p Problems) optUUID(field string, v *string) *string {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	p.uuidField(field, *v)
	return v
}

// reminderMinutes checks reminder offsets and returns them deduplicated and
// sorted; absent means the default.
func (p Problems) reminderMinutes(field string, v []int) []int {
	out, why := care.NormalizeReminderMinutes(v)
	if why != "" {
		p.Add(field, why)
	}
	return out
}

// appointmentPatch is the body of PATCH /appointments/{id}: absent fields
// stay, null clears optional ones (and resets reminderMinutes to the
// default).
type appointmentPatch struct {
	Title           Optional[string] `json:"title"`
	Type            Optional[string] `json:"type"`
	DoctorID        Optional[string] `json:"doctorId"`
	StartTime       Optional[string] `json:"startTime"`
	EndTime         Optional[string] `json:"endTime"`
	Location        Optional[string] `json:"location"`
	Address         Optional[string] `json:"address"`
	Notes           Optional[string] `json:"notes"`
	ReminderMinutes Optional[[]int]  `json:"reminderMinutes"`
	Status          Optional[string] `json:"status"`
	appointmentPatchAliases

	start, end *time.Time // parsed from StartTime and EndTime
}

func (b *appointmentPatch) Validate(p Problems) {
	b.validateFields(p)
	p.patchRequired("status", &b.Status, func(v string) string {
		p.oneOf("status", v, care.AppointmentStatuses()...)
		return v
	})
}

// validateFields checks the fields an appointment shares with its series.
func (b *appointmentPatch) validateFields(p Problems) {
	b.mapPatchAliases(p)
	p.patchRequired("title", &b.Title, func(v string) string { return p.line("title", v, maxShortText) })
	p.patchRequired("type", &b.Type, func(v string) string {
		p.appointmentType("type", v)
		return v
	})
	patchOptional(&b.DoctorID, func(v *string) *string { return p.optUUID("doctorId", v) })
	b.start = p.patchInstant("startTime", b.StartTime)
	b.end = p.patchInstant("endTime", b.EndTime)
	if b.start != nil && b.end != nil {
		p.appointmentLength(*b.start, *b.end)
	}
	patchOptional(&b.Location, func(v *string) *string { return p.optLine("location", v, maxShortText) })
	patchOptional(&b.Address, func(v *string) *string { return p.optText("address", v, maxAddressLen) })
	patchOptional(&b.Notes, func(v *string) *string { return p.optText("notes", v, maxNotesLen) })
	if b.ReminderMinutes.Set {
		var v []int // null: the default
		if !b.ReminderMinutes.Null {
			v = append([]int{}, b.ReminderMinutes.Value...)
		}
		b.ReminderMinutes.Value, b.ReminderMinutes.Null = p.reminderMinutes("reminderMinutes", v), false
	}
}

// patchInstant checks an optional, non-null timestamp field of a PATCH body.
func (p Problems) patchInstant(field string, o Optional[string]) *time.Time {
	switch {
	case !o.Set:
		return nil
	case o.Null:
		p.Add(field, "must not be null")
		return nil
	}
	t, ok := p.appointmentInstant(field, o.Value)
	if !ok {
		return nil
	}
	return &t
}

// apply changes a to the patch's fields, except status and times.
func (b *appointmentPatch) apply(a *care.Appointment) {
	assignRequired(&a.Title, b.Title)
	if b.Type.Set && !b.Type.Null {
		a.Type = care.AppointmentType(b.Type.Value)
	}
	assign(&a.DoctorID, b.DoctorID)
	assign(&a.Location, b.Location)
	assign(&a.Address, b.Address)
	assign(&a.Notes, b.Notes)
	assignRequired(&a.ReminderMinutes, b.ReminderMinutes)
}

// applyTimes moves a to the patch's start and end (either may be absent),
// refusing a result that ends before it starts or lasts over 24 hours.
func (b *appointmentPatch) applyTimes(a *care.Appointment) error {
	if b.start != nil {
		a.StartTime = *b.start
	}
	if b.end != nil {
		a.EndTime = *b.end
	}
	p := Problems{}
	if b.start != nil || b.end != nil {
		p.appointmentLength(a.StartTime, a.EndTime)
	}
	return p.Err()
}

// appointmentSeriesPatch is the body of PATCH /appointments/series/{id}:
// the fields of appointmentPatch but status. startTime gives the new local
// time of day of every occurrence (each keeps its date), endTime (which
// needs startTime) the new duration.
type appointmentSeriesPatch struct {
	appointmentPatch
}

func (b *appointmentSeriesPatch) Validate(p Problems) {
	if b.Status.Set {
		p.Add("status", "cannot be set for a whole series; cancel it instead")
	}
	b.validateFields(p)
	if b.EndTime.Set && !b.StartTime.Set {
		p.Add("endTime", "needs startTime")
	}
	if b.duration != nil {
		p.Add("duration", "needs startTime or dateTime")
	}
	if b.IsRecurring != nil && !*b.IsRecurring {
		p.Add("isRecurring", "is false but this is a series")
	}
}

// transportBody is the body of POST /appointments/{id}/transport.
type transportBody struct {
	AssignedToID string  `json:"assignedToId"`
	Notes        *string `json:"notes"`
}

func (b *transportBody) Validate(p Problems) {
	p.uuidField("assignedToId", b.AssignedToID)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
}
