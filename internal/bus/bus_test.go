package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// localConsumers returns recorders for the app's three local consumers, and
// the same as outbox consumers.
func localConsumers() ([]*recorder, []outbox.Consumer) {
	recs := []*recorder{newRecorder("channels"), newRecorder("realtime"), newRecorder("audit")}
	local := make([]outbox.Consumer, len(recs))
	for i, r := range recs {
		local[i] = r
	}
	return recs, local
}

func names(local []outbox.Consumer) []string {
	out := make([]string, len(local))
	for i, c := range local {
		out[i] = c.Name()
	}
	return out
}

// auditTap binds a queue of the test's own to the audit fanout exchange and
// returns a collector of the event ids that arrive on it. The exchange must
// exist: connect a publisher first.
func auditTap(t *testing.T, top events.Topology) *recorder {
	t.Helper()
	ch := rawChannel(t)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "", top.AuditExchange(), false, nil); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	tap := newRecorder("audit exchange")
	go func() {
		for d := range deliveries {
			e, err := events.DecodeEvent(d.Body)
			if err != nil {
				t.Errorf("audit exchange: %v", err)
				continue
			}
			_ = tap.Handle(context.Background(), e)
		}
	}()
	return tap
}

// assertDelivered waits until the outbox holds nothing pending and records
// every event as taken by each consumer; the records follow the hand-overs
// the recorders signal by a moment, so this polls the database.
func assertDelivered(t *testing.T, st *store.Store, evs []events.Event, consumers ...string) {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	missing := func() string {
		if p, err := st.PendingEvents(ctx, len(evs)+1); err != nil || len(p) != 0 {
			return fmt.Sprintf("%d events still pending (%v)", len(p), err)
		}
		got, err := st.OutboxDeliveries(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range consumers {
			for _, id := range ids {
				if d := got[[2]string{c, id}]; d == nil || !d.Done || d.GaveUp {
					return fmt.Sprintf("no delivery of %s to %s recorded: %+v", id, c, d)
				}
			}
		}
		return ""
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		m := missing()
		if m == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEveryEventReachesEveryConsumerOnce runs the outbox with the forwarder
// as its only consumer and the three local consumers behind the broker:
// each takes every committed event exactly once, each family's in commit
// order, including the events committed before it first started; every
// event also reaches the audit exchange.
func TestEveryEventReachesEveryConsumerOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		brokerURL := rabbitURL(t)
		clk := clock.NewFake(start)
		st := open(t, clk)
		recs, local := localConsumers()
		top := newTopology(t, names(local)...)
		pub := startPublisher(t, connOptions(t, brokerURL, top))
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := pub.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		tap := auditTap(t, top)
		fwd := &counted{Consumer: bus.NewRabbitForwarder(pub, bus.ForwarderOptions{})}
		d := outbox.New(st, clk, testLogger(t), outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts}, fwd)
		runUntilCleanup(t, "dispatcher", d.Run)

		const n, families = 300, 7
		evs := appendEvents(t, st, clk, n/2, families)
		waitFor(t, fwd.reached(n/2), "the first half to be forwarded")
		// The consumers start now: their queues kept what came before.
		startFanIn(t, bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top)}, Store: st}, local...)
		evs = append(evs, appendEvents(t, st, clk, n/2, families)...)

		for _, r := range recs {
			waitFor(t, r.reached(n), r.name+" to take every event")
		}
		waitFor(t, tap.reached(n), "every event on the audit exchange")
		for _, r := range append(recs, tap) {
			r.assertOnceInOrder(t, evs)
		}
		assertDelivered(t, st, evs, append(names(local), bus.ForwarderName)...)

		// The contract's exchanges and each consumer's queue and DLQ exist,
		// and the queues are drained.
		ch := rawChannel(t)
		for _, x := range exchanges(top) {
			if err := ch.ExchangeDeclarePassive(x[0], x[1], true, false, false, false, nil); err != nil {
				t.Fatalf("exchange %s: %v", x[0], err)
			}
		}
		for _, c := range top.Consumers {
			for _, name := range []string{top.Queue(c), top.DeadLetterQueue(c)} {
				q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
				if err != nil {
					t.Fatalf("queue %s: %v", name, err)
				}
				if q.Messages != 0 {
					t.Errorf("queue %s still holds %d messages", name, q.Messages)
				}
			}
		}
	})
}

