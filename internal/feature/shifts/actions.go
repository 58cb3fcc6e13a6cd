package shifts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
)

// CheckIn is what the caregiver says on checking in to their shift.
type CheckIn struct {
	Notes    *string
	Location *string
}

// CheckOut is what the caregiver says on checking out of their shift; the
// hand-off notes are for the caregiver of the next one.
type CheckOut struct {
	Notes        *string
	Location     *string
	HandoffNotes *string
}

// assigneeOnly lets only the shift's caregiver act on it.
func assigneeOnly(verb string) func(feature.Actor, *care.Shift, feature.Membership) error {
	return func(a feature.Actor, sh *care.Shift, _ feature.Membership) error {
		if sh.CaregiverID != a.ID() {
			return feature.Forbidden("Only the assigned caregiver can %s this shift", verb)
		}
		return nil
	}
}

// transition is one of the actions on a shift.
type transition struct {
	action care.ShiftAction
	// may refuses actors who may not take the action.
	may func(feature.Actor, *care.Shift, feature.Membership) error
	// read reads the command's input, once the actor may act.
	read func() error
	// edit, when set, records what else comes with the action.
	edit func(*care.Shift)
	// event is the domain event announcing it.
	event string
	// then, when set, does what follows from the action (notifications) in
	// the transaction that takes it.
	then func(ctx context.Context, sh *care.Shift) error
}

