package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/shifts"
)

// shiftBody is the body of POST /care-recipients/{careRecipientId}/shifts.
type shiftBody struct {
	StartTime   string  `json:"startTime"`
	EndTime     string  `json:"endTime"`
	CaregiverID string  `json:"caregiverId"`
	Notes       *string `json:"notes"`

	start, end time.Time // parsed from StartTime and EndTime
}

func (b *shiftBody) Validate(p Problems) {
	var okStart, okEnd bool
	b.start, okStart = p.instant("startTime", b.StartTime)
	b.end, okEnd = p.instant("endTime", b.EndTime)
	if okStart && okEnd {
		switch {
		case !b.end.After(b.start):
			p.Add("endTime", "must be after startTime")
		case b.end.Sub(b.start) > care.MaxShiftLength:
			p.Add("endTime", "must be at most 7 days after startTime")
		}
	}
	p.uuidField("caregiverId", b.CaregiverID)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
}

// instant checks a required RFC 3339 timestamp field between 1970 and
// 2199, in UTC.
func (p Problems) instant(field, v string) (time.Time, bool) {
	if v == "" {
		p.Add(field, "is required")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		p.Add(field, "must be an RFC 3339 timestamp such as 2026-03-02T09:00:00Z")
		return time.Time{}, false
	}
	if t.Year() < 1970 || t.Year() >= 2200 {
		p.Add(field, "must be between 1970 and 2199")
		return time.Time{}, false
	}
	return t.UTC(), true
}

// createShift schedules a shift for a caregiver of the family and tells them
// about it, unless they scheduled it themselves (see shifts.Create).
func (s *Server) createShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	sh, err := s.svc.Shifts.Create(r.Context(), *p, crID, func() (shifts.NewShift, error) {
		var b shiftBody
		err := decode(w, r, &b)
		return shifts.NewShift{CaregiverID: b.CaregiverID, Start: b.start, End: b.end, Notes: b.Notes}, err
	})
	return writeCreated(w, sh, err)
}
