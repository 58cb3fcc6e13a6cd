package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/feature/shifts"
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

// readShiftEmpty reads the body of the actions that take none.
func readShiftEmpty(w http.ResponseWriter, r *http.Request) func() (struct{}, error) {
	return func() (struct{}, error) { return struct{}{}, decodeOptional(w, r, &shiftEmptyBody{}) }
}

// checkInShift starts the assigned caregiver's shift, with their notes and
// location: allowed from 60 minutes before its start until its end.
func (s *Server) checkInShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := shiftIDs(r)
	if err != nil {
		return err
	}
	sh, err := s.svc.Shifts.CheckIn(r.Context(), *p, crID, id, func() (shifts.CheckIn, error) {
		var b shiftCheckinBody
		err := decodeOptional(w, r, &b)
		return shifts.CheckIn{Notes: b.Notes, Location: b.Location}, err
	})
	return writeOK(w, sh, err)
}

// confirmShift lets the assigned caregiver confirm they will come.
func (s *Server) confirmShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := shiftIDs(r)
	if err != nil {
		return err
	}
	sh, err := s.svc.Shifts.Confirm(r.Context(), *p, crID, id, readShiftEmpty(w, r))
	return writeOK(w, sh, err)
}

// checkOutShift completes the assigned caregiver's shift with their notes
// and hands off to the caregiver of the next shift.
func (s *Server) checkOutShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := shiftIDs(r)
	if err != nil {
		return err
	}
	sh, err := s.svc.Shifts.CheckOut(r.Context(), *p, crID, id, func() (shifts.CheckOut, error) {
		var b shiftCheckoutBody
		err := decodeOptional(w, r, &b)
		return shifts.CheckOut{Notes: b.Notes, Location: b.Location, HandoffNotes: b.HandoffNotes}, err
	})
	return writeOK(w, sh, err)
}

// cancelShift cancels a scheduled or confirmed shift; a family ADMIN or the
// assigned caregiver may. The caregiver hears of it when someone else does.
func (s *Server) cancelShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := shiftIDs(r)
	if err != nil {
		return err
	}
	sh, err := s.svc.Shifts.Cancel(r.Context(), *p, crID, id, readShiftEmpty(w, r))
	return writeOK(w, sh, err)
}
