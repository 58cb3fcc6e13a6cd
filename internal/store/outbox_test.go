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

// acquire takes the lease name for holder or fails the test.
func acquire(t *testing.T, st *store.Store, name, holder string) store.Lease {
	t.Helper()
	ok, token, err := st.AcquireLease(context.Background(), name, holder, 10*time.Second)
	if err != nil || !ok {
		t.Fatalf("acquire %s for %s: %v %v", name, holder, ok, err)
	}
	return store.Lease{Name: name, Holder: holder, Token: token}
}

// TestOutboxWritesNeedTheLease: every write the dispatcher makes under its
// lease is refused, changing nothing, once the lease has expired and again
// once another holder has taken it over; the new holder's writes go through.
func TestOutboxWritesNeedTheLease(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		id := uuid.NewString()
		if err := st.AppendEvent(ctx, store.OutboxEvent{ID: id, Type: "medication.logged", Envelope: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		pending, err := st.PendingEvents(ctx, 10)
		if err != nil || len(pending) != 1 {
			t.Fatalf("pending %v %v", pending, err)
		}
		seq := pending[0].Seq

		old := acquire(t, st, "outbox", "one")
		clk.Advance(11 * time.Second)
		// Expired, not yet taken over: already refused.
		if err := st.MarkDeliveredUnder(ctx, old, "c", id, false, nil); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("record under an expired lease: %v", err)
		}
		neu := acquire(t, st, "outbox", "two")
		if neu.Token <= old.Token {
			t.Fatalf("takeover token %d, was %d", neu.Token, old.Token)
		}
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("%s by the old holder: %v, want ErrLeaseLost", what, err)
			}
		}
		refused("mark delivered", st.MarkDeliveredUnder(ctx, old, "c", id, false, nil))
		refused("mark delivered in a batch", st.MarkDeliveredManyUnder(ctx, old, "c", []string{id}))
		_, err = st.RecordDeliveryFailure(ctx, old, "c", id, "boom", clk.Now().Add(time.Minute))
		refused("record failure", err)
		refused("mark dispatched", st.MarkDispatched(ctx, old, []int64{seq}))
		if ds, _ := st.OutboxDeliveries(ctx, []string{id}); len(ds) != 0 {
			t.Fatalf("refused writes left deliveries %+v", ds[[2]string{"c", id}])
		}
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 1 {
			t.Fatalf("%d pending after a refused mark, want 1", len(p))
		}

		// The new holder records a failure, then the delivery, then dispatches.
		if n, err := st.RecordDeliveryFailure(ctx, neu, "c", id, "boom", clk.Now()); err != nil || n != 1 {
			t.Fatalf("new holder's failure: %d %v", n, err)
		}
		if err := st.MarkDeliveredUnder(ctx, neu, "c", id, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkDispatched(ctx, neu, []int64{seq}); err != nil {
			t.Fatal(err)
		}
		ds, _ := st.OutboxDeliveries(ctx, []string{id})
		if d := ds[[2]string{"c", id}]; d == nil || !d.Done || d.Attempts != 2 {
			t.Fatalf("delivery %+v, want done after 2 attempts", d)
		}
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 {
			t.Fatalf("%d pending after dispatch", len(p))
		}

		// Pruning: refused for the old holder, done by the new one.
		clk.Advance(time.Second)
		neu = acquire(t, st, "outbox", "two")
		_, err = st.PruneOutbox(ctx, old, clk.Now())
		refused("prune", err)
		if ds, _ := st.OutboxDeliveries(ctx, []string{id}); len(ds) != 1 {
			t.Fatal("a refused prune deleted the delivery")
		}
		if n, err := st.PruneOutbox(ctx, neu, clk.Now()); err != nil || n != 1 {
			t.Fatalf("prune by the holder: %d %v", n, err)
		}
		if ds, _ := st.OutboxDeliveries(ctx, []string{id}); len(ds) != 0 {
			t.Fatal("prune left the delivery")
		}
	})
}

// TestReleasedLeaseKeepsItsToken: a lease given up is free at once, its
// holder's writes are refused, and the next holder's token is still greater.
func TestReleasedLeaseKeepsItsToken(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		one := acquire(t, st, "x", "one")
		if err := st.ReleaseLease(ctx, "x", "two"); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := st.AcquireLease(ctx, "x", "two", 10*time.Second); ok {
			t.Fatal("a release by a non-holder freed the lease")
		}
		if err := st.ReleaseLease(ctx, "x", "one"); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkDispatched(ctx, one, []int64{1}); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("write under a released lease: %v", err)
		}
		two := acquire(t, st, "x", "two")
		if two.Token <= one.Token {
			t.Fatalf("token after release %d, was %d", two.Token, one.Token)
		}
	})
}

// TestMarkDeliveredMany records a batch of takes in one statement, whether
// or not the outbox still holds the events, and a repeat keeps them done.
func TestMarkDeliveredMany(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		kept := uuid.NewString()
		if err := st.AppendEvent(ctx, store.OutboxEvent{ID: kept, Type: "medication.logged", Envelope: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		gone := uuid.NewString() // pruned from the outbox already
		for range 2 {
			if err := st.MarkDeliveredMany(ctx, "realtime", []string{kept, gone}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := st.OutboxDeliveries(ctx, []string{kept, gone})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{kept, gone} {
			if d := ds[[2]string{"realtime", id}]; d == nil || !d.Done || d.GaveUp || d.Attempts != 2 {
				t.Errorf("delivery of %s: %+v, want done after 2 takes", id, d)
			}
		}
		if d := ds[[2]string{"channels", kept}]; d != nil {
			t.Errorf("another consumer's delivery recorded: %+v", d)
		}
	})
}
