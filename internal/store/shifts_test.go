package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// shiftWorld is a family with an ADMIN, two CAREGIVERs and a VIEWER (all
// active accounts) and two care recipients.
type shiftWorld struct {
	s                    *store.Store
	clk                  *clock.Fake
	admin, carer, carer2 *care.User
	viewer               *care.User
	family               *care.Family
	tokyo, paris         *care.CareRecipient
}

func newShiftWorld(t *testing.T, open openFunc) *shiftWorld {
	t.Helper()
	ctx := context.Background()
	w := &shiftWorld{clk: clock.NewFake(t0)}
	w.s = open(t, w.clk)
	active := func(email string) *care.User {
		u, err := w.s.ActivateUser(ctx, newUser(t, w.s, email).ID)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.admin, w.carer, w.carer2, w.viewer = active("ann@example.com"), active("cg@example.com"),
		active("cg2@example.com"), active("vi@example.com")
	w.family = newFamily(t, w.s, "Lees", w.admin)
	join(t, w.s, w.family, w.admin, w.carer, care.RoleCaregiver)
	join(t, w.s, w.family, w.admin, w.carer2, care.RoleCaregiver)
	join(t, w.s, w.family, w.admin, w.viewer, care.RoleViewer)
	var err error
	if w.tokyo, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.family.ID, FullName: "Gran", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if w.paris, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.family.ID, FullName: "Grandpa", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// shiftAt is t0's day at hh:00 UTC plus days.
func shiftAt(days, hh int) time.Time {
	return time.Date(2026, 3, 8+days, hh, 0, 0, 0, time.UTC)
}

func (w *shiftWorld) create(cr *care.CareRecipient, carer *care.User, start, end time.Time) (*care.Shift, error) {
	return w.s.CreateShift(context.Background(), store.NewShift{
		CareRecipientID: cr.ID, CaregiverID: carer.ID, StartTime: start, EndTime: end, CreatedByID: w.admin.ID,
	})
}

func (w *shiftWorld) mustCreate(t *testing.T, cr *care.CareRecipient, carer *care.User, start, end time.Time) *care.Shift {
	t.Helper()
	sh, err := w.create(cr, carer, start, end)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func shiftIDs(shs []care.Shift) []string {
	out := []string{}
	for _, sh := range shs {
		out = append(out, sh.ID)
	}
	return out
}

func sameShifts(got []care.Shift, want ...*care.Shift) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			return false
		}
	}
	return true
}

