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

// unlimited reports whether l limits nothing (a zero or negative rate).
func (l Limit) unlimited() bool { return l.Count <= 0 || l.Period <= 0 }

// interval is the time one event adds to a key's theoretical arrival time.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Count) }

// RateLimiter decides whether an event under key may happen now.
type RateLimiter interface {
	// Allow records an event for key and reports whether it fits the limit;
	// when it does not, retryAfter says when the next one would.
	Allow(ctx context.Context, key string, l Limit) (ok bool, retryAfter time.Duration, err error)
}

// Rule is one limit applied to one key.
type Rule struct {
	Key   string
	Limit Limit
}

// MultiLimiter is a RateLimiter that can also check several limits as one
// event, such as the contract's short, medium and long tiers for a client.
type MultiLimiter interface {
	RateLimiter
	// AllowAll records one event under every rule when all of them allow it,
	// and records nothing when any refuses; retryAfter is then the longest
	// wait among the refusing rules. On Redis it is one command for all rules.
	AllowAll(ctx context.Context, rules ...Rule) (ok bool, retryAfter time.Duration, err error)
}

// gcraStep applies one event at now to a key whose theoretical arrival time
// is tat: it returns the new arrival time when the event fits, or how long
// until it would.
func gcraStep(now, tat time.Time, l Limit) (next time.Time, ok bool, retryAfter time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	next = tat.Add(l.interval())
	if allowAt := next.Add(-l.Period); now.Before(allowAt) {
		return tat, false, allowAt.Sub(now)
	}
	return next, true, 0
}

// MemoryLimiter is a GCRA rate limiter held in process memory.
type MemoryLimiter struct {
	clock clock.Clock
	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time per key
	ops   int
}

var _ MultiLimiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an in-memory limiter using clk.
func NewMemoryLimiter(clk clock.Clock) *MemoryLimiter {
	return &MemoryLimiter{clock: clk, tat: map[string]time.Time{}}
}

// Allow implements RateLimiter with the generic cell rate algorithm: each
// event pushes the key's theoretical arrival time one interval ahead, and an
// event is refused while that time is more than a period ahead of now.
func (m *MemoryLimiter) Allow(ctx context.Context, key string, l Limit) (bool, time.Duration, error) {
	return m.AllowAll(ctx, Rule{Key: key, Limit: l})
}

// AllowAll implements MultiLimiter.
func (m *MemoryLimiter) AllowAll(ctx context.Context, rules ...Rule) (bool, time.Duration, error) {
	ok, retry, _, err := m.settle(ctx, rules, nil)
	return ok, retry, err
}

// settle implements settler: owed[i] (when given) is added to rule i's key
// before the event is checked, whether or not the event fits.
func (m *MemoryLimiter) settle(_ context.Context, rules []Rule, owed []time.Duration) (bool, time.Duration, []time.Time, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	// Steps are computed on a scratch copy so that a refusal by any rule
	// leaves every key as it was, but for what it owed.
	base := make(map[string]time.Time, len(rules))
	next := make(map[string]time.Time, len(rules))
	var longest time.Duration
	for i, r := range rules {
		if r.Limit.unlimited() {
			continue
		}
		tat, seen := next[r.Key]
		if !seen {
			tat = maxTime(m.tat[r.Key], now)
			if i < len(owed) {
				tat = tat.Add(owed[i])
			}
			base[r.Key] = tat
		}
		n, ok, retry := gcraStep(now, tat, r.Limit)
		if !ok {
			longest = max(longest, retry)
		}
		next[r.Key] = n
	}
	chosen := next
	if longest > 0 {
		chosen = base
	}
	for k, t := range chosen {
		if t.After(now) {
			m.tat[k] = t
		}
	}
	tats := make([]time.Time, len(rules))
	for i, r := range rules {
		tats[i] = chosen[r.Key]
	}
	return longest == 0, longest, tats, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
