package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle/internal/clock"
)

// testEvents returns n events cycling through keys of two and three words.
func testEvents(t testing.TB, n int) []Event {
	t.Helper()
	types := []string{"medication.logged", "emergency.alert.created", "family.member.removed",
		"care_recipient.created", "appointment.reminder", "shift.checked_in"}
	clk := clock.NewFake(time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC))
	out := make([]Event, n)
	for i := range out {
		e, err := NewEvent(clk, types[i%len(types)], map[string]int{"seq": i})
		if err != nil {
			t.Fatal(err)
		}
		e.FamilyID, e.CareRecipientID, e.CausedBy, e.CorrelationID = "fam-1", "cr-1", "user-1", fmt.Sprint("req-", i)
		out[i] = e
		clk.Advance(time.Millisecond)
	}
	return out
}

func publishAll(t testing.TB, p *Publisher, evs []Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for _, e := range evs {
		if err := p.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// assertExactly fails unless got holds exactly the events in want, intact.
func assertExactly(t testing.TB, who string, got map[string]Event, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s received %d distinct events, want %d", who, len(got), len(want))
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("%s never received %s (%s)", who, w.ID, w.Type)
			continue
		}
		if g.Type != w.Type || string(g.Data) != string(w.Data) || !g.Timestamp.Equal(w.Timestamp) ||
			g.FamilyID != w.FamilyID || g.CareRecipientID != w.CareRecipientID || g.CausedBy != w.CausedBy ||
			g.CorrelationID != w.CorrelationID || g.Source != Source || g.SpecVersion != SpecVersion {
			t.Errorf("%s received %+v, want %+v", who, g, w)
		}
	}
}

func TestTopologyIsDeclared(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "notifications", "audit")
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, brokerURL, top)})
	evs := testEvents(t, 2)
	publishAll(t, p, evs)

	ch := rawChannel(t)
	for _, x := range top.exchanges() {
		if err := ch.ExchangeDeclarePassive(x[0], x[1], true, false, false, false, nil); err != nil {
			t.Fatalf("exchange %s: %v", x[0], err)
		}
	}
	for _, c := range top.Consumers {
		q, err := ch.QueueDeclarePassive(top.Queue(c), true, false, false, false, nil)
		if err != nil {
			t.Fatalf("queue %s: %v", top.Queue(c), err)
		}
		// Both events, a two-word and a three-word key, reached every queue.
		if q.Messages != len(evs) {
			t.Errorf("queue %s holds %d messages, want %d", q.Name, q.Messages, len(evs))
		}
		if _, err := ch.QueueDeclarePassive(top.DeadLetterQueue(c), true, false, false, false, nil); err != nil {
			t.Fatalf("queue %s: %v", top.DeadLetterQueue(c), err)
		}
	}

	// The broker refuses a redeclaration that differs from what exists, so
	// these prove the kinds, durability and dead-letter arguments.
	conflicts := map[string]func(*amqp.Channel) error{
		"domain exchange as direct": func(c *amqp.Channel) error {
			return c.ExchangeDeclare(top.DomainExchange(), amqp.ExchangeDirect, true, false, false, false, nil)
		},
		"audit exchange as direct": func(c *amqp.Channel) error {
			return c.ExchangeDeclare(top.AuditExchange(), amqp.ExchangeDirect, true, false, false, false, nil)
		},
		"notifications exchange as fanout": func(c *amqp.Channel) error {
			return c.ExchangeDeclare(top.NotificationsExchange(), amqp.ExchangeFanout, true, false, false, false, nil)
		},
		"dlx as transient": func(c *amqp.Channel) error {
			return c.ExchangeDeclare(top.DeadLetterExchange(), amqp.ExchangeDirect, false, false, false, false, nil)
		},
		"queue without dead-lettering": func(c *amqp.Channel) error {
			_, err := c.QueueDeclare(top.Queue("audit"), true, false, false, false, nil)
			return err
		},
		"queue as transient": func(c *amqp.Channel) error {
			_, err := c.QueueDeclare(top.Queue("audit"), false, false, false, false, top.queueArgs("audit"))
			return err
		},
	}
	for name, declare := range conflicts {
		c := rawChannel(t)
		var ae *amqp.Error
		if err := declare(c); !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
			t.Errorf("%s: err = %v, want PRECONDITION_FAILED", name, err)
		}
	}
	if _, err := ch.QueueDeclare(top.Queue("audit"), true, false, false, false, top.queueArgs("audit")); err != nil {
		t.Errorf("redeclaring the queue as declared: %v", err)
	}

	// The messages carry the envelope as persistent JSON with its id and type.
	d, ok, err := ch.Get(top.Queue("notifications"), true)
	if err != nil || !ok {
		t.Fatalf("get: ok=%v err=%v", ok, err)
	}
	if d.DeliveryMode != amqp.Persistent || d.ContentType != "application/json" || d.MessageId != evs[0].ID ||
		d.Type != evs[0].Type || d.RoutingKey != evs[0].Type || !d.Timestamp.Equal(evs[0].Timestamp.Truncate(time.Second)) {
		t.Errorf("message properties: mode=%d type=%q content=%q id=%q key=%q ts=%v",
			d.DeliveryMode, d.Type, d.ContentType, d.MessageId, d.RoutingKey, d.Timestamp)
	}
	got, err := DecodeEvent(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	assertExactly(t, "raw get", map[string]Event{got.ID: got}, evs[:1])
}

