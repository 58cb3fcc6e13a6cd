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
	b      *feature.Base
	shifts feature.Records[care.Shift]
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service {
	return &Service{b: b, shifts: feature.Records[care.Shift]{
		Base: b, What: "Shift", Load: b.Store.Shift,
		ID:    func(sh *care.Shift) string { return sh.ID },
		Owner: func(sh *care.Shift) *string { return &sh.CareRecipientID },
	}}
}

// access checks the actor's membership in the family of the care recipient
// crID, then loads the shift id, which must be the care recipient's
// (KindNotFound otherwise).
func (s *Service) access(ctx context.Context, a feature.Actor, crID, id string, n feature.Need) (*care.Shift, feature.Membership, error) {
	sh, _, m, err := s.shifts.Of(ctx, a, crID, id, n)
	return sh, m, err
}

// emit announces a change to a shift of the family; sh is the shift as
// callers see it.
func (s *Service) emit(ctx context.Context, a feature.Actor, familyID, typ string, sh *care.Shift) error {
	return s.b.Emit(ctx, feature.Event{Type: typ, FamilyID: familyID, CareRecipientID: sh.CareRecipientID,
		ActorID: a.ID(), Data: sh})
}

// DayStart is the first instant of the calendar date d (read as a UTC
// midnight) in loc, also on days whose midnight a DST change skips.
func DayStart(d time.Time, loc *time.Location) time.Time {
	return care.ClockTime{}.On(d.Year(), d.Month(), d.Day(), loc).UTC()
}
