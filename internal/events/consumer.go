package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Handler processes one event. Returning nil acknowledges it; an error marked
// with Permanent dead-letters it at once; any other error is retried. The
// same event may arrive more than once, so handlers must be idempotent (by
// the event's id).
type Handler func(ctx context.Context, e Event) error

// BatchHandler processes the events the broker has sent ahead, in queue
// order, in one call (so that what it reads and records about them costs one
// round trip, not one each). It returns how many it finished, from the
// first: those are acknowledged together. When err is not nil, es[done]
// failed with err; that event then gets the consumer's failure policy on its
// own (retried alone, or dead-lettered), and the events after it come again
// in a later call.
type BatchHandler func(ctx context.Context, es []Event) (done int, err error)

// ConsumerOptions configure a Consumer.
type ConsumerOptions struct {
	ConnOptions
	// Prefetch is how many unacknowledged messages the broker sends ahead;
	// zero means 128. It is also the largest batch ConsumeBatches hands over.
	Prefetch int
	// Attempts is how many times a handler that keeps failing with ordinary
	// errors is called for one message before the message is dead-lettered;
	// zero means 5.
	Attempts int
	// Retry is the wait between those attempts; the zero value means
	// 100 ms doubling up to 5 s with 20% jitter.
	Retry Backoff
}

// Consumer reads the domain events of named consumers from their queues.
//
// Failure policy: RabbitMQ's classic queues do not count redeliveries, so a
// message that always fails would otherwise come back forever. The consumer
// therefore settles every message itself: a body that is not a valid
// envelope, a handler error marked Permanent, a handler panic, and an error
// still returned after Attempts local tries (waiting Retry between them) are
// all rejected without requeue, which the broker routes through the DLX to
// the consumer's dead-letter queue, where they wait to be inspected and
// replayed. Messages behind them carry on. Only when the consumer is shutting
// down is an unfinished message requeued, for the next consumer to take.
type Consumer struct {
	opts ConsumerOptions
	log  *slog.Logger
}

// NewConsumer checks opts and returns a consumer; Consume connects.
func NewConsumer(opts ConsumerOptions) (*Consumer, error) {
	conn, err := opts.ConnOptions.withDefaults("consumer")
	if err != nil {
		return nil, err
	}
	opts.ConnOptions = conn
	if opts.Prefetch <= 0 {
		opts.Prefetch = 128
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	opts.Retry = opts.Retry.withDefaults(defaultRetry)
	return &Consumer{opts: opts, log: opts.Logger.With(slog.String("component", "events.consumer"))}, nil
}

// Consume delivers the events in consumer's queue to h, one at a time in
// queue order, until ctx ends; it then returns nil. It connects on its own
// connection, declares the exchanges and the consumer's queues, and
// reconnects with backoff whenever the connection drops; messages not yet
// acknowledged then come again. consumer must be listed in the topology.
func (c *Consumer) Consume(ctx context.Context, consumer string, h Handler) error {
	if h == nil {
		return fmt.Errorf("events: consumer %q has no handler", consumer)
	}
	return c.ConsumeBatches(ctx, consumer, func(ctx context.Context, es []Event) (int, error) {
		for i, e := range es {
			if err := callOne(ctx, h, e); err != nil {
				return i, err
			}
		}
		return len(es), nil
	})
}

// ConsumeBatches is Consume for a handler that takes, in one call, every
// message the broker has already sent ahead (up to Prefetch): a busy queue
// is worked in batches, a quiet one a message at a time, with no waiting
// for a batch to fill.
func (c *Consumer) ConsumeBatches(ctx context.Context, consumer string, h BatchHandler) error {
	if !c.opts.Topology.hasConsumer(consumer) {
		return fmt.Errorf("events: consumer %q is not in the topology", consumer)
	}
	if h == nil {
		return fmt.Errorf("events: consumer %q has no handler", consumer)
	}
	log := c.log.With(slog.String("consumer", consumer))
	for attempt := 0; ; {
		connected, err := c.consumeSession(ctx, log, consumer, h)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			attempt = 0
		}
		delay := c.opts.Reconnect.Delay(attempt)
		log.WarnContext(ctx, "broker connection lost; reconnecting", slog.Int("attempt", attempt+1),
			slog.Duration("retry_in", delay), slog.Any("error", err))
		attempt++
		if c.opts.Sleep(ctx, delay) != nil {
			return nil
		}
	}
}

// consumeSession runs one connection until it fails or ctx ends. connected
// reports that it got as far as receiving messages.
func (c *Consumer) consumeSession(ctx context.Context, log *slog.Logger, consumer string, h BatchHandler) (connected bool, err error) {
	conn, err := c.opts.dial(ctx)
	if err != nil {
		return false, err
	}
	// Closing the connection returns every unacknowledged message to the queue.
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("events: open channel: %w", err)
	}
	t := c.opts.Topology
	if err := t.declareExchanges(ch); err != nil {
		return false, err
	}
	if err := t.declareConsumer(ch, consumer); err != nil {
		return false, err
	}
	if err := ch.Qos(c.opts.Prefetch, 0, false); err != nil {
		return false, fmt.Errorf("events: set prefetch: %w", err)
	}
	deliveries, err := ch.Consume(t.Queue(consumer), "", false, false, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("events: consume %s: %w", t.Queue(consumer), err)
	}
	log.InfoContext(ctx, "consuming", slog.String("queue", t.Queue(consumer)))
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case d, ok := <-deliveries:
			if !ok {
				select {
				case cause := <-closed:
					return true, fmt.Errorf("events: connection closed: %w", cause)
				default:
					return true, fmt.Errorf("events: delivery channel closed: %w", amqp.ErrClosed)
				}
			}
			batch := drain(deliveries, d, c.opts.Prefetch)
			if err := c.handleBatch(ctx, log, h, batch); err != nil {
				return true, err
			}
		}
	}
}

