package kv

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
)

func codesBackends() []backend[Codes] {
	return []backend[Codes]{
		{"memory", func(_ *testing.T, clk clock.Clock) Codes { return NewMemoryCodes(clk) }},
		{"redis", func(t *testing.T, clk clock.Clock) Codes {
			return NewRedisCodes(newRedisClient(t), newPrefix(t), clk)
		}},
		{"resilient", func(t *testing.T, clk clock.Clock) Codes { return newTestResilient(t, clk).Codes() }},
	}
}

func lockoutBackends() []backend[Lockout] {
	return []backend[Lockout]{
		{"memory", func(_ *testing.T, clk clock.Clock) Lockout { return NewMemoryLockout(clk) }},
		{"redis", func(t *testing.T, clk clock.Clock) Lockout {
			return NewRedisLockout(newRedisClient(t), newPrefix(t), clk)
		}},
		{"resilient", func(t *testing.T, clk clock.Clock) Lockout { return newTestResilient(t, clk).Lockout() }},
	}
}

func checkCode(t *testing.T, c Codes, key, hash string, want care.CodeOutcome) {
	t.Helper()
	got, err := c.Check(context.Background(), key, hash, 3)
	if err != nil || got != want {
		t.Fatalf("Check(%q, %q) = %v, %v; want %v", key, hash, got, err, want)
	}
}