func TestShiftsCreateAndOverlap(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newShiftWorld(t, open)
		ctx := context.Background()
		notes := sqlish
		sh, err := w.s.CreateShift(ctx, store.NewShift{CareRecipientID: w.tokyo.ID, CaregiverID: w.carer.ID,
			StartTime: shiftAt(1, 9), EndTime: shiftAt(1, 17), Notes: &notes, CreatedByID: w.admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		if sh.Status != care.ShiftScheduled || !sh.StartTime.Equal(shiftAt(1, 9)) || !sh.EndTime.Equal(shiftAt(1, 17)) ||
			*sh.Notes != sqlish || sh.Caregiver.ID != w.carer.ID || sh.Caregiver.FullName != w.carer.FullName ||
			sh.CareRecipient.FullName != "Gran" || sh.CareRecipient.Timezone != "Asia/Tokyo" ||
			sh.CareRecipient.FamilyID != w.family.ID || *sh.CreatedByID != w.admin.ID || sh.CheckedInAt != nil {
			t.Fatalf("created shift = %+v", sh)
		}
		got, err := w.s.Shift(ctx, sh.ID)
		if err != nil || got.ID != sh.ID || !got.CreatedAt.Equal(sh.CreatedAt) {
			t.Fatalf("Shift = %+v, %v", got, err)
		}
		if _, err := w.s.Shift(ctx, missingID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing shift = %v", err)
		}

		// Overlaps for the same caregiver are refused, for any care recipient.
		for _, span := range [][2]time.Time{{shiftAt(1, 8), shiftAt(1, 10)}, {shiftAt(1, 16), shiftAt(1, 18)}, {shiftAt(1, 10), shiftAt(1, 11)}, {shiftAt(1, 0), shiftAt(2, 0)}} {
			if _, err := w.create(w.paris, w.carer, span[0], span[1]); !errors.Is(err, store.ErrShiftOverlap) || !errors.Is(err, store.ErrConflict) {
				t.Fatalf("overlap %v = %v", span, err)
			}
		}
		// Touching shifts are fine, and another caregiver may overlap.
		w.mustCreate(t, w.paris, w.carer, shiftAt(1, 17), shiftAt(1, 20))
		w.mustCreate(t, w.tokyo, w.carer, shiftAt(1, 5), shiftAt(1, 9))
		w.mustCreate(t, w.tokyo, w.carer2, shiftAt(1, 9), shiftAt(1, 17))
		// A cancelled shift frees its time.
		if _, err := w.s.UpdateShift(ctx, sh.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCancel, w.clk.Now()) }); err != nil {
			t.Fatal(err)
		}
		w.mustCreate(t, w.paris, w.carer, shiftAt(1, 10), shiftAt(1, 12))

		// Only active, non-VIEWER members with active accounts take shifts.
		if _, err := w.create(w.tokyo, w.viewer, shiftAt(3, 9), shiftAt(3, 10)); !errors.Is(err, store.ErrShiftCaregiver) {
			t.Fatalf("viewer = %v", err)
		}
		stranger, err := w.s.ActivateUser(ctx, newUser(t, w.s, "x@example.com").ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.create(w.tokyo, stranger, shiftAt(3, 9), shiftAt(3, 10)); !errors.Is(err, store.ErrShiftCaregiver) {
			t.Fatalf("non-member = %v", err)
		}
		pending := newUser(t, w.s, "p@example.com")
		join(t, w.s, w.family, w.admin, pending, care.RoleCaregiver)
		if _, err := w.create(w.tokyo, pending, shiftAt(3, 9), shiftAt(3, 10)); !errors.Is(err, store.ErrShiftCaregiver) {
			t.Fatalf("pending account = %v", err)
		}
		m, err := w.s.MemberOf(ctx, w.family.ID, w.carer2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.s.RemoveMember(ctx, w.family.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.create(w.tokyo, w.carer2, shiftAt(3, 9), shiftAt(3, 10)); !errors.Is(err, store.ErrShiftCaregiver) {
			t.Fatalf("removed member = %v", err)
		}
		if _, err := w.s.CreateShift(ctx, store.NewShift{CareRecipientID: missingID, CaregiverID: w.carer.ID,
			StartTime: shiftAt(3, 9), EndTime: shiftAt(3, 10)}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing care recipient = %v", err)
		}
		if _, err := w.create(w.tokyo, &care.User{ID: missingID}, shiftAt(3, 9), shiftAt(3, 10)); !errors.Is(err, store.ErrShiftCaregiver) {
			t.Fatalf("missing caregiver = %v", err)
		}
	})
}

// TestShiftsConcurrentOverlap races overlapping assignments of one caregiver
// (for different care recipients): exactly one may win.
func TestShiftsConcurrentOverlap(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newShiftWorld(t, open)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				cr := w.tokyo
				if i%2 == 1 {
					cr = w.paris
				}
				// Each overlaps every other: all contain 12:00-13:00.
				_, errs[i] = w.create(cr, w.carer, shiftAt(2, 12-i%3), shiftAt(2, 13+i%2))
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrShiftOverlap):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d overlapping shifts were created, want 1", wins)
		}
	})
}

func TestShiftTransitions(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newShiftWorld(t, open)
		ctx := context.Background()
		sh := w.mustCreate(t, w.tokyo, w.carer, t0.Add(30*time.Minute), t0.Add(4*time.Hour))
		in, err := w.s.UpdateShift(ctx, sh.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCheckIn, w.clk.Now()) })
		if err != nil || in.Status != care.ShiftInProgress || in.CheckedInAt == nil || !in.CheckedInAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("check in = %+v, %v", in, err)
		}
		if _, err := w.s.UpdateShift(ctx, sh.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCheckIn, w.clk.Now()) }); !errors.Is(err, care.ErrShiftTransition) {
			t.Fatalf("second check in = %v", err)
		}
		w.clk.Advance(5 * time.Hour)
		handoff, loc := "Gave lunch at 12", sqlish
		out, err := w.s.UpdateShift(ctx, sh.ID, func(s *care.Shift) error {
			s.HandoffNotes, s.CheckoutLocation = &handoff, &loc
			return s.Apply(care.ShiftCheckOut, w.clk.Now())
		})
		if err != nil || out.Status != care.ShiftCompleted || out.CheckedOutAt == nil || *out.HandoffNotes != handoff ||
			*out.CheckoutLocation != sqlish || out.CheckoutNotes != nil || !out.CheckedInAt.Equal(*in.CheckedInAt) ||
			!out.UpdatedAt.Equal(w.clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("check out = %+v, %v", out, err)
		}
		if _, err := w.s.UpdateShift(ctx, missingID, func(*care.Shift) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing = %v", err)
		}
	})
}

