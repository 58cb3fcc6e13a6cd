// Package shifts is the application layer of caregiver shifts: the rota of
// who looks after a care recipient when, the caregiver's own confirm,
// check-in and check-out, the hand-off to the next caregiver, and the
// shifts released when someone leaves a family. Its commands check access,
// apply the rules (the pure ones are in internal/care), run one
// transaction, and record their events and notifications (see
// internal/feature).
package shifts

import (
	"context"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
)

// Service runs the shifts' commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }

// access checks the actor's membership in the family of the care recipient
// crID, then loads the shift id, which must be the care recipient's
// (KindNotFound otherwise).
func (s *Service) access(ctx context.Context, a feature.Actor, crID, id string, n feature.Need) (*care.Shift, *care.Member, error) {
	_, m, err := s.b.CareRecipient(ctx, a, crID, n)
	if err != nil {
		return nil, nil, err
	}
	sh, err := s.b.Store.Shift(ctx, id)
	if feature.IsNotFound(err) || (err == nil && sh.CareRecipientID != crID) {
		return nil, nil, feature.NotFound("Shift")
	}
	if err != nil {
		return nil, nil, err
	}
	return sh, m, nil
}

// emit announces a change to a shift of the family; sh is the shift as
// callers see it.
func (s *Service) emit(ctx context.Context, a feature.Actor, familyID, typ string, sh *care.Shift) error {
	return s.b.Emit(ctx, feature.Event{Type: typ, FamilyID: familyID, CareRecipientID: sh.CareRecipientID,
		ActorID: a.ID(), Data: sh})
}

// Zone is the care recipient's zone, named name, in which their shifts'
// days and times are read; UTC if the stored name no longer loads.
func Zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// DayStart is the first instant of the calendar date d (read as a UTC
// midnight) in loc, also on days whose midnight a DST change skips.
func DayStart(d time.Time, loc *time.Location) time.Time {
	return care.ClockTime{}.On(d.Year(), d.Month(), d.Day(), loc).UTC()
}
