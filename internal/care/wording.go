package care

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Text is a notification's title and body: what the app lists, what push
// shows and what an email leads with. Every kind's text is built here, so
// the wording, its plurals and its times (in the care recipient's zone)
// are the same wherever a person reads them.
type Text struct {
	Title string
	Body  string
}

// Count says n things with the right plural: "1 minute", "5 minutes".
func Count(n int, one, many string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Until says how far ahead something is, from whole minutes left: "now",
// "in 1 minute", "in 90 minutes", "in 2 hours", "tomorrow", "in 3 days".
func Until(minutes int) string {
	switch {
	case minutes <= 0:
		return "now"
	case minutes == 1440:
		return "tomorrow"
	case minutes%1440 == 0:
		return "in " + Count(minutes/1440, "day", "days")
	case minutes%60 == 0:
		return "in " + Count(minutes/60, "hour", "hours")
	default:
		return "in " + Count(minutes, "minute", "minutes")
	}
}

// zone is the care recipient's location, UTC when it is unknown.
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	return time.UTC
}

// ClockIn renders t as a time of day where the care recipient lives, with
// the zone: "08:00 Asia/Tokyo".
func ClockIn(t time.Time, tz string) string {
	local := t.In(zone(tz))
	return local.Format("15:04") + " " + local.Location().String()
}

// DateTimeIn renders t as a day and time where the care recipient lives:
// "Mon 2 Jun 2025 09:30 CEST".
func DateTimeIn(t time.Time, tz string) string {
	return t.In(zone(tz)).Format("Mon 2 Jan 2006 15:04 MST")
}

func dose(med *Medication) string { return strings.TrimSpace(med.Name + " " + med.Dosage) }

// MedicationDueText reminds of a dose due at (minutesLeft from now).
func MedicationDueText(cr *CareRecipient, med *Medication, at time.Time, minutesLeft int) Text {
	body := fmt.Sprintf("%s's dose is due now (%s).", cr.CalledBy(), ClockIn(at, cr.Timezone))
	if minutesLeft > 0 {
		body = fmt.Sprintf("%s's dose is due %s, at %s.", cr.CalledBy(), Until(minutesLeft), ClockIn(at, cr.Timezone))
	}
	return Text{Title: "Medication reminder: " + dose(med), Body: body}
}

// MissedDoseText tells caregivers a dose due at was not logged.
func MissedDoseText(cr *CareRecipient, med *Medication, at time.Time) Text {
	return Text{Title: "Missed dose: " + dose(med),
		Body: fmt.Sprintf("%s's dose due at %s was not logged.", cr.CalledBy(), ClockIn(at, cr.Timezone))}
}

// DoseLoggedText tells the family who logged which dose, and how.
func DoseLoggedText(actor string, cr *CareRecipient, med *Medication, status DoseStatus, scheduled time.Time) Text {
	what, at := dose(med), ClockIn(scheduled, cr.Timezone)
	switch status {
	case DoseGiven:
		return Text{"Medication given", fmt.Sprintf("%s gave %s %s (dose of %s).", actor, cr.CalledBy(), what, at)}
	case DoseSkipped:
		return Text{"Medication skipped", fmt.Sprintf("%s skipped %s's %s (dose of %s).", actor, cr.CalledBy(), what, at)}
	case DoseMissed:
		return Text{"Medication missed", fmt.Sprintf("%s marked %s's %s (dose of %s) as missed.", actor, cr.CalledBy(), what, at)}
	}
	return Text{"Medication pending", fmt.Sprintf("%s marked %s's %s (dose of %s) as pending.", actor, cr.CalledBy(), what, at)}
}

// RefillText asks for a refill once the supply reaches refillAt; five
// doses or fewer is urgent.
func RefillText(cr *CareRecipient, med *Medication, supply, refillAt int) Text {
	title := "Refill needed: " + med.Name
	if supply <= 5 {
		title = "Urgent refill: " + med.Name
	}
	return Text{Title: title, Body: fmt.Sprintf("%s of %s left for %s; refill at %d.",
		Count(supply, "dose", "doses"), med.Name, cr.CalledBy(), refillAt)}
}

