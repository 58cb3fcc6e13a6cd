package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// shiftEmptyBody is the body of the actions that take none; it may be absent
// or {}, but unknown fields are refused.
type shiftEmptyBody struct{}

// Validate accepts the empty body.
func (*shiftEmptyBody) Validate(Problems) {}

// shiftCheckoutBody is the body of POST .../shifts/{shiftId}/checkout.
type shiftCheckoutBody struct {
	Notes        *string `json:"notes"`
	Location     *string `json:"location"`
	HandoffNotes *string `json:"handoffNotes"`
}

func (b *shiftCheckoutBody) Validate(p Problems) {
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
	b.Location = p.optLine("location", b.Location, maxAddressLen)
	b.HandoffNotes = p.optText("handoffNotes", b.HandoffNotes, maxNotesLen)
}

// shiftCheckinBody is the body of POST .../shifts/{shiftId}/checkin; it may
// be absent.
type shiftCheckinBody struct {
	Notes    *string `json:"notes"`
	Location *string `json:"location"`
}

func (b *shiftCheckinBody) Validate(p Problems) {
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
	b.Location = p.optLine("location", b.Location, maxAddressLen)
}

// shiftAssigneeOnly lets only the shift's caregiver act on it.
func shiftAssigneeOnly(verb string) func(*Principal, *care.Shift, *care.Member) error {
	return func(p *Principal, sh *care.Shift, _ *care.Member) error {
		if sh.CaregiverID != p.User.ID {
			return forbidden("Only the assigned caregiver can %s this shift", verb)
		}
		return nil
	}
}

// shiftTransition is one of the caregiver's actions on a shift.
type shiftTransition struct {
	action care.ShiftAction
	// may refuses principals who may not take the action.
	may  func(*Principal, *care.Shift, *care.Member) error
	body validator
	// edit, when set, records what else comes with the action.
	edit func(*care.Shift)
	// event is the domain event announcing it.
	event string
	// then, when set, does what follows from the action (notifications) in
	// the transaction that takes it.
	then func(ctx context.Context, sh *care.Shift) error
}

// transitionShift does t to the shift {shiftId} at the clock's now, once
// t.may allows the principal to. The status check, the write, its event and
// what follows from it are one transaction.
func (s *Server) transitionShift(w http.ResponseWriter, r *http.Request, p *Principal, t shiftTransition) (*care.Shift, error) {
	sh, m, err := s.shiftAccess(r, p, anyMember)
	if err != nil {
		return nil, err
	}
	if err := t.may(p, sh, m); err != nil {
		return nil, err
	}
	if err := decodeOptional(w, r, t.body); err != nil {
		return nil, err
	}
	var out *care.Shift
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.store.UpdateShift(ctx, sh.ID, func(cur *care.Shift) error {
			from := cur.Status
			err := cur.Apply(t.action, s.clock.Now())
			switch {
			case errors.Is(err, care.ErrShiftTransition):
				return conflict("Cannot %s a shift that is %s", t.action, from)
			case errors.Is(err, care.ErrCheckInTooEarly):
				return badRequest("Check-in opens 60 minutes before the shift starts, at %s",
					cur.StartTime.Add(-care.CheckInLead).Format(time.RFC3339))
			case errors.Is(err, care.ErrCheckInTooLate):
				return badRequest("The shift has already ended")
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
		if err := s.emitShift(ctx, p, m.FamilyID, t.event, out); err != nil {
			return err
		}
		if t.then != nil {
			return t.then(ctx, out)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Shift")
	}
	return out, err
}

// checkInShift starts the assigned caregiver's shift, with their notes and
// location: allowed from 60 minutes before its start until its end.
func (s *Server) checkInShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b shiftCheckinBody
	sh, err := s.transitionShift(w, r, p, shiftTransition{action: care.ShiftCheckIn, may: shiftAssigneeOnly("check in to"),
		body: &b, event: events.ShiftCheckedIn,
		edit: func(sh *care.Shift) { sh.CheckInNotes, sh.CheckInLocation = b.Notes, b.Location }})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sh)
	return nil
}

// confirmShift lets the assigned caregiver confirm they will come.
func (s *Server) confirmShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	sh, err := s.transitionShift(w, r, p, shiftTransition{action: care.ShiftConfirm, may: shiftAssigneeOnly("confirm"),
		body: &shiftEmptyBody{}, event: events.ShiftConfirmed})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sh)
	return nil
}

