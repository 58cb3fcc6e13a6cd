package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// With RABBITMQ_ENABLED, two API nodes and a worker on PostgreSQL, Redis and
// a virtual host of the test's own: every role declares the contract's
// exchanges and the consumers' queues; a queue bound to the domain exchange
// with "#" sees medication.logged when a dose is logged through node B; and
// the family's socket on node A gets it, carried by the broker to the
// worker's realtime consumer.
func TestRabbitMQAcrossProcesses(t *testing.T) {
	t.Parallel()
	brokerURL, vhost := rabbitVhost(t)
	tap := make(chan amqp.Delivery, 256)
	took := doseAcrossProcesses(t, map[string]string{"RABBITMQ_ENABLED": "true", "RABBITMQ_URL": brokerURL},
		func(baseA, baseB string) {
			waitFor(t, time.Now().Add(30*time.Second), "both API nodes connected to the broker", func() bool {
				return componentStatus(baseA, "rabbitmq") == "up" && componentStatus(baseB, "rabbitmq") == "up"
			})
			exchanges := rabbitmqctl(t, "list_exchanges", "-p", vhost, "name", "type")
			for _, want := range []string{"carecircle.domain.events\ttopic", "carecircle.notifications\tdirect",
				"carecircle.audit\tfanout", "carecircle.dlx\tdirect"} {
				if !slices.Contains(strings.Split(exchanges, "\n"), want) {
					t.Errorf("exchange %q not declared; the broker has:\n%s", want, exchanges)
				}
			}
			queues := rabbitmqctl(t, "list_queues", "-p", vhost, "name")
			for _, want := range []string{"carecircle.channels", "carecircle.realtime", "carecircle.channels.dlq", "carecircle.realtime.dlq"} {
				if !slices.Contains(strings.Split(queues, "\n"), want) {
					t.Errorf("queue %q not declared; the broker has:\n%s", want, queues)
				}
			}
			conn, err := amqp.Dial(brokerURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			ch, err := conn.Channel()
			if err != nil {
				t.Fatal(err)
			}
			q, err := ch.QueueDeclare("", false, true, true, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.QueueBind(q.Name, "#", "carecircle.domain.events", false, nil); err != nil {
				t.Fatal(err)
			}
			deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				for d := range deliveries {
					select {
					case tap <- d:
					default:
					}
				}
			}()
		})
	t.Logf("through RabbitMQ, the dose reached node A's client after %v", took)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case d := <-tap:
			if d.RoutingKey != "medication.logged" {
				continue
			}
			var e struct{ Type, FamilyID string }
			if err := json.Unmarshal(d.Body, &e); err != nil || e.Type != "medication.logged" || e.FamilyID == "" {
				t.Fatalf("medication.logged message %s: %v", d.Body, err)
			}
			return
		case <-deadline:
			t.Fatal("no medication.logged on a queue bound to carecircle.domain.events with #")
		}
	}
}