func TestCodesAcceptOnce(t *testing.T) {
	t.Parallel()
	forEach(t, codesBackends(), func(t *testing.T, _ *clock.Fake, c Codes) {
		ctx := context.Background()
		checkCode(t, c, "verify:u1", "h1", care.CodeAbsent)
		if err := c.Put(ctx, "verify:u1", "h1", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		checkCode(t, c, "verify:u2", "h1", care.CodeAbsent)
		checkCode(t, c, "verify:u1", "wrong", care.CodeRejected)
		checkCode(t, c, "verify:u1", "h1", care.CodeAccepted)
		checkCode(t, c, "verify:u1", "h1", care.CodeAbsent)
	})
}

func TestCodesVoidAfterMaxTries(t *testing.T) {
	t.Parallel()
	forEach(t, codesBackends(), func(t *testing.T, _ *clock.Fake, c Codes) {
		if err := c.Put(context.Background(), "k", "right", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		checkCode(t, c, "k", "w1", care.CodeRejected)
		checkCode(t, c, "k", "w2", care.CodeRejected)
		checkCode(t, c, "k", "w3", care.CodeVoided)
		checkCode(t, c, "k", "right", care.CodeVoided)
		// A new code replaces the voided one and its count.
		if err := c.Put(context.Background(), "k", "again", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		checkCode(t, c, "k", "right", care.CodeRejected)
		checkCode(t, c, "k", "again", care.CodeAccepted)
	})
}

func TestCodesExpire(t *testing.T) {
	t.Parallel()
	forEach(t, codesBackends(), func(t *testing.T, clk *clock.Fake, c Codes) {
		if err := c.Put(context.Background(), "k", "h", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10*time.Minute - time.Millisecond)
		checkCode(t, c, "k", "wrong", care.CodeRejected)
		clk.Advance(time.Millisecond)
		checkCode(t, c, "k", "h", care.CodeExpired)
		checkCode(t, c, "k", "h", care.CodeExpired) // counted nothing
		clk.Advance(codeRetention)
		checkCode(t, c, "k", "h", care.CodeAbsent)
	})
}

func TestCodesOneWinnerAmongRacingAnswers(t *testing.T) {
	t.Parallel()
	forEach(t, codesBackends(), func(t *testing.T, _ *clock.Fake, c Codes) {
		ctx := context.Background()
		if err := c.Put(ctx, "k", "h", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			outcomes = map[care.CodeOutcome]int{}
		)
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := c.Check(ctx, "k", "h", 3)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				outcomes[o]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if outcomes[care.CodeAccepted] != 1 || outcomes[care.CodeAbsent] != 9 {
			t.Fatalf("10 racing correct answers: %v; want 1 accepted, 9 absent", outcomes)
		}
	})
}

func TestCodesCooldown(t *testing.T) {
	t.Parallel()
	forEach(t, codesBackends(), func(t *testing.T, clk *clock.Fake, c Codes) {
		ctx := context.Background()
		if ok, _, err := c.Cooldown(ctx, "resend:u1", time.Minute); !ok || err != nil {
			t.Fatalf("first claim refused (%v)", err)
		}
		clk.Advance(20 * time.Second)
		ok, retry, err := c.Cooldown(ctx, "resend:u1", time.Minute)
		if ok || err != nil || retry != 40*time.Second {
			t.Fatalf("claim within the cooldown: ok=%v retry=%v err=%v; want refused for 40s", ok, retry, err)
		}
		if ok, _, _ := c.Cooldown(ctx, "resend:u2", time.Minute); !ok {
			t.Fatal("another key is cooling down")
		}
		clk.Advance(40 * time.Second)
		if ok, _, _ := c.Cooldown(ctx, "resend:u1", time.Minute); !ok {
			t.Fatal("claim after the cooldown refused")
		}
		if ok, _, _ := c.Cooldown(ctx, "resend:u1", time.Minute); ok {
			t.Fatal("the claim after the cooldown did not start a new one")
		}
		if ok, _, _ := c.Cooldown(ctx, "none", 0); !ok {
			t.Fatal("a zero cooldown refused")
		}
	})
}

func TestLockoutLocksAfterMaxFailures(t *testing.T) {
	t.Parallel()
	forEach(t, lockoutBackends(), func(t *testing.T, clk *clock.Fake, l Lockout) {
		ctx := context.Background()
		p := LockoutPolicy{Max: 3, Window: 15 * time.Minute, LockFor: 30 * time.Minute}
		for i := 0; i < 2; i++ {
			if locked, _, err := l.Fail(ctx, "login:a@x", p); locked || err != nil {
				t.Fatalf("failure %d locked (err %v)", i+1, err)
			}
		}
		start := clk.Now()
		locked, until, err := l.Fail(ctx, "login:a@x", p)
		if !locked || err != nil || !until.Equal(start.Add(30*time.Minute)) {
			t.Fatalf("3rd failure: locked=%v until=%v err=%v; want locked for 30m", locked, until, err)
		}
		if locked, _, _ := l.Locked(ctx, "login:b@x"); locked {
			t.Fatal("another account is locked")
		}
		clk.Advance(10 * time.Minute)
		if locked, u, _ := l.Fail(ctx, "login:a@x", p); !locked || !u.Equal(until) {
			t.Fatalf("failure while locked: locked=%v until=%v; want the running lock, not extended", locked, u)
		}
		if locked, u, err := l.Locked(ctx, "login:a@x"); !locked || !u.Equal(until) || err != nil {
			t.Fatalf("Locked = %v, %v, %v; want until %v", locked, u, err, until)
		}
		clk.Advance(20 * time.Minute)
		if locked, _, _ := l.Locked(ctx, "login:a@x"); locked {
			t.Fatal("still locked after LockFor")
		}
		// The count restarted with the lock.
		for i := 0; i < 2; i++ {
			if locked, _, _ := l.Fail(ctx, "login:a@x", p); locked {
				t.Fatalf("failure %d after the lock locked again", i+1)
			}
		}
	})
}

func TestLockoutWindowAndReset(t *testing.T) {
	t.Parallel()
	forEach(t, lockoutBackends(), func(t *testing.T, clk *clock.Fake, l Lockout) {
		ctx := context.Background()
		p := LockoutPolicy{Max: 3, Window: 15 * time.Minute, LockFor: 30 * time.Minute}
		fail := func(n int) (locked bool) {
			t.Helper()
			for i := 0; i < n; i++ {
				var err error
				if locked, _, err = l.Fail(ctx, "k", p); err != nil {
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
		if err := l.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if fail(2) {
			t.Fatal("failures before a reset counted")
		}
		if !fail(1) {
			t.Fatal("3 failures within the window did not lock")
		}
		if err := l.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if locked, _, _ := l.Locked(ctx, "k"); locked {
			t.Fatal("a reset did not lift the lock")
		}
		for _, never := range []LockoutPolicy{{Max: 0, LockFor: time.Hour}, {Max: 1}} {
			if locked, _, _ := l.Fail(ctx, "never", never); locked {
				t.Fatalf("policy %+v locked", never)
			}
		}
	})
}
