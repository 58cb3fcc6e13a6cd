package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// recorder is a consumer that remembers what it took and fails on demand.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []string
	fail map[string]int // event id → failures still to return
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Handle(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[e.ID] > 0 {
		r.fail[e.ID]--
		return errors.New("not now")
	}
	r.got = append(r.got, e.ID)
	return nil
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func appendEvent(t *testing.T, ctx context.Context, st *store.Store, clk clock.Clock, typ, family string) string {
	t.Helper()
	e, err := events.NewEvent(clk, typ, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	e.FamilyID = family
	env, _ := json.Marshal(e)
	if err := st.AppendEvent(ctx, store.OutboxEvent{ID: e.ID, Type: e.Type, FamilyID: family, Envelope: env}); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

const (
	famA = "0190f0a0-0000-7000-8000-00000000000a"
	famB = "0190f0a0-0000-7000-8000-00000000000b"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestAtomicallyCommitsEventsWithTheChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		var kicks int
		st.OnEventsCommitted(func() { kicks++ })

		boom := errors.New("boom")
		err := st.Atomically(ctx, func(ctx context.Context) error {
			appendEvent(t, ctx, st, clk, "medication.logged", famA)
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 || kicks != 0 {
			t.Fatalf("rolled back event visible: %d pending, %d kicks", len(p), kicks)
		}
		var id string
		if err := st.Atomically(ctx, func(ctx context.Context) error {
			id = appendEvent(t, ctx, st, clk, "medication.logged", famA)
			// Reads inside see the transaction's own writes.
			if p, err := st.PendingEvents(ctx, 10); err != nil || len(p) != 1 {
				t.Errorf("inside: %d pending, %v", len(p), err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		p, err := st.PendingEvents(ctx, 10)
		if err != nil || len(p) != 1 || p[0].ID != id || kicks != 1 {
			t.Fatalf("pending %+v err %v kicks %d", p, err, kicks)
		}
	})
}

func TestDispatcherDeliversOnceInOrderAndRetries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		a := &recorder{name: "a", fail: map[string]int{}}
		b := &recorder{name: "b", fail: map[string]int{}}
		d := outbox.New(st, clk, quiet(), outbox.Options{MaxAttempts: 3}, a, b)

		a1 := appendEvent(t, ctx, st, clk, "timeline.entry.created", famA)
		a2 := appendEvent(t, ctx, st, clk, "timeline.entry.created", famA)
		b1 := appendEvent(t, ctx, st, clk, "timeline.entry.created", famB)
		b.fail[a1] = 1 // b fails a1 once: a2 waits for it, famB does not.

		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		assertIDs(t, "a", a.seen(), a1, a2, b1)
		assertIDs(t, "b", b.seen(), b1)
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 2 {
			t.Fatalf("%d pending, want a1 and a2", len(p))
		}
		// Before the backoff has passed nothing is retried.
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		assertIDs(t, "b", b.seen(), b1)
		clk.Advance(outbox.Backoff(1))
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		assertIDs(t, "b", b.seen(), b1, a1, a2)
		assertIDs(t, "a", a.seen(), a1, a2, b1) // a is not offered the events again
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 {
			t.Fatalf("%d still pending", len(p))
		}
	})
}

func TestDispatcherGivesUpAfterMaxAttempts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		c := &recorder{name: "c", fail: map[string]int{}}
		d := outbox.New(st, clk, quiet(), outbox.Options{MaxAttempts: 3}, c)
		bad := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		next := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		c.fail[bad] = 100
		for i := 1; i <= 3; i++ {
			if _, err := d.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(outbox.Backoff(i))
		}
		assertIDs(t, "c", c.seen(), next)
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 {
			t.Fatalf("%d still pending after giving up", len(p))
		}
	})
}

func TestOneDispatcherHoldsTheLease(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		ok1, tok1, err := st.AcquireLease(ctx, "x", "one", 10*time.Second)
		if err != nil || !ok1 {
			t.Fatalf("first: %v %v", ok1, err)
		}
		if ok, _, err := st.AcquireLease(ctx, "x", "two", 10*time.Second); err != nil || ok {
			t.Fatalf("second while held: %v %v", ok, err)
		}
		if ok, tok, _ := st.AcquireLease(ctx, "x", "one", 10*time.Second); !ok || tok != tok1 {
			t.Fatalf("renewal: %v token %d want %d", ok, tok, tok1)
		}
		clk.Advance(11 * time.Second)
		ok2, tok2, err := st.AcquireLease(ctx, "x", "two", 10*time.Second)
		if err != nil || !ok2 || tok2 <= tok1 {
			t.Fatalf("takeover: %v token %d (was %d) %v", ok2, tok2, tok1, err)
		}
		if ok, _, _ := st.AcquireLease(ctx, "x", "one", 10*time.Second); ok {
			t.Fatal("stale holder got the lease back")
		}
	})
}

