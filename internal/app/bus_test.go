package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle/internal/bus"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestEventConsumersInProcessAreTheLocalOnes(t *testing.T) {
	t.Parallel()
	local := []outbox.Consumer{outbox.ConsumerFunc{ConsumerName: "channels"}, outbox.ConsumerFunc{ConsumerName: "realtime"}}
	b, err := eventConsumers(BusConfig{}, nil, slog.New(slog.DiscardHandler), local)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.dispatched) != 2 || b.dispatched[0].Name() != "channels" || b.dispatched[1].Name() != "realtime" {
		t.Fatalf("dispatched %v, want the local consumers", b.dispatched)
	}
	if b.dispatch != (outbox.Options{}) {
		t.Errorf("dispatcher options %+v, want the defaults", b.dispatch)
	}
	if err := b.run(context.Background()); err != nil {
		t.Errorf("run: %v", err)
	}
	b.close()
}

func TestEventConsumersRefuseABadBrokerConfiguration(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t, clock.Real{})
	local := []outbox.Consumer{outbox.ConsumerFunc{ConsumerName: "channels"}}
	for name, cfg := range map[string]BusConfig{
		"no URL":       {RabbitEnabled: true},
		"not amqp":     {RabbitEnabled: true, RabbitURL: "http://127.0.0.1:5672/"},
		"bad prefix":   {RabbitEnabled: true, RabbitURL: "amqp://127.0.0.1:5672/", Prefix: "care circle"},
		"twice listed": {RabbitEnabled: true, RabbitURL: "amqp://127.0.0.1:5672/"},
	} {
		l := local
		if name == "twice listed" {
			l = append(l, local...)
		}
		if _, err := eventConsumers(cfg, st, slog.New(slog.DiscardHandler), l); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestEventConsumersOverRabbitMQ wires the dispatcher the way a process
// does with RABBITMQ_ENABLED: its one consumer is the forwarder, and a local
// consumer receives a committed event through its own queue.
func TestEventConsumersOverRabbitMQ(t *testing.T) {
	t.Parallel()
	brokerURL := os.Getenv("CARECIRCLE_TEST_RABBITMQ_URL")
	if brokerURL == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_RABBITMQ_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("RabbitMQ tests skipped: set CARECIRCLE_TEST_RABBITMQ_URL to run them")
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	cfg := BusConfig{RabbitEnabled: true, RabbitURL: brokerURL, Prefix: "cctest-app-" + hex.EncodeToString(suffix)}
	t.Cleanup(func() {
		deleteTopology(t, brokerURL, events.Topology{Prefix: cfg.Prefix, Consumers: []string{"channels"}})
	})

	clk := clock.Real{}
	st := storetest.OpenSQLite(t, clk)
	got := make(chan events.Event, 1)
	local := []outbox.Consumer{outbox.ConsumerFunc{ConsumerName: "channels", Fn: func(_ context.Context, e events.Event) error {
		select {
		case got <- e:
		default: // a repeat
		}
		return nil
	}}}
	b, err := eventConsumers(cfg, st, slog.New(slog.DiscardHandler), local)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if len(b.dispatched) != 1 || b.dispatched[0].Name() != bus.ForwarderName || b.dispatch.MaxAttempts != bus.ForwarderMaxAttempts {
		t.Fatalf("dispatched %v with %+v, want the forwarder alone, never giving up", b.dispatched, b.dispatch)
	}
	d := outbox.New(st, clk, slog.New(slog.DiscardHandler), b.dispatch, b.dispatched...)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{}, 2)
	go func() { _ = d.Run(ctx); stopped <- struct{}{} }()
	go func() {
		if err := b.run(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
		stopped <- struct{}{}
	}()
	defer func() { cancel(); <-stopped; <-stopped }()

	e, err := events.NewEvent(clk, "emergency.alert.created", map[string]string{"alertId": "a1"})
	if err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(e)
	if err := st.AppendEvent(ctx, store.OutboxEvent{ID: e.ID, Type: e.Type, Envelope: env}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.ID != e.ID || r.Type != e.Type {
			t.Fatalf("received %+v, want %+v", r, e)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the event never reached the local consumer")
	}
}

// deleteTopology removes a test's exchanges and queues from the broker.
func deleteTopology(t *testing.T, brokerURL string, top events.Topology) {
	conn, err := amqp.Dial(brokerURL)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, c := range top.Consumers {
		_, _ = ch.QueueDelete(top.Queue(c), false, false, false)
		_, _ = ch.QueueDelete(top.DeadLetterQueue(c), false, false, false)
	}
	for _, x := range []string{top.DomainExchange(), top.NotificationsExchange(), top.AuditExchange(), top.DeadLetterExchange()} {
		_ = ch.ExchangeDelete(x, false, false)
	}
}