// checkOutShift completes the assigned caregiver's shift with their notes
// and hands off to the caregiver of the next shift.
func (s *Server) checkOutShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b shiftCheckoutBody
	sh, err := s.transitionShift(w, r, p, shiftTransition{action: care.ShiftCheckOut, may: shiftAssigneeOnly("check out of"),
		body: &b, event: events.ShiftCheckedOut,
		edit: func(sh *care.Shift) {
			sh.CheckoutNotes, sh.CheckoutLocation, sh.HandoffNotes = b.Notes, b.Location, b.HandoffNotes
		},
		then: func(ctx context.Context, sh *care.Shift) error { return s.handOff(ctx, p, sh) },
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sh)
	return nil
}

// handOff hands sh over to the caregiver of the shift that follows it for
// the same care recipient (the next non-cancelled one starting after sh
// started and within a day of its end): it announces the handoff and
// notifies them of the handoff notes.
func (s *Server) handOff(ctx context.Context, p *Principal, sh *care.Shift) error {
	next, err := s.store.NextShift(ctx, *sh, care.HandoffWindow)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("shift handoff: find the next shift: %w", err)
	}
	if next.CaregiverID == sh.CaregiverID {
		return nil // no one to hand off to
	}
	err = s.emit(ctx, domainEvent{Type: events.ShiftHandoff, FamilyID: sh.CareRecipient.FamilyID, CareRecipientID: sh.CareRecipientID,
		ActorID: p.User.ID, Data: events.ShiftHandoffData{
			ShiftID: next.ID, PreviousShiftID: sh.ID, FromCaregiverID: sh.CaregiverID,
			ToCaregiverID: next.CaregiverID, HandoffNotes: sh.HandoffNotes, StartTime: next.StartTime,
		}})
	if err != nil {
		return err
	}
	text := care.ShiftHandoffText(p.User.FullName, sh.CareRecipient.Recipient(), next.StartTime, sh.HandoffNotes)
	return s.notifyUsers(ctx, []string{next.CaregiverID}, care.NotificationDraft{
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

// cancelShift cancels a scheduled or confirmed shift; a family ADMIN or the
// assigned caregiver may. The caregiver hears of it when someone else does.
func (s *Server) cancelShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	may := func(p *Principal, sh *care.Shift, m *care.Member) error {
		if m.Role != care.RoleAdmin && sh.CaregiverID != p.User.ID {
			return forbidden("Only a family admin or the assigned caregiver can cancel this shift")
		}
		return nil
	}
	notify := func(ctx context.Context, sh *care.Shift) error {
		if sh.CaregiverID == p.User.ID {
			return nil
		}
		text := care.ShiftCancelledText(p.User.FullName, sh.CareRecipient.Recipient(), sh.StartTime)
		return s.notifyUsers(ctx, []string{sh.CaregiverID}, care.NotificationDraft{
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
	sh, err := s.transitionShift(w, r, p, shiftTransition{action: care.ShiftCancel, may: may,
		body: &shiftEmptyBody{}, event: events.ShiftCancelled, then: notify})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sh)
	return nil
}

// releaseShifts takes someone whose membership of a family has just ended
// off its rota (see store.ReleaseShifts), in the transaction that ends it:
// the shifts they still had to work are cancelled (shift.cancelled) and a
// shift they are on is checked out (shift.checked_out); the family's admins,
// but not the one who made the change, are told in one notification that
// they need cover. why says what happened, as in "Bo Lee left the family".
func (s *Server) releaseShifts(ctx context.Context, p *Principal, familyID, userID, why string) error {
	rel, err := s.store.ReleaseShifts(ctx, familyID, userID)
	if err != nil || len(rel.Cancelled)+len(rel.Ended) == 0 {
		return err
	}
	for _, list := range []struct {
		shifts []care.Shift
		event  string
	}{{rel.Ended, events.ShiftCheckedOut}, {rel.Cancelled, events.ShiftCancelled}} {
		for i := range list.shifts {
			if err := s.emitShift(ctx, p, familyID, list.event, &list.shifts[i]); err != nil {
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
	return s.notifyFamily(ctx, familyID, p.User.ID, []care.Role{care.RoleAdmin}, care.NotificationDraft{
		Type:      care.NotifyShiftCancelled,
		Title:     text.Title,
		Body:      text.Body,
		Data:      data,
		DedupeKey: "shifts-released:" + familyID + ":" + userID + ":" + first[0].ID,
	})
}
