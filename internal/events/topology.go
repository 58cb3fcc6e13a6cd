package events

import (
	"fmt"
	"regexp"
	"slices"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultPrefix starts the name of every exchange and queue in production.
const DefaultPrefix = "carecircle"

// namePattern keeps prefixes and consumer names to characters that read
// well in exchange and queue names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Topology names the contract's exchanges and the queues of the consumers
// that read domain events. Every consumer must be listed so that the
// publisher declares its queue, and events published before that consumer
// first starts wait for it instead of being dropped.
type Topology struct {
	// Prefix starts every name; empty means DefaultPrefix. Tests use a
	// unique prefix so that they never share a queue.
	Prefix string
	// Consumers are the names of the consumers, one queue each.
	Consumers []string
}

func (t Topology) prefix() string {
	if t.Prefix == "" {
		return DefaultPrefix
	}
	return t.Prefix
}

// DomainExchange is the topic exchange every domain event is published to,
// routed by its type: one of the catalog's (catalog.go), which Build checks.
// Queues bind with "#", so every type, whatever its number of words,
// reaches every consumer.
func (t Topology) DomainExchange() string { return t.prefix() + ".domain.events" }

// NotificationsExchange is the direct exchange for channel deliveries.
func (t Topology) NotificationsExchange() string { return t.prefix() + ".notifications" }

// AuditExchange is the fanout exchange for audit records. It is bound to
// the domain exchange with "#", so whatever is bound to it receives a copy of
// every domain event without the publisher sending each event twice.
func (t Topology) AuditExchange() string { return t.prefix() + ".audit" }

// DeadLetterExchange is the direct exchange rejected messages go to, routed
// by the name of the queue they were rejected from.
func (t Topology) DeadLetterExchange() string { return t.prefix() + ".dlx" }

// Queue is the durable queue of one consumer.
func (t Topology) Queue(consumer string) string { return t.prefix() + "." + consumer }

// DeadLetterQueue holds the messages the consumer rejected.
func (t Topology) DeadLetterQueue(consumer string) string { return t.Queue(consumer) + ".dlq" }

// Validate reports a prefix or consumer name that cannot make a queue name,
// or a consumer listed twice.
func (t Topology) Validate() error {
	if !namePattern.MatchString(t.prefix()) {
		return fmt.Errorf("events: topology prefix %q: use letters, digits, '.', '_' or '-'", t.Prefix)
	}
	for i, c := range t.Consumers {
		if !namePattern.MatchString(c) {
			return fmt.Errorf("events: consumer name %q: use letters, digits, '.', '_' or '-'", c)
		}
		if slices.Contains(t.Consumers[:i], c) {
			return fmt.Errorf("events: consumer %q listed twice", c)
		}
	}
	return nil
}

// hasConsumer reports whether consumer is listed.
func (t Topology) hasConsumer(consumer string) bool { return slices.Contains(t.Consumers, consumer) }

// exchanges lists every exchange with its kind.
func (t Topology) exchanges() [][2]string {
	return [][2]string{
		{t.DomainExchange(), amqp.ExchangeTopic},
		{t.NotificationsExchange(), amqp.ExchangeDirect},
		{t.AuditExchange(), amqp.ExchangeFanout},
		{t.DeadLetterExchange(), amqp.ExchangeDirect},
	}
}

// Declare creates the exchanges and every consumer's queue on ch. It is
// idempotent, and runs again after every reconnect.
func (t Topology) Declare(ch *amqp.Channel) error {
	if err := t.declareExchanges(ch); err != nil {
		return err
	}
	for _, c := range t.Consumers {
		if err := t.declareConsumer(ch, c); err != nil {
			return err
		}
	}
	return nil
}

func (t Topology) declareExchanges(ch *amqp.Channel) error {
	for _, x := range t.exchanges() {
		if err := ch.ExchangeDeclare(x[0], x[1], true, false, false, false, nil); err != nil {
			return fmt.Errorf("events: declare exchange %s: %w", x[0], err)
		}
	}
	if err := ch.ExchangeBind(t.AuditExchange(), "#", t.DomainExchange(), false, nil); err != nil {
		return fmt.Errorf("events: bind %s to %s: %w", t.AuditExchange(), t.DomainExchange(), err)
	}
	return nil
}

// declareConsumer creates one consumer's queue, bound with "#" so that keys
// of any number of words route to it, and its dead-letter queue.
func (t Topology) declareConsumer(ch *amqp.Channel, consumer string) error {
	q, dlq := t.Queue(consumer), t.DeadLetterQueue(consumer)
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
		return fmt.Errorf("events: declare queue %s: %w", dlq, err)
	}
	if err := ch.QueueBind(dlq, q, t.DeadLetterExchange(), false, nil); err != nil {
		return fmt.Errorf("events: bind %s to %s: %w", dlq, t.DeadLetterExchange(), err)
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, t.queueArgs(consumer)); err != nil {
		return fmt.Errorf("events: declare queue %s: %w", q, err)
	}
	if err := ch.QueueBind(q, "#", t.DomainExchange(), false, nil); err != nil {
		return fmt.Errorf("events: bind %s to %s: %w", q, t.DomainExchange(), err)
	}
	return nil
}

// queueArgs dead-letter a consumer's rejected messages to its own DLQ, and
// let one process at a time consume the queue: with several workers, one
// takes every message (so a family's events keep their order) and another
// takes over the moment it goes away.
func (t Topology) queueArgs(consumer string) amqp.Table {
	return amqp.Table{
		"x-dead-letter-exchange":    t.DeadLetterExchange(),
		"x-dead-letter-routing-key": t.Queue(consumer),
		"x-single-active-consumer":  true,
	}
}