// TestBrokerDropMidStreamLosesNothing drops every broker connection twice,
// as a broker restart does, while the forwarder publishes and the consumers
// read, refusing the first reconnection attempts each time. Every event
// still reaches every consumer, once, in order, and nothing is
// dead-lettered.
func TestBrokerDropMidStreamLosesNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		brokerURL := rabbitURL(t)
		// The real clock: should a publish time out during a drop, the
		// dispatcher's retry must come without the test's help.
		clk := clock.Real{}
		st := open(t, clk)
		recs, local := localConsumers()
		top := newTopology(t, names(local)...)
		pubProxy, pubURL := newProxy(t, brokerURL)
		fanProxy, fanURL := newProxy(t, brokerURL)

		pub := startPublisher(t, connOptions(t, pubURL, top))
		fwd := &counted{Consumer: bus.NewRabbitForwarder(pub, bus.ForwarderOptions{})}
		d := outbox.New(st, clk, testLogger(t), outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts}, fwd)
		startFanIn(t, bus.FanInOptions{
			ConsumerOptions: events.ConsumerOptions{ConnOptions: connOptions(t, fanURL, top), Prefetch: 10},
			Store:           st,
		}, local...)

		const n, families = 400, 5
		evs := appendEvents(t, st, clk, n, families)
		runUntilCleanup(t, "dispatcher", d.Run)

		// First drop while the forwarder is publishing, second while the
		// consumers are working through their queues.
		waitFor(t, fwd.reached(n/3), "a third of the events to be forwarded")
		pubProxy.cut(3)
		fanProxy.cut(3)
		waitFor(t, recs[0].reached(n/2), "half of the events to be taken")
		pubProxy.cut(3)
		fanProxy.cut(3)

		for _, r := range recs {
			waitFor(t, r.reached(n), r.name+" to take every event")
			r.assertOnceInOrder(t, evs)
		}
		assertDelivered(t, st, evs, append(names(local), bus.ForwarderName)...)
		ch := rawChannel(t)
		for _, c := range top.Consumers {
			q, err := ch.QueueDeclarePassive(top.DeadLetterQueue(c), true, false, false, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if q.Messages != 0 {
				t.Errorf("%d messages dead-lettered for %s", q.Messages, c)
			}
		}
	})
}

