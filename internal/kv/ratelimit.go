// Package kv holds CareCircle's short-lived shared state: rate limits and
// similar counters, in memory by default.
package kv

import (
	"context"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// Limit is a rate: at most Count events per Period, allowing bursts up to Count.
type Limit struct {
	Count  int
	Period time.Duration
}

// RateLimiter decides whether an event under key may happen now.
type RateLimiter interface {
	// Allow records an event for key and reports whether it fits the limit;
	// when it does not, retryAfter says when the next one would.
	Allow(ctx context.Context, key string, l Limit) (ok bool, retryAfter time.Duration, err error)
}

// MemoryLimiter is a GCRA rate limiter held in process memory.
type MemoryLimiter struct {
	clock clock.Clock
	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time per key
	ops   int
}

// NewMemoryLimiter returns an in-memory limiter using clk.
func NewMemoryLimiter(clk clock.Clock) *MemoryLimiter {
	return &MemoryLimiter{clock: clk, tat: map[string]time.Time{}}
}

// Allow implements RateLimiter with the generic cell rate algorithm: each
// event pushes the key's theoretical arrival time one interval ahead, and an
// event is refused while that time is more than a period ahead of now.
func (m *MemoryLimiter) Allow(_ context.Context, key string, l Limit) (bool, time.Duration, error) {
	if l.Count <= 0 || l.Period <= 0 {
		return true, 0, nil
	}
	now := m.clock.Now()
	interval := l.Period / time.Duration(l.Count)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if allowAt := next.Add(-l.Period); now.Before(allowAt) {
		return false, allowAt.Sub(now), nil
	}
	m.tat[key] = next
	return true, 0, nil
}

// sweep drops keys whose state has fully drained, every 1,024 calls, so
// memory stays bounded by the keys active within one period.
func (m *MemoryLimiter) sweep(now time.Time) {
	m.ops++
	if m.ops%1024 != 0 {
		return
	}
	for k, t := range m.tat {
		if t.Before(now) {
			delete(m.tat, k)
		}
	}
}
