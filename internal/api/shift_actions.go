package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
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

// shiftAssigneeOnly lets only the shift's caregiver act on it.
func shiftAssigneeOnly(verb string) func(*Principal, *care.Shift, *care.Member) error {
	return func(p *Principal, sh *care.Shift, _ *care.Member) error {
		if sh.CaregiverID != p.User.ID {
			return forbidden("Only the assigned caregiver can %s this shift", verb)
		}
		return nil
	}
}

// transitionShift does action a to the shift {shiftId} at the clock's now,
// once may allows the principal to; edit, when given, records what else
// comes with the action. The status check and the write are one transaction.
func (s *Server) transitionShift(w http.ResponseWriter, r *http.Request, p *Principal, a care.ShiftAction,
	may func(*Principal, *care.Shift, *care.Member) error, body validator, edit func(*care.Shift)) (*care.Shift, error) {
	sh, m, err := s.shiftAccess(r, p, anyMember)
	if err != nil {
		return nil, err
	}
	if err := may(p, sh, m); err != nil {
		return nil, err
	}
	if err := decodeOptional(w, r, body); err != nil {
		return nil, err
	}
	out, err := s.store.UpdateShift(r.Context(), sh.ID, func(cur *care.Shift) error {
		from := cur.Status
		err := cur.Apply(a, s.clock.Now())
		switch {
		case errors.Is(err, care.ErrShiftTransition):
			return conflict("Cannot %s a shift that is %s", a, from)
		case errors.Is(err, care.ErrCheckInTooEarly):
			return badRequest("Check-in opens 60 minutes before the shift starts, at %s",
				cur.StartTime.Add(-care.CheckInLead).Format(time.RFC3339))
		case errors.Is(err, care.ErrCheckInTooLate):
			return badRequest("The shift has already ended")
		case err != nil:
			return err
		}
		if edit != nil {
			edit(cur)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Shift")
	}
	return out, err
}

// checkInShift starts the assigned caregiver's shift: allowed from 60
// minutes before its start until its end.
func (s *Server) checkInShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	sh, err := s.transitionShift(w, r, p, care.ShiftCheckIn, shiftAssigneeOnly("check in to"), &shiftEmptyBody{}, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sh)
	return nil
}

// confirmShift lets the assigned caregiver confirm they will come.
func (s *Server) confirmShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	sh, err := s.transitionShift(w, r, p, care.ShiftConfirm, shiftAssigneeOnly("confirm"), &shiftEmptyBody{}, nil)
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
	sh, err := s.transitionShift(w, r, p, care.ShiftCheckOut, shiftAssigneeOnly("check out of"), &b, func(sh *care.Shift) {
		sh.CheckoutNotes, sh.CheckoutLocation, sh.HandoffNotes = b.Notes, b.Location, b.HandoffNotes
	})
	if err != nil {
		return err
	}
	s.handOff(r, p, sh)
	writeJSON(w, http.StatusOK, sh)
	return nil
}

// handOff notifies the caregiver of the shift that follows sh for the same
// care recipient (the next non-cancelled one starting after sh started and
// within a day of its end) of the handoff notes.
func (s *Server) handOff(r *http.Request, p *Principal, sh *care.Shift) {
	next, err := s.store.NextShift(r.Context(), *sh, care.HandoffWindow)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "shift handoff: find the next shift",
			slog.String("shiftId", sh.ID), slog.Any("error", err))
		return
	}
	if next.CaregiverID == sh.CaregiverID {
		return // no one to hand off to
	}
	body := fmt.Sprintf("%s finished their shift with %s; your shift starts %s.", p.User.FullName,
		sh.CareRecipient.FullName, shiftLocalTime(next.StartTime, sh.CareRecipient.Timezone))
	var notes any
	if sh.HandoffNotes != nil {
		body += " Handoff notes: " + *sh.HandoffNotes
		notes = *sh.HandoffNotes
	} else {
		body += " No handoff notes were left."
	}
	s.notifyShiftUser(r.Context(), next.CaregiverID, care.NotificationDraft{
		Type:  care.NotifyShiftHandoff,
		Title: "Shift handoff for " + sh.CareRecipient.FullName,
		Body:  body,
		Data: map[string]any{
			"shiftId": next.ID, "previousShiftId": sh.ID, "careRecipientId": sh.CareRecipientID,
			"fromCaregiverId": sh.CaregiverID, "handoffNotes": notes,
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
	sh, err := s.transitionShift(w, r, p, care.ShiftCancel, may, &shiftEmptyBody{}, nil)
	if err != nil {
		return err
	}
	if sh.CaregiverID != p.User.ID {
		s.notifyShiftUser(r.Context(), sh.CaregiverID, care.NotificationDraft{
			Type:  care.NotifyShiftCancelled,
			Title: "Shift cancelled",
			Body: fmt.Sprintf("%s cancelled your shift caring for %s on %s.", p.User.FullName,
				sh.CareRecipient.FullName, shiftLocalTime(sh.StartTime, sh.CareRecipient.Timezone)),
			Data: map[string]any{
				"shiftId": sh.ID, "careRecipientId": sh.CareRecipientID,
				"startTime": sh.StartTime.Format(time.RFC3339),
			},
			DedupeKey: "shift-cancelled:" + sh.ID,
		})
	}
	writeJSON(w, http.StatusOK, sh)
	return nil
}
