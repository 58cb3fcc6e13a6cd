package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// startQueue runs a River client working the engine's jobs for the test.
func startQueue(t *testing.T, r *rig) <-chan *river.Event {
	t.Helper()
	ctx := context.Background()
	if err := Migrate(ctx, r.st); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultEngineConfig()
	r.engine = NewEngine(r.st, nil, r.clk, quietLogger(), cfg)
	rc, err := NewClient(r.st, r.engine.Workers(), ClientConfig{Work: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r.engine.SetRiver(rc)
	events, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	t.Cleanup(cancel)
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = rc.Stop(stopCtx)
	})
	return events
}

// TestRemindersThroughTheQueue delivers through River: the dispatcher
// enqueues a batch when the reminders are due and the worker delivers it,
// completing the job in the delivery's transaction.
func TestRemindersThroughTheQueue(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:55:00Z") // 07:55 EST
		r := newRig(t, open, start, "America/New_York", "08:00")
		events := startQueue(t, r)
		ctx := context.Background()
		for _, now := range []time.Time{start, mustTime("2026-01-15T13:00:00Z")} {
			r.clk.Set(now)
			if _, err := r.engine.Plan(ctx, now); err != nil {
				t.Fatal(err)
			}
			n, err := r.engine.DispatchDue(ctx, now)
			if err != nil || n != 1 {
				t.Fatalf("dispatched %d, %v; want 1", n, err)
			}
			select {
			case ev := <-events:
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job %s: %v", ev.Kind, ev.Job.Errors)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the reminder job did not complete")
			}
		}
		for _, u := range append([]*care.User{r.admin}, r.others...) {
			expectAt(t, u.Email, r.reminders(u, care.NotifyMedicationReminder), "2026-01-15T12:55:00Z", "2026-01-15T13:00:00Z")
		}
		counts, _ := r.st.LedgerCounts(ctx)
		if counts[store.LedgerSent] != 2 || counts[store.LedgerEnqueued] != 0 {
			t.Fatalf("ledger = %v", counts)
		}
	})
}
