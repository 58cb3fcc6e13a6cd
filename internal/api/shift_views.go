package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/shifts"
)

// Bounds of the shift views.
const (
	shiftListLimit    = 50
	shiftListMaxLimit = 200
	shiftMaxRangeDays = 92
	shiftMaxUpcoming  = 90
	// shiftUpcomingMaxLimit caps ?limit of the upcoming view.
	shiftUpcomingMaxLimit = 500
)

// listShifts lists the care recipient's recent and upcoming shifts: those
// that ended in the last 7 days or have not ended yet, in any status,
// earliest first (?limit, default 50).
func (s *Server) listShifts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	shs, err := s.svc.Shifts.List(r.Context(), *p, crID, func() (int, error) {
		return queryWholeNumber(r, "limit", shiftListLimit, 1, shiftListMaxLimit)
	})
	return writeOK(w, shs, err)
}

// shiftRange lists the shifts, in any status, that overlap
// [startDate, endDate]. Each bound is a date (YYYY-MM-DD, in the care
// recipient's zone; endDate includes that whole day) or an RFC 3339 instant;
// the range spans at most 92 days.
func (s *Server) shiftRange(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	shs, err := s.svc.Shifts.Range(r.Context(), *p, crID, func(loc *time.Location) (time.Time, time.Time, error) {
		return shiftSpan(r, loc)
	})
	return writeOK(w, shs, err)
}

// shiftSpan reads the range of GET .../shifts/range: startDate and endDate,
// dates read in loc.
func shiftSpan(r *http.Request, loc *time.Location) (from, to time.Time, err error) {
	q, problems := r.URL.Query(), Problems{}
	from, okFrom := problems.shiftBound("startDate", q.Get("startDate"), loc, false)
	to, okTo := problems.shiftBound("endDate", q.Get("endDate"), loc, true)
	if okFrom && okTo {
		switch {
		case !to.After(from):
			problems.Add("endDate", "must be after startDate")
		case to.After(from.In(loc).AddDate(0, 0, shiftMaxRangeDays)):
			problems.Add("endDate", "must be at most 92 days after startDate")
		}
	}
	return from, to, problems.Err()
}

// shiftBound reads a required range bound: an RFC 3339 instant, or a date in
// loc standing for the start of that day (or, with endOfDay, its end).
func (p Problems) shiftBound(field, v string, loc *time.Location, endOfDay bool) (time.Time, bool) {
	if v == "" {
		p.Add(field, "is required")
		return time.Time{}, false
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if d.Year() < 1970 || d.Year() >= 2200 {
			p.Add(field, "must be between 1970 and 2199")
			return time.Time{}, false
		}
		if endOfDay {
			d = d.AddDate(0, 0, 1)
		}
		return shifts.DayStart(d, loc), true
	}
	return p.instant(field, v)
}

// shiftDay lists the shifts, in any status, that overlap one calendar day in
// the care recipient's zone: ?date=YYYY-MM-DD, by default their today.
func (s *Server) shiftDay(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	shs, err := s.svc.Shifts.Day(r.Context(), *p, crID, func() (*time.Time, error) {
		v := r.URL.Query().Get("date")
		if v == "" {
			return nil, nil
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil || d.Year() < 1970 || d.Year() >= 2200 {
			return nil, Problems{"date": {"must be a date in the form YYYY-MM-DD"}}.Err()
		}
		return &d, nil
	})
	return writeOK(w, shs, err)
}

// currentShift answers the shift in progress for the care recipient, else
// the scheduled or confirmed one covering now, else null.
func (s *Server) currentShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "careRecipientId", s.svc.Shifts.Current, writeOK)
}

// onDuty answers who is on duty now as {caregiver, shift}, or null when
// nobody is: the shift in progress, else the scheduled or confirmed one
// under way (as GET .../shifts/current chooses it).
func (s *Server) onDuty(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	sh, err := s.svc.Shifts.Current(r.Context(), *p, crID)
	if err != nil {
		return err
	}
	if sh == nil {
		writeJSON(w, http.StatusOK, nil)
		return nil
	}
	writeJSON(w, http.StatusOK, onDutyResponse{Caregiver: sh.Caregiver, Shift: sh})
	return nil
}

// onDutyResponse is the caregiver on duty and their shift.
type onDutyResponse struct {
	Caregiver *care.UserRef `json:"caregiver"`
	Shift     *care.Shift   `json:"shift"`
}

// upcomingShifts lists the non-cancelled shifts starting within the next
// ?days (1 to 90, default 7), earliest first; ?limit (1 to 500) keeps the
// first ones.
func (s *Server) upcomingShifts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	shs, err := s.svc.Shifts.Upcoming(r.Context(), *p, crID, func() (q shifts.Upcoming, err error) {
		if q.Days, err = queryWholeNumber(r, "days", 7, 1, shiftMaxUpcoming); err != nil {
			return q, err
		}
		q.Limit, err = queryWholeNumber(r, "limit", shiftUpcomingMaxLimit, 1, shiftUpcomingMaxLimit)
		return q, err
	})
	return writeOK(w, shs, err)
}

func (s *Server) getShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByIDs(w, r, p, shiftIDs, s.svc.Shifts.Get, writeOK)
}

// myShifts lists the caller's own shifts in every family they belong to,
// each with its care recipient. ?upcomingOnly=true keeps the scheduled,
// confirmed and in-progress ones not yet ended, earliest first; otherwise
// all are listed, latest first (?limit, default 50).
func (s *Server) myShifts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	upcomingOnly := false
	switch r.URL.Query().Get("upcomingOnly") {
	case "", "false":
	case "true":
		upcomingOnly = true
	default:
		return Problems{"upcomingOnly": {"must be true or false"}}.Err()
	}
	limit, err := queryWholeNumber(r, "limit", shiftListLimit, 1, shiftListMaxLimit)
	if err != nil {
		return err
	}
	shs, err := s.svc.Shifts.Mine(r.Context(), *p, upcomingOnly, limit)
	return writeOK(w, shs, err)
}
