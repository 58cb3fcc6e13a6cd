package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// shiftsMatrix covers every caregiver shift route. The matrix users are
// shared by all fixtures of a run and one caregiver cannot hold overlapping
// shifts, so each shift a case needs lies on a day of its own; the fake clock
// is moved to that day so that check-in is open.
func shiftsMatrix() []matrixCase {
	day := 0
	// nextDay returns the start of a fresh day for the next shift.
	nextDay := func() time.Time {
		day++
		return testStart.Add(time.Duration(day) * 24 * time.Hour)
	}
	// shift schedules a two-hour shift for the fixture's caregiver starting
	// now, optionally checked in, and returns its path.
	shift := func(f *fixture, checkedIn bool) string {
		f.t.Helper()
		ctx := context.Background()
		start := nextDay()
		f.h.clock.Set(start)
		sh, err := f.h.store.CreateShift(ctx, store.NewShift{CareRecipientID: f.CareRecipientID,
			CaregiverID: f.caregiver.ID, StartTime: start, EndTime: start.Add(2 * time.Hour), CreatedByID: f.admin.ID})
		if err != nil {
			f.t.Fatal(err)
		}
		if checkedIn {
			if _, err := f.h.store.UpdateShift(ctx, sh.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCheckIn, start) }); err != nil {
				f.t.Fatal(err)
			}
		}
		return fmt.Sprintf("/care-recipients/%s/shifts/%s", f.CareRecipientID, sh.ID)
	}
	on := func(checkedIn bool, suffix string, body any) func(f *fixture) (string, any) {
		return func(f *fixture) (string, any) { return shift(f, checkedIn) + suffix, body }
	}
	create := func(f *fixture) (string, any) {
		start := nextDay()
		return "/care-recipients/" + f.CareRecipientID + "/shifts", shiftJSON(f.caregiver.ID, start, start.Add(time.Hour))
	}
	const base = "/care-recipients/%s/shifts"
	// Only the assigned caregiver (here the CAREGIVER) may act on the shift.
	assignee := statuses{401, 403, 403, 200, 403}
	return []matrixCase{
		{"create shift", "POST", create, nonViewer(201)},
		{"list shifts", "GET", path(base, careRecipientID), member(200)},
		{"shift range", "GET", path(base+"/range?startDate=2026-03-01&endDate=2026-03-31", careRecipientID), member(200)},
		{"current shift", "GET", path(base+"/current", careRecipientID), member(200)},
		{"on duty", "GET", path(base+"/on-duty", careRecipientID), member(200)},
		{"upcoming shifts", "GET", path(base+"/upcoming?days=7", careRecipientID), member(200)},
		{"shift day", "GET", path(base+"/day?date=2026-03-03", careRecipientID), member(200)},
		{"get shift", "GET", on(false, "", nil), member(200)},
		{"check in", "POST", on(false, "/checkin", nil), assignee},
		{"check out", "POST", on(true, "/checkout", map[string]any{"handoffNotes": "All well"}), assignee},
		{"confirm shift", "POST", on(false, "/confirm", nil), assignee},
		{"cancel shift", "PATCH", on(false, "/cancel", nil), statuses{401, 403, 403, 200, 200}},
		{"my shifts", "GET", path("/my-shifts?upcomingOnly=true"), signedIn(200)},
	}
}

func TestPermissionMatrixShifts(t *testing.T) {
	t.Parallel()
	runMatrix(t, shiftsMatrix())
}
