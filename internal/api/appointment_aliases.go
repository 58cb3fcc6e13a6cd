package api

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// appointmentAliases are the fields existing clients send for a new
// appointment instead of the contract's: dateTime for startTime, duration
// (minutes) for endTime, doctorName for doctorId, reminderBefore ("1day",
// "1 hour", "30min") for reminderMinutes and isRecurring alongside
// recurrence. Each maps onto its counterpart; a pair that disagrees is a
// 400 naming both.
type appointmentAliases struct {
	DateTime       *string  `json:"dateTime"`
	Duration       *int     `json:"duration"`
	DoctorName     *string  `json:"doctorName"`
	ReminderBefore []string `json:"reminderBefore"`
	IsRecurring    *bool    `json:"isRecurring"`
}

// Bounds of the aliases: the original's shortest appointment, and the
// longest one CareCircle keeps.
const (
	minAppointmentMinutes = 15
	maxAppointmentMinutes = int(care.MaxAppointmentLength / time.Minute)
)

// mapAppointmentAliases writes the aliases onto b's own fields before they
// are validated.
func (b *appointmentBody) mapAppointmentAliases(p Problems) {
	a := b.appointmentAliases
	if a.DateTime != nil {
		switch {
		case b.StartTime == "":
			b.StartTime = *a.DateTime
		case !sameInstant(b.StartTime, *a.DateTime):
			p.Add("dateTime", "conflicts with startTime; give one of them")
		}
	}
	if a.Duration != nil {
		if *a.Duration < minAppointmentMinutes || *a.Duration > maxAppointmentMinutes {
			p.Add("duration", "must be from "+strconv.Itoa(minAppointmentMinutes)+" to "+strconv.Itoa(maxAppointmentMinutes)+" minutes")
		} else if start, err := time.Parse(time.RFC3339, b.StartTime); err == nil {
			end := start.Add(time.Duration(*a.Duration) * time.Minute).Format(time.RFC3339)
			switch {
			case b.EndTime == "":
				b.EndTime = end
			case !sameInstant(b.EndTime, end):
				p.Add("duration", "conflicts with endTime; give one of them")
			}
		}
	}
	if a.ReminderBefore != nil {
		minutes := reminderBeforeList(p, a.ReminderBefore)
		switch {
		case b.ReminderMinutes == nil:
			b.ReminderMinutes = minutes
		case !sameMinutes(b.ReminderMinutes, minutes):
			p.Add("reminderBefore", "conflicts with reminderMinutes; give one of them")
		}
	}
	if a.IsRecurring != nil {
		asked := b.Recurrence != nil && *b.Recurrence != "none" || b.RecurrenceRule != nil
		switch {
		case *a.IsRecurring && !asked:
			p.Add("isRecurring", "needs recurrence or recurrenceRule")
		case !*a.IsRecurring && asked:
			p.Add("isRecurring", "is false but a recurrence is given")
		}
	}
	a.DoctorName = p.optLine("doctorName", a.DoctorName, maxShortText)
	if a.DoctorName != nil && b.DoctorID != nil {
		p.Add("doctorName", "give doctorId or doctorName, not both")
	}
	b.appointmentAliases = a
}

// reminderBeforeList reads the original client's reminderBefore lead times
// as minutes, reporting each one it cannot read; never nil.
func reminderBeforeList(p Problems, list []string) []int {
	minutes := []int{}
	for i, v := range list {
		m, ok := reminderBeforeMinutes(v)
		if !ok {
			p.Add("reminderBefore["+strconv.Itoa(i)+"]", `must be a lead time such as "1day", "1 hour" or "30min"`)
			continue
		}
		minutes = append(minutes, m)
	}
	return minutes
}

var reminderBeforePattern = regexp.MustCompile(`^(\d{1,4})\s*(m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|wk|week|weeks)$`)

// reminderBeforeMinutes reads a lead time such as "1day", "2 hours" or
// "30min" as minutes.
func reminderBeforeMinutes(v string) (int, bool) {
	m := reminderBeforePattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(v)))
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	switch m[2][0] {
	case 'h':
		n *= 60
	case 'd':
		n *= 24 * 60
	case 'w':
		n *= 7 * 24 * 60
	}
	return n, true
}

// sameInstant reports whether two RFC 3339 texts name the same second; a
// text that does not parse is left to the field's own check.
func sameInstant(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339, a)
	tb, errB := time.Parse(time.RFC3339, b)
	return errA != nil || errB != nil || ta.Truncate(time.Second).Equal(tb.Truncate(time.Second))
}

// sameMinutes reports whether two lists hold the same offsets.
func sameMinutes(a, b []int) bool {
	x, _ := care.NormalizeReminderMinutes(a)
	y, _ := care.NormalizeReminderMinutes(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}
