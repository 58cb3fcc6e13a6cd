package kvtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
)

// Codes checks that every backend keeps one-time codes, their wrong-try
// counts and resend cooldowns alike.
func Codes(t *testing.T, backends ...Backend[kv.Codes]) {
	t.Helper()
	run(t, backends, []testCase[kv.Codes]{
		{"AcceptOnce", codesAcceptOnce},
		{"VoidAfterMaxTries", codesVoidAfterMaxTries},
		{"Expire", codesExpire},
		{"OneWinnerAmongRacingAnswers", codesOneWinner},
		{"Cooldown", codesCooldown},
		{"CooldownAndCodeAreApart", codesCooldownApart},
		{"EndCooldown", codesEndCooldown},
	})
}

func checkCode(t *testing.T, c kv.Codes, key, hash string, want care.CodeOutcome) {
	t.Helper()
	got, err := c.Check(context.Background(), key, hash, 3)
	if err != nil || got != want {
		t.Fatalf("Check(%q, %q) = %v, %v; want %v", key, hash, got, err, want)
	}
}

func putCode(t *testing.T, c kv.Codes, key, hash string, ttl time.Duration) {
	t.Helper()
	if err := c.Put(context.Background(), key, hash, ttl); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func codesAcceptOnce(t *testing.T, _ *clock.Fake, c kv.Codes, key func(string) string) {
	u1, u2 := key("u1"), key("u2")
	checkCode(t, c, u1, "h1", care.CodeAbsent)
	putCode(t, c, u1, "h1", 10*time.Minute)
	checkCode(t, c, u2, "h1", care.CodeAbsent)
	checkCode(t, c, u1, "wrong", care.CodeRejected)
	checkCode(t, c, u1, "h1", care.CodeAccepted)
	checkCode(t, c, u1, "h1", care.CodeAbsent)
}

func codesVoidAfterMaxTries(t *testing.T, _ *clock.Fake, c kv.Codes, key func(string) string) {
	k := key("u1")
	putCode(t, c, k, "right", 10*time.Minute)
	checkCode(t, c, k, "w1", care.CodeRejected)
	checkCode(t, c, k, "w2", care.CodeRejected)
	checkCode(t, c, k, "w3", care.CodeVoided)
	checkCode(t, c, k, "right", care.CodeVoided)
	// A new code replaces the voided one and its count.
	putCode(t, c, k, "again", 10*time.Minute)
	checkCode(t, c, k, "right", care.CodeRejected)
	checkCode(t, c, k, "again", care.CodeAccepted)
}

func codesExpire(t *testing.T, clk *clock.Fake, c kv.Codes, key func(string) string) {
	k := key("u1")
	putCode(t, c, k, "h", 10*time.Minute)
	clk.Advance(10*time.Minute - time.Millisecond)
	checkCode(t, c, k, "wrong", care.CodeRejected)
	clk.Advance(time.Millisecond)
	checkCode(t, c, k, "h", care.CodeExpired)
	checkCode(t, c, k, "h", care.CodeExpired) // counted nothing
	clk.Advance(kv.CodeRetention)
	checkCode(t, c, k, "h", care.CodeAbsent)
}

func codesOneWinner(t *testing.T, _ *clock.Fake, c kv.Codes, key func(string) string) {
	ctx := context.Background()
	k := key("u1")
	putCode(t, c, k, "h", 10*time.Minute)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[care.CodeOutcome]int{}
	)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := c.Check(ctx, k, "h", 3)
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
}

func codesCooldown(t *testing.T, clk *clock.Fake, c kv.Codes, key func(string) string) {
	ctx := context.Background()
	u1, u2 := key("u1"), key("u2")
	if ok, _, err := c.Cooldown(ctx, u1, time.Minute); !ok || err != nil {
		t.Fatalf("first claim refused (%v)", err)
	}
	clk.Advance(20 * time.Second)
	ok, retry, err := c.Cooldown(ctx, u1, time.Minute)
	if ok || err != nil || retry != 40*time.Second {
		t.Fatalf("claim within the cooldown: ok=%v retry=%v err=%v; want refused for 40s", ok, retry, err)
	}
	if ok, _, _ := c.Cooldown(ctx, u2, time.Minute); !ok {
		t.Fatal("another key is cooling down")
	}
	clk.Advance(40 * time.Second)
	if ok, _, _ := c.Cooldown(ctx, u1, time.Minute); !ok {
		t.Fatal("claim after the cooldown refused")
	}
	if ok, _, _ := c.Cooldown(ctx, u1, time.Minute); ok {
		t.Fatal("the claim after the cooldown did not start a new one")
	}
	if ok, _, _ := c.Cooldown(ctx, key("u3"), 0); !ok {
		t.Fatal("a zero cooldown refused")
	}
}

// codesCooldownApart: a cooldown and a code under the same key do not touch
// each other, so a claim neither invents a code nor refuses a fresh one.
func codesCooldownApart(t *testing.T, _ *clock.Fake, c kv.Codes, key func(string) string) {
	ctx := context.Background()
	k := key("u1")
	if ok, _, err := c.Cooldown(ctx, k, time.Minute); !ok || err != nil {
		t.Fatalf("claim refused (%v)", err)
	}
	checkCode(t, c, k, "", care.CodeAbsent)
	checkCode(t, c, k, "h", care.CodeAbsent)
	putCode(t, c, k, "h", 10*time.Minute)
	if ok, _, _ := c.Cooldown(ctx, k, time.Minute); ok {
		t.Fatal("a new code ended the running cooldown")
	}
	checkCode(t, c, k, "h", care.CodeAccepted)
	other := key("u2")
	putCode(t, c, other, "h", 10*time.Minute)
	if ok, _, _ := c.Cooldown(ctx, other, time.Minute); !ok {
		t.Fatal("a code started a cooldown")
	}
}

// codesEndCooldown: ending a claim lets the next one through at once, and
// touches neither the code under the same key nor another key's claim.
func codesEndCooldown(t *testing.T, _ *clock.Fake, c kv.Codes, key func(string) string) {
	ctx := context.Background()
	k, other := key("u1"), key("u2")
	if err := c.EndCooldown(ctx, k); err != nil {
		t.Fatalf("ending no claim: %v", err)
	}
	putCode(t, c, k, "h", 10*time.Minute)
	for _, kk := range []string{k, other} {
		if ok, _, err := c.Cooldown(ctx, kk, time.Minute); !ok || err != nil {
			t.Fatalf("claim refused (%v)", err)
		}
	}
	if err := c.EndCooldown(ctx, k); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := c.Cooldown(ctx, k, time.Minute); !ok || err != nil {
		t.Fatalf("claim after EndCooldown refused (%v)", err)
	}
	if ok, _, _ := c.Cooldown(ctx, other, time.Minute); ok {
		t.Fatal("EndCooldown ended another key's claim")
	}
	checkCode(t, c, k, "h", care.CodeAccepted)
}
