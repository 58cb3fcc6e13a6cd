package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestOnCommitRunsAfterCommitOnly: hooks registered in a transaction run
// once it has committed, in order, and never when it rolls back; outside a
// transaction a hook runs at once.
func TestOnCommitRunsAfterCommitOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		st := open(t, clock.NewFake(t0))
		ctx := context.Background()
		var ran []string
		err := st.Atomically(ctx, func(ctx context.Context) error {
			st.OnCommit(ctx, func() { ran = append(ran, "first") })
			// A nested call joins the outer transaction and its hooks.
			if err := st.Atomically(ctx, func(ctx context.Context) error {
				st.OnCommit(ctx, func() { ran = append(ran, "second") })
				return nil
			}); err != nil {
				return err
			}
			if len(ran) != 0 {
				t.Errorf("hooks ran before commit: %v", ran)
			}
			return nil
		})
		if err != nil || len(ran) != 2 || ran[0] != "first" || ran[1] != "second" {
			t.Fatalf("after commit: %v, %v", ran, err)
		}
		ran = nil
		boom := errors.New("boom")
		err = st.Atomically(ctx, func(ctx context.Context) error {
			st.OnCommit(ctx, func() { ran = append(ran, "rolled back") })
			return boom
		})
		if !errors.Is(err, boom) || len(ran) != 0 {
			t.Fatalf("after rollback: %v, %v", ran, err)
		}
		st.OnCommit(ctx, func() { ran = append(ran, "now") })
		if len(ran) != 1 {
			t.Fatalf("without a transaction: %v", ran)
		}
	})
}

// TestEventsWakeTheDispatcherAfterCommit: an event written in any
// transaction (one event or a batch, in Atomically or in a claim of due
// reminders) wakes the dispatcher once that transaction has committed —
// once per transaction, not before commit and not on rollback.
func TestEventsWakeTheDispatcherAfterCommit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		st := open(t, clk)
		ctx := context.Background()
		woken := make(chan struct{}, 16)
		st.OnEventsCommitted(func() { woken <- struct{}{} })
		wakes := func() int {
			n := 0
			for {
				select {
				case <-woken:
					n++
				default:
					return n
				}
			}
		}
		event := func() store.OutboxEvent {
			return store.OutboxEvent{ID: uuid.NewString(), Type: "medication.logged", FamilyID: uuid.NewString(), Envelope: []byte(`{}`)}
		}

		// Outside a transaction the event has committed when AppendEvent returns.
		if err := st.AppendEvent(ctx, event()); err != nil {
			t.Fatal(err)
		}
		if n := wakes(); n != 1 {
			t.Fatalf("event without a transaction: %d wakes", n)
		}

		err := st.Atomically(ctx, func(ctx context.Context) error {
			if err := st.AppendEvent(ctx, event()); err != nil {
				return err
			}
			if err := st.AppendEvents(ctx, []store.OutboxEvent{event(), event()}); err != nil {
				return err
			}
			if n := wakes(); n != 0 {
				t.Errorf("woken %d times before commit", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := wakes(); n != 1 {
			t.Fatalf("events in a transaction: %d wakes, want 1", n)
		}

		boom := errors.New("boom")
		err = st.Atomically(ctx, func(ctx context.Context) error {
			if err := st.AppendEvents(ctx, []store.OutboxEvent{event()}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if n := wakes(); n != 0 {
			t.Fatalf("rolled back events: %d wakes", n)
		}

		// The reminder engine's claim: events written by the handler of due
		// entries wake the dispatcher when the claim commits.
		cr := newCareRecipient(t, st)
		now := clk.Now()
		if _, err := st.RecordPlan(ctx, "reminders", now, []store.LedgerEntry{entry(cr, "due", now)}, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, err := st.ClaimDue(ctx, now, 10, func(ctx context.Context, due []store.LedgerEntry) error {
			if _, err := st.MarkLedgerMany(ctx, []store.LedgerUpdate{{Key: due[0].Key, Status: store.LedgerSent}}, store.LedgerPlanned); err != nil {
				return err
			}
			return st.AppendEvents(ctx, []store.OutboxEvent{event()})
		})
		if err != nil || n != 1 {
			t.Fatalf("claim = %d, %v", n, err)
		}
		if n := wakes(); n != 1 {
			t.Fatalf("events of a claim: %d wakes, want 1", n)
		}
		pending, err := st.PendingEvents(ctx, 100)
		if err != nil || len(pending) != 5 {
			t.Fatalf("pending = %d, %v; want the 5 committed events", len(pending), err)
		}
	})
}
