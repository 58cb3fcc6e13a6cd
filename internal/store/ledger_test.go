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

func newCareRecipient(t *testing.T, s *store.Store) string {
	t.Helper()
	u := newUser(t, s, "ledger@example.com")
	fam, _, err := s.CreateFamily(context.Background(), "Ledger family", u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := s.CreateCareRecipient(context.Background(), care.CareRecipient{FamilyID: fam.ID, FullName: "Pat", Timezone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	return cr.ID
}

func entry(crID, key string, fire time.Time) store.LedgerEntry {
	return store.LedgerEntry{Key: key, Kind: "MEDICATION", EntityID: crID, CareRecipientID: crID,
		OccurrenceAt: fire, FireAt: fire}
}

func TestLedgerPlanIsIdempotentAndSkipsLateEntries(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		cr := newCareRecipient(t, s)
		now := clk.Now()
		entries := []store.LedgerEntry{
			entry(cr, "a", now.Add(-20*time.Minute)), // too late
			entry(cr, "b", now.Add(-time.Minute)),    // late but within grace
			entry(cr, "c", now.Add(5*time.Minute)),
		}
		c, err := s.RecordPlan(ctx, "reminders", now.Add(10*time.Minute), entries, now.Add(-10*time.Minute))
		if err != nil || c != (store.PlanCounts{Planned: 2, Skipped: 1}) {
			t.Fatalf("first plan = %+v, %v", c, err)
		}
		c, err = s.RecordPlan(ctx, "reminders", now.Add(5*time.Minute), entries, now.Add(-10*time.Minute))
		if err != nil || c != (store.PlanCounts{Existing: 3}) {
			t.Fatalf("second plan = %+v, %v", c, err)
		}
		wm, ok, err := s.Watermark(ctx, "reminders")
		if err != nil || !ok || !wm.Equal(now.Add(10*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("watermark went backwards or missing: %v %v %v", wm, ok, err)
		}
		next, staged, err := s.NextFireTimes(ctx)
		if err != nil || next == nil || !next.Equal(now.Add(-time.Minute).Truncate(time.Microsecond)) || staged != nil {
			t.Fatalf("next fire = %v, staged %v, %v", next, staged, err)
		}
		counts, _ := s.LedgerCounts(ctx)
		if counts[store.LedgerPlanned] != 2 || counts[store.LedgerSkipped] != 1 {
			t.Fatalf("counts = %v", counts)
		}
	})
}

func TestLedgerClaimDueAndMark(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		cr := newCareRecipient(t, s)
		now := clk.Now()
		if _, err := s.RecordPlan(ctx, "reminders", now, []store.LedgerEntry{
			entry(cr, "due1", now.Add(-time.Second)), entry(cr, "due2", now), entry(cr, "later", now.Add(time.Minute)),
		}, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		var got []string
		n, err := s.ClaimDue(ctx, now, 10, func(ctx context.Context, due []store.LedgerEntry) error {
			var ups []store.LedgerUpdate
			for _, e := range due {
				got = append(got, e.Key)
				ups = append(ups, store.LedgerUpdate{Key: e.Key, Status: store.LedgerSent, Recipients: 2})
			}
			_, err := s.MarkLedgerMany(ctx, ups, store.LedgerPlanned)
			return err
		})
		if err != nil || n != 2 || len(got) != 2 || got[0] != "due1" {
			t.Fatalf("claimed %d %v, %v", n, got, err)
		}
		// Nothing more is due; a failing handler rolls back.
		if n, _ := s.ClaimDue(ctx, now, 10, nil); n != 0 {
			t.Fatalf("claimed %d more", n)
		}
		clk.Advance(time.Minute)
		boom := errors.New("boom")
		if _, err := s.ClaimDue(ctx, clk.Now(), 10, func(context.Context, []store.LedgerEntry) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		counts, _ := s.LedgerCounts(ctx)
		if counts[store.LedgerSent] != 2 || counts[store.LedgerPlanned] != 1 {
			t.Fatalf("counts = %v", counts)
		}
	})
}

// TestLedgerConcurrentPlannersNeverDuplicate runs planners at once over the
// same window: every key lands once.
func TestLedgerConcurrentPlannersNeverDuplicate(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		cr := newCareRecipient(t, s)
		now := clk.Now()
		var entries []store.LedgerEntry
		for i := 0; i < 50; i++ {
			entries = append(entries, entry(cr, "k"+string(rune('A'+i)), now.Add(time.Duration(i)*time.Second)))
		}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RecordPlan(ctx, "reminders", now.Add(time.Minute), entries, now.Add(-time.Hour)); err != nil && !errors.Is(err, store.ErrPlannerBusy) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if _, err := s.RecordPlan(ctx, "reminders", now.Add(time.Minute), entries, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		counts, _ := s.LedgerCounts(ctx)
		if counts[store.LedgerPlanned] != 50 {
			t.Fatalf("counts = %v", counts)
		}
	})
}
