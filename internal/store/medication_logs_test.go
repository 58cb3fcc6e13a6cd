package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// supply reads a medication's current supply.
func (w *medWorld) supply(t *testing.T, id string) *int {
	t.Helper()
	m, err := w.s.Medication(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.CurrentSupply
}

func TestLogDose(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newMedWorld(t, open, "Asia/Tokyo")
		ctx := context.Background()
		bob := newUser(t, w.s, "bob@example.com")
		m := w.medication(t, care.Medication{Name: "Metformin", IsActive: true, ScheduledTimes: []string{"08:00", "20:00"}, CurrentSupply: intp(2)})
		morning := time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC) // 08:00 in Tokyo
		evening := morning.Add(12 * time.Hour)

		if _, err := w.s.MedicationLogAt(ctx, m.ID, morning); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("log before logging = %v", err)
		}
		l, created, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: morning,
			Notes: strp(sqlish), LoggedByID: bob.ID})
		if err != nil || !created {
			t.Fatalf("LogDose = %v, %v", created, err)
		}
		now := w.clk.Now().Truncate(time.Microsecond)
		if l.MedicationID != m.ID || l.Status != care.DoseGiven || !l.ScheduledTime.Equal(morning) || l.GivenTime == nil ||
			!l.GivenTime.Equal(now) || *l.Notes != sqlish || l.SkipReason != nil || *l.GivenByID != bob.ID ||
			l.GivenBy == nil || l.GivenBy.ID != bob.ID || l.GivenBy.FullName != bob.FullName {
			t.Fatalf("given log = %+v", l)
		}
		if got, err := w.s.MedicationLogAt(ctx, m.ID, morning); err != nil || got.ID != l.ID || got.GivenBy.FullName != bob.FullName {
			t.Fatalf("MedicationLogAt = %+v, %v", got, err)
		}
		if s := w.supply(t, m.ID); *s != 1 {
			t.Fatalf("supply after a dose = %d, want 1", *s)
		}

		// A final log is not replaced, and the supply is not touched again.
		for _, st := range []care.DoseStatus{care.DoseGiven, care.DoseSkipped, care.DoseMissed, care.DosePending} {
			if _, _, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: st, ScheduledTime: morning, LoggedByID: w.admin.ID}); !errors.Is(err, care.ErrDoseAlreadyLogged) {
				t.Fatalf("%s over GIVEN = %v", st, err)
			}
		}
		if s := w.supply(t, m.ID); *s != 1 {
			t.Fatalf("supply after refused logs = %d, want 1", *s)
		}

		// MISSED, then PENDING, then GIVEN: replaced in place, one decrement.
		missed, created, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseMissed, ScheduledTime: evening, LoggedByID: w.admin.ID})
		if err != nil || !created || missed.GivenTime != nil {
			t.Fatalf("missed = %+v, %v, %v", missed, created, err)
		}
		if s := w.supply(t, m.ID); *s != 1 {
			t.Fatalf("supply after a missed dose = %d, want 1", *s)
		}
		pending, created, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DosePending, ScheduledTime: evening, LoggedByID: bob.ID})
		if err != nil || created || pending.ID != missed.ID || pending.Status != care.DosePending {
			t.Fatalf("pending over missed = %+v, %v, %v", pending, created, err)
		}
		w.clk.Advance(time.Hour)
		given, created, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: evening, LoggedByID: w.admin.ID})
		if err != nil || created || given.ID != missed.ID || given.Status != care.DoseGiven || given.GivenTime == nil ||
			!given.GivenTime.Equal(w.clk.Now().Truncate(time.Microsecond)) || given.GivenBy.ID != w.admin.ID || !given.CreatedAt.Equal(missed.CreatedAt) {
			t.Fatalf("given over pending = %+v, %v, %v", given, created, err)
		}
		if s := w.supply(t, m.ID); *s != 0 {
			t.Fatalf("supply after the second dose = %d, want 0", *s)
		}
		// The supply never goes below zero.
		if _, _, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: morning.Add(24 * time.Hour), LoggedByID: bob.ID}); err != nil {
			t.Fatal(err)
		}
		if s := w.supply(t, m.ID); *s != 0 {
			t.Fatalf("supply below zero: %d", *s)
		}
		// A medication without a tracked supply keeps none.
		untracked := w.medication(t, care.Medication{Name: "Drops", IsActive: true, ScheduledTimes: []string{"08:00"}})
		if _, _, err := w.s.LogDose(ctx, untracked.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: morning, LoggedByID: bob.ID}); err != nil {
			t.Fatal(err)
		}
		if s := w.supply(t, untracked.ID); s != nil {
			t.Fatalf("untracked supply = %d", *s)
		}

		skipped, _, err := w.s.LogDose(ctx, untracked.ID, care.DoseEntry{Status: care.DoseSkipped, ScheduledTime: evening,
			SkipReason: strp("asleep"), LoggedByID: bob.ID})
		if err != nil || skipped.GivenTime != nil || *skipped.SkipReason != "asleep" {
			t.Fatalf("skipped = %+v, %v", skipped, err)
		}

		stopped := w.medication(t, care.Medication{Name: "Stopped", IsActive: false, ScheduledTimes: []string{"08:00"}, CurrentSupply: intp(3)})
		if _, _, err := w.s.LogDose(ctx, stopped.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: morning, LoggedByID: bob.ID}); !errors.Is(err, care.ErrMedicationInactive) {
			t.Fatalf("dose of an inactive medication = %v", err)
		}
		if s := w.supply(t, stopped.ID); *s != 3 {
			t.Fatalf("inactive medication's supply = %d", *s)
		}
		if _, _, err := w.s.LogDose(ctx, missingID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: morning, LoggedByID: bob.ID}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("dose of a missing medication = %v", err)
		}
	})
}

