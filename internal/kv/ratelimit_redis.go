package kv

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/clock"
)

// gcraScript is MemoryLimiter's algorithm over any number of keys at once,
// in microseconds. KEYS are the limited keys; ARGV[1] is now, then each key's
// interval and period. Every rule is checked before any is recorded, so a
// refusal changes nothing. A key's TTL is the time its state takes to drain.
var gcraScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local nexts = {}
local retry = 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = nexts[KEYS[i]] or tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local nx = tat + interval
  local allow_at = nx - period
  if now < allow_at then
    if allow_at - now > retry then retry = allow_at - now end
  end
  nexts[KEYS[i]] = nx
end
if retry > 0 then return {0, retry} end
for k, nx in pairs(nexts) do
  redis.call('SET', k, string.format('%.0f', nx), 'PX', math.ceil((nx - now) / 1000))
end
return {1, 0}
`)

// RedisLimiter is MemoryLimiter's GCRA shared by every node through Redis:
// each Allow or AllowAll is one EVALSHA.
type RedisLimiter struct {
	rdb    redis.UniversalClient
	prefix string
	clock  clock.Clock
}

var _ MultiLimiter = (*RedisLimiter)(nil)

// NewRedisLimiter returns a limiter keeping its state in rdb under prefix.
func NewRedisLimiter(rdb redis.UniversalClient, prefix string, clk clock.Clock) *RedisLimiter {
	return &RedisLimiter{rdb: rdb, prefix: prefix + "rate:", clock: clk}
}

// Allow implements RateLimiter.
func (l *RedisLimiter) Allow(ctx context.Context, key string, lim Limit) (bool, time.Duration, error) {
	return l.AllowAll(ctx, Rule{Key: key, Limit: lim})
}

// AllowAll implements MultiLimiter.
func (l *RedisLimiter) AllowAll(ctx context.Context, rules ...Rule) (bool, time.Duration, error) {
	keys := make([]string, 0, len(rules))
	args := make([]any, 1, 1+2*len(rules))
	args[0] = unixMicro(l.clock.Now())
	for _, r := range rules {
		if r.Limit.unlimited() {
			continue
		}
		keys = append(keys, l.prefix+r.Key)
		args = append(args,
			strconv.FormatInt(max(r.Limit.interval().Microseconds(), 1), 10),
			strconv.FormatInt(r.Limit.Period.Microseconds(), 10))
	}
	if len(keys) == 0 {
		return true, 0, nil
	}
	res, err := gcraScript.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("kv: rate limit: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("kv: rate limit: unexpected reply %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
