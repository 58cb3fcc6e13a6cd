package kv

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

func lockerBackends() []backend[Locker] {
	return []backend[Locker]{
		{"memory", func(_ *testing.T, clk clock.Clock) Locker { return NewMemoryLocker(clk) }},
		{"redis", func(t *testing.T, clk clock.Clock) Locker {
			return NewRedisLocker(newRedisClient(t), newPrefix(t), clk)
		}},
		{"resilient", func(t *testing.T, clk clock.Clock) Locker { return newTestResilient(t, clk).Locker() }},
	}
}

func acquire(t *testing.T, l Locker, name string, ttl time.Duration) (Lease, bool) {
	t.Helper()
	lease, ok, err := l.Acquire(context.Background(), name, ttl)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", name, err)
	}
	return lease, ok
}

func TestLockExcludesAndReleases(t *testing.T) {
	t.Parallel()
	forEach(t, lockerBackends(), func(t *testing.T, clk *clock.Fake, l Locker) {
		ctx := context.Background()
		first, ok := acquire(t, l, "refill-check", time.Minute)
		if !ok || first.Token < 1 || first.Name != "refill-check" || !first.Expires.Equal(clk.Now().Add(time.Minute)) {
			t.Fatalf("first Acquire: %+v, %v", first, ok)
		}
		if _, ok := acquire(t, l, "refill-check", time.Minute); ok {
			t.Fatal("a held lock was granted again")
		}
		if other, ok := acquire(t, l, "missed-doses", time.Minute); !ok {
			t.Fatal("another lock name is excluded")
		} else if err := l.Release(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx, first); err != nil {
			t.Fatal(err)
		}
		second, ok := acquire(t, l, "refill-check", time.Minute)
		if !ok || second.Token <= first.Token {
			t.Fatalf("after release: %+v, %v; want granted with a token above %d", second, ok, first.Token)
		}
		if err := l.Release(ctx, Lease{Name: "refill-check"}); err != nil {
			t.Fatal(err)
		}
		if _, ok := acquire(t, l, "refill-check", time.Minute); ok {
			t.Fatal("a lease that was never granted released the lock")
		}
	})
}

func TestLockExpiryFencesTheStaleHolder(t *testing.T) {
	t.Parallel()
	forEach(t, lockerBackends(), func(t *testing.T, clk *clock.Fake, l Locker) {
		ctx := context.Background()
		stale, ok := acquire(t, l, "planner", time.Minute)
		if !ok {
			t.Fatal("not granted")
		}
		clk.Advance(time.Minute - time.Millisecond)
		if _, ok := acquire(t, l, "planner", time.Minute); ok {
			t.Fatal("granted before the lease expired")
		}
		clk.Advance(time.Millisecond)
		next, ok := acquire(t, l, "planner", time.Minute)
		if !ok || next.Token <= stale.Token {
			t.Fatalf("after expiry: %+v, %v; want granted with a token above %d", next, ok, stale.Token)
		}
		// The stale holder wakes up: it can neither extend nor release.
		if _, ok, err := l.Extend(ctx, stale, time.Minute); ok || err != nil {
			t.Fatalf("stale Extend: ok=%v err=%v; want refused", ok, err)
		}
		if err := l.Release(ctx, stale); err != nil {
			t.Fatal(err)
		}
		if _, ok := acquire(t, l, "planner", time.Minute); ok {
			t.Fatal("a stale holder's release freed the current holder's lock")
		}
		if err := l.Release(ctx, next); err != nil {
			t.Fatal(err)
		}
		if _, ok := acquire(t, l, "planner", time.Minute); !ok {
			t.Fatal("the current holder's release did not free the lock")
		}
	})
}

func TestLockExtend(t *testing.T) {
	t.Parallel()
	forEach(t, lockerBackends(), func(t *testing.T, clk *clock.Fake, l Locker) {
		ctx := context.Background()
		lease, _ := acquire(t, l, "export", time.Minute)
		clk.Advance(50 * time.Second)
		ext, ok, err := l.Extend(ctx, lease, time.Minute)
		if !ok || err != nil || ext.Token != lease.Token || !ext.Expires.Equal(clk.Now().Add(time.Minute)) {
			t.Fatalf("Extend: %+v, %v, %v", ext, ok, err)
		}
		clk.Advance(50 * time.Second) // past the original expiry
		if _, ok := acquire(t, l, "export", time.Minute); ok {
			t.Fatal("an extended lease was granted to another holder")
		}
		clk.Advance(10 * time.Second)
		if _, ok := acquire(t, l, "export", time.Minute); !ok {
			t.Fatal("the extended lease did not expire")
		}
	})
}

func TestLockMutualExclusionUnderConcurrency(t *testing.T) {
	t.Parallel()
	forEach(t, lockerBackends(), func(t *testing.T, _ *clock.Fake, l Locker) {
		ctx := context.Background()
		var (
			wg        sync.WaitGroup
			inside    atomic.Int32
			grants    atomic.Int32
			lastToken atomic.Int64
		)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					lease, ok, err := l.Acquire(ctx, "once", time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						runtime.Gosched()
						continue
					}
					// The critical section: no other holder may be in it.
					if n := inside.Add(1); n != 1 {
						t.Errorf("%d holders at once", n)
					}
					grants.Add(1)
					if prev := lastToken.Swap(lease.Token); lease.Token <= prev {
						t.Errorf("token %d after %d: fencing tokens must increase", lease.Token, prev)
					}
					runtime.Gosched()
					inside.Add(-1)
					if err := l.Release(ctx, lease); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if grants.Load() == 0 {
			t.Fatal("no goroutine ever held the lock")
		}
		t.Logf("%d grants among 200 attempts", grants.Load())
	})
}