func TestEveryEventReachesEveryConsumer(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "notifications", "realtime", "audit")
	// Publish before any consumer runs: the publisher declared their queues.
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, brokerURL, top)})
	evs := testEvents(t, 120)
	publishAll(t, p, evs[:60])

	collectors := map[string]*collector{}
	for _, name := range top.Consumers {
		c := newCollector()
		collectors[name] = c
		startConsumer(t, ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top), Prefetch: 8}, name, c.handle)
	}
	publishAll(t, p, evs[60:])

	for name, c := range collectors {
		waitFor(t, c.reached(len(evs)), name+" to receive every event")
		got, deliveries := c.snapshot()
		assertExactly(t, name, got, evs)
		if deliveries != len(evs) {
			t.Errorf("%s: %d deliveries for %d events without any failure", name, deliveries, len(evs))
		}
	}
}

func TestEventsOfOneQueueArriveInOrder(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "realtime")
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, brokerURL, top)})
	evs := testEvents(t, 50)
	publishAll(t, p, evs)

	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	startConsumer(t, ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top)}, "realtime",
		func(_ context.Context, e Event) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, e.ID)
			if len(order) == len(evs) {
				close(done)
			}
			return nil
		})
	waitFor(t, done, "every event")
	mu.Lock()
	defer mu.Unlock()
	for i, e := range evs {
		if order[i] != e.ID {
			t.Fatalf("event %d arrived as %s, want %s", i, order[i], e.ID)
		}
	}
}

