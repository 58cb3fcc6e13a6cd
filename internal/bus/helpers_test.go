package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle/internal/bus"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
)

// waitTimeout bounds every wait on the broker; generous because the CPU is
// shared.
const waitTimeout = 60 * time.Second

// rabbitURL returns the test broker's URL, skipping the test (or failing it
// when services are required) when none is configured.
func rabbitURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_RABBITMQ_URL")
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_RABBITMQ_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("RabbitMQ tests skipped: set CARECIRCLE_TEST_RABBITMQ_URL to run them")
	}
	return u
}

// testLogger writes a test's logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// newTopology returns a topology under a prefix of the test's own, whose
// exchanges and queues are deleted at cleanup.
func newTopology(t testing.TB, consumers ...string) events.Topology {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	top := events.Topology{Prefix: "cctest-" + name + "-" + hex.EncodeToString(suffix), Consumers: consumers}
	brokerURL := rabbitURL(t)
	t.Cleanup(func() {
		conn, err := amqp.Dial(brokerURL)
		if err != nil {
			t.Errorf("cleanup: connect: %v", err)
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Errorf("cleanup: channel: %v", err)
			return
		}
		for _, c := range top.Consumers {
			for _, q := range []string{top.Queue(c), top.DeadLetterQueue(c)} {
				if _, err := ch.QueueDelete(q, false, false, false); err != nil {
					t.Errorf("cleanup: delete queue %s: %v", q, err)
				}
			}
		}
		for _, x := range exchanges(top) {
			if err := ch.ExchangeDelete(x[0], false, false); err != nil {
				t.Errorf("cleanup: delete exchange %s: %v", x[0], err)
			}
		}
	})
	return top
}

// exchanges lists the contract's exchanges with their kinds.
func exchanges(top events.Topology) [][2]string {
	return [][2]string{
		{top.DomainExchange(), amqp.ExchangeTopic},
		{top.NotificationsExchange(), amqp.ExchangeDirect},
		{top.AuditExchange(), amqp.ExchangeFanout},
		{top.DeadLetterExchange(), amqp.ExchangeDirect},
	}
}

