package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/carecircle/carecircle/internal/bus"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// BenchmarkDispatchOverRabbitMQ measures events per second from the outbox
// through the broker: b.N events of 50 families are committed first (not
// timed), then the dispatcher hands them to the forwarder, which publishes
// each batch the dispatcher reads and waits for the confirms together.
// "forward" stops there; "forward-one-at-a-time" offers the forwarder one
// event at a time, waiting for each confirm before the next publish (how
// the dispatcher drove it before batches); "fan-in" runs until each of three
// local consumers that do nothing has taken every event from its own queue
// (each take read and recorded in the database, as the app does).
//
//	CARECIRCLE_TEST_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/ \
//	CARECIRCLE_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	  go test -run '^$' -bench DispatchOverRabbitMQ -benchtime 3000x ./internal/bus/
func BenchmarkDispatchOverRabbitMQ(b *testing.B) {
	brokerURL := rabbitURL(b)
	for _, backend := range storetest.Backends() {
		for _, mode := range []string{"forward-one-at-a-time", "forward", "fan-in"} {
			fanIn := mode == "fan-in"
			b.Run(backend.Name+"/"+mode, func(b *testing.B) {
				clk := clock.Real{}
				st := backend.Open(b, clk)
				var local []*counted
				var consumers []outbox.Consumer
				for i := range 3 {
					c := &counted{Consumer: outbox.ConsumerFunc{ConsumerName: fmt.Sprint("noop-", i),
						Fn: func(context.Context, events.Event) error { return nil }}}
					local = append(local, c)
					consumers = append(consumers, c)
				}
				top := newTopology(b, names(consumers)...)
				conn := connOptions(b, brokerURL, top)
				conn.Logger = nil
				pub := startPublisher(b, conn)
				ctx := context.Background()
				if err := pub.WaitConnected(ctx); err != nil {
					b.Fatal(err)
				}
				var fwd outbox.Consumer = bus.NewRabbitForwarder(pub, bus.ForwarderOptions{})
				if mode == "forward-one-at-a-time" {
					fwd = oneAtATime{fwd}
				}
				d := outbox.New(st, clk, slog.New(slog.DiscardHandler), outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts}, fwd)
				appendEvents(b, st, clk, b.N, 50)
				if fanIn {
					startFanIn(b, bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: conn}, Store: st}, consumers...)
				}
				b.ResetTimer()
				for {
					n, err := d.DispatchOnce(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						break
					}
				}
				if fanIn {
					for _, c := range local {
						waitFor(b, c.reached(b.N), c.Name()+" to take every event")
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// oneAtATime hides a consumer's HandleBatch, so the dispatcher hands it one
// event at a time.
type oneAtATime struct{ c outbox.Consumer }

func (o oneAtATime) Name() string { return o.c.Name() }

func (o oneAtATime) Handle(ctx context.Context, e events.Event) error { return o.c.Handle(ctx, e) }
