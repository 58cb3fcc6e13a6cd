package mail

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// DefaultDailyLimit is EMAIL_DAILY_LIMIT's default: the free tier of the
// seed's provider.
const DefaultDailyLimit = 300

// Priority is a message's class, which says how much it may take from the
// daily quota. The rules of each class live in Quota.ceiling and
// Chain.Deliver, and nowhere else.
type Priority int

const (
	// PriorityRoutine (class routine) is mail that can wait or go by
	// push/in-app instead: reminders, digests, activity. It stops short of
	// the whole reserve.
	PriorityRoutine Priority = iota
	// PriorityEmergency (class critical) is an emergency alert: it may use
	// the whole reserve, and goes out even when the day's quota is spent.
	PriorityEmergency
	// PriorityTransactional (class transactional) is mail someone is waiting
	// for at a screen: verification and reset codes, invitations, member
	// password-reset links. It is sent now or not at all: it may use the
	// reserve below the critical share, then the next provider, and is
	// never deferred.
	PriorityTransactional
)

// String names the priority for logs and records.
func (p Priority) String() string {
	switch p {
	case PriorityEmergency:
		return "emergency"
	case PriorityTransactional:
		return "transactional"
	}
	return "routine"
}

// Class is the name of the priority's email class: critical,
// transactional or routine.
func (p Priority) Class() string {
	if p == PriorityEmergency {
		return "critical"
	}
	return p.String()
}

// Priorities are the classes from the most to the least urgent.
var Priorities = []Priority{PriorityEmergency, PriorityTransactional, PriorityRoutine}

// Counter counts events under a key shared by every node, in memory or in
// Redis.
type Counter interface {
	// Incr adds one to key and returns the new count. A key that does not
	// exist starts at zero and expires ttl after this first increment.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// IncrBelow adds one to key only while its count is below ceiling, in
	// one atomic step, and returns the count and whether it added one.
	IncrBelow(ctx context.Context, key string, ceiling int64, ttl time.Duration) (int64, bool, error)
	// Get returns key's count, zero when it does not exist.
	Get(ctx context.Context, key string) (int64, error)
}

// QuotaConfig sets the daily email budget of each provider.
type QuotaConfig struct {
	// Limit is the number of messages each provider may send per UTC day;
	// 0 means DefaultDailyLimit.
	Limit int64
	// ReservePercent of Limit is kept from routine mail: routine mail stops
	// at Limit minus the reserve. Its upper half (rounded up) is the
	// critical share, for emergencies only; transactional mail may use the
	// rest. 0 means 10 (30 of 300: 15 and 15), a negative value keeps no
	// reserve. A positive percentage keeps at least two messages, one for
	// each class, when the limit allows.
	ReservePercent int
	// WarnPercent of Limit, once reached, calls OnWarning; 0 means 80
	// (240 of 300).
	WarnPercent int
	// OnWarning is called once per provider per UTC day, by the send that
	// reaches the warning threshold (on one node only, when the Counter is
	// shared). It runs on that send's goroutine, so it hands slow work
	// (notifying system admins) off rather than doing it inline.
	OnWarning func(ctx context.Context, w QuotaWarning)
	// KeyPrefix namespaces the Counter's keys; "" means "mail:quota:".
	KeyPrefix string
}

// QuotaWarning says a provider has used most of the day's quota.
type QuotaWarning struct {
	Provider string
	Day      time.Time // midnight UTC starting the day
	Used     int64
	Limit    int64
}

// Usage is a provider's consumption for the current UTC day.
type Usage struct {
	Provider string
	Day      time.Time // midnight UTC starting the day
	Used     int64
	Limit    int64
	Reserve  int64 // kept from routine mail
	// Ceilings is how much of the day each class may use, by class name.
	Ceilings map[string]int64
}

// Quota keeps each provider within its daily email limit, per UTC day.
type Quota struct {
	limit, reserve, warnAt int64
	critical               int64 // the part of the reserve only emergencies use
	onWarning              func(context.Context, QuotaWarning)
	prefix                 string
	counter                Counter
	clock                  clock.Clock
}

// NewQuota returns a quota counting in counter by the days of clk.
func NewQuota(cfg QuotaConfig, counter Counter, clk clock.Clock) *Quota {
	q := &Quota{limit: cfg.Limit, onWarning: cfg.OnWarning, prefix: cfg.KeyPrefix, counter: counter, clock: clk}
	if q.limit <= 0 {
		q.limit = DefaultDailyLimit
	}
	reservePct := cfg.ReservePercent
	if reservePct == 0 {
		reservePct = 10
	}
	if reservePct > 0 {
		q.reserve = max(2, ceilPercent(q.limit, reservePct))
	}
	q.reserve = min(q.reserve, q.limit)
	q.critical = (q.reserve + 1) / 2
	warnPct := cfg.WarnPercent
	if warnPct <= 0 {
		warnPct = 80
	}
	q.warnAt = max(1, ceilPercent(q.limit, warnPct))
	if q.prefix == "" {
		q.prefix = "mail:quota:"
	}
	return q
}