// drain returns first with the deliveries already waiting behind it, up to
// max in all, without waiting for more.
func drain(deliveries <-chan amqp.Delivery, first amqp.Delivery, max int) []amqp.Delivery {
	batch := []amqp.Delivery{first}
	// The library hands deliveries over one at a time from a goroutine of
	// its own: yielding lets it offer the next one already received, so a
	// backlog comes out in batches. A few empty yields in a row mean nothing
	// more is waiting.
	for idle := 0; len(batch) < max && idle < 3; {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return batch
			}
			batch = append(batch, d)
			idle = 0
		default:
			runtime.Gosched()
			idle++
		}
	}
	return batch
}

// handleBatch runs h on ds and settles every one of them; an error means the
// channel can no longer settle messages. Each body is decoded once; a run of
// decodable messages goes to h in one call.
func (c *Consumer) handleBatch(ctx context.Context, log *slog.Logger, h BatchHandler, ds []amqp.Delivery) error {
	evs := make([]Event, len(ds))
	bad := make([]error, len(ds))
	for i, d := range ds {
		evs[i], bad[i] = DecodeEvent(d.Body)
	}
	for i := 0; i < len(ds); {
		if ctx.Err() != nil {
			// Shutting down: what is left goes back to the queue with the
			// connection.
			return nil
		}
		if bad[i] != nil {
			log.ErrorContext(ctx, "undecodable message dead-lettered", slog.String("message_id", ds[i].MessageId),
				slog.String("routing_key", ds[i].RoutingKey), slog.Any("error", bad[i]))
			if err := settle(ds[i].Reject(false)); err != nil {
				return err
			}
			i++
			continue
		}
		end := i
		for end < len(ds) && bad[end] == nil {
			end++
		}
		done, err := callHandler(ctx, h, evs[i:end])
		if done > 0 {
			if err := settle(ds[i+done-1].Ack(true)); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
			i = end
		case errors.Is(err, errBatchPanicked) && end-i > 1:
			// Which event panicked is unknown: take the rest one by one.
			for k := i + done; k < end; k++ {
				if err := c.handle(ctx, log, h, ds[k], evs[k], nil); err != nil {
					return err
				}
			}
			i = end
		default:
			if err := c.handle(ctx, log, h, ds[i+done], evs[i+done], err); err != nil {
				return err
			}
			i += done + 1
		}
	}
	return nil
}

// handle runs h on one delivery alone and settles it; first, when not nil,
// is the failure of the attempt already made. An error means the channel
// can no longer settle messages.
func (c *Consumer) handle(ctx context.Context, log *slog.Logger, h BatchHandler, d amqp.Delivery, e Event, first error) error {
	attrs := []any{slog.String("event_id", e.ID), slog.String("type", e.Type)}
	for attempt := 1; ; attempt++ {
		err := first
		if attempt > 1 || first == nil {
			_, err = callHandler(ctx, h, []Event{e})
		}
		switch {
		case err == nil:
			return settle(d.Ack(false))
		case ctx.Err() != nil:
			return settle(d.Nack(false, true))
		case IsPermanent(err):
			log.ErrorContext(ctx, "event failed permanently; dead-lettered", append(attrs, slog.Any("error", err))...)
			return settle(d.Nack(false, false))
		case attempt >= c.opts.Attempts:
			log.ErrorContext(ctx, "event still failing; dead-lettered",
				append(attrs, slog.Int("attempts", attempt), slog.Any("error", err))...)
			return settle(d.Nack(false, false))
		}
		delay := c.opts.Retry.Delay(attempt - 1)
		log.WarnContext(ctx, "event failed; retrying",
			append(attrs, slog.Int("attempt", attempt), slog.Duration("retry_in", delay), slog.Any("error", err))...)
		if c.opts.Sleep(ctx, delay) != nil {
			return settle(d.Nack(false, true))
		}
	}
}

// callOne runs h on e, turning a panic into a permanent failure of e.
func callOne(ctx context.Context, h Handler, e Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("%w: %v", errPanicked, r))
		}
	}()
	return h(ctx, e)
}

// errPanicked marks a handler that panicked on an event; errBatchPanicked
// one that panicked somewhere in a batch.
var (
	errPanicked      = errors.New("handler panicked")
	errBatchPanicked = errors.New("batch handler panicked")
)

// callHandler runs h on es, turning a panic into a failure of the first
// unfinished event (permanent when es holds one event) so that one bad
// event cannot take the consumer down. A handler that claims more than it
// was given finished them all.
func callHandler(ctx context.Context, h BatchHandler, es []Event) (done int, err error) {
	defer func() {
		if r := recover(); r != nil {
			done, err = 0, Permanent(fmt.Errorf("%w: %v", errBatchPanicked, r))
		}
	}()
	done, err = h(ctx, es)
	done = min(max(done, 0), len(es))
	if err == nil {
		done = len(es)
	} else if done == len(es) {
		done = len(es) - 1
	}
	return done, err
}

func settle(err error) error {
	if err != nil {
		return fmt.Errorf("events: settle message: %w", err)
	}
	return nil
}