func TestPoisonMessagesEndInTheDeadLetterQueue(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "notifications")
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, brokerURL, top)})
	evs := testEvents(t, 5)
	permanent, failing, panicking, flaky, good := evs[0], evs[1], evs[2], evs[3], evs[4]

	publishAll(t, p, evs[:1])
	// A body that is no envelope, published by something else.
	ch := rawChannel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), top.DomainExchange(), "emergency.alert.created",
		false, false, amqp.Publishing{MessageId: "garbage", ContentType: "application/json", Body: []byte("{not json")})
	if err != nil || !dc.Wait() {
		t.Fatalf("publish garbage: %v", err)
	}
	publishAll(t, p, evs[1:])

	var calls sync.Map // event id → *atomic.Int32
	handled := make(chan struct{})
	retries := &delayRecorder{}
	opts := ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top), Attempts: 3,
		Retry: Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 3}}
	opts.Sleep = retries.sleep
	startConsumer(t, opts, "notifications", func(_ context.Context, e Event) error {
		n, _ := calls.LoadOrStore(e.ID, new(atomic.Int32))
		call := n.(*atomic.Int32).Add(1)
		switch e.ID {
		case permanent.ID:
			return Permanent(errors.New("care recipient no longer exists"))
		case failing.ID:
			return errors.New("provider down")
		case panicking.ID:
			panic("nil map")
		case flaky.ID:
			if call == 1 {
				return errors.New("timeout")
			}
		case good.ID:
			close(handled)
		}
		return nil
	})
	// The good event comes last: handling it shows the poison did not block.
	waitFor(t, handled, "the event behind the poison messages")

	count := func(id string) int32 {
		n, ok := calls.Load(id)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}
	if count(permanent.ID) != 1 || count(failing.ID) != 3 || count(panicking.ID) != 1 || count(flaky.ID) != 2 || count(good.ID) != 1 {
		t.Errorf("handler calls: permanent=%d failing=%d panicking=%d flaky=%d good=%d, want 1, 3, 1, 2, 1",
			count(permanent.ID), count(failing.ID), count(panicking.ID), count(flaky.ID), count(good.ID))
	}
	// Two retries of the failing event and one of the flaky one, on schedule.
	want := []time.Duration{time.Second, 3 * time.Second, time.Second}
	if got := retries.recorded(); !slices.Equal(got, want) {
		t.Errorf("retry delays %v, want %v", got, want)
	}

	deliveries, err := ch.Consume(top.DeadLetterQueue("notifications"), "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	for len(dead) < 4 {
		select {
		case d := <-deliveries:
			dead = append(dead, d.MessageId)
			deaths, _ := d.Headers["x-death"].([]any)
			if len(deaths) == 0 {
				t.Errorf("dead letter %s has no x-death header", d.MessageId)
				continue
			}
			death, _ := deaths[0].(amqp.Table)
			if death["reason"] != "rejected" || death["queue"] != top.Queue("notifications") {
				t.Errorf("dead letter %s: x-death %v", d.MessageId, death)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("dead-letter queue holds only %v", dead)
		}
	}
	if wantDead := []string{permanent.ID, "garbage", failing.ID, panicking.ID}; !slices.Equal(dead, wantDead) {
		t.Errorf("dead letters %v, want %v", dead, wantDead)
	}
}

func TestConsumeRejectsUnknownConsumer(t *testing.T) {
	t.Parallel()
	c, err := NewConsumer(ConsumerOptions{ConnOptions: ConnOptions{URL: "amqp://guest:guest@127.0.0.1:1/",
		Topology: Topology{Prefix: "unused", Consumers: []string{"audit"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Consume(context.Background(), "billing", func(context.Context, Event) error { return nil }); err == nil {
		t.Error("Consume accepted a consumer whose queue the publisher never declares")
	}
}

func TestPublishWaitsForTheBrokerUntilContextEnds(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "audit")
	proxy, proxied := newProxy(t, brokerURL)
	// Refuse every connection: the broker is down.
	proxy.cut(1 << 30)
	delays := &delayRecorder{}
	opts := PublisherOptions{ConnOptions: connOptions(t, proxied, top)}
	reachedMax := make(chan struct{})
	var once sync.Once
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		_ = delays.sleep(ctx, d)
		if d == opts.Reconnect.Max {
			once.Do(func() { close(reachedMax) })
			<-ctx.Done() // stay down until the publisher closes
		}
		return ctx.Err()
	}
	p := startPublisher(t, opts)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Publish(ctx, testEvents(t, 1)[0]) }()
	waitFor(t, reachedMax, "the reconnect backoff to reach its maximum")
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Publish returned %v, want context.Canceled", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Publish did not return after its context ended")
	}
	if p.Connected() {
		t.Error("publisher reports a connection while the broker is down")
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond}
	if got := delays.recorded(); !slices.Equal(got, want) {
		t.Errorf("reconnect delays %v, want %v", got, want)
	}
}

