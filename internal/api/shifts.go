package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// shiftRoutes registers caregiver shifts: scheduling, the views of who is on
// duty when, and the caregiver's own check-in, check-out and handoff.
func (s *Server) shiftRoutes() {
	const base = "/care-recipients/{careRecipientId}/shifts"
	s.authed("POST", base, s.createShift)
	s.authed("GET", base, s.listShifts)
	s.authed("GET", base+"/range", s.shiftRange)
	s.authed("GET", base+"/current", s.currentShift)
	s.authed("GET", base+"/on-duty", s.onDuty)
	s.authed("GET", base+"/upcoming", s.upcomingShifts)
	s.authed("GET", base+"/day", s.shiftDay)
	s.authed("GET", base+"/{shiftId}", s.getShift)
	s.authed("POST", base+"/{shiftId}/checkin", s.checkInShift)
	s.authed("POST", base+"/{shiftId}/checkout", s.checkOutShift)
	s.authed("POST", base+"/{shiftId}/confirm", s.confirmShift)
	s.authed("PATCH", base+"/{shiftId}/cancel", s.cancelShift)
	s.authed("GET", "/my-shifts", s.myShifts)
}

// shiftAccess loads the shift {shiftId} of the care recipient
// {careRecipientId} after checking the principal's membership in their
// family; a shift of another care recipient is 404.
func (s *Server) shiftAccess(r *http.Request, p *Principal, n need) (*care.Shift, *care.Member, error) {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "shiftId")
	if err != nil {
		return nil, nil, err
	}
	_, m, err := s.careRecipientMember(r.Context(), p, crID, n)
	if err != nil {
		return nil, nil, err
	}
	sh, err := s.store.Shift(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sh.CareRecipientID != crID) {
		return nil, nil, notFound("Shift")
	}
	if err != nil {
		return nil, nil, err
	}
	return sh, m, nil
}

// shiftZone is the care recipient's zone, in which their shifts' days and
// times are read; UTC if the stored name no longer loads.
func shiftZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// shiftQueryInt reads an optional whole-number query parameter within
// [lo, hi], def when absent.
func shiftQueryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, Problems{name: {"must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}}.Err()
	}
	return n, nil
}

// emitShift announces a change to a shift of the family; sh is the shift as
// the API answers it.
func (s *Server) emitShift(ctx context.Context, p *Principal, familyID, typ string, sh *care.Shift) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: familyID, CareRecipientID: sh.CareRecipientID,
		ActorID: p.User.ID, Data: sh})
}
