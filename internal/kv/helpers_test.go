package kv

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/clock"
)

// redisURL returns the test server's URL, skipping the test (or failing it
// when services are required) when none is configured.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_REDIS_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis tests skipped: set CARECIRCLE_TEST_REDIS_URL to run them")
	}
	return u
}

// redisTestOptions returns client options for the test server.
func redisTestOptions(t testing.TB) *redis.Options {
	t.Helper()
	opt, err := RedisOptions(redisURL(t), "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// newRedisClient connects to the test server, closed at cleanup.
func newRedisClient(t testing.TB, hooks ...redis.Hook) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(redisTestOptions(t))
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", rdb.Options().Addr, err)
	}
	return rdb
}

// newPrefix returns a key prefix of the test's own; its keys are deleted at
// cleanup.
func newPrefix(t testing.TB) string {
	t.Helper()
	prefix := "kvtest:" + randomToken() + ":"
	t.Cleanup(func() {
		rdb := redis.NewClient(redisTestOptions(t))
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up %s: %v", prefix, err)
		}
		if len(keys) > 0 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("clean up %s: %v", prefix, err)
			}
		}
	})
	return prefix
}

// newFakeClock starts on a whole second, so millisecond and microsecond
// arithmetic in the Redis scripts matches the memory implementations.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// newTestResilient returns a Resilient over a fresh prefix of the test server.
func newTestResilient(t testing.TB, clk clock.Clock) *Resilient {
	t.Helper()
	r, err := NewResilient(context.Background(), ResilientConfig{
		Client: newRedisClient(t),
		Prefix: newPrefix(t),
		Clock:  clk,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if state, _ := r.Status(); state != StateUp {
		t.Fatalf("resilient starts %s against a running redis", state)
	}
	return r
}

// backend opens one implementation of a seam for one test.
type backend[T any] struct {
	name string
	open func(t *testing.T, clk clock.Clock) T
}

// forEach runs fn as a parallel subtest against every backend: memory
// always, Redis and Resilient-over-Redis when a server is configured.
func forEach[T any](t *testing.T, backends []backend[T], fn func(t *testing.T, clk *clock.Fake, impl T)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			fn(t, clk, b.open(t, clk))
		})
	}
}

// commandCounter is a go-redis hook counting commands by name.
type commandCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newCommandCounter() *commandCounter { return &commandCounter{counts: map[string]int{}} }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			c.add(cmd)
		}
		return next(ctx, cmds)
	}
}

func (c *commandCounter) add(cmd redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[strings.ToUpper(cmd.Name())]++
}

// take returns the counts since the last take and starts again.
func (c *commandCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

// tcpProxy forwards connections to a real server and can be stopped (the
// port refuses connections and open ones are cut) and started again on the
// same port, to play a server that dies and comes back.
type tcpProxy struct {
	t      testing.TB
	target string

	mu    sync.Mutex
	addr  string
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newTCPProxy(t testing.TB, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.start()
	t.Cleanup(p.stop)
	return p
}

// start listens again on the proxy's address.
func (p *tcpProxy) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	p.wg.Add(1)
	go p.accept(ln)
}

// stop closes the listener and every open connection, and waits for the
// forwarding goroutines to end.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *tcpProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // stopped meanwhile
			p.mu.Unlock()
			_ = in.Close()
			_ = out.Close()
			return
		}
		p.conns[in], p.conns[out] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// logRecorder is a slog handler keeping records for assertions.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// count returns how many records were logged at level.
func (l *logRecorder) count(level slog.Level) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r.Level == level {
			n++
		}
	}
	return n
}

// receive waits for a value on ch, failing the test after a generous
// timeout instead of hanging.
func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
