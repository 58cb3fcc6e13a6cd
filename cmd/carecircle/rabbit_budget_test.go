package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle/internal/realtime/rtclient"
)

// messageTap counts every message published to the domain exchange of a
// virtual host, by routing key, through a queue of its own bound with "#".
type messageTap struct {
	mu     sync.Mutex
	byKey  map[string]int
	total  int
	last   time.Time
	notify chan struct{}
}

func tapDomainEvents(tb testing.TB, brokerURL string) *messageTap {
	tb.Helper()
	conn, err := amqp.Dial(brokerURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "#", "carecircle.domain.events", false, nil); err != nil {
		tb.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tap := &messageTap{byKey: map[string]int{}, notify: make(chan struct{}, 1)}
	go func() {
		for d := range deliveries {
			tap.mu.Lock()
			tap.byKey[d.RoutingKey]++
			tap.total++
			tap.last = time.Now()
			tap.mu.Unlock()
			select {
			case tap.notify <- struct{}{}:
			default:
			}
		}
	}()
	return tap
}

func (m *messageTap) count() (int, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make(map[string]int, len(m.byKey))
	for k, v := range m.byKey {
		keys[k] = v
	}
	return m.total, keys
}

// settle waits until no message has arrived for quiet (counted from the
// call at the earliest), and returns how many arrived since from.
func (m *messageTap) settle(from int, quiet time.Duration) int {
	start := time.Now()
	for {
		m.mu.Lock()
		total, last := m.total, m.last
		m.mu.Unlock()
		wait := quiet - time.Since(later(last, start))
		if wait <= 0 {
			return total - from
		}
		select {
		case <-m.notify:
		case <-time.After(wait):
		}
	}
}

// BenchmarkRabbitMQMessages counts the RabbitMQ messages CareCircle sends:
// one `carecircle serve` with RABBITMQ_ENABLED on a virtual host of its own,
// first idle, then driven through a user's day: six app opens (refresh, the
// dashboard, today's schedule, a realtime connection), two reminders and two
// dose logs. Every event is one published message, delivered once to each
// consumer's queue (channels, realtime).
//
//	CARECIRCLE_TEST_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/ \
//	CARECIRCLE_BENCH_IDLE=60s go test -run '^$' -bench RabbitMQMessages -benchtime 1x ./cmd/carecircle/
func BenchmarkRabbitMQMessages(b *testing.B) {
	idle := time.Minute
	if v := os.Getenv("CARECIRCLE_BENCH_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("CARECIRCLE_BENCH_IDLE: %v", err)
		}
		idle = d
	}
	brokerURL, _ := rabbitVhost(b)
	port := freePort(b)
	dataDir := b.TempDir()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	startProcess(b, map[string]string{"DATA_DIR": dataDir, "PORT": strconv.Itoa(port), "LOG_LEVEL": "warn",
		"RATE_LIMIT_ENABLED": "false", "RABBITMQ_ENABLED": "true", "RABBITMQ_URL": brokerURL})
	waitFor(b, time.Now().Add(60*time.Second), "the node connected to the broker", func() bool { return componentStatus(base, "rabbitmq") == "up" })
	tap := tapDomainEvents(b, brokerURL)
	b.ResetTimer()

	start, _ := tap.count()
	time.Sleep(idle) // the measurement is of doing nothing for this long
	idleMsgs, _ := tap.count()
	idlePerMinute := float64(idleMsgs-start) / idle.Minutes()

	api := &e2eClient{t: b, base: base, outbox: filepath.Join(dataDir, "outbox")}
	access, refresh := api.signUp("Ann Lee", "ann@example.com")
	fam := api.call("POST", "/families", access, map[string]any{"name": "The Lees"}, 201)
	famID := fam["id"].(string)
	cr := api.call("POST", "/families/"+famID+"/care-recipients", access, map[string]any{"fullName": "Grandma Lee", "timezone": "UTC"}, 201)
	crID := cr["id"].(string)
	// Two doses in the coming minutes, so their reminders fire during the run.
	first := time.Now().UTC().Truncate(time.Minute).Add(2 * time.Minute)
	due := []time.Time{first, first.Add(time.Minute)}
	doses := []string{due[0].Format("15:04"), due[1].Format("15:04")}
	med := api.call("POST", "/care-recipients/"+crID+"/medications", access, map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "DAILY", "scheduledTimes": doses, "currentSupply": 30,
	}, 201)
	setupMsgs := tap.settle(idleMsgs, 2*time.Second)

	// Six app opens.
	before, _ := tap.count()
	for range 6 {
		tokens := api.call("POST", "/auth/refresh", "", map[string]any{"refreshToken": refresh}, 200)
		access, refresh = tokens["accessToken"].(string), tokens["refreshToken"].(string)
		api.call("GET", "/auth/me", access, nil, 200)
		api.callList("GET", "/families/"+famID+"/care-recipients", access)
		api.call("GET", "/care-recipients/"+crID+"/medications/schedule/today", access, nil, 200)
		c := rtclient.New(rtclient.URL(base), rtclient.Options{Token: access})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := c.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		if err := c.Subscribe(ctx, "family:"+famID); err != nil {
			b.Fatal(err)
		}
		cancel()
		c.Close()
	}
	openMsgs := tap.settle(before, 2*time.Second)

	// The two reminders, then the two doses logged.
	before, _ = tap.count()
	waitFor(b, time.Now().Add(4*time.Minute), "both reminders", func() bool {
		_, keys := tap.count()
		return keys["medication.reminder"] >= 2
	})
	reminderMsgs := tap.settle(before, 2*time.Second)
	before, _ = tap.count()
	for _, at := range due {
		api.call("POST", "/medications/"+med["id"].(string)+"/log", access, map[string]any{"status": "GIVEN", "scheduledTime": at.Format(time.RFC3339)}, 201)
	}
	doseMsgs := tap.settle(before, 2*time.Second)
	b.StopTimer()

	_, keys := tap.count()
	const queues = 2 // channels and realtime, each bound with "#"
	perDay := float64(openMsgs + reminderMsgs + doseMsgs)
	b.Logf("messages published by routing key: %v", keys)
	b.Logf("idle node: %.1f published per minute over %v", idlePerMinute, idle)
	b.Logf("sign-up, family, care recipient and medication (once): %d published", setupMsgs)
	b.Logf("six app opens: %d; two reminders: %d; two dose logs: %d", openMsgs, reminderMsgs, doseMsgs)
	b.Logf("user-day: %.0f published, %.0f delivered to the %d queues, %.0f in all", perDay, perDay*queues, queues, perDay*(1+queues))
	b.ReportMetric(idlePerMinute, "idle-msgs/min")
	b.ReportMetric(perDay*(1+queues), "msgs/user-day")
	if idlePerMinute != 0 {
		b.Errorf("an idle node published %.1f messages a minute, want 0", idlePerMinute)
	}
	if perDay*(1+queues) > 20 {
		b.Errorf("a user-day cost %.0f messages, want at most 20", perDay*(1+queues))
	}
}