func TestShiftQueries(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newShiftWorld(t, open)
		ctx := context.Background()
		now := w.clk.Now() // day 0, 06:30
		past := w.mustCreate(t, w.tokyo, w.carer, shiftAt(-3, 9), shiftAt(-3, 17))
		old := w.mustCreate(t, w.tokyo, w.carer, shiftAt(-10, 9), shiftAt(-10, 17))
		covering := w.mustCreate(t, w.tokyo, w.carer, shiftAt(0, 6), shiftAt(0, 8))
		next := w.mustCreate(t, w.tokyo, w.carer2, shiftAt(0, 8), shiftAt(0, 16))
		later := w.mustCreate(t, w.tokyo, w.carer, shiftAt(3, 9), shiftAt(3, 17))
		cancelled := w.mustCreate(t, w.tokyo, w.carer2, shiftAt(2, 9), shiftAt(2, 17))
		if _, err := w.s.UpdateShift(ctx, cancelled.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCancel, now) }); err != nil {
			t.Fatal(err)
		}
		other := w.mustCreate(t, w.paris, w.admin, shiftAt(0, 0), shiftAt(0, 23))

		if got, err := w.s.RecentShifts(ctx, w.tokyo.ID, now.Add(-7*24*time.Hour), 50); err != nil || !sameShifts(got, past, covering, next, cancelled, later) {
			t.Fatalf("RecentShifts = %v, %v", shiftIDs(got), err)
		}
		if got, _ := w.s.RecentShifts(ctx, w.tokyo.ID, now.Add(-7*24*time.Hour), 2); !sameShifts(got, past, covering) {
			t.Fatalf("RecentShifts limited = %v", shiftIDs(got))
		}
		if got, err := w.s.ShiftsOverlapping(ctx, w.tokyo.ID, shiftAt(-10, 17), shiftAt(0, 8)); err != nil || !sameShifts(got, past, covering) {
			t.Fatalf("ShiftsOverlapping = %v, %v", shiftIDs(got), err)
		}
		if got, err := w.s.UpcomingShifts(ctx, w.tokyo.ID, now, now.Add(7*24*time.Hour)); err != nil || !sameShifts(got, next, later) {
			t.Fatalf("UpcomingShifts = %v, %v", shiftIDs(got), err)
		}
		if cur, err := w.s.CurrentShift(ctx, w.tokyo.ID, now); err != nil || cur.ID != covering.ID {
			t.Fatalf("CurrentShift = %+v, %v", cur, err)
		}
		if _, err := w.s.CurrentShift(ctx, w.tokyo.ID, shiftAt(1, 0)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CurrentShift with none = %v", err)
		}
		if got, err := w.s.OnDutyShifts(ctx, w.tokyo.ID); err != nil || len(got) != 0 {
			t.Fatalf("OnDutyShifts before check-in = %v, %v", shiftIDs(got), err)
		}
		// A checked-in shift is current (even past its end) and on duty.
		w.clk.Set(shiftAt(0, 7))
		if _, err := w.s.UpdateShift(ctx, next.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCheckIn, w.clk.Now()) }); err != nil {
			t.Fatal(err)
		}
		if cur, err := w.s.CurrentShift(ctx, w.tokyo.ID, shiftAt(0, 7)); err != nil || cur.ID != next.ID {
			t.Fatalf("CurrentShift prefers the one in progress = %+v, %v", cur, err)
		}
		if cur, err := w.s.CurrentShift(ctx, w.tokyo.ID, shiftAt(0, 20)); err != nil || cur.ID != next.ID {
			t.Fatalf("CurrentShift past the end = %+v, %v", cur, err)
		}
		if got, err := w.s.OnDutyShifts(ctx, w.tokyo.ID); err != nil || !sameShifts(got, next) || got[0].Caregiver.FullName != w.carer2.FullName {
			t.Fatalf("OnDutyShifts = %+v, %v", got, err)
		}
		// Handoff: the next non-cancelled shift after covering is next; after
		// next, the cancelled one is skipped and later is too far away.
		if n, err := w.s.NextShift(ctx, *covering, care.HandoffWindow); err != nil || n.ID != next.ID {
			t.Fatalf("NextShift = %+v, %v", n, err)
		}
		if n, err := w.s.NextShift(ctx, *next, care.HandoffWindow); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("NextShift beyond the window = %+v, %v", n, err)
		}
		if n, err := w.s.NextShift(ctx, *next, 4*24*time.Hour); err != nil || n.ID != later.ID {
			t.Fatalf("NextShift in a wide window = %+v, %v", n, err)
		}

		// The caregiver's own shifts, across care recipients.
		if got, err := w.s.UserShifts(ctx, w.carer2.ID, store.UserShiftsQuery{UpcomingOnly: true, Now: shiftAt(0, 7)}); err != nil || !sameShifts(got, next) {
			t.Fatalf("UserShifts upcoming = %v, %v", shiftIDs(got), err)
		}
		if got, err := w.s.UserShifts(ctx, w.carer.ID, store.UserShiftsQuery{UpcomingOnly: true, Now: shiftAt(0, 7)}); err != nil || !sameShifts(got, covering, later) {
			t.Fatalf("UserShifts upcoming = %v, %v", shiftIDs(got), err)
		}
		if got, err := w.s.UserShifts(ctx, w.admin.ID, store.UserShiftsQuery{UpcomingOnly: true, Now: shiftAt(0, 23)}); err != nil || len(got) != 0 {
			t.Fatalf("UserShifts after the end = %v, %v", shiftIDs(got), err)
		}
		if got, err := w.s.UserShifts(ctx, w.admin.ID, store.UserShiftsQuery{UpcomingOnly: true, Now: shiftAt(0, 7)}); err != nil || !sameShifts(got, other) {
			t.Fatalf("UserShifts admin = %v, %v", shiftIDs(got), err)
		}
		if got, err := w.s.UserShifts(ctx, w.carer.ID, store.UserShiftsQuery{Now: now, Limit: 3}); err != nil || !sameShifts(got, later, covering, past) {
			t.Fatalf("UserShifts all = %v, %v", shiftIDs(got), err)
		}
		if got, _ := w.s.UserShifts(ctx, w.carer.ID, store.UserShiftsQuery{}); !sameShifts(got, later, covering, past, old) {
			t.Fatalf("UserShifts unlimited = %v", shiftIDs(got))
		}
	})
}

