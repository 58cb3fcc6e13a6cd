package kvtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
)

// Lockout checks that every backend counts failures and locks accounts
// alike.
func Lockout(t *testing.T, backends ...Backend[kv.Lockout]) {
	t.Helper()
	run(t, backends, []testCase[kv.Lockout]{
		{"LocksAfterMaxFailures", lockoutLocks},
		{"WindowAndReset", lockoutWindowAndReset},
		{"RacingFailuresAllCount", lockoutRacing},
	})
}

func lockoutLocks(t *testing.T, clk *clock.Fake, l kv.Lockout, key func(string) string) {
	ctx := context.Background()
	a, b := key("a"), key("b")
	p := kv.LockoutPolicy{Max: 3, Window: 15 * time.Minute, LockFor: 30 * time.Minute}
	for i := range 2 {
		if locked, _, err := l.Fail(ctx, a, p); locked || err != nil {
			t.Fatalf("failure %d locked (err %v)", i+1, err)
		}
	}
	start := clk.Now()
	locked, until, err := l.Fail(ctx, a, p)
	if !locked || err != nil || !until.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("3rd failure: locked=%v until=%v err=%v; want locked for 30m", locked, until, err)
	}
	if locked, _, _ := l.Locked(ctx, b); locked {
		t.Fatal("another account is locked")
	}
	clk.Advance(10 * time.Minute)
	if locked, u, _ := l.Fail(ctx, a, p); !locked || !u.Equal(until) {
		t.Fatalf("failure while locked: locked=%v until=%v; want the running lock, not extended", locked, u)
	}
	if locked, u, err := l.Locked(ctx, a); !locked || !u.Equal(until) || err != nil {
		t.Fatalf("Locked = %v, %v, %v; want until %v", locked, u, err, until)
	}
	clk.Advance(20 * time.Minute)
	if locked, _, _ := l.Locked(ctx, a); locked {
		t.Fatal("still locked after LockFor")
	}
	// The count restarted with the lock.
	for i := range 2 {
		if locked, _, _ := l.Fail(ctx, a, p); locked {
			t.Fatalf("failure %d after the lock locked again", i+1)
		}
	}
}

func lockoutWindowAndReset(t *testing.T, clk *clock.Fake, l kv.Lockout, key func(string) string) {
	ctx := context.Background()
	k := key("a")
	p := kv.LockoutPolicy{Max: 3, Window: 15 * time.Minute, LockFor: 30 * time.Minute}
	fail := func(n int) (locked bool) {
		t.Helper()
		for range n {
			var err error
			if locked, _, err = l.Fail(ctx, k, p); err != nil {
				t.Fatal(err)
			}
		}
		return locked
	}
	if fail(2) {
		t.Fatal("2 failures locked")
	}
	clk.Advance(15 * time.Minute)
	if fail(2) {
		t.Fatal("failures of an old window counted")
	}
	if err := l.Reset(ctx, k); err != nil {
		t.Fatal(err)
	}
	if fail(2) {
		t.Fatal("failures before a reset counted")
	}
	if !fail(1) {
		t.Fatal("3 failures within the window did not lock")
	}
	if err := l.Reset(ctx, k); err != nil {
		t.Fatal(err)
	}
	if locked, _, _ := l.Locked(ctx, k); locked {
		t.Fatal("a reset did not lift the lock")
	}
	if err := l.Reset(ctx, key("never-failed")); err != nil {
		t.Fatalf("reset of a key without failures: %v", err)
	}
	never := key("never")
	for _, pol := range []kv.LockoutPolicy{{Max: 0, LockFor: time.Hour}, {Max: 1}} {
		if locked, _, _ := l.Fail(ctx, never, pol); locked {
			t.Fatalf("policy %+v locked", pol)
		}
	}
}

// lockoutRacing: failures arriving together are each counted, so an
// attacker cannot slip extra guesses past the limit by sending them at once.
func lockoutRacing(t *testing.T, _ *clock.Fake, l kv.Lockout, key func(string) string) {
	ctx := context.Background()
	k := key("a")
	p := kv.LockoutPolicy{Max: 5, Window: 15 * time.Minute, LockFor: 30 * time.Minute}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		locked int
	)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := l.Fail(ctx, k, p)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				locked++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if locked != 1 {
		t.Fatalf("5 racing failures with Max 5: %d reported the lock; want exactly the 5th", locked)
	}
	if ok, _, _ := l.Locked(ctx, k); !ok {
		t.Fatal("5 racing failures did not lock")
	}
}