// pausing is a consumer whose first Handle stands for a dispatcher paused
// (GC, network) past its lease: during it, pause runs, then the event is
// taken as usual.
type pausing struct {
	*recorder
	once  sync.Once
	pause func()
}

func (p *pausing) Handle(ctx context.Context, e events.Event) error {
	p.once.Do(p.pause)
	return p.recorder.Handle(ctx, e)
}

// TestPausedDispatcherCannotRecordAfterTakeover: a dispatcher paused inside a
// consumer past its lease, while another took the lease over and dispatched,
// has its record refused when it wakes and stops there; the new holder
// records and dispatches, and keeps doing so.
func TestPausedDispatcherCannotRecordAfterTakeover(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		const ttl = 15 * time.Second
		nb := &recorder{name: "c", fail: map[string]int{}}
		b := outbox.New(st, clk, quiet(), outbox.Options{LeaseTTL: ttl}, nb)
		e1 := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		e2 := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		var takeover error
		na := &pausing{recorder: &recorder{name: "c", fail: map[string]int{}}, pause: func() {
			clk.Advance(ttl + time.Second)
			_, takeover = b.DispatchOnce(ctx)
		}}
		a := outbox.New(st, clk, quiet(), outbox.Options{LeaseTTL: ttl}, na)

		_, err := a.DispatchOnce(ctx)
		if takeover != nil {
			t.Fatalf("the takeover: %v", takeover)
		}
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("the paused dispatcher: %v, want ErrLeaseLost", err)
		}
		assertIDs(t, "new holder's consumer", nb.seen(), e1, e2)
		// The paused one handed over the event it was in, then stopped.
		assertIDs(t, "paused holder's consumer", na.seen(), e1)
		ds, err := st.OutboxDeliveries(ctx, []string{e1, e2})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{e1, e2} {
			if d := ds[[2]string{"c", id}]; d == nil || !d.Done || d.Attempts != 1 {
				t.Fatalf("delivery of %s: %+v, want done once (the paused record refused)", id, d)
			}
		}
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 {
			t.Fatalf("%d pending after the new holder's pass", len(p))
		}

		// While the new holder's lease lasts the old one dispatches nothing.
		e3 := appendEvent(t, ctx, st, clk, "medication.logged", famB)
		if _, err := a.DispatchOnce(ctx); !errors.Is(err, outbox.ErrNotLeader) {
			t.Fatalf("old holder while the lease is taken: %v, want ErrNotLeader", err)
		}
		if _, err := b.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		assertIDs(t, "new holder's consumer", nb.seen(), e1, e2, e3)
		assertIDs(t, "paused holder's consumer", na.seen(), e1)
	})
}

// TestPausedRunStopsAndAcquiresAgain: a running dispatcher whose lease was
// taken over while it was paused stops dispatching, and goes back to
// acquiring: once the new holder is gone it takes the lease again, with a
// newer token, and dispatches.
func TestPausedRunStopsAndAcquiresAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const ttl = 15 * time.Second
		nb := &recorder{name: "c", fail: map[string]int{}}
		b := outbox.New(st, clk, quiet(), outbox.Options{LeaseTTL: ttl}, nb)
		e1 := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		e2 := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		handled := make(chan string, 10)
		na := &pausing{recorder: &recorder{name: "c", fail: map[string]int{}}, pause: func() {
			clk.Advance(ttl + time.Second)
			if _, err := b.DispatchOnce(ctx); err != nil {
				t.Errorf("the takeover: %v", err)
			}
		}}
		lost := make(chan struct{}, 1)
		logger := slog.New(signalHandler{msg: "outbox: lease lost, stopped dispatching", ch: lost})
		a := outbox.New(st, clk, logger, outbox.Options{LeaseTTL: ttl, Poll: time.Hour}, consumerFunc("c", func(ctx context.Context, e events.Event) error {
			err := na.Handle(ctx, e)
			handled <- e.ID
			return err
		}))
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()

		wait := func(what string, ch <-chan struct{}) {
			t.Helper()
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				t.Fatalf("no %s", what)
			}
		}
		wait("lease-lost warning", lost)
		assertIDs(t, "paused holder's consumer", na.seen(), e1)
		assertIDs(t, "new holder's consumer", nb.seen(), e1, e2)

		// The new holder stops; past its lease the old one takes over.
		e3 := appendEvent(t, ctx, st, clk, "medication.logged", famB)
		clk.Advance(ttl + time.Second)
		a.Kick()
		for got := ""; got != e3; {
			select {
			case got = <-handled:
			case <-time.After(10 * time.Second):
				t.Fatal("the old holder did not take the lease again")
			}
		}
		assertIDs(t, "paused holder's consumer", na.seen(), e1, e3)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// consumerFunc is a consumer named name that calls fn.
