package kv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/clock"
)

// Redis states reported by Resilient.Status.
const (
	// StateUp: Redis answers and every seam uses it.
	StateUp = "up"
	// StateDegraded: Redis does not answer; seams use their fallbacks and a
	// background probe waits for Redis to return.
	StateDegraded = "degraded"
)

// ErrUnavailable is returned by Resilient's Locker while Redis is away and
// no fallback locker was configured: a node cannot know who else holds a
// lock, so it refuses rather than risk running the work twice.
var ErrUnavailable = errors.New("kv: redis unavailable")

// maxPending bounds the cache invalidations remembered while degraded;
// beyond it, recovery drops the whole cache instead.
const maxPending = 10_000

// ResilientConfig configures a Resilient. Only Client is required.
type ResilientConfig struct {
	// Client is the Redis connection; Resilient does not close it.
	Client redis.UniversalClient
	// Prefix starts every Redis key, such as "cc:".
	Prefix string
	// Clock is the time source (clock.Real when nil).
	Clock clock.Clock
	// Logger receives one warning when Redis goes away and one info line
	// when it returns (nothing is logged when nil).
	Logger *slog.Logger

	// Limiter, Codes and Lockout serve while Redis is away; nil means a
	// fresh in-memory implementation. The database's (package dbkv) keep
	// codes issued during an outage valid after it, on every node.
	Limiter MultiLimiter
	Codes   Codes
	Lockout Lockout
	// Locker serves while Redis is away; nil refuses with ErrUnavailable.
	// A MemoryLocker only excludes this node's goroutines: use it when the
	// deployment has one node.
	Locker Locker

	// MinBackoff and MaxBackoff bound the wait between recovery probes
	// (500ms and 10s when zero); each failed probe doubles it.
	MinBackoff, MaxBackoff time.Duration
	// ProbeTimeout bounds each probe's PING (1s when zero).
	ProbeTimeout time.Duration
	// After waits between probes (time.After when nil); tests pass a
	// channel they fire by hand.
	After func(time.Duration) <-chan time.Time
	// OnChange, when set, is called after every state change.
	OnChange func(state string, since time.Time)
}

// Resilient serves the cache, rate limits, codes, lockouts and locks from
// Redis while it answers, and from fallbacks while it does not: the cache is
// then bypassed (a node-local cache could serve another node's stale data),
// and the cache invalidations that could not reach Redis are replayed before
// Redis is used again. The first failure of any call switches every seam
// over; a probe then pings Redis with backoff, and only while degraded.
type Resilient struct {
	rdb          redis.UniversalClient
	clock        clock.Clock
	logger       *slog.Logger
	after        func(time.Duration) <-chan time.Time
	onChange     func(string, time.Time)
	minBackoff   time.Duration
	maxBackoff   time.Duration
	probeTimeout time.Duration

	cache   *RedisCache
	limiter resilientLimiter
	codes   resilientCodes
	lockout resilientLockout
	locker  resilientLocker

	degraded atomic.Bool
	mu       sync.Mutex
	state    string
	since    time.Time
	closed   bool
	pending  map[string]struct{} // cache keys to invalidate on recovery
	pendNS   map[string]struct{} // cache namespaces to bump on recovery
	flushAll bool                // too many pending: drop the whole cache

	stop context.Context
	halt context.CancelFunc
	wg   sync.WaitGroup
}

