package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/bus"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
)

// BusConfig selects how committed domain events reach their consumers.
type BusConfig struct {
	// RabbitEnabled carries the events over RabbitMQ (RABBITMQ_ENABLED).
	RabbitEnabled bool
	// RabbitURL is the broker's amqp:// URL (RABBITMQ_URL, or AMQP_URL).
	RabbitURL string
	// Prefix starts every exchange and queue name; empty means "carecircle".
	Prefix string
}

// eventBus is how the outbox's events reach the local consumers.
type eventBus struct {
	// dispatched are the consumers to give the outbox dispatcher, and
	// dispatch its options for them.
	dispatched []outbox.Consumer
	dispatch   outbox.Options
	// run carries events from the broker to the local consumers until ctx
	// ends; in-process it returns at once.
	run func(ctx context.Context) error
	// close lets the broker connection go; call it after the dispatcher
	// and run have returned.
	close func()
}

// fanInRetry is the wait between a local consumer's attempts at one event
// received from the broker; with fanInAttempts it gives a failing channel
// about a minute before the event goes to the consumer's dead-letter queue.
var fanInRetry = events.Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Multiplier: 2, Jitter: 0.2}

const fanInAttempts = 8

// eventConsumers decides who the outbox dispatcher hands events to. In
// process (the default) that is the local consumers themselves. With
// RabbitMQ it is a forwarder that publishes each event to the broker, which
// never gives an event up; each local consumer then reads its own queue
// through the fan-in that run drives.
func eventConsumers(cfg BusConfig, st *store.Store, logger *slog.Logger, local []outbox.Consumer) (eventBus, error) {
	if !cfg.RabbitEnabled {
		return eventBus{
			dispatched: local,
			run:        func(context.Context) error { return nil },
			close:      func() {},
		}, nil
	}
	if cfg.RabbitURL == "" {
		return eventBus{}, errors.New("rabbitmq: RABBITMQ_ENABLED is set but neither RABBITMQ_URL nor AMQP_URL is")
	}
	names := make([]string, len(local))
	for i, c := range local {
		names[i] = c.Name()
	}
	conn := events.ConnOptions{
		URL:      cfg.RabbitURL,
		Topology: events.Topology{Prefix: cfg.Prefix, Consumers: names},
		Logger:   logger,
	}
	// Check everything before the publisher starts connecting.
	fanConn := conn
	fanConn.Name = "carecircle fan-in"
	fanIn, err := bus.NewRabbitFanIn(bus.FanInOptions{
		ConsumerOptions: events.ConsumerOptions{ConnOptions: fanConn, Attempts: fanInAttempts, Retry: fanInRetry},
		Store:           st,
	}, local...)
	if err != nil {
		return eventBus{}, fmt.Errorf("rabbitmq: %w", err)
	}
	pubConn := conn
	pubConn.Name = "carecircle outbox"
	pub, err := events.NewPublisher(events.PublisherOptions{ConnOptions: pubConn})
	if err != nil {
		return eventBus{}, fmt.Errorf("rabbitmq: %w", err)
	}
	return eventBus{
		dispatched: []outbox.Consumer{bus.NewRabbitForwarder(pub, bus.ForwarderOptions{})},
		dispatch:   outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts},
		run:        fanIn.Run,
		close:      func() { _ = pub.Close() },
	}, nil
}
