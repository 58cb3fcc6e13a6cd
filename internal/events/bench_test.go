package events

import (
	"context"
	"testing"
)

// BenchmarkPublishConfirmed measures events per second through the broker,
// each persisted to a durable queue and confirmed: one publisher at a time,
// and many at once sharing the connection and its confirms.
//
//	CARECIRCLE_TEST_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/ \
//	  go test -run '^$' -bench PublishConfirmed ./internal/events/
func BenchmarkPublishConfirmed(b *testing.B) {
	brokerURL := rabbitURL(b)
	for _, bc := range []struct {
		name        string
		parallelism int // goroutines per GOMAXPROCS; 0 publishes serially
	}{{"serial", 0}, {"concurrent", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			top := newTopology(b, "bench")
			opts := PublisherOptions{ConnOptions: connOptions(b, brokerURL, top)}
			opts.Logger = nil
			p := startPublisher(b, opts)
			ev := testEvents(b, 1)[0]
			ctx := context.Background()
			if err := p.Publish(ctx, ev); err != nil { // connect and declare first
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if bc.parallelism == 0 {
				for range b.N {
					if err := p.Publish(ctx, ev); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(bc.parallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := p.Publish(ctx, ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