// AppointmentReminderText reminds of an appointment starting at.
func AppointmentReminderText(cr *CareRecipient, title string, at time.Time, minutesLeft int) Text {
	return Text{Title: "Appointment reminder: " + title,
		Body: fmt.Sprintf("%s has %s %s, at %s.", cr.CalledBy(), title, Until(minutesLeft), ClockIn(at, cr.Timezone))}
}

// ShiftReminderText reminds a caregiver of their shift starting at.
func ShiftReminderText(cr *CareRecipient, at time.Time, minutesLeft int) Text {
	return Text{Title: "Shift reminder",
		Body: fmt.Sprintf("Your shift with %s starts %s, at %s.", cr.CalledBy(), Until(minutesLeft), ClockIn(at, cr.Timezone))}
}

// ShiftAssignedText tells a caregiver someone gave them a shift.
func ShiftAssignedText(actor string, cr *CareRecipient, start, end time.Time) Text {
	return Text{Title: "New shift assigned", Body: fmt.Sprintf("%s assigned you a shift caring for %s from %s to %s.",
		actor, cr.CalledBy(), DateTimeIn(start, cr.Timezone), DateTimeIn(end, cr.Timezone))}
}

// ShiftHandoffText tells the next caregiver the previous shift ended, with
// its handoff notes.
func ShiftHandoffText(actor string, cr *CareRecipient, nextStart time.Time, notes *string) Text {
	body := fmt.Sprintf("%s finished their shift with %s; your shift starts %s.", actor, cr.CalledBy(), DateTimeIn(nextStart, cr.Timezone))
	if notes != nil {
		body += " Handoff notes: " + *notes
	} else {
		body += " No handoff notes were left."
	}
	return Text{Title: "Shift handoff for " + cr.CalledBy(), Body: body}
}

// ShiftCancelledText tells a caregiver someone cancelled their shift.
func ShiftCancelledText(actor string, cr *CareRecipient, start time.Time) Text {
	return Text{Title: "Shift cancelled", Body: fmt.Sprintf("%s cancelled your shift caring for %s on %s.",
		actor, cr.CalledBy(), DateTimeIn(start, cr.Timezone))}
}

// ShiftsNeedCoverText tells admins that someone who left (why: "Bo Lee
// left the family") had shifts: one they were on has ended, cancelled
// ones need cover; first is the first cancelled one, nil when none was.
func ShiftsNeedCoverText(why string, ended bool, cancelled int, first *Shift) Text {
	var what []string
	if ended {
		what = append(what, "the shift they were on has ended")
	}
	next := ""
	if cancelled > 0 {
		verb := "is"
		if cancelled > 1 {
			verb = "are"
		}
		what = append(what, fmt.Sprintf("%s they had %s cancelled", Count(cancelled, "upcoming shift", "upcoming shifts"), verb))
		if first != nil && first.CareRecipient != nil {
			next = fmt.Sprintf("; the first is %s caring for %s",
				DateTimeIn(first.StartTime, first.CareRecipient.Timezone), first.CareRecipient.FullName)
		}
	}
	return Text{Title: "Shifts need cover", Body: fmt.Sprintf("%s, so %s%s.", why, strings.Join(what, " and "), next)}
}

// AppointmentsNeedDriverText tells admins that n appointments someone was
// driving to (why: "Bo Lee left the family") need a driver.
func AppointmentsNeedDriverText(why string, n int, cr *CareRecipient, first *Appointment) Text {
	count := Count(n, "appointment they were driving to needs", "appointments they were driving to need")
	return Text{Title: "Appointments need a driver", Body: fmt.Sprintf("%s, so %s someone else; the first is %s on %s for %s.",
		why, count, first.Title, DateTimeIn(first.StartTime, cr.Timezone), cr.CalledBy())}
}