// NewResilient pings Redis once (within ctx) and returns a Resilient that
// starts up or, when the ping fails, degraded and probing. Close stops it.
func NewResilient(ctx context.Context, cfg ResilientConfig) (*Resilient, error) {
	if cfg.Client == nil {
		return nil, errors.New("kv: resilient: no redis client")
	}
	r := &Resilient{
		rdb:          cfg.Client,
		clock:        cfg.Clock,
		logger:       cfg.Logger,
		after:        cfg.After,
		onChange:     cfg.OnChange,
		minBackoff:   cfg.MinBackoff,
		maxBackoff:   cfg.MaxBackoff,
		probeTimeout: cfg.ProbeTimeout,
		state:        StateUp,
		pending:      map[string]struct{}{},
		pendNS:       map[string]struct{}{},
	}
	if r.clock == nil {
		r.clock = clock.Real{}
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if r.after == nil {
		r.after = time.After
	}
	if r.minBackoff <= 0 {
		r.minBackoff = 500 * time.Millisecond
	}
	if r.maxBackoff < r.minBackoff {
		r.maxBackoff = max(10*time.Second, r.minBackoff)
	}
	if r.probeTimeout <= 0 {
		r.probeTimeout = time.Second
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewMemoryLimiter(r.clock)
	}
	if cfg.Codes == nil {
		cfg.Codes = NewMemoryCodes(r.clock)
	}
	if cfg.Lockout == nil {
		cfg.Lockout = NewMemoryLockout(r.clock)
	}
	r.since = r.clock.Now()
	r.stop, r.halt = context.WithCancel(context.Background())
	r.cache = NewRedisCache(cfg.Client, cfg.Prefix, r.clock)
	r.limiter = resilientLimiter{r: r, redis: NewRedisLimiter(cfg.Client, cfg.Prefix, r.clock), fallback: cfg.Limiter}
	r.codes = resilientCodes{r: r, redis: NewRedisCodes(cfg.Client, cfg.Prefix, r.clock), fallback: cfg.Codes}
	r.lockout = resilientLockout{r: r, redis: NewRedisLockout(cfg.Client, cfg.Prefix, r.clock), fallback: cfg.Lockout}
	r.locker = resilientLocker{r: r, redis: NewRedisLocker(cfg.Client, cfg.Prefix, r.clock), fallback: cfg.Locker}

	pingCtx, cancel := context.WithTimeout(ctx, r.probeTimeout)
	defer cancel()
	if err := r.rdb.Ping(pingCtx).Err(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("kv: resilient: %w", ctx.Err())
		}
		r.markDown(err)
	}
	return r, nil
}

// Status reports whether Redis is in use ("up") or the fallbacks are
// ("degraded"), and since when, for /health.
func (r *Resilient) Status() (state string, since time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state, r.since
}

// Cache returns the cache: Redis, or bypassed while degraded.
func (r *Resilient) Cache() Cache { return resilientCache{r: r} }

// Limiter returns the rate limiter: Redis, or the fallback while degraded
// (limits then hold per node rather than across nodes).
func (r *Resilient) Limiter() MultiLimiter { return r.limiter }

// Codes returns the one-time code store: Redis, or the fallback while
// degraded (codes issued on the other side must be requested again).
func (r *Resilient) Codes() Codes { return r.codes }

// Lockout returns the login lockout store: Redis, or the fallback while
// degraded.
func (r *Resilient) Lockout() Lockout { return r.lockout }

// Locker returns the distributed locker: Redis, or the fallback locker (or
// ErrUnavailable) while degraded. A lease is extended and released where it
// was granted.
func (r *Resilient) Locker() Locker { return r.locker }

// Close stops the recovery probe and waits for it. The seams keep working
// afterwards, but no longer return to Redis by themselves.
func (r *Resilient) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.halt()
	r.wg.Wait()
}

// useRedis reports whether calls should go to Redis now.
func (r *Resilient) useRedis() bool { return !r.degraded.Load() }

// failed reports whether err means Redis is away, and if so switches to
// degraded mode; the caller then serves the call from its fallback.
func (r *Resilient) failed(ctx context.Context, err error) bool {
	if !unavailable(ctx, err) {
		return false
	}
	r.markDown(err)
	return true
}

// unavailable reports whether err says Redis did not answer, as opposed to
// success, a miss, a refusal by Redis itself, or the caller giving up.
func unavailable(ctx context.Context, err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.Nil), ctx.Err() != nil:
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted),
		redis.IsLoadingError(err), redis.IsMasterDownError(err), redis.IsClusterDownError(err), redis.IsTryAgainError(err):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// markDown switches to degraded mode, once per outage, and starts the probe.
