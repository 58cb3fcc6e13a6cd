package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
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
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// newTopology returns a topology under a prefix of the test's own, whose
// exchanges and queues are deleted at cleanup.
func newTopology(t testing.TB, consumers ...string) Topology {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	top := Topology{Prefix: "cctest-" + name + "-" + hex.EncodeToString(suffix), Consumers: consumers}
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
		for _, x := range top.exchanges() {
			if err := ch.ExchangeDelete(x[0], false, false); err != nil {
				t.Errorf("cleanup: delete exchange %s: %v", x[0], err)
			}
		}
	})
	return top
}

// rawChannel opens a plain channel on the test broker, closed at cleanup.
func rawChannel(t testing.TB) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(rabbitURL(t))
	if err != nil {
		t.Fatalf("connect to %s: %v", rabbitURL(t), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// connOptions are options reaching brokerURL on top, logging to the test,
// with short reconnect delays.
func connOptions(t testing.TB, brokerURL string, top Topology) ConnOptions {
	return ConnOptions{
		URL:       brokerURL,
		Topology:  top,
		Logger:    testLogger(t),
		Reconnect: Backoff{Initial: 10 * time.Millisecond, Max: 80 * time.Millisecond, Multiplier: 2},
	}
}

// startPublisher starts a publisher closed at cleanup.
func startPublisher(t testing.TB, opts PublisherOptions) *Publisher {
	t.Helper()
	p, err := NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// startConsumer runs Consume in the background until cleanup, which waits
// for it to return.
func startConsumer(t testing.TB, opts ConsumerOptions, name string, h Handler) {
	t.Helper()
	c, err := NewConsumer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Consume(ctx, name, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consume %s: %v", name, err)
		}
	})
}

// collector records the events a consumer received.
type collector struct {
	mu         sync.Mutex
	deliveries int
	seen       map[string]Event
	waiters    []countWaiter
}

type countWaiter struct {
	n  int
	ch chan struct{}
}

func newCollector() *collector { return &collector{seen: map[string]Event{}} }

// handle is a Handler that records e.
func (c *collector) handle(_ context.Context, e Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deliveries++
	c.seen[e.ID] = e
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if len(c.seen) >= w.n {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	return nil
}

// reached is closed once n distinct events have arrived.
func (c *collector) reached(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if len(c.seen) >= n {
		close(ch)
	} else {
		c.waiters = append(c.waiters, countWaiter{n: n, ch: ch})
	}
	return ch
}

// snapshot returns the distinct events and the number of deliveries.
func (c *collector) snapshot() (map[string]Event, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Event, len(c.seen))
	for k, v := range c.seen {
		out[k] = v
	}
	return out, c.deliveries
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

// tcpProxy forwards connections to the broker so a test can drop them as a
// broker restart would, without touching the shared broker.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refuse  int           // connections still to refuse
	gate    chan struct{} // forwarding waits until it is closed
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
	open := make(chan struct{})
	close(open)
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, gate: open}
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
		if !p.track(client, server) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// track registers a forwarded pair, or closes it when the proxy stopped.
func (p *tcpProxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		a.Close()
		b.Close()
		return false
	}
	p.conns[a], p.conns[b] = struct{}{}, struct{}{}
	return true
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
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

// cut drops every forwarded connection, on both sides, and refuses the next
// refuseNext connection attempts, as a broker that restarts would.
func (p *tcpProxy) cut(refuseNext int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = refuseNext
	for c := range p.conns {
		c.Close()
	}
}

// freeze holds every byte in flight, as a broker that stops answering
// without closing its connections would, until thaw.
func (p *tcpProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = make(chan struct{})
}

// thaw forwards again what freeze held.
func (p *tcpProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// restore accepts connections again after a cut.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = 0
}

func (p *tcpProxy) close() {
	p.thaw()
	p.mu.Lock()
	p.stopped = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// delayRecorder is a SleepFunc that records each delay and returns at once,
// so reconnect backoff is observable without waiting.
type delayRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (r *delayRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.delays = append(r.delays, d)
	r.mu.Unlock()
	return ctx.Err()
}

// startsWith reports whether the recorded delays begin with want.
func (r *delayRecorder) startsWith(want ...time.Duration) bool {
	got := r.recorded()
	return len(got) >= len(want) && slices.Equal(got[:len(want)], want)
}

func (r *delayRecorder) recorded() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.delays...)
}