// AppointmentWhat names new appointments: "Dentist on Mon 2 Jun 2025 09:30
// CEST", or for a series "Physio, 6 appointments from …".
func AppointmentWhat(cr *CareRecipient, first *Appointment, total int) string {
	when := DateTimeIn(first.StartTime, cr.Timezone)
	if total > 1 {
		return fmt.Sprintf("%s, %s from %s", first.Title, Count(total, "appointment", "appointments"), when)
	}
	return fmt.Sprintf("%s on %s", first.Title, when)
}

// AppointmentCreatedText tells the family someone added appointments
// (what from AppointmentWhat).
func AppointmentCreatedText(actor string, cr *CareRecipient, title, what string) Text {
	return Text{Title: "New appointment: " + title, Body: fmt.Sprintf("%s added %s for %s.", actor, what, cr.CalledBy())}
}

// TransportAssignedText asks a member to drive to appointments (what from
// AppointmentWhat).
func TransportAssignedText(actor string, cr *CareRecipient, what string) Text {
	return Text{Title: "Transport assigned", Body: fmt.Sprintf("%s asked you to take %s to %s.", actor, cr.CalledBy(), what)}
}

// EmergencyAlertText is an emergency: the alert's own title, who raised
// it, what and where.
func EmergencyAlertText(actor string, cr *CareRecipient, a *EmergencyAlert) Text {
	body := fmt.Sprintf("Emergency for %s: %s raised a %s alert. %s", cr.CalledBy(), actor, strings.ToLower(string(a.Type)), a.Description)
	if a.Location != nil {
		body += " Location: " + *a.Location
	}
	return Text{Title: a.Title, Body: body}
}

// EmergencyAcknowledgedText tells the family someone is on an alert.
func EmergencyAcknowledgedText(actor string, cr *CareRecipient, a *EmergencyAlert) Text {
	return Text{Title: "Emergency acknowledged for " + cr.CalledBy(),
		Body: fmt.Sprintf("%s acknowledged the alert %q and is on it.", actor, a.Title)}
}

// EmergencyResolvedText tells the family an alert is over, with its notes.
func EmergencyResolvedText(actor string, cr *CareRecipient, a *EmergencyAlert) Text {
	body := fmt.Sprintf("%s resolved the alert %q.", actor, a.Title)
	if a.ResolutionNotes != nil {
		body += " " + *a.ResolutionNotes
	}
	return Text{Title: "Emergency resolved for " + cr.CalledBy(), Body: body}
}

// UrgentEntryText tells the family of a HIGH or CRITICAL timeline entry.
func UrgentEntryText(actor string, cr *CareRecipient, e *TimelineEntry) Text {
	level := "High severity"
	if e.Severity != nil && *e.Severity == SeverityCritical {
		level = "Critical"
	}
	kind := strings.ReplaceAll(strings.ToLower(string(e.Type)), "_", " ")
	return Text{Title: level + ": " + e.Title,
		Body: fmt.Sprintf("%s recorded a %s %s for %s: %s", actor, strings.ToLower(level), kind, cr.CalledBy(), e.Title)}
}

// DocumentExpiringText tells admins a document runs out on day (a date).
func DocumentExpiringText(name string, day time.Time) Text {
	return Text{Title: "Document expiring soon", Body: fmt.Sprintf("%q expires on %s.", name, day.Format("Mon 2 Jan 2006"))}
}

// EmailQuotaText warns system admins that a provider's day is nearly spent.
func EmailQuotaText(provider string, used, limit int64) Text {
	return Text{Title: "Email quota nearly spent",
		Body: fmt.Sprintf("%s has sent %d of its %d emails today; once the routine share is spent, routine email waits for the next UTC day.", provider, used, limit)}
}

// Recipient is the care recipient a shift's summary names, for wording.
func (c *ShiftCareRecipient) Recipient() *CareRecipient {
	return &CareRecipient{ID: c.ID, FamilyID: c.FamilyID, FullName: c.FullName, Timezone: c.Timezone}
}

// ClipUTF8 shortens s to at most n bytes without splitting a character
// (a user agent kept with a session, a product name shown in a list).
func ClipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