func TestShiftsStartingBetween(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newShiftWorld(t, open)
		ctx := context.Background()
		a := w.mustCreate(t, w.tokyo, w.carer, shiftAt(1, 9), shiftAt(1, 17))
		b := w.mustCreate(t, w.paris, w.carer2, shiftAt(1, 10), shiftAt(1, 12))
		confirmed := w.mustCreate(t, w.paris, w.carer2, shiftAt(1, 12), shiftAt(1, 13))
		if _, err := w.s.UpdateShift(ctx, confirmed.ID, func(s *care.Shift) error { return s.Apply(care.ShiftConfirm, shiftAt(0, 0)) }); err != nil {
			t.Fatal(err)
		}
		cancelled := w.mustCreate(t, w.tokyo, w.carer2, shiftAt(1, 9), shiftAt(1, 10))
		if _, err := w.s.UpdateShift(ctx, cancelled.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCancel, shiftAt(0, 0)) }); err != nil {
			t.Fatal(err)
		}
		started := w.mustCreate(t, w.paris, w.carer, shiftAt(1, 8), shiftAt(1, 9))
		w.clk.Set(shiftAt(1, 8))
		if _, err := w.s.UpdateShift(ctx, started.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCheckIn, shiftAt(1, 8)) }); err != nil {
			t.Fatal(err)
		}
		w.mustCreate(t, w.tokyo, w.carer2, shiftAt(1, 13), shiftAt(1, 14)) // starts at the window's end

		got, err := w.s.ShiftsStartingBetween(ctx, shiftAt(1, 8), shiftAt(1, 13))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].ShiftID != a.ID || got[1].ShiftID != b.ID || got[2].ShiftID != confirmed.ID {
			t.Fatalf("ShiftsStartingBetween = %+v", got)
		}
		want := care.ShiftReminderSource{
			ShiftID: a.ID, CareRecipientID: w.tokyo.ID, CareRecipientName: "Gran", FamilyID: w.family.ID,
			CaregiverID: w.carer.ID, Timezone: "Asia/Tokyo", StartTime: shiftAt(1, 9), EndTime: shiftAt(1, 17), UpdatedAt: a.UpdatedAt,
		}
		if got[0] != want {
			t.Fatalf("reminder source =\n %+v\nwant %+v", got[0], want)
		}
		if got[1].Timezone != "Europe/Paris" || got[1].CaregiverID != w.carer2.ID {
			t.Fatalf("second source = %+v", got[1])
		}
	})
}