// TestPoisonMessagesEndInTheDeadLetterQueue sends a consumer a message that
// is no envelope, an event it refuses permanently, one it keeps failing, one
// that makes it panic, and a duplicate: the first four end in its
// dead-letter queue, the duplicate is dropped, and the events behind them
// carry on — for the other consumer too, which takes every valid event.
func TestPoisonMessagesEndInTheDeadLetterQueue(t *testing.T) {
	brokerURL := rabbitURL(t)
	clk := clock.NewFake(start)
	st := storetest.OpenSQLite(t, clk)
	channels, realtime := newRecorder("channels"), newRecorder("realtime")
	top := newTopology(t, channels.name, realtime.name)
	pub := startPublisher(t, connOptions(t, brokerURL, top))
	fwd := &counted{Consumer: bus.NewRabbitForwarder(pub, bus.ForwarderOptions{})}
	d := outbox.New(st, clk, testLogger(t), outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts}, fwd)
	runUntilCleanup(t, "dispatcher", d.Run)

	evs := appendEvents(t, st, clk, 4, 1)
	permanent, failing, panicking, good := evs[0], evs[1], evs[2], evs[3]
	channels.fail = func(e events.Event, _ int) error {
		switch e.ID {
		case permanent.ID:
			return fmt.Errorf("%w: care recipient no longer exists", outbox.ErrPermanent)
		case failing.ID:
			return errors.New("provider down")
		case panicking.ID:
			panic("nil map")
		}
		return nil
	}
	waitFor(t, fwd.reached(4), "the events to be forwarded")
	// Something else publishes a body that is no envelope, and the good
	// event again.
	ch := rawChannel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	body, _ := good.MarshalJSON()
	for _, m := range []amqp.Publishing{
		{MessageId: "garbage", ContentType: "application/json", Body: []byte("{not json")},
		{MessageId: good.ID, ContentType: "application/json", Body: body},
	} {
		dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), top.DomainExchange(), "emergency.alert.created", false, false, m)
		if err != nil || !dc.Wait() {
			t.Fatalf("publish %s: %v", m.MessageId, err)
		}
	}
	tail := appendEvents(t, st, clk, 1, 1)[0]
	waitFor(t, fwd.reached(5), "the last event to be forwarded")

	// Retries come at once.
	opts := events.ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top), Attempts: 3}
	opts.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	startFanIn(t, bus.FanInOptions{ConsumerOptions: opts, Store: st}, channels, realtime)
	waitFor(t, channels.reached(2), "channels to take the events behind the poison")
	waitFor(t, realtime.reached(5), "realtime to take every valid event")
	realtime.assertOnceInOrder(t, append(evs, tail))
	channels.mu.Lock()
	calls := []int{channels.calls[permanent.ID], channels.calls[failing.ID], channels.calls[panicking.ID], channels.calls[good.ID], channels.calls[tail.ID]}
	channels.mu.Unlock()
	if want := []int{1, 3, 1, 1, 1}; !slices.Equal(calls, want) {
		t.Errorf("channels calls (permanent, failing, panicking, good, tail) = %v, want %v", calls, want)
	}

	dead := func(consumer string, n int) []string {
		deliveries, err := rawChannel(t).Consume(top.DeadLetterQueue(consumer), "", true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for len(ids) < n {
			select {
			case m := <-deliveries:
				ids = append(ids, m.MessageId)
			case <-time.After(waitTimeout):
				t.Fatalf("%s's dead-letter queue holds only %v", consumer, ids)
			}
		}
		return ids
	}
	if got, want := dead("channels", 4), []string{permanent.ID, failing.ID, panicking.ID, "garbage"}; !slices.Equal(got, want) {
		t.Errorf("channels dead letters %v, want %v", got, want)
	}
	if got := dead("realtime", 1); got[0] != "garbage" {
		t.Errorf("realtime dead letters %v, want [garbage]", got)
	}
	// Only what was taken is recorded as taken.
	got, err := st.OutboxDeliveries(context.Background(), []string{permanent.ID, failing.ID, panicking.ID, good.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{permanent.ID, failing.ID, panicking.ID} {
		if got[[2]string{"channels", id}] != nil {
			t.Errorf("dead-lettered %s recorded as taken by channels", id)
		}
	}
	if dl := got[[2]string{"channels", good.ID}]; dl == nil || !dl.Done {
		t.Errorf("good event not recorded for channels: %+v", dl)
	}
}

// TestForwarderFailsWhileTheBrokerIsAway keeps the broker unreachable: the
// forwarder fails (after waiting once, then at once) so the dispatcher
// keeps the event and retries it, and forwards it when the broker is back.
func TestForwarderFailsWhileTheBrokerIsAway(t *testing.T) {
	brokerURL := rabbitURL(t)
	clk := clock.NewFake(start)
	st := storetest.OpenSQLite(t, clk)
	rec := newRecorder("channels")
	top := newTopology(t, rec.name)
	proxy, proxied := newProxy(t, brokerURL)
	proxy.cut(1 << 30)
	pub := startPublisher(t, connOptions(t, proxied, top))
	fwd := bus.NewRabbitForwarder(pub, bus.ForwarderOptions{ConnectWait: 100 * time.Millisecond})
	ctx := context.Background()

	e := appendEvents(t, st, clk, 1, 1)[0]
	if err := fwd.Handle(ctx, e); !errors.Is(err, bus.ErrBrokerUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first Handle = %v, want ErrBrokerUnavailable after waiting", err)
	}
	if err := fwd.Handle(ctx, e); err != bus.ErrBrokerUnavailable {
		t.Fatalf("second Handle = %v, want ErrBrokerUnavailable at once", err)
	}
	invalid := e
	invalid.Type = "Not A Type"
	if err := fwd.Handle(ctx, invalid); !errors.Is(err, outbox.ErrPermanent) {
		t.Fatalf("Handle(invalid) = %v, want ErrPermanent", err)
	}

	d := outbox.New(st, clk, testLogger(t), outbox.Options{MaxAttempts: bus.ForwarderMaxAttempts}, fwd)
	if _, err := d.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.PendingEvents(ctx, 10); len(p) != 1 {
		t.Fatalf("%d pending while the broker is away, want 1", len(p))
	}
	proxy.restore()
	wctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	if err := pub.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(outbox.Backoff(1))
	if _, err := d.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.PendingEvents(ctx, 10); len(p) != 0 {
		t.Fatalf("%d pending after the broker came back", len(p))
	}
	startFanIn(t, bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: connOptions(t, brokerURL, top)}, Store: st}, rec)
	waitFor(t, rec.reached(1), "the event")
	rec.assertOnceInOrder(t, []events.Event{e})
}

func TestNewRabbitFanInChecksItsConsumers(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t, clock.NewFake(start))
	conn := events.ConnOptions{URL: "amqp://guest:guest@127.0.0.1:1/", Topology: events.Topology{Prefix: "unused", Consumers: []string{"channels"}}}
	cases := map[string]struct {
		opts  bus.FanInOptions
		local []outbox.Consumer
	}{
		"no store":            {bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: conn}}, []outbox.Consumer{newRecorder("channels")}},
		"not in the topology": {bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: conn}, Store: st}, []outbox.Consumer{newRecorder("billing")}},
		"listed twice":        {bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: conn}, Store: st}, []outbox.Consumer{newRecorder("channels"), newRecorder("channels")}},
	}
	for name, c := range cases {
		if _, err := bus.NewRabbitFanIn(c.opts, c.local...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := bus.NewRabbitFanIn(bus.FanInOptions{ConsumerOptions: events.ConsumerOptions{ConnOptions: conn}, Store: st}, newRecorder("channels")); err != nil {
		t.Errorf("valid fan-in refused: %v", err)
	}
}
