package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// BenchmarkDispatch measures events per second through the dispatcher in
// process: b.N events of 50 families are committed first (not timed), then
// dispatched to one or three consumers that do nothing, so the figure is the
// dispatcher's own cost — reading the outbox, recording each consumer's
// delivery and marking the events dispatched.
//
//	go test -run '^$' -bench Dispatch -benchtime 5000x ./internal/outbox/
//	CARECIRCLE_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	  go test -run '^$' -bench Dispatch -benchtime 5000x ./internal/outbox/
func BenchmarkDispatch(b *testing.B) {
	for _, backend := range storetest.Backends() {
		for _, consumers := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/consumers=%d", backend.Name, consumers), func(b *testing.B) {
				clk := clock.Real{}
				st := backend.Open(b, clk)
				var cs []outbox.Consumer
				for i := range consumers {
					cs = append(cs, outbox.ConsumerFunc{ConsumerName: fmt.Sprint("noop-", i),
						Fn: func(context.Context, events.Event) error { return nil }})
				}
				d := outbox.New(st, clk, quiet(), outbox.Options{}, cs...)
				appendEvents(b, st, clk, b.N, 50)
				ctx := context.Background()
				b.ResetTimer()
				drain(b, ctx, d)
				b.StopTimer()
				if p, err := st.PendingEvents(ctx, 1); err != nil || len(p) != 0 {
					b.Fatalf("%d events left pending (%v)", len(p), err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// drain dispatches until the outbox is empty.
func drain(b *testing.B, ctx context.Context, d *outbox.Dispatcher) {
	for {
		n, err := d.DispatchOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// appendEvents commits n events spread over families, in batches of 100
// per transaction.
func appendEvents(b *testing.B, st *store.Store, clk clock.Clock, n, families int) {
	b.Helper()
	ctx := context.Background()
	for done := 0; done < n; {
		err := st.Atomically(ctx, func(ctx context.Context) error {
			for i := 0; i < 100 && done+i < n; i++ {
				e, err := events.NewEvent(clk, "medication.logged", map[string]int{"seq": done + i})
				if err != nil {
					return err
				}
				e.FamilyID = fmt.Sprintf("0190f0a0-0000-7000-8000-%012d", (done+i)%families)
				env, err := json.Marshal(e)
				if err != nil {
					return err
				}
				if err := st.AppendEvent(ctx, store.OutboxEvent{ID: e.ID, Type: e.Type, FamilyID: e.FamilyID, Envelope: env}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += 100
	}
}