func (r *Resilient) markDown(err error) {
	r.mu.Lock()
	if r.state == StateDegraded {
		r.mu.Unlock()
		return
	}
	now := r.clock.Now()
	r.state, r.since = StateDegraded, now
	r.degraded.Store(true)
	probe := !r.closed
	if probe {
		r.wg.Add(1)
	}
	r.mu.Unlock()
	r.logger.Warn("redis unavailable: cache bypassed, rate limits, codes and lockouts in fallback until it returns",
		slog.Any("error", err))
	if r.onChange != nil {
		r.onChange(StateDegraded, now)
	}
	if probe {
		go r.probe()
	}
}

// probe pings Redis with doubling backoff until it answers and the
// invalidations missed meanwhile are replayed, then switches back to Redis.
func (r *Resilient) probe() {
	defer r.wg.Done()
	backoff := r.minBackoff
	for {
		select {
		case <-r.stop.Done():
			return
		case <-r.after(backoff):
		}
		ctx, cancel := context.WithTimeout(r.stop, r.probeTimeout)
		err := r.rdb.Ping(ctx).Err()
		if err == nil {
			err = r.recover(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		backoff = min(2*backoff, r.maxBackoff)
		r.logger.Debug("redis still unavailable", slog.Any("error", err), slog.Duration("next_probe", backoff))
	}
}

// recover replays pending cache invalidations, then switches to Redis once
// none is left (new ones may arrive while it replays).
func (r *Resilient) recover(ctx context.Context) error {
	for {
		r.mu.Lock()
		keys, nss, all := r.pending, r.pendNS, r.flushAll
		if len(keys) == 0 && len(nss) == 0 && !all {
			now := r.clock.Now()
			downFor := now.Sub(r.since)
			r.state, r.since = StateUp, now
			r.degraded.Store(false)
			r.mu.Unlock()
			r.logger.Info("redis available again", slog.Duration("degraded_for", downFor))
			if r.onChange != nil {
				r.onChange(StateUp, now)
			}
			return nil
		}
		r.pending, r.pendNS, r.flushAll = map[string]struct{}{}, map[string]struct{}{}, false
		r.mu.Unlock()
		if err := r.replay(ctx, keys, nss, all); err != nil {
			r.mu.Lock()
			for k := range keys {
				r.pending[k] = struct{}{}
			}
			for ns := range nss {
				r.pendNS[ns] = struct{}{}
			}
			r.flushAll = r.flushAll || all
			r.mu.Unlock()
			return err
		}
	}
}

// replay applies invalidations that could not reach Redis.
func (r *Resilient) replay(ctx context.Context, keys, nss map[string]struct{}, all bool) error {
	if all {
		return r.flushCache(ctx)
	}
	batch := make([]string, 0, 100)
	for k := range keys {
		batch = append(batch, k)
		if len(batch) == cap(batch) {
			if err := r.cache.Delete(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := r.cache.Delete(ctx, batch...); err != nil {
		return err
	}
	for ns := range nss {
		if err := r.cache.Bump(ctx, ns); err != nil {
			return err
		}
	}
	return nil
}

// flushCache deletes every cache entry. It scans, so it runs only on
// recovery after an outage with more invalidations than maxPending.
func (r *Resilient) flushCache(ctx context.Context) error {
	iter := r.rdb.Scan(ctx, 0, r.cache.prefix+"*", 1000).Iterator()
	batch := make([]string, 0, 1000)
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := r.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return fmt.Errorf("kv: flush cache: %w", err)
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("kv: flush cache: %w", err)
	}
	if len(batch) > 0 {
		if err := r.rdb.Unlink(ctx, batch...).Err(); err != nil {
			return fmt.Errorf("kv: flush cache: %w", err)
		}
	}
	return nil
}

// remember records invalidations for replay and reports true, if Redis is
// still away; when it has come back meanwhile it reports false and the
// caller sends them to Redis.
func (r *Resilient) remember(keys []string, ns string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != StateDegraded {
		return false
	}
	if r.flushAll {
		return true
	}
	for _, k := range keys {
		r.pending[k] = struct{}{}
	}
	if ns != "" {
		r.pendNS[ns] = struct{}{}
	}
	if len(r.pending)+len(r.pendNS) > maxPending {
		r.pending, r.pendNS, r.flushAll = map[string]struct{}{}, map[string]struct{}{}, true
	}
	return true
}