// TestBrokerDropMidStreamLosesNothing drops every connection twice, as a
// broker restart does, while four goroutines publish and a consumer reads,
// and refuses the first reconnection attempts each time.
func TestBrokerDropMidStreamLosesNothing(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "notifications")
	pubProxy, pubURL := newProxy(t, brokerURL)
	conProxy, conURL := newProxy(t, brokerURL)

	pubDelays, conDelays := &delayRecorder{}, &delayRecorder{}
	popts := PublisherOptions{ConnOptions: connOptions(t, pubURL, top)}
	popts.Sleep = pubDelays.sleep
	p := startPublisher(t, popts)

	col := newCollector()
	copts := ConsumerOptions{ConnOptions: connOptions(t, conURL, top), Prefetch: 10}
	copts.Sleep = conDelays.sleep
	startConsumer(t, copts, "notifications", col.handle)

	const n, publishers = 400, 4
	evs := testEvents(t, n)
	var confirmed atomic.Int32
	firstCut := make(chan struct{})
	var firstOnce sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, n)
	failed := make(chan struct{})
	var failOnce sync.Once
	for w := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			for i := w; i < n; i += publishers {
				if err := p.Publish(ctx, evs[i]); err != nil {
					errs <- err
					failOnce.Do(func() { close(failed) })
					return
				}
				if confirmed.Add(1) == n/3 {
					firstOnce.Do(func() { close(firstCut) })
				}
			}
		}()
	}

	// First drop while publishing is in full flow, second while the consumer
	// is working through the queue.
	stopOnFailure := func(ch <-chan struct{}, what string) {
		select {
		case <-ch:
		case <-failed:
		case <-time.After(waitTimeout):
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
	}
	stopOnFailure(firstCut, "a third of the events to be confirmed")
	pubProxy.cut(3)
	conProxy.cut(3)
	stopOnFailure(col.reached(2*n/3), "two thirds of the events to arrive")
	pubProxy.cut(3)
	conProxy.cut(3)

	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("publish: %v", err)
	}
	waitFor(t, col.reached(n), "every event to arrive")
	got, deliveries := col.snapshot()
	assertExactly(t, "consumer", got, evs)
	t.Logf("%d events, %d deliveries (%d redelivered or republished)", n, deliveries, deliveries-n)

	// Each drop was followed by backoff that grew while connecting failed.
	ms := time.Millisecond
	if !conDelays.startsWith(10*ms, 20*ms, 40*ms, 80*ms) {
		t.Errorf("consumer reconnect delays %v, want 10ms 20ms 40ms 80ms first", conDelays.recorded())
	}
	if !pubDelays.startsWith(10*ms, 20*ms, 40*ms) {
		t.Errorf("publisher reconnect delays %v, want 10ms 20ms 40ms first", pubDelays.recorded())
	}

	// Nothing was dead-lettered on the way.
	q, err := rawChannel(t).QueueDeclarePassive(top.DeadLetterQueue("notifications"), true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != 0 {
		t.Errorf("%d messages were dead-lettered", q.Messages)
	}
}

// TestReconnectDeclaresTheTopologyAgain brings the broker back without any
// of the exchanges and queues, as a fresh node would, and expects the
// publisher and the consumer to recreate them before carrying on.
func TestReconnectDeclaresTheTopologyAgain(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "audit")
	proxy, proxied := newProxy(t, brokerURL)
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, proxied, top)})
	col := newCollector()
	startConsumer(t, ConsumerOptions{ConnOptions: connOptions(t, proxied, top)}, "audit", col.handle)
	evs := testEvents(t, 2)
	publishAll(t, p, evs[:1])
	waitFor(t, col.reached(1), "the first event")

	proxy.cut(1 << 30)
	ch := rawChannel(t)
	for _, q := range []string{top.Queue("audit"), top.DeadLetterQueue("audit")} {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range top.exchanges() {
		if err := ch.ExchangeDelete(x[0], false, false); err != nil {
			t.Fatal(err)
		}
	}
	proxy.restore()

	publishAll(t, p, evs[1:])
	waitFor(t, col.reached(2), "the event published after the broker came back")
	got, _ := col.snapshot()
	assertExactly(t, "consumer", got, evs)
	if _, err := ch.QueueDeclarePassive(top.DeadLetterQueue("audit"), true, false, false, false, nil); err != nil {
		t.Errorf("dead-letter queue not declared again: %v", err)
	}
}

