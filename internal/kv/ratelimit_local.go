package kv

import (
	"context"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// LocalShare is the part of a limit a node may admit on its own, without
// asking the shared limiter: while a key's estimated fill stays at or under
// half of its burst, the event is counted in the node's memory only.
const LocalShare = 0.5

// settler is a limiter that can be told about events admitted elsewhere and
// reports each rule's state after the event, for LocalFirstLimiter.
type settler interface {
	// settle adds owed[i] (time in the bucket of events admitted without
	// it) to rule i's key whether or not the event fits, applies the event
	// as AllowAll does, and returns each rule's theoretical arrival time
	// afterwards.
	settle(ctx context.Context, rules []Rule, owed []time.Duration) (bool, time.Duration, []time.Time, error)
}

var (
	_ settler = (*MemoryLimiter)(nil)
	_ settler = (*RedisLimiter)(nil)
	_ settler = resilientLimiter{}
)

// LocalFirstLimiter counts events in the node's memory first and asks the
// shared limiter (Redis, shared by every node) only when it matters, so a
// client well under its limits costs no Redis command:
//
//   - Every event the node admits is counted locally. When the node's own
//     count already exceeds a limit, the event is refused without asking
//     anyone: the client's count across nodes can only be higher.
//   - For a key that may be counted locally (Local says so), an event is
//     admitted locally while the key's estimated fill, after it, is at most
//     LocalShare of the limit's burst. The estimate is what the shared
//     limiter held when the node last asked, plus what the node admitted
//     since without telling it.
//   - Otherwise the node asks the shared limiter, telling it in the same
//     command what it admitted locally meanwhile (those events count there
//     from then on, fit or not), and learns the key's state across nodes.
//
// Precision: a client spreading a burst over N nodes is admitted at most
// (1 + (N−1)·LocalShare) times a limit's burst before every node refuses
// it (one node fills the shared count, each other node admits up to its
// local share before it asks); with one node the limits are exact. Over
// time the rate holds: locally admitted events are reported the next time a
// node asks, and a node that learned the key is full admits nothing locally
// until it has drained.
//
// Keys Local refuses (the sensitive per-account limits of login, sign-up,
// codes and password reset, where a few more attempts across nodes matter)
// are asked of the shared limiter for every event.
type LocalFirstLimiter struct {
	clock  clock.Clock
	shared settler
	local  func(key string) bool

	mu   sync.Mutex
	keys map[string]*localKey
	ops  int
}

// localKey is what a node knows of one key, as theoretical arrival times.
type localKey struct {
	tat    time.Time // every event this node admitted
	unrep  time.Time // events it admitted without telling the shared limiter
	global time.Time // the shared limiter's state when the node last asked
}

var _ MultiLimiter = (*LocalFirstLimiter)(nil)

// NewLocalFirstLimiter counts locally first in front of shared, which must
// be one of this package's limiters (a Resilient's, a RedisLimiter or a
// MemoryLimiter). local reports whether a key may be counted locally first;
// nil means none may, and only refusals are decided locally.
func NewLocalFirstLimiter(clk clock.Clock, shared MultiLimiter, local func(key string) bool) *LocalFirstLimiter {
	s, ok := shared.(settler)
	if !ok {
		panic("kv: NewLocalFirstLimiter: the shared limiter cannot settle owed events")
	}
	if local == nil {
		local = func(string) bool { return false }
	}
	return &LocalFirstLimiter{clock: clk, shared: s, local: local, keys: map[string]*localKey{}}
}

// Allow implements RateLimiter.
func (l *LocalFirstLimiter) Allow(ctx context.Context, key string, lim Limit) (bool, time.Duration, error) {
	return l.AllowAll(ctx, Rule{Key: key, Limit: lim})
}

// AllowAll implements MultiLimiter.
func (l *LocalFirstLimiter) AllowAll(ctx context.Context, rules ...Rule) (bool, time.Duration, error) {
	now := l.clock.Now()
	l.mu.Lock()
	l.sweep(now)
	// Per key (a key may appear in several rules): the node's count after
	// the event, the estimate across nodes, and the time the event adds.
	tat := map[string]time.Time{}
	est := map[string]time.Time{}
	added := map[string]time.Duration{}
	var longest time.Duration
	ask := false
	for _, r := range rules {
		if r.Limit.unlimited() {
			continue
		}
		k := l.keys[r.Key]
		if k == nil {
			k = &localKey{}
		}
		t, seen := tat[r.Key]
		if !seen {
			t = k.tat
			est[r.Key] = maxTime(k.global, now).Add(maxTime(k.unrep, now).Sub(now))
		}
		n, ok, retry := gcraStep(now, t, r.Limit)
		if !ok {
			longest = max(longest, retry)
		}
		tat[r.Key] = n
		added[r.Key] += r.Limit.interval()
		est[r.Key] = est[r.Key].Add(r.Limit.interval())
		if !l.local(r.Key) || est[r.Key].Sub(now) > time.Duration(float64(r.Limit.Period)*LocalShare) {
			ask = true
		}
	}
	if longest > 0 {
		l.mu.Unlock()
		return false, longest, nil
	}
	// The event is counted locally before the shared limiter is asked, so
	// that concurrent events see it; a refusal takes it back.
	for key, t := range tat {
		k := l.keys[key]
		if k == nil {
			k = &localKey{}
			l.keys[key] = k
		}
		k.tat = t
		if !ask {
			k.unrep = maxTime(k.unrep, now).Add(added[key])
		}
	}
	if !ask {
		l.mu.Unlock()
		return true, 0, nil
	}
	owed := make([]time.Duration, len(rules))
	told := map[string]bool{}
	for i, r := range rules {
		if r.Limit.unlimited() || told[r.Key] {
			continue
		}
		told[r.Key] = true
		k := l.keys[r.Key]
		owed[i] = max(k.unrep.Sub(now), 0)
		k.unrep = time.Time{}
	}
	l.mu.Unlock()

	ok, retry, globals, err := l.shared.settle(ctx, rules, owed)

	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		// The caller decides what a limiter fault means (the API lets the
		// request through): what the node admitted, this event included,
		// stays owed, to be told next time.
		for i, r := range rules {
			if k := l.keys[r.Key]; k != nil && owed[i] > 0 {
				k.unrep = maxTime(k.unrep, now).Add(owed[i])
			}
		}
		for key, d := range added {
			if k := l.keys[key]; k != nil {
				k.unrep = maxTime(k.unrep, now).Add(d)
			}
		}
		return false, 0, err
	}
	for i, r := range rules {
		k := l.keys[r.Key]
		if k == nil || r.Limit.unlimited() {
			continue
		}
		if !globals[i].IsZero() {
			k.global = globals[i]
		}
	}
	if !ok {
		for key, d := range added {
			if k := l.keys[key]; k != nil {
				k.tat = k.tat.Add(-d)
			}
		}
		return false, retry, nil
	}
	return true, 0, nil
}

// sweep drops keys whose state has fully drained, every 1,024 calls, so
// memory stays bounded by the keys active within one period; the caller
// holds mu.
func (l *LocalFirstLimiter) sweep(now time.Time) {
	l.ops++
	if l.ops%1024 != 0 {
		return
	}
	for key, k := range l.keys {
		if !k.tat.After(now) && !k.unrep.After(now) && !k.global.After(now) {
			delete(l.keys, key)
		}
	}
}
