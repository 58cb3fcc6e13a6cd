package events

import (
	"context"
	"fmt"
	"log/slog"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Handler processes one event. Returning nil acknowledges it; an error marked
// with Permanent dead-letters it at once; any other error is retried. The
// same event may arrive more than once, so handlers must be idempotent (by
// the event's id).
type Handler func(ctx context.Context, e Event) error

// ConsumerOptions configure a Consumer.
type ConsumerOptions struct {
	ConnOptions
	// Prefetch is how many unacknowledged messages the broker sends ahead;
	// zero means 32.
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
		opts.Prefetch = 32
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
func (c *Consumer) consumeSession(ctx context.Context, log *slog.Logger, consumer string, h Handler) (connected bool, err error) {
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
			if err := c.handle(ctx, log, h, d); err != nil {
				return true, err
			}
		}
	}
}

// handle runs h on one delivery and settles it; an error means the channel
// can no longer settle messages.
func (c *Consumer) handle(ctx context.Context, log *slog.Logger, h Handler, d amqp.Delivery) error {
	e, err := DecodeEvent(d.Body)
	if err != nil {
		log.ErrorContext(ctx, "undecodable message dead-lettered", slog.String("message_id", d.MessageId),
			slog.String("routing_key", d.RoutingKey), slog.Any("error", err))
		return settle(d.Reject(false))
	}
	attrs := []any{slog.String("event_id", e.ID), slog.String("type", e.Type)}
	for attempt := 1; ; attempt++ {
		err := callHandler(ctx, h, e)
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

// callHandler runs h, turning a panic into a permanent failure so that one
// bad event cannot take the consumer down.
func callHandler(ctx context.Context, h Handler, e Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("handler panicked: %v", r))
		}
	}()
	return h(ctx, e)
}

func settle(err error) error {
	if err != nil {
		return fmt.Errorf("events: settle message: %w", err)
	}
	return nil
}
