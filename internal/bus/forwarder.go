// Package bus carries the outbox's domain events over RabbitMQ when it is
// enabled. The outbox dispatcher then has one consumer, the RabbitForwarder,
// which publishes every committed event with publisher confirms; each local
// consumer (notification channels, realtime, audit) reads its own durable
// queue through a RabbitFanIn instead of hanging off the dispatcher. Without
// RabbitMQ the local consumers are the dispatcher's consumers and this
// package is not used.
//
// It sits between internal/outbox (which imports internal/events) and
// internal/events, so that neither has to know the other's consumer shape.
package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
)

// ForwarderName is the forwarder's consumer name in the outbox's delivery
// records.
const ForwarderName = "rabbitmq"

// ForwarderMaxAttempts is the dispatcher's MaxAttempts when the forwarder is
// its consumer: high enough that a broker outage of any length never makes
// the dispatcher give up on an event, which would lose it for every consumer
// behind the broker. Only an event that can never be published (an invalid
// envelope) is given up, at once.
const ForwarderMaxAttempts = 1 << 30

// ErrBrokerUnavailable reports that the forwarder has no connection to the
// broker; the dispatcher keeps the event and retries it with backoff.
var ErrBrokerUnavailable = errors.New("bus: broker unavailable")

// ForwarderOptions tune a RabbitForwarder; zero values take the defaults.
type ForwarderOptions struct {
	// ConnectWait is how long Handle waits for a connection when the broker
	// is not yet known to be away (at start, or just after it left).
	// Default 5 s.
	ConnectWait time.Duration
	// Timeout bounds the publishing of one event, both confirms included.
	// Default 10 s.
	Timeout time.Duration
}

// RabbitForwarder is the outbox consumer that hands every event to the
// broker: to the domain exchange under its type and to the audit fanout
// exchange, each a persistent message the broker confirms. Handle returns
// only once both are confirmed, and an error otherwise, so the dispatcher
// keeps the event and retries it. The broker may receive an event twice
// (after a lost confirm or a retry); the fan-in drops repeats by event id.
type RabbitForwarder struct {
	pub  *events.Publisher
	opts ForwarderOptions
	// away records that the last wait for a connection timed out: until the
	// publisher reconnects, Handle fails at once instead of waiting again for
	// every family's next event.
	away atomic.Bool
}

// NewRabbitForwarder returns a forwarder publishing through pub, whose
// topology must list every consumer that reads the events so that their
// queues exist before the first event is published.
func NewRabbitForwarder(pub *events.Publisher, opts ForwarderOptions) *RabbitForwarder {
	if opts.ConnectWait <= 0 {
		opts.ConnectWait = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	return &RabbitForwarder{pub: pub, opts: opts}
}

// Name returns ForwarderName.
func (f *RabbitForwarder) Name() string { return ForwarderName }

// Handle publishes e to the domain and audit exchanges and waits for both
// confirms.
func (f *RabbitForwarder) Handle(ctx context.Context, e events.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
	}
	if err := f.connected(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	var auditErr error
	wg.Go(func() { auditErr = f.pub.PublishAudit(ctx, e) })
	err := f.pub.Publish(ctx, e)
	wg.Wait()
	if err = errors.Join(err, auditErr); err != nil {
		return fmt.Errorf("bus: forward %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// connected waits for the publisher's connection, unless the broker is
// already known to be away.
func (f *RabbitForwarder) connected(ctx context.Context) error {
	if f.pub.Connected() {
		f.away.Store(false)
		return nil
	}
	if f.away.Load() {
		return ErrBrokerUnavailable
	}
	wctx, cancel := context.WithTimeout(ctx, f.opts.ConnectWait)
	defer cancel()
	if err := f.pub.WaitConnected(wctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.away.Store(true)
		return fmt.Errorf("%w: %w", ErrBrokerUnavailable, err)
	}
	f.away.Store(false)
	return nil
}
