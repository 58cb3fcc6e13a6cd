package shifts

import (
	"context"
	"errors"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// NewShift is a shift to schedule: who works it, from when to when, with
// notes for them.
type NewShift struct {
	CaregiverID string
	Start, End  time.Time
	Notes       *string
}

// Create schedules a shift for a caregiver of the family (a writer's
// command) and tells them about it, unless they scheduled it themselves.
// The caregiver must be an active member who is not a VIEWER (KindInvalid
// on caregiverId), and may not have another shift overlapping it
// (KindConflict).
func (s *Service) Create(ctx context.Context, a feature.Actor, crID string, read feature.Input[NewShift]) (*care.Shift, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.Writer)
	if err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	var sh *care.Shift
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		sh, err = s.b.Store.CreateShift(ctx, store.NewShift{
			CareRecipientID: cr.ID, CaregiverID: in.CaregiverID, StartTime: in.Start, EndTime: in.End,
			Notes: in.Notes, CreatedByID: a.ID(),
		})
		if err != nil {
			return err
		}
		if err := s.emit(ctx, a, cr.FamilyID, events.ShiftAssigned, sh); err != nil {
			return err
		}
		if sh.CaregiverID == a.ID() {
			return nil
		}
		text := care.ShiftAssignedText(a.User.FullName, cr, sh.StartTime, sh.EndTime)
		return s.b.NotifyUsers(ctx, []string{sh.CaregiverID}, care.NotificationDraft{
			Type:  care.NotifyShiftAssigned,
			Title: text.Title,
			Body:  text.Body,
			Data: map[string]any{
				"shiftId": sh.ID, "careRecipientId": cr.ID,
				"startTime": sh.StartTime.Format(time.RFC3339), "endTime": sh.EndTime.Format(time.RFC3339),
			},
			DedupeKey: "shift-assigned:" + sh.ID,
		})
	})
	switch {
	case errors.Is(err, store.ErrShiftCaregiver):
		return nil, feature.FieldError("caregiverId", "must be an active member of this family who is not a VIEWER")
	case errors.Is(err, store.ErrShiftOverlap):
		return nil, feature.Conflict("The caregiver already has a shift that overlaps this time")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrReference):
		return nil, feature.NotFound("Care recipient")
	case err != nil:
		return nil, err
	}
	return sh, nil
}
