package kv

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

func TestMemoryLimiter(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := NewMemoryLimiter(clk)
	ctx := context.Background()
	lim := Limit{Count: 5, Period: time.Second}
	for i := 0; i < 5; i++ {
		if ok, _, _ := l.Allow(ctx, "a", lim); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, retry, _ := l.Allow(ctx, "a", lim)
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("6th request: ok=%v retry=%v", ok, retry)
	}
	if ok, _, _ := l.Allow(ctx, "b", lim); !ok {
		t.Fatal("another key is limited")
	}
	clk.Advance(retry)
	if ok, _, _ := l.Allow(ctx, "a", lim); !ok {
		t.Fatal("refused after Retry-After elapsed")
	}
	clk.Advance(time.Second)
	for i := 0; i < 5; i++ {
		if ok, _, _ := l.Allow(ctx, "a", lim); !ok {
			t.Fatalf("burst not restored after a full period (request %d)", i+1)
		}
	}
}
