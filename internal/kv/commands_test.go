package kv

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisCommandsPerAction pins what each operation costs Redis, the
// figures docs/BENCHMARKS.md multiplies into a user-day.
func TestRedisCommandsPerAction(t *testing.T) {
	t.Parallel()
	counter := newCommandCounter()
	rdb := newRedisClient(t, counter)
	prefix := newPrefix(t)
	clk := newFakeClock()
	ctx := context.Background()
	lim := NewRedisLimiter(rdb, prefix, clk)
	cache := NewRedisCache(rdb, prefix, clk)
	codes := NewRedisCodes(rdb, prefix, clk)
	lockout := NewRedisLockout(rdb, prefix, clk)
	locker := NewRedisLocker(rdb, prefix, clk)
	tiers := []Rule{
		{Key: "short:u1", Limit: Limit{Count: 5, Period: time.Second}},
		{Key: "medium:u1", Limit: Limit{Count: 30, Period: 10 * time.Second}},
		{Key: "long:u1", Limit: Limit{Count: 150, Period: time.Minute}},
	}
	load := func() (string, error) { return "from db", nil }
	var lease Lease

	cases := []struct {
		name string
		do   func() error
		want map[string]int
	}{
		{"rate limit, one tier", func() error { _, _, err := lim.Allow(ctx, "ip:1", Limit{Count: 5, Period: time.Second}); return err },
			map[string]int{"EVALSHA": 1}},
		{"rate limit, three tiers at once", func() error { _, _, err := lim.AllowAll(ctx, tiers...); return err },
			map[string]int{"EVALSHA": 1}},
		{"cache set", func() error { return cache.Set(ctx, "me:u1", []byte(`"v"`), time.Minute) },
			map[string]int{"SET": 1}},
		{"cache hit", func() error { _, err := GetOrLoad(ctx, cache, "me:u1", time.Minute, load); return err },
			map[string]int{"GET": 1}},
		{"cache miss and fill", func() error { _, err := GetOrLoad(ctx, cache, "me:u2", time.Minute, load); return err },
			map[string]int{"GET": 1, "EVALSHA": 1}},
		{"namespaced cache hit", func() error {
			_, err := GetOrLoad(ctx, cache, Key("family:f1", "recipients"), time.Minute, load)
			return err
		}, map[string]int{"EVALSHA": 1}},
		{"invalidate three keys", func() error { return cache.Delete(ctx, "me:u1", "me:u2", "me:u3") },
			map[string]int{"EVALSHA": 1}},
		{"invalidate a namespace", func() error { return cache.Bump(ctx, "family:f1") },
			map[string]int{"SET": 1}},
		{"put code", func() error { return codes.Put(ctx, "verify:u1", "h", time.Minute) },
			map[string]int{"EVALSHA": 1}},
		{"check code", func() error { _, err := codes.Check(ctx, "verify:u1", "x", 5); return err },
			map[string]int{"EVALSHA": 1}},
		{"resend cooldown", func() error { _, _, err := codes.Cooldown(ctx, "resend:u1", time.Minute); return err },
			map[string]int{"EVALSHA": 1}},
		{"login failure", func() error {
			_, _, err := lockout.Fail(ctx, "login:a", LockoutPolicy{Max: 5, LockFor: time.Minute})
			return err
		}, map[string]int{"EVALSHA": 1}},
		{"lockout check", func() error { _, _, err := lockout.Locked(ctx, "login:a"); return err },
			map[string]int{"HGET": 1}},
		{"login success", func() error { return lockout.Reset(ctx, "login:a") },
			map[string]int{"DEL": 1}},
		{"acquire lock", func() error { var err error; lease, _, err = locker.Acquire(ctx, "planner", time.Minute); return err },
			map[string]int{"EVALSHA": 1}},
		{"extend lock", func() error { _, _, err := locker.Extend(ctx, lease, time.Minute); return err },
			map[string]int{"EVALSHA": 1}},
		{"release lock", func() error { return locker.Release(ctx, lease) },
			map[string]int{"EVALSHA": 1}},
	}
	// Load every script first: the first EVALSHA of a script after a Redis
	// restart costs one EVAL more.
	for _, s := range []*redis.Script{gcraScript, cacheGetNSScript, cacheSetNSScript, cacheCASScript,
		cacheCASNSScript, cacheDeleteScript, codePutScript, codeCheckScript, cooldownScript,
		lockoutFailScript, lockAcquireScript, lockExtendScript, lockReleaseScript} {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cache.Set(ctx, Key("family:f1", "recipients"), []byte(`"cached"`), time.Minute); err != nil {
		t.Fatal(err)
	}
	counter.take()
	for _, c := range cases {
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := counter.take(); !maps.Equal(got, c.want) {
			t.Errorf("%s: sent %v, want %v", c.name, got, c.want)
		}
	}
}

// TestIdleResilientSendsNothing: a healthy node's kv layer sends no command
// of its own; only its users' actions reach Redis.
func TestIdleResilientSendsNothing(t *testing.T) {
	t.Parallel()
	counter := newCommandCounter()
	rdb := newRedisClient(t, counter)
	counter.take() // the helper's PING
	waits := make(chan time.Duration, 1)
	r, err := NewResilient(context.Background(), ResilientConfig{
		Client: rdb,
		Prefix: newPrefix(t),
		Clock:  newFakeClock(),
		After:  func(d time.Duration) <-chan time.Time { waits <- d; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if got := counter.take(); !maps.Equal(got, map[string]int{"PING": 1}) {
		t.Fatalf("start-up sent %v, want one PING", got)
	}
	select {
	case d := <-waits:
		t.Fatalf("a healthy Resilient started a probe (waiting %v)", d)
	default:
	}
	if _, _, err := r.Limiter().Allow(context.Background(), "k", Limit{Count: 1, Period: time.Second}); err != nil {
		t.Fatal(err)
	}
	if got := counter.take(); len(got) != 1 {
		t.Fatalf("one Allow sent %v", got)
	}
}

func BenchmarkRateLimiterRedis(b *testing.B) {
	counter := newCommandCounter()
	rdb := newRedisClient(b, counter)
	l := NewRedisLimiter(rdb, newPrefix(b), newFakeClock())
	ctx := context.Background()
	tiers := []Rule{
		{Key: "short", Limit: Limit{Count: 5, Period: time.Second}},
		{Key: "medium", Limit: Limit{Count: 30, Period: 10 * time.Second}},
		{Key: "long", Limit: Limit{Count: 150, Period: time.Minute}},
	}
	b.Run("one-tier", func(b *testing.B) {
		counter.take()
		i := 0
		for b.Loop() {
			i++
			if _, _, err := l.Allow(ctx, fmt.Sprintf("ip:%d", i%1000), Limit{Count: 5, Period: time.Second}); err != nil {
				b.Fatal(err)
			}
		}
		reportCommands(b, counter)
	})
	b.Run("three-tiers", func(b *testing.B) {
		counter.take()
		for b.Loop() {
			if _, _, err := l.AllowAll(ctx, tiers...); err != nil {
				b.Fatal(err)
			}
		}
		reportCommands(b, counter)
	})
}

func BenchmarkCacheGetRedis(b *testing.B) {
	counter := newCommandCounter()
	rdb := newRedisClient(b, counter)
	c := NewRedisCache(rdb, newPrefix(b), newFakeClock())
	ctx := context.Background()
	payload := []recipient{{ID: "r1", Name: "Ada"}, {ID: "r2", Name: "Grace"}}
	load := func() ([]recipient, error) { return payload, nil }
	for _, key := range []string{"recipients:u1", Key("family:f1", "recipients")} {
		if _, err := GetOrLoad(ctx, c, key, time.Hour, load); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("hit", func(b *testing.B) {
		counter.take()
		for b.Loop() {
			if _, err := GetOrLoad(ctx, c, "recipients:u1", time.Hour, load); err != nil {
				b.Fatal(err)
			}
		}
		reportCommands(b, counter)
	})
	b.Run("namespaced-hit", func(b *testing.B) {
		counter.take()
		for b.Loop() {
			if _, err := GetOrLoad(ctx, c, Key("family:f1", "recipients"), time.Hour, load); err != nil {
				b.Fatal(err)
			}
		}
		reportCommands(b, counter)
	})
}

func BenchmarkCacheGetMemory(b *testing.B) {
	c := NewMemoryCache(newFakeClock(), 0)
	ctx := context.Background()
	load := func() ([]recipient, error) { return []recipient{{ID: "r1", Name: "Ada"}}, nil }
	for b.Loop() {
		if _, err := GetOrLoad(ctx, c, "recipients:u1", time.Hour, load); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCommands adds Redis commands per operation to the benchmark output.
func reportCommands(b *testing.B, c *commandCounter) {
	total := 0
	for _, n := range c.take() {
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "cmds/op")
}
