package kv

import (
	"context"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Each seam asks Redis while Resilient says it is up; when the call fails
// because Redis is away, that call and every later one go to the fallback
// until the probe brings Redis back.

type resilientLimiter struct {
	r        *Resilient
	redis    *RedisLimiter
	fallback MultiLimiter
}

func (l resilientLimiter) Allow(ctx context.Context, key string, lim Limit) (bool, time.Duration, error) {
	return l.AllowAll(ctx, Rule{Key: key, Limit: lim})
}

func (l resilientLimiter) AllowAll(ctx context.Context, rules ...Rule) (bool, time.Duration, error) {
	ok, retry, _, err := l.settle(ctx, rules, nil)
	return ok, retry, err
}

func (l resilientLimiter) settle(ctx context.Context, rules []Rule, owed []time.Duration) (bool, time.Duration, []time.Time, error) {
	if l.r.useRedis() {
		ok, retry, tats, err := l.redis.settle(ctx, rules, owed)
		if !l.r.failed(ctx, err) {
			return ok, retry, tats, err
		}
	}
	if s, isSettler := l.fallback.(settler); isSettler {
		return s.settle(ctx, rules, owed)
	}
	ok, retry, err := l.fallback.AllowAll(ctx, rules...)
	return ok, retry, make([]time.Time, len(rules)), err
}

type resilientCodes struct {
	r        *Resilient
	redis    *RedisCodes
	fallback Codes
}

func (c resilientCodes) Put(ctx context.Context, key, codeHash string, ttl time.Duration) error {
	if c.r.useRedis() {
		err := c.redis.Put(ctx, key, codeHash, ttl)
		if !c.r.failed(ctx, err) {
			return err
		}
	}
	return c.fallback.Put(ctx, key, codeHash, ttl)
}

func (c resilientCodes) Check(ctx context.Context, key, codeHash string, maxTries int) (care.CodeOutcome, error) {
	if c.r.useRedis() {
		o, err := c.redis.Check(ctx, key, codeHash, maxTries)
		if !c.r.failed(ctx, err) {
			return o, err
		}
	}
	return c.fallback.Check(ctx, key, codeHash, maxTries)
}

func (c resilientCodes) Cooldown(ctx context.Context, key string, d time.Duration) (bool, time.Duration, error) {
	if c.r.useRedis() {
		ok, retry, err := c.redis.Cooldown(ctx, key, d)
		if !c.r.failed(ctx, err) {
			return ok, retry, err
		}
	}
	return c.fallback.Cooldown(ctx, key, d)
}

func (c resilientCodes) EndCooldown(ctx context.Context, key string) error {
	if c.r.useRedis() {
		err := c.redis.EndCooldown(ctx, key)
		if !c.r.failed(ctx, err) {
			return err
		}
	}
	return c.fallback.EndCooldown(ctx, key)
}

type resilientLockout struct {
	r        *Resilient
	redis    *RedisLockout
	fallback Lockout
}

func (l resilientLockout) Fail(ctx context.Context, key string, p LockoutPolicy) (bool, time.Time, error) {
	if l.r.useRedis() {
		locked, until, err := l.redis.Fail(ctx, key, p)
		if !l.r.failed(ctx, err) {
			return locked, until, err
		}
	}
	return l.fallback.Fail(ctx, key, p)
}

func (l resilientLockout) Locked(ctx context.Context, key string) (bool, time.Time, error) {
	if l.r.useRedis() {
		locked, until, err := l.redis.Locked(ctx, key)
		if !l.r.failed(ctx, err) {
			return locked, until, err
		}
	}
	return l.fallback.Locked(ctx, key)
}

func (l resilientLockout) Reset(ctx context.Context, key string) error {
	if l.r.useRedis() {
		err := l.redis.Reset(ctx, key)
		if !l.r.failed(ctx, err) {
			return err
		}
	}
	return l.fallback.Reset(ctx, key)
}

// Lease sources, so a lease returns to the backend that granted it.
const (
	leaseFromRedis = iota + 1
	leaseFromFallback
)

type resilientLocker struct {
	r        *Resilient
	redis    *RedisLocker
	fallback Locker
}

func (l resilientLocker) Acquire(ctx context.Context, name string, ttl time.Duration) (Lease, bool, error) {
	if l.r.useRedis() {
		lease, ok, err := l.redis.Acquire(ctx, name, ttl)
		if !l.r.failed(ctx, err) {
			lease.source = leaseFromRedis
			return lease, ok, err
		}
	}
	if l.fallback == nil {
		return Lease{}, false, ErrUnavailable
	}
	lease, ok, err := l.fallback.Acquire(ctx, name, ttl)
	lease.source = leaseFromFallback
	return lease, ok, err
}

func (l resilientLocker) Extend(ctx context.Context, lease Lease, ttl time.Duration) (Lease, bool, error) {
	if lease.source == leaseFromFallback && l.fallback != nil {
		return l.fallback.Extend(ctx, lease, ttl)
	}
	out, ok, err := l.redis.Extend(ctx, lease, ttl)
	l.r.failed(ctx, err)
	return out, ok, err
}

func (l resilientLocker) Release(ctx context.Context, lease Lease) error {
	if lease.source == leaseFromFallback && l.fallback != nil {
		return l.fallback.Release(ctx, lease)
	}
	err := l.redis.Release(ctx, lease)
	l.r.failed(ctx, err)
	return err
}

// resilientCache bypasses the cache while degraded: reads miss and writes
// are dropped, and invalidations are remembered for replay on recovery.
type resilientCache struct {
	r *Resilient
}

var _ versionedCache = resilientCache{}

func (c resilientCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	val, found, _, err := c.getVersioned(ctx, key)
	return val, found, err
}

func (c resilientCache) getVersioned(ctx context.Context, key string) ([]byte, bool, cacheVersion, error) {
	if c.r.useRedis() {
		val, found, ver, err := c.r.cache.getVersioned(ctx, key)
		if !c.r.failed(ctx, err) {
			return val, found, ver, err
		}
	}
	return nil, false, cacheVersion{}, nil
}

func (c resilientCache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if c.r.useRedis() {
		err := c.r.cache.Set(ctx, key, val, ttl)
		if !c.r.failed(ctx, err) {
			return err
		}
	}
	return nil
}

func (c resilientCache) setIfVersion(ctx context.Context, key string, v cacheVersion, val []byte, ttl time.Duration) (bool, error) {
	if c.r.useRedis() {
		ok, err := c.r.cache.setIfVersion(ctx, key, v, val, ttl)
		if !c.r.failed(ctx, err) {
			return ok, err
		}
	}
	return false, nil
}

func (c resilientCache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return c.invalidate(ctx, keys, "", func() error { return c.r.cache.Delete(ctx, keys...) })
}

func (c resilientCache) Bump(ctx context.Context, ns string) error {
	return c.invalidate(ctx, nil, ns, func() error { return c.r.cache.Bump(ctx, ns) })
}

// invalidate sends an invalidation to Redis, or remembers it for replay
// when Redis is away; it retries on Redis if Redis returned meanwhile.
func (c resilientCache) invalidate(ctx context.Context, keys []string, ns string, onRedis func() error) error {
	for range 3 {
		if c.r.useRedis() {
			err := onRedis()
			if !c.r.failed(ctx, err) {
				return err
			}
		}
		if c.r.remember(keys, ns) {
			return nil
		}
	}
	return ErrUnavailable
}