// transition does t to the shift id of the care recipient crID at the
// clock's now, once t.may allows the actor to. The status check, the
// write, its event and what follows from it are one transaction.
func (s *Service) transition(ctx context.Context, a feature.Actor, crID, id string, t transition) (*care.Shift, error) {
	sh, m, err := s.access(ctx, a, crID, id, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	if err := t.may(a, sh, m); err != nil {
		return nil, err
	}
	if err := t.read(); err != nil {
		return nil, err
	}
	var out *care.Shift
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.b.Store.UpdateShift(ctx, sh.ID, func(cur *care.Shift) error {
			from := cur.Status
			err := cur.Apply(t.action, s.b.Clock.Now())
			switch {
			case errors.Is(err, care.ErrShiftTransition):
				return feature.Conflict("Cannot %s a shift that is %s", t.action, from)
			case errors.Is(err, care.ErrCheckInTooEarly):
				return feature.Invalid("Check-in opens 60 minutes before the shift starts, at %s",
					cur.StartTime.Add(-care.CheckInLead).Format(time.RFC3339))
			case errors.Is(err, care.ErrCheckInTooLate):
				return feature.Invalid("The shift has already ended")
			case err != nil:
				return err
			}
			if t.edit != nil {
				t.edit(cur)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.emit(ctx, a, m.FamilyID, t.event, out); err != nil {
			return err
		}
		if t.then != nil {
			return t.then(ctx, out)
		}
		return nil
	})
	if feature.IsNotFound(err) {
		return nil, feature.NotFound("Shift")
	}
	return out, err
}

// CheckIn starts the assigned caregiver's shift id, with their notes and
// location: allowed from 60 minutes before its start until its end.
func (s *Service) CheckIn(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[CheckIn]) (*care.Shift, error) {
	var in CheckIn
	return s.transition(ctx, a, crID, id, transition{action: care.ShiftCheckIn, may: assigneeOnly("check in to"),
		read:  func() (err error) { in, err = read(); return err },
		event: events.ShiftCheckedIn,
		edit:  func(sh *care.Shift) { sh.CheckInNotes, sh.CheckInLocation = in.Notes, in.Location }})
}

// Confirm lets the assigned caregiver confirm they will come. read checks
// the command's (empty) input.
func (s *Service) Confirm(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[struct{}]) (*care.Shift, error) {
	return s.transition(ctx, a, crID, id, transition{action: care.ShiftConfirm, may: assigneeOnly("confirm"),
		read: func() error { _, err := read(); return err }, event: events.ShiftConfirmed})
}

// CheckOut completes the assigned caregiver's shift id with their notes and
// hands off to the caregiver of the next shift.
func (s *Service) CheckOut(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[CheckOut]) (*care.Shift, error) {
	var in CheckOut
	return s.transition(ctx, a, crID, id, transition{action: care.ShiftCheckOut, may: assigneeOnly("check out of"),
		read:  func() (err error) { in, err = read(); return err },
		event: events.ShiftCheckedOut,
		edit: func(sh *care.Shift) {
			sh.CheckoutNotes, sh.CheckoutLocation, sh.HandoffNotes = in.Notes, in.Location, in.HandoffNotes
		},
		then: func(ctx context.Context, sh *care.Shift) error { return s.handOff(ctx, a, sh) },
	})
}

// handOff hands sh over to the caregiver of the shift that follows it for
// the same care recipient (the next non-cancelled one starting after sh
// started and within a day of its end): it announces the handoff and
// notifies them of the handoff notes.
func (s *Service) handOff(ctx context.Context, a feature.Actor, sh *care.Shift) error {
	next, err := s.b.Store.NextShift(ctx, *sh, care.HandoffWindow)
	if feature.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("shift handoff: find the next shift: %w", err)
	}
	if next.CaregiverID == sh.CaregiverID {
		return nil // no one to hand off to
	}
	err = s.b.Emit(ctx, feature.Event{Type: events.ShiftHandoff, FamilyID: sh.CareRecipient.FamilyID, CareRecipientID: sh.CareRecipientID,
		ActorID: a.ID(), Data: events.ShiftHandoffData{
			ShiftID: next.ID, PreviousShiftID: sh.ID, FromCaregiverID: sh.CaregiverID,
			ToCaregiverID: next.CaregiverID, HandoffNotes: sh.HandoffNotes, StartTime: next.StartTime,
		}})
	if err != nil {
		return err
	}
	text := care.ShiftHandoffText(a.User.FullName, sh.CareRecipient.Recipient(), next.StartTime, sh.HandoffNotes)
	return s.b.NotifyUsers(ctx, []string{next.CaregiverID}, care.NotificationDraft{
		Type:  care.NotifyShiftHandoff,
		Title: text.Title,
		Body:  text.Body,
		Data: map[string]any{
			"shiftId": next.ID, "previousShiftId": sh.ID, "careRecipientId": sh.CareRecipientID,
			"fromCaregiverId": sh.CaregiverID, "handoffNotes": sh.HandoffNotes,
			"startTime": next.StartTime.Format(time.RFC3339),
		},
		DedupeKey: "shift-handoff:" + sh.ID,
	})
}

// Cancel cancels a scheduled or confirmed shift; a family ADMIN or the
// assigned caregiver may. The caregiver hears of it when someone else does.
// read checks the command's (empty) input.
func (s *Service) Cancel(ctx context.Context, a feature.Actor, crID, id string, read feature.Input[struct{}]) (*care.Shift, error) {
	may := func(a feature.Actor, sh *care.Shift, m feature.Membership) error {
		if m.Role != care.RoleAdmin && sh.CaregiverID != a.ID() {
			return feature.Forbidden("Only a family admin or the assigned caregiver can cancel this shift")
		}
		return nil
	}
	notify := func(ctx context.Context, sh *care.Shift) error {
		if sh.CaregiverID == a.ID() {
			return nil
		}
		text := care.ShiftCancelledText(a.User.FullName, sh.CareRecipient.Recipient(), sh.StartTime)
		return s.b.NotifyUsers(ctx, []string{sh.CaregiverID}, care.NotificationDraft{
			Type:  care.NotifyShiftCancelled,
			Title: text.Title,
			Body:  text.Body,
			Data: map[string]any{
				"shiftId": sh.ID, "careRecipientId": sh.CareRecipientID,
				"startTime": sh.StartTime.Format(time.RFC3339),
			},
			DedupeKey: "shift-cancelled:" + sh.ID,
		})
	}
	return s.transition(ctx, a, crID, id, transition{action: care.ShiftCancel, may: may,
		read: func() error { _, err := read(); return err }, event: events.ShiftCancelled, then: notify})
}

// Release takes someone whose membership of a family has just ended off
// its rota (see store.ReleaseShifts); call it in the transaction that ends
// the membership. The shifts they still had to work are cancelled
// (shift.cancelled) and a shift they are on is checked out
// (shift.checked_out); the family's admins, but not the actor who made the
// change, are told in one notification that they need cover. why says what
// happened, as in "Bo Lee left the family".
func (s *Service) Release(ctx context.Context, a feature.Actor, familyID, userID, why string) error {
	rel, err := s.b.Store.ReleaseShifts(ctx, familyID, userID)
	if err != nil || len(rel.Cancelled)+len(rel.Ended) == 0 {
		return err
	}
	for _, list := range []struct {
		shifts []care.Shift
		event  string
	}{{rel.Ended, events.ShiftCheckedOut}, {rel.Cancelled, events.ShiftCancelled}} {
		for i := range list.shifts {
			if err := s.emit(ctx, a, familyID, list.event, &list.shifts[i]); err != nil {
				return err
			}
		}
	}
	// One sentence for the admins: what ended, what is cancelled, and the
	// first shift that needs someone (else the one that ended).
	ids := make([]string, len(rel.Cancelled))
	for i, sh := range rel.Cancelled {
		ids[i] = sh.ID
	}
	first, firstCancelled := rel.Ended, (*care.Shift)(nil)
	if len(rel.Cancelled) > 0 {
		first, firstCancelled = rel.Cancelled, &rel.Cancelled[0]
	}
	text := care.ShiftsNeedCoverText(why, len(rel.Ended) > 0, len(rel.Cancelled), firstCancelled)
	data := map[string]any{"shiftId": first[0].ID, "shiftIds": ids, "caregiverId": userID,
		"careRecipientId": first[0].CareRecipientID, "startTime": first[0].StartTime.Format(time.RFC3339)}
	return s.b.NotifyFamily(ctx, familyID, a.ID(), []care.Role{care.RoleAdmin}, care.NotificationDraft{
		Type:      care.NotifyShiftCancelled,
		Title:     text.Title,
		Body:      text.Body,
		Data:      data,
		DedupeKey: "shifts-released:" + familyID + ":" + userID + ":" + first[0].ID,
	})
}
