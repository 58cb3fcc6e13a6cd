package kv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/clock"
)

// Stored values are an envelope: 'v', the expiry in Unix milliseconds (big
// endian) and the payload; or 't' and a random token for a tombstone.
const (
	envValue     = 'v'
	envTombstone = 't'
	envHeader    = 9
)

// A namespaced entry lives at base..generation..rest, where the generation
// is read from the namespace's generation key in the same script.
var (
	cacheGetNSScript = redis.NewScript(`
local g = redis.call('GET', KEYS[1]) or '0'
return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}
`)
	cacheSetNSScript = redis.NewScript(`
local g = redis.call('GET', KEYS[1]) or '0'
redis.call('SET', ARGV[1] .. g .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
`)
	// cacheCASScript stores ARGV[2] under KEYS[1] only if it still holds
	// exactly what the reader saw (ARGV[1], "" for nothing).
	cacheCASScript = redis.NewScript(`
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)
	cacheCASNSScript = redis.NewScript(`
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[3] then return 0 end
local k = ARGV[1] .. ARGV[3] .. ARGV[2]
if (redis.call('GET', k) or '') ~= ARGV[4] then return 0 end
redis.call('SET', k, ARGV[5], 'PX', ARGV[6])
return 1
`)
	// cacheDeleteScript replaces each key's entry with a tombstone. KEYS[i]
	// is the entry itself, or the generation key when ARGV[1+2i] (its base)
	// is not empty.
	cacheDeleteScript = redis.NewScript(`
for i, k in ipairs(KEYS) do
  local base = ARGV[1 + 2 * i]
  if base ~= '' then
    k = base .. (redis.call('GET', k) or '0') .. ARGV[2 + 2 * i]
  end
  redis.call('SET', k, ARGV[1], 'PX', ARGV[2])
end
return #KEYS
`)
)

// RedisCache is a Cache shared by every node through Redis. A read is one
// GET (one EVALSHA for a namespaced key); a write, a Delete of any number of
// keys and a Bump are one command each.
type RedisCache struct {
	rdb    redis.UniversalClient
	prefix string
	clock  clock.Clock
}

var (
	_ Cache          = (*RedisCache)(nil)
	_ versionedCache = (*RedisCache)(nil)
)

// NewRedisCache returns a cache keeping its entries in rdb under prefix.
func NewRedisCache(rdb redis.UniversalClient, prefix string, clk clock.Clock) *RedisCache {
	return &RedisCache{rdb: rdb, prefix: prefix + "cache:", clock: clk}
}

// Get implements Cache.
func (c *RedisCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	val, found, _, err := c.getVersioned(ctx, key)
	return val, found, err
}

// Set implements Cache.
func (c *RedisCache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	ttl = clampTTL(ttl)
	env := c.envelope(val, ttl)
	var err error
	if ns, rest, ok := splitNamespace(key); ok {
		err = cacheSetNSScript.Run(ctx, c.rdb, []string{c.genKey(ns)}, c.base(ns), rest, env, millis(ttl)).Err()
	} else {
		err = c.rdb.Set(ctx, c.prefix+key, env, ttl).Err()
	}
	if err != nil {
		return fmt.Errorf("kv: cache set: %w", err)
	}
	return nil
}

// Delete implements Cache.
func (c *RedisCache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ks := make([]string, len(keys))
	args := make([]any, 2, 2+2*len(keys))
	args[0] = string(envTombstone) + randomToken()
	args[1] = millis(tombstoneTTL)
	for i, k := range keys {
		if ns, rest, ok := splitNamespace(k); ok {
			ks[i] = c.genKey(ns)
			args = append(args, c.base(ns), rest)
		} else {
			ks[i] = c.prefix + k
			args = append(args, "", "")
		}
	}
	if err := cacheDeleteScript.Run(ctx, c.rdb, ks, args...).Err(); err != nil {
		return fmt.Errorf("kv: cache delete: %w", err)
	}
	return nil
}

// Bump implements Cache. The new generation is random rather than counted,
// so that a generation key lost to eviction can never come back to a value
// whose entries are still alive.
func (c *RedisCache) Bump(ctx context.Context, ns string) error {
	if err := c.rdb.Set(ctx, c.genKey(ns), randomToken(), generationTTL).Err(); err != nil {
		return fmt.Errorf("kv: cache bump: %w", err)
	}
	return nil
}

func (c *RedisCache) getVersioned(ctx context.Context, key string) ([]byte, bool, cacheVersion, error) {
	var (
		ver cacheVersion
		raw string
	)
	if ns, rest, ok := splitNamespace(key); ok {
		res, err := cacheGetNSScript.Run(ctx, c.rdb, []string{c.genKey(ns)}, c.base(ns), rest).Slice()
		if err != nil {
			return nil, false, ver, fmt.Errorf("kv: cache get: %w", err)
		}
		if len(res) != 2 {
			return nil, false, ver, fmt.Errorf("kv: cache get: unexpected reply %v", res)
		}
		ver.gen, _ = res[0].(string)
		raw, _ = res[1].(string)
	} else {
		s, err := c.rdb.Get(ctx, c.prefix+key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, false, ver, fmt.Errorf("kv: cache get: %w", err)
		}
		raw = s
	}
	ver.seen = raw
	if len(raw) < envHeader || raw[0] != envValue {
		return nil, false, ver, nil
	}
	expires := time.UnixMilli(int64(binary.BigEndian.Uint64([]byte(raw[1:envHeader]))))
	if !c.clock.Now().Before(expires) {
		return nil, false, ver, nil
	}
	return []byte(raw[envHeader:]), true, ver, nil
}

func (c *RedisCache) setIfVersion(ctx context.Context, key string, v cacheVersion, val []byte, ttl time.Duration) (bool, error) {
	ttl = clampTTL(ttl)
	env := c.envelope(val, ttl)
	var (
		n   int64
		err error
	)
	if ns, rest, ok := splitNamespace(key); ok {
		n, err = cacheCASNSScript.Run(ctx, c.rdb, []string{c.genKey(ns)},
			c.base(ns), rest, v.gen, v.seen, env, millis(ttl)).Int64()
	} else {
		n, err = cacheCASScript.Run(ctx, c.rdb, []string{c.prefix + key}, v.seen, env, millis(ttl)).Int64()
	}
	if err != nil {
		return false, fmt.Errorf("kv: cache set: %w", err)
	}
	return n == 1, nil
}

// envelope wraps val with its expiry on the injected clock.
func (c *RedisCache) envelope(val []byte, ttl time.Duration) []byte {
	b := make([]byte, envHeader+len(val))
	b[0] = envValue
	binary.BigEndian.PutUint64(b[1:envHeader], uint64(c.clock.Now().Add(ttl).UnixMilli()))
	copy(b[envHeader:], val)
	return b
}

// genKey holds namespace ns's current generation.
func (c *RedisCache) genKey(ns string) string { return c.prefix + "{" + ns + "}:gen" }

// base is where ns's entries start; generation and rest follow.
func (c *RedisCache) base(ns string) string { return c.prefix + "{" + ns + "}#" }
