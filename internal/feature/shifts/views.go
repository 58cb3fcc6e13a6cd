package shifts

import (
	"context"
	"slices"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// RecentWindow is how far back List reaches.
const RecentWindow = 7 * 24 * time.Hour

// List lists the care recipient's recent and upcoming shifts: those that
// ended in the last 7 days or have not ended yet, in any status, earliest
// first, at most the limit read returns.
func (s *Service) List(ctx context.Context, a feature.Actor, crID string, read feature.Input[int]) ([]care.Shift, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	limit, err := read()
	if err != nil {
		return nil, err
	}
	return s.b.Store.RecentShifts(ctx, cr.ID, s.b.Clock.Now().Add(-RecentWindow), limit)
}

// Range lists the shifts, in any status, that overlap the span [from, to)
// that span returns, which reads it in the care recipient's zone (so that
// dates are their local days).
func (s *Service) Range(ctx context.Context, a feature.Actor, crID string, span func(loc *time.Location) (from, to time.Time, err error)) ([]care.Shift, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	from, to, err := span(feature.Zone(cr.Timezone))
	if err != nil {
		return nil, err
	}
	return s.b.Store.ShiftsOverlapping(ctx, cr.ID, from, to)
}

// Day lists the shifts, in any status, that overlap one calendar day in
// the care recipient's zone: the date read returns (a calendar date read
// as a UTC midnight), or their today when it returns nil.
func (s *Service) Day(ctx context.Context, a feature.Actor, crID string, read feature.Input[*time.Time]) ([]care.Shift, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	loc := feature.Zone(cr.Timezone)
	day := s.b.Clock.Now().In(loc)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	date, err := read()
	if err != nil {
		return nil, err
	}
	if date != nil {
		day = *date
	}
	return s.b.Store.ShiftsOverlapping(ctx, cr.ID, DayStart(day, loc), DayStart(day.AddDate(0, 0, 1), loc))
}

// Current returns the shift in progress for the care recipient, else the
// scheduled or confirmed one covering now, else nil.
func (s *Service) Current(ctx context.Context, a feature.Actor, crID string) (*care.Shift, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	return s.current(ctx, cr.ID)
}

// current is Current once access is checked.
func (s *Service) current(ctx context.Context, crID string) (*care.Shift, error) {
	sh, err := s.b.Store.CurrentShift(ctx, crID, s.b.Clock.Now())
	if feature.IsNotFound(err) {
		return nil, nil
	}
	return sh, err
}

// OnDuty returns who is looking after the care recipient, as the dashboard
// shows it: the shifts checked in to (onDuty), or, when there is none, the
// scheduled or confirmed shift covering now (current, nil when there is
// none either).
func (s *Service) OnDuty(ctx context.Context, a feature.Actor, crID string) (onDuty []care.Shift, current *care.Shift, err error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, nil, err
	}
	if onDuty, err = s.b.Store.OnDutyShifts(ctx, cr.ID); err != nil {
		return nil, nil, err
	}
	if len(onDuty) > 0 {
		return onDuty, nil, nil
	}
	current, err = s.current(ctx, cr.ID)
	return onDuty, current, err
}

// Upcoming is what Upcoming lists: the shifts starting within the next Days
// days, at most Limit of them.
type Upcoming struct {
	Days  int
	Limit int
}

// Upcoming lists the non-cancelled shifts starting within the next days
// read returns, earliest first, keeping the first ones up to its limit.
func (s *Service) Upcoming(ctx context.Context, a feature.Actor, crID string, read feature.Input[Upcoming]) ([]care.Shift, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	q, err := read()
	if err != nil {
		return nil, err
	}
	now := s.b.Clock.Now()
	shs, err := s.b.Store.UpcomingShifts(ctx, cr.ID, now, now.Add(time.Duration(q.Days)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	if len(shs) > q.Limit {
		shs = shs[:q.Limit]
	}
	return shs, nil
}

// Get returns one of the care recipient's shifts.
func (s *Service) Get(ctx context.Context, a feature.Actor, crID, id string) (*care.Shift, error) {
	sh, _, err := s.access(ctx, a, crID, id, feature.AnyMember)
	return sh, err
}

// Shift returns the shift id, whichever care recipient it is for, to a
// member of that care recipient's family (KindNotFound when there is no
// such shift, KindForbidden for anyone else).
func (s *Service) Shift(ctx context.Context, a feature.Actor, id string) (*care.Shift, error) {
	sh, _, _, err := s.shifts.Get(ctx, a, "", id, feature.AnyMember)
	return sh, err
}

// Mine lists the actor's own shifts in every family they belong to, each
// with its care recipient: with upcomingOnly the scheduled, confirmed and
// in-progress ones not yet ended, earliest first; otherwise all of them,
// latest first; at most limit.
func (s *Service) Mine(ctx context.Context, a feature.Actor, upcomingOnly bool, limit int) ([]care.Shift, error) {
	return s.b.Store.UserShifts(ctx, a.ID(), store.UserShiftsQuery{UpcomingOnly: upcomingOnly, Now: s.b.Clock.Now(), Limit: limit})
}

// Rota is a care recipient's shifts over a period, with the family members
// who may be given one.
type Rota struct {
	Shifts []care.Shift
	// Caregivers are the members who are not VIEWERs.
	Caregivers []care.Member
}

// Rota returns the care recipient's shifts, in any status, that overlap
// [from, to), and the members who may work a shift.
func (s *Service) Rota(ctx context.Context, a feature.Actor, crID string, from, to time.Time) (*Rota, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	shs, err := s.b.Store.ShiftsOverlapping(ctx, cr.ID, from, to)
	if err != nil {
		return nil, err
	}
	members, err := s.b.Store.Members(ctx, cr.FamilyID)
	if err != nil {
		return nil, err
	}
	members = slices.DeleteFunc(members, func(m care.Member) bool { return !m.Role.CanWrite() })
	return &Rota{Shifts: shs, Caregivers: members}, nil
}
