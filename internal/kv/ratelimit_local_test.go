package kv

import (
	"context"
	"testing"
	"time"
)

// nodes returns n local-first limiters, as n nodes sharing one Redis would
// have, on one fake clock, and the counter of the commands they send.
func localFirstNodes(t *testing.T, n int) ([]*LocalFirstLimiter, *commandCounter, func(time.Duration)) {
	t.Helper()
	clk := newFakeClock()
	counter := newCommandCounter()
	rdb := newRedisClient(t, counter)
	prefix := newPrefix(t)
	out := make([]*LocalFirstLimiter, n)
	for i := range out {
		out[i] = NewLocalFirstLimiter(clk, NewRedisLimiter(rdb, prefix, clk), everyKey)
	}
	return out, counter, clk.Advance
}

// A client well within its limits costs no Redis command; one that comes
// near a limit is counted in Redis, with what the node admitted before.
func TestLocalFirstLimiterAsksRedisOnlyNearTheLimit(t *testing.T) {
	t.Parallel()
	nodes, counter, advance := localFirstNodes(t, 1)
	l, ctx := nodes[0], context.Background()
	tiers := func(client string) []Rule {
		return []Rule{
			{Key: "short:" + client, Limit: Limit{Count: 5, Period: time.Second}},
			{Key: "medium:" + client, Limit: Limit{Count: 30, Period: 10 * time.Second}},
			{Key: "long:" + client, Limit: Limit{Count: 150, Period: time.Minute}},
		}
	}
	counter.take() // the connection's handshake
	// An app open: a dozen requests, a quarter of a second apart.
	for i := range 12 {
		if ok, _, err := l.AllowAll(ctx, tiers("calm")...); !ok || err != nil {
			t.Fatalf("request %d refused (err %v)", i+1, err)
		}
		advance(250 * time.Millisecond)
	}
	if got := counter.take(); len(got) != 0 {
		t.Fatalf("a client within its limits sent Redis %v, want nothing", got)
	}
	// A burst goes to Redis past half of the short tier, and is refused at
	// the limit, whichever node counts it.
	allowed := 0
	for range 8 {
		if ok, _, err := l.AllowAll(ctx, tiers("eager")...); err != nil {
			t.Fatal(err)
		} else if ok {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("a burst of 8 against 5 a second: %d allowed", allowed)
	}
	if got := counter.take(); got["EVALSHA"]+got["EVAL"] == 0 {
		t.Fatal("a burst to the limit asked Redis nothing")
	}
}

// Two nodes sharing one Redis hold a client spreading requests over both to
// the documented bound: a burst of at most (1 + (N−1)·LocalShare) times the
// limit, and over time the limit's rate plus that burst.
func TestLocalFirstLimiterHoldsAcrossNodes(t *testing.T) {
	t.Parallel()
	lim := Limit{Count: 10, Period: time.Minute}
	bound := func(n int) int { return int(float64(lim.Count) * (1 + float64(n-1)*LocalShare)) }
	ctx := context.Background()

	t.Run("one node fills the limit, then the other", func(t *testing.T) {
		t.Parallel()
		nodes, _, _ := localFirstNodes(t, 2)
		allowed := 0
		for _, l := range nodes {
			for range 3 * lim.Count {
				if ok, _, err := l.Allow(ctx, "client", lim); err != nil {
					t.Fatal(err)
				} else if ok {
					allowed++
				}
			}
		}
		t.Logf("%d allowed across two nodes (limit %d, bound %d)", allowed, lim.Count, bound(2))
		if allowed > bound(2) || allowed < lim.Count {
			t.Fatalf("%d allowed across two nodes, want between the limit %d and the bound %d", allowed, lim.Count, bound(2))
		}
		for i, l := range nodes {
			if ok, _, _ := l.Allow(ctx, "client", lim); ok {
				t.Fatalf("node %d still admits the client after the burst", i+1)
			}
		}
	})

	t.Run("requests alternate between three nodes", func(t *testing.T) {
		t.Parallel()
		nodes, _, _ := localFirstNodes(t, 3)
		allowed := 0
		for i := range 9 * lim.Count {
			if ok, _, err := nodes[i%3].Allow(ctx, "client", lim); err != nil {
				t.Fatal(err)
			} else if ok {
				allowed++
			}
		}
		t.Logf("%d allowed across three nodes (limit %d, bound %d)", allowed, lim.Count, bound(3))
		if allowed > bound(3) || allowed < lim.Count {
			t.Fatalf("%d allowed across three nodes, want between the limit %d and the bound %d", allowed, lim.Count, bound(3))
		}
	})

	t.Run("a steady flood over two nodes for ten minutes", func(t *testing.T) {
		t.Parallel()
		nodes, _, advance := localFirstNodes(t, 2)
		const span = 10 * time.Minute
		allowed := 0
		for i := 0; time.Duration(i)*time.Second < span; i++ {
			for _, l := range nodes {
				if ok, _, err := l.Allow(ctx, "client", lim); err != nil {
					t.Fatal(err)
				} else if ok {
					allowed++
				}
			}
			advance(time.Second)
		}
		steady := int(span / lim.interval())
		t.Logf("%d allowed in %v across two nodes (the limit allows %d, the bound %d)", allowed, span, lim.Count+steady, bound(2)+steady)
		if allowed > bound(2)+steady {
			t.Fatalf("%d allowed in %v across two nodes, more than the burst bound %d plus the rate's %d", allowed, span, bound(2), steady)
		}
		if allowed < lim.Count+steady-1 {
			t.Fatalf("%d allowed in %v, fewer than the limit allows (%d)", allowed, span, lim.Count+steady)
		}
	})
}
