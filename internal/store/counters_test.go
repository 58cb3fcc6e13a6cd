package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// IncrCounterBelow counts up to its ceiling and no further, however many
// race for the last places; an expired counter starts again.
func TestIncrCounterBelow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
		s := open(t, clk)
		ctx := context.Background()
		var wg sync.WaitGroup
		var taken atomic.Int64
		for range 8 {
			wg.Go(func() {
				for range 5 {
					if _, ok, err := s.IncrCounterBelow(ctx, "quota:brevo", 25, time.Hour); err != nil {
						t.Error(err)
					} else if ok {
						taken.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if v, err := s.Counter(ctx, "quota:brevo"); err != nil || v != 25 || taken.Load() != 25 {
			t.Fatalf("counter %d (%v), %d taken; want 25 and 25", v, err, taken.Load())
		}
		if v, ok, err := s.IncrCounterBelow(ctx, "quota:brevo", 25, time.Hour); err != nil || ok || v != 25 {
			t.Fatalf("past the ceiling: %d %v %v", v, ok, err)
		}
		if v, err := s.IncrCounter(ctx, "quota:brevo", time.Hour); err != nil || v != 26 {
			t.Fatalf("an unchecked increment: %d %v", v, err)
		}
		clk.Advance(time.Hour)
		if v, ok, err := s.IncrCounterBelow(ctx, "quota:brevo", 25, time.Hour); err != nil || !ok || v != 1 {
			t.Fatalf("after expiry: %d %v %v", v, ok, err)
		}
		if v, ok, err := s.IncrCounterBelow(ctx, "quota:other", 0, time.Hour); err != nil || ok || v != 0 {
			t.Fatalf("a zero ceiling: %d %v %v", v, ok, err)
		}
	})
}