func TestReleaseShifts(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newShiftWorld(t, open)
		ctx := context.Background()
		// t0 is 2026-03-08 00:00 UTC.
		past := w.mustCreate(t, w.tokyo, w.carer, shiftAt(-1, 8), shiftAt(-1, 12))
		working := w.mustCreate(t, w.tokyo, w.carer, t0.Add(-time.Hour), t0.Add(3*time.Hour))
		if _, err := w.s.UpdateShift(ctx, working.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCheckIn, w.clk.Now()) }); err != nil {
			t.Fatal(err)
		}
		soon := w.mustCreate(t, w.paris, w.carer, shiftAt(1, 8), shiftAt(1, 12))
		confirmed := w.mustCreate(t, w.tokyo, w.carer, shiftAt(2, 8), shiftAt(2, 12))
		if _, err := w.s.UpdateShift(ctx, confirmed.ID, func(s *care.Shift) error { return s.Apply(care.ShiftConfirm, w.clk.Now()) }); err != nil {
			t.Fatal(err)
		}
		cancelled := w.mustCreate(t, w.tokyo, w.carer, shiftAt(3, 8), shiftAt(3, 12))
		if _, err := w.s.UpdateShift(ctx, cancelled.ID, func(s *care.Shift) error { return s.Apply(care.ShiftCancel, w.clk.Now()) }); err != nil {
			t.Fatal(err)
		}
		other := w.mustCreate(t, w.tokyo, w.carer2, shiftAt(1, 13), shiftAt(1, 17))
		// The same caregiver in another family keeps that family's shifts.
		elsewhere := newFamily(t, w.s, "Parks", w.carer)
		grandad, err := w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: elsewhere.ID, FullName: "Grandad", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		theirs := w.mustCreate(t, grandad, w.carer, shiftAt(4, 8), shiftAt(4, 12))

		w.clk.Advance(time.Minute)
		got, err := w.s.ReleaseShifts(ctx, w.family.ID, w.carer.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameShifts(got.Cancelled, soon, confirmed) {
			t.Fatalf("cancelled %v, want the two to come (%s, %s)", shiftIDs(got.Cancelled), soon.ID, confirmed.ID)
		}
		now := w.clk.Now().Truncate(time.Microsecond)
		for _, sh := range got.Cancelled {
			if sh.Status != care.ShiftCancelled || !sh.UpdatedAt.Equal(now) || sh.CareRecipient == nil {
				t.Errorf("returned %+v, want it cancelled now with its care recipient", sh)
			}
		}
		if !sameShifts(got.Ended, working) || got.Ended[0].Status != care.ShiftCompleted ||
			got.Ended[0].CheckedOutAt == nil || !got.Ended[0].CheckedOutAt.Equal(now) || got.Ended[0].CheckedInAt == nil {
			t.Fatalf("ended %+v, want the shift in progress checked out now", got.Ended)
		}
		for sh, want := range map[*care.Shift]care.ShiftStatus{
			past: care.ShiftScheduled, working: care.ShiftCompleted, soon: care.ShiftCancelled,
			confirmed: care.ShiftCancelled, cancelled: care.ShiftCancelled, other: care.ShiftScheduled,
			theirs: care.ShiftScheduled,
		} {
			cur, err := w.s.Shift(ctx, sh.ID)
			if err != nil || cur.Status != want {
				t.Errorf("shift %s from %s: status %v (%v), want %s", sh.ID, sh.StartTime, cur.Status, err, want)
			}
		}
		if again, err := w.s.ReleaseShifts(ctx, w.family.ID, w.carer.ID); err != nil || len(again.Cancelled)+len(again.Ended) != 0 ||
			again.Cancelled == nil || again.Ended == nil {
			t.Fatalf("second call = %+v, %v; want empty lists", again, err)
		}
	})
}