// rawChannel opens a plain channel on the test broker, closed at cleanup.
func rawChannel(t testing.TB) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(rabbitURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// connOptions reach brokerURL on top, logging to the test, with short
// reconnect delays.
func connOptions(t testing.TB, brokerURL string, top events.Topology) events.ConnOptions {
	return events.ConnOptions{
		URL:       brokerURL,
		Topology:  top,
		Logger:    testLogger(t),
		Reconnect: events.Backoff{Initial: 10 * time.Millisecond, Max: 80 * time.Millisecond, Multiplier: 2},
	}
}

// startPublisher starts a publisher closed at cleanup.
func startPublisher(t testing.TB, conn events.ConnOptions) *events.Publisher {
	t.Helper()
	p, err := events.NewPublisher(events.PublisherOptions{ConnOptions: conn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// startFanIn runs a fan-in until cleanup, which waits for it to stop.
func startFanIn(t testing.TB, opts bus.FanInOptions, local ...outbox.Consumer) {
	t.Helper()
	f, err := bus.NewRabbitFanIn(opts, local...)
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, "fan-in", f.Run)
}

// runUntilCleanup runs fn in the background; cleanup cancels its context and
// waits for it to return.
func runUntilCleanup(t testing.TB, what string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// counted wraps a consumer and closes reached once it has taken n events.
type counted struct {
	outbox.Consumer
	mu      sync.Mutex
	n       int
	waiters []countWaiter
}

func (c *counted) Handle(ctx context.Context, e events.Event) error {
	if err := c.Consumer.Handle(ctx, e); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.waiters = notify(c.waiters, c.n)
	return nil
}

func (c *counted) reached(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return addWaiter(&c.waiters, c.n, n)
}

type countWaiter struct {
	n  int
	ch chan struct{}
}

// addWaiter returns a channel closed once the count reaches n.
func addWaiter(ws *[]countWaiter, have, n int) <-chan struct{} {
	ch := make(chan struct{})
	if have >= n {
		close(ch)
	} else {
		*ws = append(*ws, countWaiter{n: n, ch: ch})
	}
	return ch
}

// notify closes the waiters whose count has been reached and keeps the rest.
func notify(ws []countWaiter, have int) []countWaiter {
	kept := ws[:0]
	for _, w := range ws {
		if have >= w.n {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	return kept
}

// recorder is a local consumer that counts every call per event, as a
// consumer without idempotency of its own would act on each, and fails on
// demand.
type recorder struct {
	name string
	fail func(e events.Event, call int) error // nil: never

	mu      sync.Mutex
	calls   map[string]int
	order   map[string][]string // family → event ids in arrival order
	waiters []countWaiter
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, calls: map[string]int{}, order: map[string][]string{}}
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Handle(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[e.ID]++
	if r.fail != nil {
		if err := r.fail(e, r.calls[e.ID]); err != nil {
			return err
		}
	}
	r.order[e.FamilyID] = append(r.order[e.FamilyID], e.ID)
	r.waiters = notify(r.waiters, r.handled())
	return nil
}

// handled counts the events taken (calls that returned nil).
func (r *recorder) handled() int {
	n := 0
	for _, ids := range r.order {
		n += len(ids)
	}
	return n
}

// reached is closed once n calls have succeeded.
func (r *recorder) reached(n int) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return addWaiter(&r.waiters, r.handled(), n)
}

// assertOnceInOrder fails unless every event in want was taken exactly once
// and each family's events arrived in want's order.
func (r *recorder) assertOnceInOrder(t testing.TB, want []events.Event) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	wantOrder := map[string][]string{}
	for _, e := range want {
		wantOrder[e.FamilyID] = append(wantOrder[e.FamilyID], e.ID)
		if n := r.calls[e.ID]; n != 1 {
			t.Errorf("%s took %s %d times, want once", r.name, e.ID, n)
		}
	}
	if len(r.calls) != len(want) {
		t.Errorf("%s was handed %d distinct events, want %d", r.name, len(r.calls), len(want))
	}
	for fam, ids := range wantOrder {
		if got := r.order[fam]; fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Errorf("%s: family %s events arrived as %v, want %v", r.name, fam, got, ids)
		}
	}
}

// waitFor fails the test unless ch closes within waitTimeout.
func waitFor(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
	}
}

// appendEvents appends n events to the outbox, spread over families, and
// returns them in commit order.
func appendEvents(t testing.TB, st *store.Store, clk clock.Clock, n, families int) []events.Event {
	t.Helper()
	types := []string{"medication.logged", "emergency.alert.created", "family.member.removed",
		"care_recipient.created", "appointment.reminder", "shift.checked_in"}
	out := make([]events.Event, n)
	for i := range out {
		e, err := events.NewEvent(clk, types[i%len(types)], map[string]int{"seq": i})
		if err != nil {
			t.Fatal(err)
		}
		e.FamilyID = fmt.Sprintf("0190f0a0-0000-7000-8000-%012d", i%families)
		env, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AppendEvent(context.Background(), store.OutboxEvent{ID: e.ID, Type: e.Type, FamilyID: e.FamilyID, Envelope: env}); err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

// tcpProxy forwards connections to the broker so a test can drop them, as
// a broker restart would, without touching the shared broker.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refuse  int // connections still to refuse
	stopped bool
	wg      sync.WaitGroup
}

// newProxy starts a proxy to the broker at brokerURL and returns it with a
// URL that reaches the broker through it.
func newProxy(t testing.TB, brokerURL string) (*tcpProxy, string) {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5672")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused := p.refuse > 0 || p.stopped
		if refused {
			p.refuse--
		}
		p.mu.Unlock()
		if refused {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			client.Close()
			server.Close()
			continue
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut drops every forwarded connection on both sides and refuses the next
// refuseNext connection attempts, as a broker that restarts would.
func (p *tcpProxy) cut(refuseNext int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = refuseNext
	for c := range p.conns {
		c.Close()
	}
}

// restore accepts connections again after a cut.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = 0
}

func (p *tcpProxy) close() {
	p.mu.Lock()
	p.stopped = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
