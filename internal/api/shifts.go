package api

import (
	"net/http"
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

// shiftIDs reads the path's care recipient and shift ids.
func shiftIDs(r *http.Request) (crID, id string, err error) {
	if crID, err = pathID(r, "careRecipientId"); err != nil {
		return "", "", err
	}
	id, err = pathID(r, "shiftId")
	return crID, id, err
}
