package api

import (
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// appointmentPatchAliases are the existing clients' appointment fields on
// PATCH /appointments/{id} and PATCH /appointments/series/{id}, mapped as on
// create: dateTime onto startTime, duration (minutes) onto endTime, doctorName
// onto doctorId, reminderBefore onto reminderMinutes; isRecurring must say
// what the appointment already is. A pair that disagrees is a 400 naming
// both.
type appointmentPatchAliases struct {
	appointmentAliases

	// duration is a duration given without a start: it runs from the
	// appointment's own start.
	duration *time.Duration
}

// mapPatchAliases writes the aliases onto the patch's own fields before
// they are validated.
func (b *appointmentPatch) mapPatchAliases(p Problems) {
	a := b.appointmentAliases
	if a.DateTime != nil {
		switch {
		case !b.StartTime.Set:
			b.StartTime = Optional[string]{Set: true, Value: *a.DateTime}
		case b.StartTime.Null || !sameInstant(b.StartTime.Value, *a.DateTime):
			p.Add("dateTime", "conflicts with startTime; give one of them")
		}
	}
	if a.Duration != nil {
		d := time.Duration(*a.Duration) * time.Minute
		switch {
		case *a.Duration < minAppointmentMinutes || *a.Duration > maxAppointmentMinutes:
			p.Add("duration", "must be from "+strconv.Itoa(minAppointmentMinutes)+" to "+strconv.Itoa(maxAppointmentMinutes)+" minutes")
		case b.StartTime.Set && !b.StartTime.Null:
			if start, err := time.Parse(time.RFC3339, b.StartTime.Value); err == nil {
				end := start.Add(d).Format(time.RFC3339)
				switch {
				case !b.EndTime.Set:
					b.EndTime = Optional[string]{Set: true, Value: end}
				case b.EndTime.Null || !sameInstant(b.EndTime.Value, end):
					p.Add("duration", "conflicts with endTime; give one of them")
				}
			}
		case b.EndTime.Set:
			p.Add("duration", "conflicts with endTime; give one of them")
		default:
			b.duration = &d
		}
	}
	if a.ReminderBefore != nil {
		minutes := reminderBeforeList(p, a.ReminderBefore)
		switch {
		case !b.ReminderMinutes.Set:
			b.ReminderMinutes = Optional[[]int]{Set: true, Value: minutes}
		case b.ReminderMinutes.Null || !sameMinutes(b.ReminderMinutes.Value, minutes):
			p.Add("reminderBefore", "conflicts with reminderMinutes; give one of them")
		}
	}
	a.DoctorName = p.optLine("doctorName", a.DoctorName, maxShortText)
	if a.DoctorName != nil && b.DoctorID.Set {
		p.Add("doctorName", "give doctorId or doctorName, not both")
	}
	b.appointmentAliases = a
}

// applyAliases applies what of the aliases depends on the stored
// appointment a: a duration from its start, and isRecurring, which must say
// what a is. (A doctor's name is looked up by the appointments service.)
func (b *appointmentPatch) applyAliases(a *care.Appointment) error {
	p := Problems{}
	if b.IsRecurring != nil && *b.IsRecurring != a.IsRecurring {
		p.Add("isRecurring", "cannot change whether an appointment recurs; edit the series or create a new appointment")
	}
	if b.duration != nil {
		a.EndTime = a.StartTime.Add(*b.duration)
		p.appointmentLength(a.StartTime, a.EndTime)
	}
	return p.Err()
}
