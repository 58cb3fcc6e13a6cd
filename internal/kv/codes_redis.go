package kv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
)

// A code is a hash {h: code hash, t: wrong tries, e: expiry in Unix ms}
// kept for its TTL plus CodeRetention.
var (
	codePutScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'h', ARGV[1], 't', 0, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)
	// codeCheckScript returns a care.CodeOutcome. ARGV: hash, maxTries, now,
	// retention.
	codeCheckScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'h', 't', 'e')
if not c[1] then return 4 end
local tries, exp = tonumber(c[2]), tonumber(c[3])
local max, now = tonumber(ARGV[2]), tonumber(ARGV[3])
if now >= exp + tonumber(ARGV[4]) then return 4 end
if tries >= max then return 2 end
if now >= exp then return 3 end
if c[1] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 0
end
tries = redis.call('HINCRBY', KEYS[1], 't', 1)
if tries >= max then return 2 end
return 1
`)
	// cooldownScript returns 0 after starting a cooldown, or the
	// milliseconds left in the running one. ARGV: now, duration.
	cooldownScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local u = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < u then return u - now end
redis.call('SET', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), 'PX', ARGV[2])
return 0
`)
	// lockoutFailScript counts a failure in a hash {f: failures, w: end of
	// the counting window, l: locked until}, and returns the lock's end, or
	// 0 when the key is not locked. ARGV: now, max, window, lockFor.
	lockoutFailScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'f', 'w', 'l')
local fails, wend, lu = tonumber(s[1] or '0'), tonumber(s[2] or '0'), tonumber(s[3] or '0')
if now < lu then return lu end
local max, win, lockfor = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if max <= 0 or lockfor <= 0 then return 0 end
if now >= wend then
  fails = 0
  wend = now + win
end
fails = fails + 1
if fails >= max then
  lu = now + lockfor
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'l', string.format('%.0f', lu))
  redis.call('PEXPIRE', KEYS[1], lockfor)
  return lu
end
redis.call('HSET', KEYS[1], 'f', fails, 'w', string.format('%.0f', wend))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', wend - now))
return 0
`)
)

// RedisCodes is Codes shared by every node through Redis; each call is one
// EVALSHA.
type RedisCodes struct {
	rdb    redis.UniversalClient
	prefix string
	clock  clock.Clock
}

var _ Codes = (*RedisCodes)(nil)

// NewRedisCodes returns a code store in rdb under prefix.
func NewRedisCodes(rdb redis.UniversalClient, prefix string, clk clock.Clock) *RedisCodes {
	return &RedisCodes{rdb: rdb, prefix: prefix, clock: clk}
}

// Put implements Codes.
func (c *RedisCodes) Put(ctx context.Context, key, codeHash string, ttl time.Duration) error {
	expires := c.clock.Now().Add(ttl)
	err := codePutScript.Run(ctx, c.rdb, []string{c.prefix + "code:" + key},
		codeHash, unixMilli(expires), millis(max(ttl, 0)+CodeRetention)).Err()
	if err != nil {
		return fmt.Errorf("kv: put code: %w", err)
	}
	return nil
}

// Check implements Codes.
func (c *RedisCodes) Check(ctx context.Context, key, codeHash string, maxTries int) (care.CodeOutcome, error) {
	n, err := codeCheckScript.Run(ctx, c.rdb, []string{c.prefix + "code:" + key},
		codeHash, strconv.Itoa(maxTries), unixMilli(c.clock.Now()), millis(CodeRetention)).Int64()
	if err != nil {
		return care.CodeAbsent, fmt.Errorf("kv: check code: %w", err)
	}
	return care.CodeOutcome(n), nil
}

// Cooldown implements Codes.
func (c *RedisCodes) Cooldown(ctx context.Context, key string, d time.Duration) (bool, time.Duration, error) {
	if d <= 0 {
		return true, 0, nil
	}
	left, err := cooldownScript.Run(ctx, c.rdb, []string{c.prefix + "cooldown:" + key},
		unixMilli(c.clock.Now()), millis(d)).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("kv: cooldown: %w", err)
	}
	if left > 0 {
		return false, time.Duration(left) * time.Millisecond, nil
	}
	return true, 0, nil
}

// EndCooldown implements Codes.
func (c *RedisCodes) EndCooldown(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+"cooldown:"+key).Err(); err != nil {
		return fmt.Errorf("kv: end cooldown: %w", err)
	}
	return nil
}

// RedisLockout is Lockout shared by every node through Redis; each call is
// one command.
type RedisLockout struct {
	rdb    redis.UniversalClient
	prefix string
	clock  clock.Clock
}

var _ Lockout = (*RedisLockout)(nil)

// NewRedisLockout returns a lockout store in rdb under prefix.
func NewRedisLockout(rdb redis.UniversalClient, prefix string, clk clock.Clock) *RedisLockout {
	return &RedisLockout{rdb: rdb, prefix: prefix + "lockout:", clock: clk}
}

// Fail implements Lockout.
func (l *RedisLockout) Fail(ctx context.Context, key string, p LockoutPolicy) (bool, time.Time, error) {
	until, err := lockoutFailScript.Run(ctx, l.rdb, []string{l.prefix + key},
		unixMilli(l.clock.Now()), strconv.Itoa(p.Max), wholeMillis(p.window()), wholeMillis(p.LockFor)).Int64()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("kv: lockout: %w", err)
	}
	if until == 0 {
		return false, time.Time{}, nil
	}
	return true, time.UnixMilli(until).UTC(), nil
}

// Locked implements Lockout.
func (l *RedisLockout) Locked(ctx context.Context, key string) (bool, time.Time, error) {
	ms, err := l.rdb.HGet(ctx, l.prefix+key, "l").Int64()
	if errors.Is(err, redis.Nil) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("kv: lockout: %w", err)
	}
	until := time.UnixMilli(ms).UTC()
	if !l.clock.Now().Before(until) {
		return false, time.Time{}, nil
	}
	return true, until, nil
}

// Reset implements Lockout.
func (l *RedisLockout) Reset(ctx context.Context, key string) error {
	if err := l.rdb.Del(ctx, l.prefix+key).Err(); err != nil {
		return fmt.Errorf("kv: lockout reset: %w", err)
	}
	return nil
}