func ceilPercent(n int64, pct int) int64 { return (n*int64(pct) + 99) / 100 }

// Reserve takes one message from provider's quota for today and reports
// whether it fits: routine mail up to the limit minus the emergency reserve,
// emergencies up to the limit. A message that does not fit takes nothing.
func (q *Quota) Reserve(ctx context.Context, provider string, p Priority) (bool, error) {
	ceiling := q.ceiling(p)
	if ceiling <= 0 {
		return false, nil
	}
	now := q.clock.Now()
	// Counting only below the ceiling, atomically, keeps refusals (and
	// nodes racing for the last messages of the day) out of the count.
	used, ok, err := q.counter.IncrBelow(ctx, q.key(provider, now), ceiling, q.ttl(now))
	if err != nil {
		return false, fmt.Errorf("mail: quota %s: %w", provider, err)
	}
	if ok {
		q.warnOnce(ctx, provider, used, now)
	}
	return ok, nil
}

// ceiling is how many messages of the day a class may bring the count to.
func (q *Quota) ceiling(p Priority) int64 {
	switch p {
	case PriorityEmergency:
		return q.limit
	case PriorityTransactional:
		return q.limit - q.critical
	}
	return q.limit - q.reserve
}

// Charge counts one message against provider's quota without checking it:
// for emergencies sent after the limit is reached, so usage stays true.
func (q *Quota) Charge(ctx context.Context, provider string) error {
	now := q.clock.Now()
	_, err := q.incr(ctx, provider, q.key(provider, now), now)
	return err
}

// Usage reports provider's consumption today, for /health.
func (q *Quota) Usage(ctx context.Context, provider string) (Usage, error) {
	now := q.clock.Now()
	used, err := q.counter.Get(ctx, q.key(provider, now))
	if err != nil {
		return Usage{}, fmt.Errorf("mail: quota %s: %w", provider, err)
	}
	ceilings := map[string]int64{}
	for _, p := range Priorities {
		ceilings[p.Class()] = q.ceiling(p)
	}
	return Usage{Provider: provider, Day: startOfDay(now), Used: used, Limit: q.limit, Reserve: q.reserve, Ceilings: ceilings}, nil
}

func (q *Quota) incr(ctx context.Context, provider, key string, now time.Time) (int64, error) {
	used, err := q.counter.Incr(ctx, key, q.ttl(now))
	if err != nil {
		return 0, fmt.Errorf("mail: quota %s: %w", provider, err)
	}
	q.warnOnce(ctx, provider, used, now)
	return used, nil
}

// ttl keeps a day's key a day past its end, so yesterday's usage stays
// readable.
func (q *Quota) ttl(now time.Time) time.Duration { return NextDay(now).Sub(now) + 24*time.Hour }

// warnOnce warns when the count reaches the warning threshold: counts grow
// one at a time, so exactly one send sees it.
func (q *Quota) warnOnce(ctx context.Context, provider string, used int64, now time.Time) {
	if used == q.warnAt && q.onWarning != nil {
		q.onWarning(ctx, QuotaWarning{Provider: provider, Day: startOfDay(now), Used: used, Limit: q.limit})
	}
}

func (q *Quota) key(provider string, now time.Time) string {
	return q.prefix + provider + ":" + now.UTC().Format(time.DateOnly)
}

// NextDay returns the midnight UTC that ends now's UTC day: when deferred
// routine mail may try again.
func NextDay(now time.Time) time.Time { return startOfDay(now).AddDate(0, 0, 1) }

func startOfDay(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// MemoryCounter is a Counter held in process memory, for one node.
type MemoryCounter struct {
	clock   clock.Clock
	mu      sync.Mutex
	entries map[string]counterEntry
	ops     int
}

type counterEntry struct {
	n       int64
	expires time.Time
}

// NewMemoryCounter returns an empty counter whose keys expire by clk.
func NewMemoryCounter(clk clock.Clock) *MemoryCounter {
	return &MemoryCounter{clock: clk, entries: map[string]counterEntry{}}
}

// Incr implements Counter.
func (c *MemoryCounter) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		e = counterEntry{expires: now.Add(ttl)}
	}
	e.n++
	c.entries[key] = e
	return e.n, nil
}

// IncrBelow implements Counter.
func (c *MemoryCounter) IncrBelow(_ context.Context, key string, ceiling int64, ttl time.Duration) (int64, bool, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		e = counterEntry{expires: now.Add(ttl)}
	}
	if e.n >= ceiling {
		return e.n, false, nil
	}
	e.n++
	c.entries[key] = e
	return e.n, true, nil
}

// Get implements Counter.
func (c *MemoryCounter) Get(_ context.Context, key string) (int64, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		return 0, nil
	}
	return e.n, nil
}

// sweep drops expired keys every 1,024 increments, so memory stays bounded
// by the keys alive at once.
func (c *MemoryCounter) sweep(now time.Time) {
	c.ops++
	if c.ops%1024 != 0 {
		return
	}
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
}
