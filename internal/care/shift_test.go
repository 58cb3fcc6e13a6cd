package care

import (
	"errors"
	"testing"
	"time"
)

func TestNextShiftStatus(t *testing.T) {
	t.Parallel()
	statuses := []ShiftStatus{ShiftScheduled, ShiftConfirmed, ShiftInProgress, ShiftCompleted, ShiftCancelled, ShiftNoShow}
	actions := []ShiftAction{ShiftConfirm, ShiftCheckIn, ShiftCheckOut, ShiftCancel}
	// allowed lists every permitted move; everything else must be refused.
	allowed := map[ShiftStatus]map[ShiftAction]ShiftStatus{
		ShiftScheduled:  {ShiftConfirm: ShiftConfirmed, ShiftCheckIn: ShiftInProgress, ShiftCancel: ShiftCancelled},
		ShiftConfirmed:  {ShiftCheckIn: ShiftInProgress, ShiftCancel: ShiftCancelled},
		ShiftInProgress: {ShiftCheckOut: ShiftCompleted},
	}
	for _, from := range statuses {
		for _, a := range actions {
			want, wantOK := allowed[from][a]
			got, ok := NextShiftStatus(from, a)
			if ok != wantOK || (ok && got != want) {
				t.Errorf("%s --%s--> %s, %v; want %s, %v", from, a, got, ok, want, wantOK)
			}
			if !ok && got != from {
				t.Errorf("refused %s --%s-- changed the status to %s", from, a, got)
			}
		}
	}
}

func TestShiftApply(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	end := start.Add(8 * time.Hour)
	newShift := func(st ShiftStatus) Shift {
		return Shift{Status: st, StartTime: start, EndTime: end}
	}
	cases := []struct {
		name   string
		status ShiftStatus
		action ShiftAction
		now    time.Time
		want   ShiftStatus
		err    error
	}{
		{"check in 61 minutes early", ShiftScheduled, ShiftCheckIn, start.Add(-61 * time.Minute), ShiftScheduled, ErrCheckInTooEarly},
		{"check in 60 minutes early", ShiftScheduled, ShiftCheckIn, start.Add(-60 * time.Minute), ShiftInProgress, nil},
		{"check in confirmed, late", ShiftConfirmed, ShiftCheckIn, end.Add(-time.Second), ShiftInProgress, nil},
		{"check in at the end", ShiftScheduled, ShiftCheckIn, end, ShiftScheduled, ErrCheckInTooLate},
		{"check in twice", ShiftInProgress, ShiftCheckIn, start, ShiftInProgress, ErrShiftTransition},
		{"check in cancelled, in the window", ShiftCancelled, ShiftCheckIn, start, ShiftCancelled, ErrShiftTransition},
		{"check out", ShiftInProgress, ShiftCheckOut, end.Add(time.Hour), ShiftCompleted, nil},
		{"check out without check-in", ShiftConfirmed, ShiftCheckOut, start, ShiftConfirmed, ErrShiftTransition},
		{"confirm", ShiftScheduled, ShiftConfirm, start.Add(-48 * time.Hour), ShiftConfirmed, nil},
		{"cancel completed", ShiftCompleted, ShiftCancel, start, ShiftCompleted, ErrShiftTransition},
	}
	for _, tc := range cases {
		sh := newShift(tc.status)
		err := sh.Apply(tc.action, tc.now)
		if !errors.Is(err, tc.err) || sh.Status != tc.want {
			t.Errorf("%s: status %s, err %v; want %s, %v", tc.name, sh.Status, err, tc.want, tc.err)
			continue
		}
		if err != nil {
			if sh.CheckedInAt != nil || sh.CheckedOutAt != nil {
				t.Errorf("%s: a refused action stamped the shift", tc.name)
			}
			continue
		}
		switch tc.action {
		case ShiftCheckIn:
			if sh.CheckedInAt == nil || !sh.CheckedInAt.Equal(tc.now) || sh.CheckedOutAt != nil {
				t.Errorf("%s: stamps in %v out %v", tc.name, sh.CheckedInAt, sh.CheckedOutAt)
			}
		case ShiftCheckOut:
			if sh.CheckedOutAt == nil || !sh.CheckedOutAt.Equal(tc.now) {
				t.Errorf("%s: checked out at %v", tc.name, sh.CheckedOutAt)
			}
		default:
			if sh.CheckedInAt != nil || sh.CheckedOutAt != nil {
				t.Errorf("%s: unexpected stamps", tc.name)
			}
		}
	}
}