// TestLogDoseConcurrently: members logging the same dose at once get one
// log and one decrement between them, whether the dose had no log yet or a
// MISSED one that each of them would replace.
func TestLogDoseConcurrently(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newMedWorld(t, open, "UTC")
		ctx := context.Background()
		m := w.medication(t, care.Medication{Name: "Metformin", IsActive: true, ScheduledTimes: []string{"08:00"}, CurrentSupply: intp(10)})
		fresh := time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)
		missed := fresh.Add(-24 * time.Hour)
		if _, _, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseMissed, ScheduledTime: missed, LoggedByID: w.admin.ID}); err != nil {
			t.Fatal(err)
		}
		for i, at := range []time.Time{fresh, missed} {
			const n = 6
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, errs[i] = w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: at, LoggedByID: w.admin.ID})
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, care.ErrDoseAlreadyLogged):
					t.Errorf("concurrent log of %v: %v", at, err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d concurrent logs of %v succeeded, want 1", ok, at)
			}
			if s, want := w.supply(t, m.ID), 9-i; *s != want {
				t.Fatalf("supply after logging %v = %d, want %d", at, *s, want)
			}
		}
	})
}

func TestMedicationLogRanges(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newMedWorld(t, open, "UTC")
		ctx := context.Background()
		m := w.medication(t, care.Medication{Name: "A", IsActive: true, ScheduledTimes: []string{"08:00"}})
		other := w.medication(t, care.Medication{Name: "B", IsActive: true, ScheduledTimes: []string{"08:00"}})
		day := func(d int) time.Time { return time.Date(2026, 3, d, 8, 0, 0, 0, time.UTC) }
		for d := 1; d <= 5; d++ {
			for _, id := range []string{m.ID, other.ID} {
				if _, _, err := w.s.LogDose(ctx, id, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: day(d), LoggedByID: w.admin.ID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		days := func(r store.MedicationLogRange) []int {
			t.Helper()
			ls, err := w.s.MedicationLogs(ctx, m.ID, r)
			if err != nil {
				t.Fatal(err)
			}
			out := []int{}
			for _, l := range ls {
				if l.MedicationID != m.ID {
					t.Fatalf("log of another medication: %+v", l)
				}
				out = append(out, l.ScheduledTime.Day())
			}
			return out
		}
		tp := func(t time.Time) *time.Time { return &t }
		for _, tc := range []struct {
			name string
			r    store.MedicationLogRange
			want []int
		}{
			{"all, newest first", store.MedicationLogRange{Limit: 50}, []int{5, 4, 3, 2, 1}},
			{"limit", store.MedicationLogRange{Limit: 2}, []int{5, 4}},
			{"from inclusive", store.MedicationLogRange{From: tp(day(3)), Limit: 50}, []int{5, 4, 3}},
			{"to exclusive", store.MedicationLogRange{To: tp(day(3)), Limit: 50}, []int{2, 1}},
			{"both", store.MedicationLogRange{From: tp(day(2)), To: tp(day(4).Add(time.Microsecond)), Limit: 50}, []int{4, 3, 2}},
			{"empty", store.MedicationLogRange{From: tp(day(6)), Limit: 50}, []int{}},
		} {
			if got := days(tc.r); !slices.Equal(got, tc.want) {
				t.Errorf("%s: days %v, want %v", tc.name, got, tc.want)
			}
		}
		ls, err := w.s.CareRecipientDoseLogs(ctx, w.cr.ID, day(2), day(4))
		if err != nil || len(ls) != 4 || !ls[0].ScheduledTime.Equal(day(2)) || !ls[3].ScheduledTime.Equal(day(3)) {
			t.Fatalf("CareRecipientDoseLogs = %+v, %v", ls, err)
		}
	})
}

// The one-query read of a day's schedule gives what the medications and the
// care recipient's dose logs give apart: active medications by name (one
// without logs included, an inactive one left out), each with its logs in
// the range, in order.
func TestActiveMedicationsWithDoseLogs(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newMedWorld(t, open, "UTC")
		ctx := context.Background()
		b := w.medication(t, care.Medication{Name: "B", IsActive: true, ScheduledTimes: []string{"08:00", "20:00"}})
		a := w.medication(t, care.Medication{Name: "A", IsActive: true, ScheduledTimes: []string{"08:00"}})
		w.medication(t, care.Medication{Name: "C", IsActive: true, ScheduledTimes: []string{"08:00"}})
		stopped := w.medication(t, care.Medication{Name: "0 stopped", IsActive: true, ScheduledTimes: []string{"08:00"}})
		at := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
		for _, l := range []struct {
			id     string
			at     time.Time
			status care.DoseStatus
		}{
			{b.ID, at(2, 20), care.DoseGiven}, {b.ID, at(2, 8), care.DoseSkipped}, {a.ID, at(2, 8), care.DoseGiven},
			{a.ID, at(1, 8), care.DoseGiven}, {b.ID, at(3, 8), care.DoseGiven}, {stopped.ID, at(2, 8), care.DoseGiven},
		} {
			if _, _, err := w.s.LogDose(ctx, l.id, care.DoseEntry{Status: l.status, ScheduledTime: l.at, LoggedByID: w.admin.ID}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.s.UpdateMedication(ctx, stopped.ID, func(m *care.Medication) error { m.IsActive = false; return nil }); err != nil {
			t.Fatal(err)
		}
		from, to := at(2, 0), at(3, 0)
		meds, logs, err := w.s.ActiveMedicationsWithDoseLogs(ctx, w.cr.ID, from, to)
		if err != nil {
			t.Fatal(err)
		}
		wantMeds, err := w.s.Medications(ctx, w.cr.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		all, err := w.s.CareRecipientDoseLogs(ctx, w.cr.ID, from, to)
		if err != nil {
			t.Fatal(err)
		}
		wantLogs := map[string][]care.MedicationLog{}
		for _, l := range all {
			if l.MedicationID != stopped.ID {
				wantLogs[l.MedicationID] = append(wantLogs[l.MedicationID], l)
			}
		}
		if len(meds) != 3 || !reflect.DeepEqual(meds, wantMeds) {
			t.Fatalf("medications = %+v\nwant %+v", meds, wantMeds)
		}
		if len(logs[b.ID]) != 2 || len(logs[a.ID]) != 1 || !reflect.DeepEqual(logs, wantLogs) {
			t.Fatalf("logs = %+v\nwant %+v", logs, wantLogs)
		}
		if logs[b.ID][0].Status != care.DoseSkipped || logs[b.ID][0].GivenBy == nil || logs[b.ID][0].GivenBy.ID != w.admin.ID {
			t.Fatalf("first log of B = %+v", logs[b.ID][0])
		}
	})
}