func TestPublishReportsTheBrokersNack(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "audit")
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, brokerURL, top)})
	evs := testEvents(t, 2)
	publishAll(t, p, evs[:1])

	// A full queue that refuses publishes makes the broker nack what is
	// routed to it.
	ch := rawChannel(t)
	full := top.prefix() + ".full"
	t.Cleanup(func() { _, _ = rawChannel(t).QueueDelete(full, false, false, false) })
	if _, err := ch.QueueDeclare(full, false, false, false, false,
		amqp.Table{"x-max-length": int32(0), "x-overflow": "reject-publish"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(full, "#", top.DomainExchange(), false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := p.Publish(ctx, evs[1]); !errors.Is(err, ErrNacked) {
		t.Errorf("Publish = %v, want ErrNacked", err)
	}
}

func TestPublishTimesOutWithoutConfirm(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "audit")
	proxy, proxied := newProxy(t, brokerURL)
	opts := PublisherOptions{ConnOptions: connOptions(t, proxied, top), ConfirmTimeout: 200 * time.Millisecond}
	p := startPublisher(t, opts)
	evs := testEvents(t, 2)
	publishAll(t, p, evs[:1])

	proxy.freeze()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := p.Publish(ctx, evs[1]); !errors.Is(err, ErrConfirmTimeout) {
		t.Errorf("Publish = %v, want ErrConfirmTimeout", err)
	}
	proxy.thaw()
	// Once the broker answers again, publishing carries on.
	publishAll(t, p, evs[1:])
}

// TestBatchesKeepOrderAndRetryTheFailingEventAlone: a backlog published as
// one batch reaches a batch handler in batches, in queue order; an event
// that fails once is retried on its own, and the events behind it follow it
// in order, each handled once.
func TestBatchesKeepOrderAndRetryTheFailingEventAlone(t *testing.T) {
	t.Parallel()
	brokerURL := rabbitURL(t)
	top := newTopology(t, "channels")
	p := startPublisher(t, PublisherOptions{ConnOptions: connOptions(t, brokerURL, top)})
	evs := testEvents(t, 200)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for i, err := range p.PublishBatch(ctx, evs) {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	failing := evs[120].ID

	var mu sync.Mutex
	var handled []string
	var calls [][]string
	failed := false
	done := make(chan struct{})
	c, err := NewConsumer(ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top),
		Retry: Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		stopped <- c.ConsumeBatches(cctx, "channels", func(_ context.Context, es []Event) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			var ids []string
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			calls = append(calls, ids)
			for i, e := range es {
				if e.ID == failing && !failed {
					failed = true
					return i, errors.New("not now")
				}
				handled = append(handled, e.ID)
				if len(handled) == len(evs) {
					close(done)
				}
			}
			return len(es), nil
		})
	}()
	defer func() {
		stop()
		if err := <-stopped; err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, done, "every event")
	mu.Lock()
	defer mu.Unlock()
	for i, e := range evs {
		if handled[i] != e.ID {
			t.Fatalf("event %d handled as %s, want %s", i, handled[i], e.ID)
		}
	}
	batched, alone := false, false
	for i, ids := range calls {
		batched = batched || len(ids) > 1
		if len(ids) == 1 && ids[0] == failing && i > 0 && slices.Contains(calls[i-1], failing) {
			alone = true
		}
	}
	if !batched {
		t.Errorf("a backlog of %d came one event a call (%d calls)", len(evs), len(calls))
	}
	if !alone {
		t.Errorf("the failed event was not retried on its own: calls %v", calls)
	}
}
