package kv

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// testBus connects NodeCaches as the realtime bus does: a broadcast reaches
// every other member, and fails while the bus is down. Delivery is
// synchronous unless held, to stand for a message still on its way.
type testBus struct {
	mu      sync.Mutex
	members []*NodeCache
	down    bool
	held    []func()
	holding bool
	sent    int
	// delivered, when set, hears every broadcast once delivered.
	delivered chan string
}

// member is one node's end of the bus.
type member struct {
	bus  *testBus
	self int
}

func (m member) Broadcast(_ context.Context, body string) error {
	b := m.bus
	b.mu.Lock()
	if b.down {
		b.mu.Unlock()
		return errors.New("bus down")
	}
	b.sent++
	var deliver []func()
	for i, c := range b.members {
		if i != m.self {
			deliver = append(deliver, func() { c.BusMessage(body) })
		}
	}
	if b.holding {
		b.held = append(b.held, deliver...)
		deliver = nil
	}
	done := b.delivered
	b.mu.Unlock()
	for _, d := range deliver {
		d()
	}
	if done != nil {
		done <- body
	}
	return nil
}

// release delivers what was held, and stops holding.
func (b *testBus) release() {
	b.mu.Lock()
	held := b.held
	b.held, b.holding = nil, false
	b.mu.Unlock()
	for _, d := range held {
		d()
	}
}

func (b *testBus) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	b.mu.Unlock()
}

// newNodeCaches returns n caches on one bus, receiving it.
func newNodeCaches(t *testing.T, clk clock.Clock, n int, after func(time.Duration) <-chan time.Time) ([]*NodeCache, *testBus) {
	t.Helper()
	bus := &testBus{}
	out := make([]*NodeCache, n)
	for i := range out {
		out[i] = NewNodeCache(NodeCacheConfig{Bus: member{bus: bus, self: i}, Clock: clk, After: after})
		t.Cleanup(out[i].Close)
		out[i].BusBack()
	}
	bus.members = out
	return out, bus
}

// A write on one node is seen by a read on another once the invalidation
// has arrived, and a read racing it never stores the old value.
func TestNodeCacheInvalidatesEveryNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	caches, bus := newNodeCaches(t, newFakeClock(), 3, nil)
	a, b := caches[0], caches[1]
	key := Key("family:f1", "view")
	db := "v1"
	load := func() (string, error) { return db, nil }
	for _, c := range caches {
		if v, _ := GetOrLoad(ctx, c, key, time.Minute, load); v != "v1" {
			t.Fatalf("first read %q", v)
		}
	}
	db = "v2"
	bus.holding = true
	if err := a.Bump(ctx, "family:f1"); err != nil {
		t.Fatal(err)
	}
	if v, _ := GetOrLoad(ctx, a, key, time.Minute, load); v != "v2" {
		t.Fatalf("the writer's node read %q after its own write", v)
	}
	if v, _ := GetOrLoad(ctx, b, key, time.Minute, load); v != "v1" {
		t.Fatalf("before the invalidation arrived node B read %q; the test bus did not hold it", v)
	}
	bus.release()
	for i, c := range caches {
		if v, _ := GetOrLoad(ctx, c, key, time.Minute, load); v != "v2" {
			t.Fatalf("node %d read %q after the invalidation arrived", i+1, v)
		}
	}

	// A read on B that loaded before the write does not store it after the
	// invalidation arrives.
	db = "v3"
	v, _ := GetOrLoad(ctx, b, "memberships:u1", time.Minute, func() (string, error) {
		loaded := db
		db = "v4"
		if err := a.Delete(ctx, "memberships:u1"); err != nil {
			t.Fatal(err)
		}
		return loaded, nil
	})
	if v != "v3" {
		t.Fatalf("racing read %q", v)
	}
	if v, _ := GetOrLoad(ctx, b, "memberships:u1", time.Minute, load); v != "v4" {
		t.Fatalf("after a racing read node B reads %q; the racing read stored a stale value", v)
	}
	if bus.sent != 2 {
		t.Fatalf("%d broadcasts for two invalidations", bus.sent)
	}
}

// While a node does not receive the bus it reads from the database and
// stores nothing; when it receives it again it has dropped everything,
// including a value loaded before, and invalidations it failed to send go
// out.
func TestNodeCacheSurvivesALostBus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	never := make(chan time.Time) // retries wait for the bus to come back
	caches, bus := newNodeCaches(t, newFakeClock(), 2, func(time.Duration) <-chan time.Time { return never })
	a, b := caches[0], caches[1]
	db := "v1"
	load := func() (string, error) { return db, nil }
	for _, c := range caches {
		_, _ = GetOrLoad(ctx, c, "memberships:u1", time.Minute, load)
	}

	// Redis goes away: both nodes lose the bus, A's write cannot be sent.
	bus.setDown(true)
	a.BusLost()
	b.BusLost()
	db = "v2"
	// The wake-up A's first BusBack left behind would let its retry run
	// at any moment, sending the invalidation as soon as the bus is back;
	// the test wants it sent when A receives the bus again, below.
	select {
	case <-a.wake:
	default:
	}
	if err := a.Delete(ctx, "memberships:u1"); err != nil {
		t.Fatal(err)
	}
	if v, _ := GetOrLoad(ctx, b, "memberships:u1", time.Minute, load); v != "v2" {
		t.Fatalf("without the bus node B read %q, not the database", v)
	}
	// A read that loaded while the bus was away, stored after it is back.
	var stale string
	_, _ = GetOrLoad(ctx, b, "memberships:u1", time.Minute, func() (string, error) {
		stale = "v2"
		bus.setDown(false)
		b.BusBack()
		return stale, nil
	})
	db = "v3"
	if v, _ := GetOrLoad(ctx, b, "memberships:u1", time.Minute, load); v != "v3" {
		t.Fatalf("after the bus came back node B read %q", v)
	}

	// A's invalidation goes out when it retries, at the latest once its
	// node receives the bus again.
	db = "v4"
	delivered := make(chan string, 1)
	bus.mu.Lock()
	bus.delivered = delivered
	bus.mu.Unlock()
	a.BusBack()
	if got := receive(t, delivered, "the invalidation that failed, sent again"); got != "kmemberships:u1" {
		t.Fatalf("sent again: %q", got)
	}
	if v, _ := GetOrLoad(ctx, b, "memberships:u1", time.Minute, load); v != "v4" {
		t.Fatalf("node B read %q after the pending invalidation", v)
	}
}

// Without the bus, fills are dropped, so a node that never received it
// (Redis away at start) caches nothing.
func TestNodeCacheIsBypassedUntilTheBusIsReceived(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := NewNodeCache(NodeCacheConfig{Bus: member{bus: &testBus{}}, Clock: newFakeClock()})
	t.Cleanup(c.Close)
	n := 0
	for range 2 {
		_, _ = GetOrLoad(ctx, c, "k", time.Minute, func() (int, error) { n++; return n, nil })
	}
	if n != 2 || c.Live() {
		t.Fatalf("%d loads for two reads, live %v", n, c.Live())
	}
}
