package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
)

// recordTimeout bounds one attempt at recording deliveries after the
// consumer has handled them; recordRetry is the longest wait between
// attempts.
const (
	recordTimeout = 5 * time.Second
	recordRetry   = 2 * time.Second
)

// FanInOptions configure a RabbitFanIn.
type FanInOptions struct {
	// ConsumerOptions reach the broker and set the failure policy: a
	// message that cannot be decoded, an error wrapping outbox.ErrPermanent,
	// a panic, or an error still returned after Attempts tries (Retry apart)
	// sends the event to the consumer's dead-letter queue. Its topology must
	// list every local consumer.
	events.ConsumerOptions
	// Store records, per consumer and event id, what was taken (the table
	// the dispatcher keeps its own deliveries in), so an event the broker
	// delivers again is not handed over again.
	Store *store.Store
}

// RabbitFanIn hands the events in each local consumer's durable queue
// (prefix.<consumer name>, bound to the domain exchange with "#") to that
// consumer, one at a time in queue order, acknowledging each once handled.
// Each consumer has a connection of its own, reconnecting with backoff when
// the broker goes away; what was not yet acknowledged comes again and is
// dropped if the consumer has already taken it.
type RabbitFanIn struct {
	consumer *events.Consumer
	store    *store.Store
	local    []outbox.Consumer
	log      *slog.Logger
	// handed counts, per local consumer, the events handed over.
	handed map[string]*atomic.Int64
}

// NewRabbitFanIn checks opts and returns a fan-in for the local consumers;
// Run connects.
func NewRabbitFanIn(opts FanInOptions, local ...outbox.Consumer) (*RabbitFanIn, error) {
	if opts.Store == nil {
		return nil, errors.New("bus: fan-in needs a store to record deliveries")
	}
	for i, c := range local {
		if !slices.Contains(opts.Topology.Consumers, c.Name()) {
			return nil, fmt.Errorf("bus: consumer %q is not in the topology", c.Name())
		}
		if slices.ContainsFunc(local[:i], func(o outbox.Consumer) bool { return o.Name() == c.Name() }) {
			return nil, fmt.Errorf("bus: consumer %q listed twice", c.Name())
		}
	}
	consumer, err := events.NewConsumer(opts.ConsumerOptions)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	handed := make(map[string]*atomic.Int64, len(local))
	for _, c := range local {
		handed[c.Name()] = new(atomic.Int64)
	}
	return &RabbitFanIn{consumer: consumer, store: opts.Store, local: local, handed: handed,
		log: log.With(slog.String("component", "bus.fanin"))}, nil
}

// Taken reports, per local consumer, how many events it has been handed
// since start (repeats the broker delivered again are not counted).
func (f *RabbitFanIn) Taken() map[string]int64 {
	out := make(map[string]int64, len(f.handed))
	for name, n := range f.handed {
		out[name] = n.Load()
	}
	return out
}

// Run consumes every local consumer's queue until ctx ends, then returns
// once each has stopped; messages being handled then go back to the queue.
func (f *RabbitFanIn) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(f.local))
	for i, c := range f.local {
		wg.Go(func() { errs[i] = f.consumer.ConsumeBatches(ctx, c.Name(), f.handler(c)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// handler hands c, in order, each event of a batch it has not taken yet,
// then records what it took: one read and one write for the whole batch.
// On a failure it records what was taken before it and stops there. The
// batch is acknowledged only once its record is written: while the
// database is away the record is retried, and the messages wait.
func (f *RabbitFanIn) handler(c outbox.Consumer) events.BatchHandler {
	name := c.Name()
	return func(ctx context.Context, es []events.Event) (int, error) {
		taken := f.taken(ctx, name, es)
		var handed []string
		for i, e := range es {
			if taken[e.ID] {
				continue
			}
			if err := outbox.SafeHandle(ctx, c, e); err != nil {
				if rerr := f.record(ctx, name, handed); rerr != nil {
					return 0, rerr
				}
				if errors.Is(err, outbox.ErrPermanent) {
					return i, events.Permanent(err)
				}
				return i, err
			}
			// A repeat later in the same batch is not handed over again.
			taken[e.ID] = true
			handed = append(handed, e.ID)
			f.handed[name].Add(1)
		}
		if err := f.record(ctx, name, handed); err != nil {
			return 0, err
		}
		return len(es), nil
	}
}

// record notes that consumer has taken ids, trying again (up to
// recordRetry apart) for as long as the database refuses, until it is
// written or ctx ends. Unrecorded, the batch is not acknowledged: its
// messages come again and the events are handed over again, which an
// idempotent consumer absorbs, rather than taken with nothing to show it.
func (f *RabbitFanIn) record(ctx context.Context, consumer string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		err := f.store.MarkDeliveredMany(rctx, consumer, ids)
		cancel()
		if err == nil {
			if attempt > 1 {
				f.log.InfoContext(ctx, "deliveries recorded", slog.String("consumer", consumer),
					slog.Int("events", len(ids)), slog.Int("attempts", attempt))
			}
			return nil
		}
		if attempt == 1 {
			f.log.WarnContext(ctx, "record deliveries; retrying", slog.String("consumer", consumer),
				slog.Int("events", len(ids)), slog.Any("error", err))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("bus: record deliveries of %s: %w", consumer, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, recordRetry)
	}
}

// taken reports which of es consumer has already handled. When the records
// cannot be read every event is handed over: at least once matters more
// than at most once.
func (f *RabbitFanIn) taken(ctx context.Context, consumer string, es []events.Event) map[string]bool {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	out := make(map[string]bool, len(es))
	done, err := f.store.OutboxDeliveries(ctx, ids)
	if err != nil {
		f.log.WarnContext(ctx, "read deliveries", slog.String("consumer", consumer),
			slog.Int("events", len(ids)), slog.Any("error", err))
		return out
	}
	for _, id := range ids {
		if d := done[[2]string{consumer, id}]; d != nil && d.Done {
			out[id] = true
		}
	}
	return out
}
