package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/carecircle/carecircle/internal/bus"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/realtime"
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
	// Reconnect is the wait between attempts to reach the broker; the zero
	// value is brokerReconnect.
	Reconnect events.Backoff
}

// busConsumers names every consumer of domain events in a deployment: the
// channel deliverer and the realtime publisher, both run by the roles that
// do background work. Every role declares a queue for each, so events
// published before a worker first starts wait for it.
var busConsumers = []string{notify.ConsumerName, realtime.ConsumerName}

// brokerReconnect is how a process retries the broker: soon after a short
// blip, and never more than 5 s apart, so delivery resumes within seconds of
// the broker's return.
var brokerReconnect = events.Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: 0.2}

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
	// health reports the broker on /health; nil in process.
	health *brokerHealth
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
// through the fan-in that run drives. A process with no local consumers (an
// API node) only declares the topology and reports the broker's state.
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
	if cfg.Reconnect == (events.Backoff{}) {
		cfg.Reconnect = brokerReconnect
	}
	names := busConsumers
	for _, c := range local {
		if !slices.Contains(names, c.Name()) {
			names = append(names[:len(names):len(names)], c.Name())
		}
	}
	conn := events.ConnOptions{
		URL:       cfg.RabbitURL,
		Topology:  events.Topology{Prefix: cfg.Prefix, Consumers: names},
		Logger:    logger,
		Reconnect: cfg.Reconnect,
	}
	// Check everything before the publisher starts connecting.
	var fanIn *bus.RabbitFanIn
	if len(local) > 0 {
		fanConn := conn
		fanConn.Name = "carecircle fan-in"
		var err error
		fanIn, err = bus.NewRabbitFanIn(bus.FanInOptions{
			ConsumerOptions: events.ConsumerOptions{ConnOptions: fanConn, Attempts: fanInAttempts, Retry: fanInRetry},
			Store:           st,
		}, local...)
		if err != nil {
			return eventBus{}, fmt.Errorf("rabbitmq: %w", err)
		}
	}
	pubConn := conn
	pubConn.Name = "carecircle outbox"
	pub, err := events.NewPublisher(events.PublisherOptions{ConnOptions: pubConn})
	if err != nil {
		return eventBus{}, fmt.Errorf("rabbitmq: %w", err)
	}
	b := eventBus{
		run:    func(context.Context) error { return nil },
		close:  func() { _ = pub.Close() },
		health: &brokerHealth{pub: pub},
	}
	if fanIn != nil {
		fwd := bus.NewRabbitForwarder(pub, bus.ForwarderOptions{})
		b.dispatched = []outbox.Consumer{fwd}
		b.dispatch = outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts, MaxBackoff: bus.ForwarderMaxBackoff}
		b.run = fanIn.Run
		b.health.forwarder, b.health.fanIn = fwd, fanIn
	}
	return b, nil
}

// brokerHealth is the "rabbitmq" component of /health: whether this process
// holds its connection to the broker, and how many events it has published
// and handed to each local consumer since it started.
type brokerHealth struct {
	pub       *events.Publisher
	forwarder *bus.RabbitForwarder // nil on an API node
	fanIn     *bus.RabbitFanIn     // nil on an API node
}

// Name implements api.HealthReporter.
func (*brokerHealth) Name() string { return "rabbitmq" }

// Health implements api.HealthReporter.
func (h *brokerHealth) Health(context.Context) any {
	out := map[string]any{"status": "down"}
	if h.pub.Connected() {
		out["status"] = "up"
	}
	if h.forwarder != nil {
		out["published"] = h.forwarder.Published()
	}
	if h.fanIn != nil {
		out["consumed"] = h.fanIn.Taken()
	}
	return out
}