func consumerFunc(name string, fn func(context.Context, events.Event) error) outbox.Consumer {
	return outbox.ConsumerFunc{ConsumerName: name, Fn: fn}
}

// signalHandler is a log handler that signals ch for every record with msg.
type signalHandler struct {
	msg string
	ch  chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

func assertIDs(t *testing.T, name string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s got %v, want %v", name, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s got %v, want %v", name, got, want)
		}
	}
}

// batcher is a batch consumer: it takes each pass's events in one call,
// failing some on demand, or all of them as unavailable.
type batcher struct {
	recorder
	calls       [][]string
	unavailable bool
}

func (b *batcher) HandleBatch(ctx context.Context, es []events.Event) []error {
	errs := make([]error, len(es))
	var ids []string
	for i, e := range es {
		ids = append(ids, e.ID)
		if b.unavailable {
			errs[i] = fmt.Errorf("broker away: %w", outbox.ErrUnavailable)
			continue
		}
		errs[i] = b.Handle(ctx, e)
	}
	b.calls = append(b.calls, ids)
	return errs
}

// TestDispatcherHandsBatchConsumersABatch: a batch consumer gets every
// pending event in one call, beside a consumer taking them one at a time;
// a family behind a failed event is held back on the next pass until the
// retry; an unavailable consumer is offered the events again on every pass
// without an attempt being counted, so it never gives them up.
func TestDispatcherHandsBatchConsumersABatch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		b := &batcher{recorder: recorder{name: "broker", fail: map[string]int{}}}
		one := &recorder{name: "one", fail: map[string]int{}}
		d := outbox.New(st, clk, quiet(), outbox.Options{MaxAttempts: 2}, b, one)

		b.unavailable = true
		a1 := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		a2 := appendEvent(t, ctx, st, clk, "medication.logged", famA)
		b1 := appendEvent(t, ctx, st, clk, "medication.logged", famB)
		for range 3 { // more passes than MaxAttempts
			if _, err := d.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(b.calls) != 3 || len(b.calls[2]) != 3 {
			t.Fatalf("calls %v, want every event offered on each of 3 passes", b.calls)
		}
		if ds, _ := st.OutboxDeliveries(ctx, []string{a1}); ds[[2]string{"broker", a1}] != nil {
			t.Fatalf("an unavailable consumer's attempt was recorded: %+v", ds[[2]string{"broker", a1}])
		}
		assertIDs(t, "one", one.seen(), a1, a2, b1)

		b.unavailable, b.calls = false, nil
		b.fail[a1] = 1
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(b.calls) != 1 || len(b.calls[0]) != 3 {
			t.Fatalf("calls %v, want the three events in one call", b.calls)
		}
		// a2 went out in the same call as a1: a batch keeps a family's order
		// within the call, and a1 alone is retried.
		assertIDs(t, "broker", b.seen(), a2, b1)
		// a1 waits for its retry, and a2 (taken already) is not offered again.
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(b.calls) != 1 {
			t.Fatalf("calls %v before the backoff passed", b.calls)
		}
		clk.Advance(outbox.Backoff(1))
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(b.calls) != 2 || len(b.calls[1]) != 1 || b.calls[1][0] != a1 {
			t.Fatalf("calls %v, want a1 alone on retry", b.calls)
		}
		if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 {
			t.Fatalf("%d still pending", len(p))
		}
	})
}
