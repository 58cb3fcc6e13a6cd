package appointments

import (
	"context"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
)

// occurrenceLimit is the most occurrences Occurrences lists.
const occurrenceLimit = care.MaxSeriesOccurrences

// List lists the care recipient's appointments matching the filter,
// earliest first. filter is given the care recipient's zone, in which the
// caller's dates are read.
func (s *Service) List(ctx context.Context, a feature.Actor, crID string, filter func(loc *time.Location) (Filter, error)) ([]care.Appointment, error) {
	return feature.ListIn(ctx, s.b, a, crID, filter, s.b.Store.Appointments)
}

// StartingWithin lists the appointments starting in the next days (read
// once access is checked) that are not cancelled, earliest first.
func (s *Service) StartingWithin(ctx context.Context, a feature.Actor, crID string, days feature.Input[int]) ([]care.Appointment, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	n, err := days()
	if err != nil {
		return nil, err
	}
	now := s.b.Clock.Now()
	to := now.Add(time.Duration(n) * 24 * time.Hour)
	return s.b.Store.Appointments(ctx, cr.ID, Filter{
		StartFrom: &now, StartBefore: &to,
		Statuses: []care.AppointmentStatus{care.AppointmentScheduled, care.AppointmentConfirmed,
			care.AppointmentCompleted, care.AppointmentNoShow},
	})
}

// Upcoming lists the care recipient's next limit appointments that have
// not ended and are scheduled or confirmed, soonest first: what the
// family has still to go to.
func (s *Service) Upcoming(ctx context.Context, a feature.Actor, crID string, limit int) ([]care.Appointment, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	now := s.b.Clock.Now()
	list, err := s.b.Store.Appointments(ctx, cr.ID, Filter{EndAfter: &now,
		Statuses: []care.AppointmentStatus{care.AppointmentScheduled, care.AppointmentConfirmed}})
	if err != nil {
		return nil, err
	}
	if limit = max(limit, 0); len(list) > limit {
		list = list[:limit]
	}
	return list, nil
}

// Day lists the appointments, in any status, that overlap one calendar day
// in the care recipient's zone: the date read returns (a calendar date, as
// midnight UTC), or their today when it returns nil.
func (s *Service) Day(ctx context.Context, a feature.Actor, crID string, date feature.Input[*time.Time]) ([]care.Appointment, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	loc := feature.Zone(cr.Timezone)
	day := localDate(s.b.Clock.Now(), loc)
	d, err := date()
	if err != nil {
		return nil, err
	}
	if d != nil {
		day = *d
	}
	from, to := DayStart(day, loc), DayStart(day.AddDate(0, 0, 1), loc)
	return s.b.Store.Appointments(ctx, cr.ID, Filter{EndAfter: &from, StartBefore: &to})
}

// Series lists the care recipient's recurring series with their counts,
// first, last and next occurrence.
func (s *Service) Series(ctx context.Context, a feature.Actor, crID string) ([]care.AppointmentSeries, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	list, err := s.b.Store.RecurringAppointments(ctx, cr.ID)
	if err != nil {
		return nil, err
	}
	return care.SummarizeSeries(list, s.b.Clock.Now()), nil
}

// Get returns the appointment id; with crID, only if it is that care
// recipient's.
func (s *Service) Get(ctx context.Context, a feature.Actor, crID, id string) (*care.Appointment, error) {
	appt, _, err := s.access(ctx, a, crID, id, feature.AnyMember)
	return appt, err
}

// Window is a span of time, [From, To).
type Window struct{ From, To time.Time }

// Occurrences lists the occurrences of the appointment's rule that overlap
// the window (which window returns, given the care recipient's zone and
// the time now), at most 366: stored ones as they are now, the others
// virtual. A single appointment is its only occurrence.
func (s *Service) Occurrences(ctx context.Context, a feature.Actor, crID, id string, window func(loc *time.Location, now time.Time) (Window, error)) ([]Occurrence, error) {
	appt, cr, err := s.access(ctx, a, crID, id, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	loc := feature.Zone(cr.Timezone)
	w, err := window(loc, s.b.Clock.Now())
	if err != nil {
		return nil, err
	}
	out := []Occurrence{}
	overlaps := func(start, end time.Time) bool { return start.Before(w.To) && end.After(w.From) }
	if appt.RecurrenceRule == nil || appt.RecurringSeriesID == nil {
		if overlaps(appt.StartTime, appt.EndTime) {
			out = append(out, storedOccurrence(0, *appt))
		}
		return out, nil
	}
	rule, err := care.LoadRecurrence(*appt.RecurrenceRule, loc)
	if err != nil {
		return nil, err // rules are validated before they are stored
	}
	stored, err := s.b.Store.SeriesAppointments(ctx, *appt.RecurringSeriesID)
	if err != nil && !feature.IsNotFound(err) {
		return nil, err
	}
	byIndex := map[int]care.Appointment{}
	for _, x := range stored {
		if x.RecurringIndex != nil {
			byIndex[*x.RecurringIndex] = x
		}
	}
	for _, o := range rule.Between(w.From, w.To, appt.Duration(), occurrenceLimit) {
		if x, ok := byIndex[o.Index]; ok {
			if overlaps(x.StartTime, x.EndTime) {
				out = append(out, storedOccurrence(o.Index, x))
			}
			continue
		}
		out = append(out, virtualOccurrences([]care.Occurrence{o}, appt.Duration())...)
	}
	return out, nil
}

// Calendar is a care recipient's appointments over a span, with whom the
// appointment form offers: the family's members as drivers and the care
// recipient's doctors.
type Calendar struct {
	Appointments []care.Appointment
	Members      []care.Member
	Doctors      []care.Doctor
}

// Calendar lists the care recipient's appointments starting in [from, to),
// earliest first, with the family's members and the care recipient's
// doctors.
func (s *Service) Calendar(ctx context.Context, a feature.Actor, crID string, from, to time.Time) (*Calendar, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	var c Calendar
	if c.Appointments, err = s.b.Store.Appointments(ctx, cr.ID, Filter{StartFrom: &from, StartBefore: &to}); err != nil {
		return nil, err
	}
	if c.Members, err = s.b.Store.Members(ctx, cr.FamilyID); err != nil {
		return nil, err
	}
	if c.Doctors, err = s.b.Store.Doctors(ctx, cr.ID); err != nil {
		return nil, err
	}
	return &c, nil
}

// doctorNamed finds the care recipient's doctor of that name, letter case
// and surrounding spaces aside.
func (s *Service) doctorNamed(ctx context.Context, crID, name string) (id string, found bool, err error) {
	doctors, err := s.b.Store.Doctors(ctx, crID)
	if err != nil {
		return "", false, err
	}
	for _, d := range doctors {
		if strings.EqualFold(strings.TrimSpace(d.Name), name) {
			return d.ID, true, nil
		}
	}
	return "", false, nil
}
