package kv

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

func limiterBackends() []backend[MultiLimiter] {
	return []backend[MultiLimiter]{
		{"memory", func(_ *testing.T, clk clock.Clock) MultiLimiter { return NewMemoryLimiter(clk) }},
		{"redis", func(t *testing.T, clk clock.Clock) MultiLimiter {
			return NewRedisLimiter(newRedisClient(t), newPrefix(t), clk)
		}},
		{"resilient", func(t *testing.T, clk clock.Clock) MultiLimiter { return newTestResilient(t, clk).Limiter() }},
		{"local first over memory", func(_ *testing.T, clk clock.Clock) MultiLimiter {
			return NewLocalFirstLimiter(clk, NewMemoryLimiter(clk), everyKey)
		}},
		{"local first over resilient", func(t *testing.T, clk clock.Clock) MultiLimiter {
			return NewLocalFirstLimiter(clk, newTestResilient(t, clk).Limiter(), everyKey)
		}},
		{"shared first over resilient", func(t *testing.T, clk clock.Clock) MultiLimiter {
			return NewLocalFirstLimiter(clk, newTestResilient(t, clk).Limiter(), nil)
		}},
	}
}

func everyKey(string) bool { return true }

func TestLimiterBurstAndRetryAfter(t *testing.T) {
	t.Parallel()
	forEach(t, limiterBackends(), func(t *testing.T, clk *clock.Fake, l MultiLimiter) {
		ctx := context.Background()
		lim := Limit{Count: 5, Period: time.Second}
		for i := 0; i < 5; i++ {
			if ok, _, err := l.Allow(ctx, "a", lim); !ok || err != nil {
				t.Fatalf("request %d refused within the burst (err %v)", i+1, err)
			}
		}
		ok, retry, err := l.Allow(ctx, "a", lim)
		if ok || err != nil || retry != 200*time.Millisecond {
			t.Fatalf("6th request: ok=%v retry=%v err=%v; want refused, retry one interval (200ms)", ok, retry, err)
		}
		if ok, _, _ := l.Allow(ctx, "b", lim); !ok {
			t.Fatal("another key is limited")
		}
		clk.Advance(retry - time.Millisecond)
		if ok, _, _ := l.Allow(ctx, "a", lim); ok {
			t.Fatal("allowed before Retry-After elapsed")
		}
		clk.Advance(time.Millisecond)
		if ok, _, _ := l.Allow(ctx, "a", lim); !ok {
			t.Fatal("refused after Retry-After elapsed")
		}
		clk.Advance(time.Second)
		for i := 0; i < 5; i++ {
			if ok, _, _ := l.Allow(ctx, "a", lim); !ok {
				t.Fatalf("burst not restored after a full period (request %d)", i+1)
			}
		}
		if ok, _, _ := l.Allow(ctx, "a", Limit{}); !ok {
			t.Fatal("a zero limit refused")
		}
	})
}

func TestLimiterSteadyRate(t *testing.T) {
	t.Parallel()
	forEach(t, limiterBackends(), func(t *testing.T, clk *clock.Fake, l MultiLimiter) {
		ctx := context.Background()
		lim := Limit{Count: 30, Period: 10 * time.Second}
		allowed := 0
		// A client sending 10 requests a second for a minute gets the burst
		// plus one request per interval (a third of a second).
		for i := 0; i < 600; i++ {
			if ok, _, err := l.Allow(ctx, "steady", lim); err != nil {
				t.Fatal(err)
			} else if ok {
				allowed++
			}
			clk.Advance(100 * time.Millisecond)
		}
		if want := 30 + 180; allowed < want-1 || allowed > want+1 {
			t.Fatalf("allowed %d of 600 over a minute, want about %d", allowed, want)
		}
	})
}

func TestLimiterAllowAllIsAllOrNothing(t *testing.T) {
	t.Parallel()
	forEach(t, limiterBackends(), func(t *testing.T, clk *clock.Fake, l MultiLimiter) {
		ctx := context.Background()
		short := Rule{Key: "short:u1", Limit: Limit{Count: 5, Period: time.Second}}
		long := Rule{Key: "long:u1", Limit: Limit{Count: 7, Period: time.Minute}}
		for i := 0; i < 5; i++ {
			if ok, _, err := l.AllowAll(ctx, short, long); !ok || err != nil {
				t.Fatalf("request %d refused (err %v)", i+1, err)
			}
		}
		ok, retry, _ := l.AllowAll(ctx, short, long)
		if ok || retry != 200*time.Millisecond {
			t.Fatalf("short tier exhausted: ok=%v retry=%v, want refused for 200ms", ok, retry)
		}
		// The refusal recorded nothing in the long tier: 2 requests remain.
		clk.Advance(time.Second)
		for i := 0; i < 2; i++ {
			if ok, _, _ := l.AllowAll(ctx, short, long); !ok {
				t.Fatalf("long tier charged for a refused request (request %d)", i+6)
			}
		}
		ok, retry, _ = l.AllowAll(ctx, short, long)
		// One long-tier interval (60s/7) after the burst began, a second ago.
		if ok || retry < 7500*time.Millisecond || retry > 7600*time.Millisecond {
			t.Fatalf("long tier exhausted: ok=%v retry=%v, want refused for about 7.57s", ok, retry)
		}
		if ok, _, _ := l.Allow(ctx, "short:u1", short.Limit); !ok {
			t.Fatal("a refusal by the long tier charged the short tier")
		}
		if ok, _, _ := l.AllowAll(ctx); !ok {
			t.Fatal("no rules refused")
		}
	})
}

func TestLimiterIsAtomicUnderConcurrency(t *testing.T) {
	t.Parallel()
	forEach(t, limiterBackends(), func(t *testing.T, _ *clock.Fake, l MultiLimiter) {
		ctx := context.Background()
		lim := Limit{Count: 10, Period: time.Minute}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
		)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 10; j++ {
					ok, _, err := l.Allow(ctx, "race", lim)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if allowed != 10 {
			t.Fatalf("80 concurrent requests against a limit of 10: %d allowed", allowed)
		}
	})
}
