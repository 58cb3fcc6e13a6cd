package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/clock"
)

// A held lock is the string "owner|expiry in Unix ms" with a matching PX;
// its fencing counter is a separate key without TTL, so tokens never repeat.
var (
	// lockAcquireScript returns {1, token} or {0, 0}. KEYS: lock, counter;
	// ARGV: owner, now, ttl.
	lockAcquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local exp = tonumber(string.match(v, '|(%d+)$'))
  if exp and tonumber(ARGV[2]) < exp then return {0, 0} end
end
local tok = redis.call('INCR', KEYS[2])
local exp = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%.0f', exp), 'PX', ARGV[3])
return {1, tok}
`)
	// lockExtendScript returns 1 when the owner still held the lock. ARGV:
	// owner, now, ttl.
	lockExtendScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local owner, exp = string.match(v, '^(.*)|(%d+)$')
if owner ~= ARGV[1] or tonumber(ARGV[2]) >= tonumber(exp) then return 0 end
local nexp = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%.0f', nexp), 'PX', ARGV[3])
return 1
`)
	// lockReleaseScript deletes the lock only if ARGV[1] owns it.
	lockReleaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.match(v, '^(.*)|') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
)

// RedisLocker is a Locker shared by every node through Redis: each call is
// one EVALSHA, and tokens come from an INCR per lock name.
type RedisLocker struct {
	rdb    redis.UniversalClient
	prefix string
	clock  clock.Clock
}

var _ Locker = (*RedisLocker)(nil)

// NewRedisLocker returns a locker in rdb under prefix.
func NewRedisLocker(rdb redis.UniversalClient, prefix string, clk clock.Clock) *RedisLocker {
	return &RedisLocker{rdb: rdb, prefix: prefix + "lock:", clock: clk}
}

// Acquire implements Locker.
func (r *RedisLocker) Acquire(ctx context.Context, name string, ttl time.Duration) (Lease, bool, error) {
	now := r.clock.Now()
	l := Lease{Name: name, Expires: now.Add(ttl), owner: randomToken()}
	key := r.key(name)
	res, err := lockAcquireScript.Run(ctx, r.rdb, []string{key, key + ":token"},
		l.owner, unixMilli(now), millis(ttl)).Int64Slice()
	if err != nil {
		return Lease{}, false, fmt.Errorf("kv: acquire lock %s: %w", name, err)
	}
	if len(res) != 2 {
		return Lease{}, false, fmt.Errorf("kv: acquire lock %s: unexpected reply %v", name, res)
	}
	if res[0] != 1 {
		return Lease{}, false, nil
	}
	l.Token = res[1]
	return l, true, nil
}

// Extend implements Locker.
func (r *RedisLocker) Extend(ctx context.Context, l Lease, ttl time.Duration) (Lease, bool, error) {
	now := r.clock.Now()
	n, err := lockExtendScript.Run(ctx, r.rdb, []string{r.key(l.Name)}, l.owner, unixMilli(now), millis(ttl)).Int64()
	if err != nil {
		return l, false, fmt.Errorf("kv: extend lock %s: %w", l.Name, err)
	}
	if n != 1 {
		return l, false, nil
	}
	l.Expires = now.Add(ttl)
	return l, true, nil
}

// Release implements Locker.
func (r *RedisLocker) Release(ctx context.Context, l Lease) error {
	if l.owner == "" {
		return nil
	}
	if err := lockReleaseScript.Run(ctx, r.rdb, []string{r.key(l.Name)}, l.owner).Err(); err != nil {
		return fmt.Errorf("kv: release lock %s: %w", l.Name, err)
	}
	return nil
}

// key is the lock's key; the name is a hash tag so the lock and its
// counter share a cluster slot.
func (r *RedisLocker) key(name string) string { return r.prefix + "{" + name + "}" }
