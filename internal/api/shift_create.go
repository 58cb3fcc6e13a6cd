package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
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
	b.start, okStart = p.shiftInstant("startTime", b.StartTime)
	b.end, okEnd = p.shiftInstant("endTime", b.EndTime)
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

// shiftInstant checks a required RFC 3339 timestamp field.
func (p Problems) shiftInstant(field, v string) (time.Time, bool) {
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
// about it, unless they scheduled it themselves.
func (s *Server) createShift(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", writer)
	if err != nil {
		return err
	}
	var b shiftBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var sh *care.Shift
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		sh, err = s.store.CreateShift(ctx, store.NewShift{
			CareRecipientID: cr.ID, CaregiverID: b.CaregiverID, StartTime: b.start, EndTime: b.end,
			Notes: b.Notes, CreatedByID: p.User.ID,
		})
		if err != nil {
			return err
		}
		if err := s.emitShift(ctx, p, cr.FamilyID, events.ShiftAssigned, sh); err != nil {
			return err
		}
		if sh.CaregiverID == p.User.ID {
			return nil
		}
		text := care.ShiftAssignedText(p.User.FullName, cr, sh.StartTime, sh.EndTime)
		return s.notifyUsers(ctx, []string{sh.CaregiverID}, care.NotificationDraft{
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
		return Problems{"caregiverId": {"must be an active member of this family who is not a VIEWER"}}.Err()
	case errors.Is(err, store.ErrShiftOverlap):
		return conflict("The caregiver already has a shift that overlaps this time")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrReference):
		return notFound("Care recipient")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusCreated, sh)
	return nil
}
