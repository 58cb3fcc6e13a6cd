package api

import (
	"context"
	"strconv"
	"strings"
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
	// doctorNote is a doctorName that matched none of the care recipient's
	// doctors: it heads the notes.
	doctorNote *string
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

// resolvePatchDoctorName turns doctorName into the care recipient's doctor of
// that name (letter case aside); a name that matches none clears doctorId
// and is kept at the head of the notes.
func (s *Server) resolvePatchDoctorName(ctx context.Context, careRecipientID string, b *appointmentPatch) error {
	if b.DoctorName == nil {
		return nil
	}
	id, found, err := s.doctorNamed(ctx, careRecipientID, *b.DoctorName)
	if err != nil {
		return err
	}
	if found {
		b.DoctorID = Optional[string]{Set: true, Value: id}
		return nil
	}
	b.DoctorID = Optional[string]{Set: true, Null: true}
	b.doctorNote = b.DoctorName
	return nil
}

// applyAliases applies what of the aliases depends on the stored
// appointment a: a duration from its start, a doctor's name ahead of its
// notes (replacing one put there before), and isRecurring, which must say
// what a is.
func (b *appointmentPatch) applyAliases(a *care.Appointment) error {
	p := Problems{}
	if b.IsRecurring != nil && *b.IsRecurring != a.IsRecurring {
		p.Add("isRecurring", "cannot change whether an appointment recurs; edit the series or create a new appointment")
	}
	if b.duration != nil {
		a.EndTime = a.StartTime.Add(*b.duration)
		p.appointmentLength(a.StartTime, a.EndTime)
	}
	if b.doctorNote != nil {
		notes := "Doctor: " + *b.doctorNote
		if a.Notes != nil && *a.Notes != "" {
			rest := *a.Notes
			if strings.HasPrefix(rest, "Doctor: ") {
				_, rest, _ = strings.Cut(rest, "\n")
			}
			if rest != "" {
				notes += "\n" + rest
			}
		}
		a.Notes = &notes
	}
	return p.Err()
}
