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
// in microseconds. KEYS are the limited keys; ARGV[1] is now, then each
// key's interval, period and what it owes (the time in its bucket of events
// admitted elsewhere and not counted yet, added once per key whether or not
// the event fits). Every rule is checked before any is recorded, so a
// refusal changes nothing but what was owed. A key's TTL is the time its
// state takes to drain. The reply is {ok, retry, each rule's state after}.
var gcraScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local stored, base, nexts = {}, {}, {}
local retry = 0
for i = 1, #KEYS do
  local k = KEYS[i]
  local interval = tonumber(ARGV[3 * i - 1])
  local period = tonumber(ARGV[3 * i])
  if not base[k] then
    stored[k] = tonumber(redis.call('GET', k) or '0')
    local tat = stored[k]
    if tat < now then tat = now end
    base[k] = tat + tonumber(ARGV[3 * i + 1])
    nexts[k] = base[k]
  end
  local nx = nexts[k] + interval
  local allow_at = nx - period
  if now < allow_at then
    if allow_at - now > retry then retry = allow_at - now end
  end
  nexts[k] = nx
end
local chosen = nexts
if retry > 0 then chosen = base end
for k, t in pairs(chosen) do
  if t > now and t ~= stored[k] then
    redis.call('SET', k, string.format('%.0f', t), 'PX', math.ceil((t - now) / 1000))
  end
end
local out = {1, 0}
if retry > 0 then out = {0, retry} end
for i = 1, #KEYS do out[i + 2] = chosen[KEYS[i]] end
return out
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
	ok, retry, _, err := l.settle(ctx, rules, nil)
	return ok, retry, err
}

// settle implements settler.
func (l *RedisLimiter) settle(ctx context.Context, rules []Rule, owed []time.Duration) (bool, time.Duration, []time.Time, error) {
	now := l.clock.Now()
	keys := make([]string, 0, len(rules))
	index := make([]int, 0, len(rules)) // the rule of each key
	args := make([]any, 1, 1+3*len(rules))
	args[0] = unixMicro(now)
	for i, r := range rules {
		if r.Limit.unlimited() {
			continue
		}
		var o time.Duration
		if i < len(owed) {
			o = owed[i]
		}
		keys = append(keys, l.prefix+r.Key)
		index = append(index, i)
		args = append(args,
			strconv.FormatInt(max(r.Limit.interval().Microseconds(), 1), 10),
			strconv.FormatInt(r.Limit.Period.Microseconds(), 10),
			strconv.FormatInt(max(o.Microseconds(), 0), 10))
	}
	tats := make([]time.Time, len(rules))
	if len(keys) == 0 {
		return true, 0, tats, nil
	}
	res, err := gcraScript.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return false, 0, nil, fmt.Errorf("kv: rate limit: %w", err)
	}
	if len(res) != 2+len(keys) {
		return false, 0, nil, fmt.Errorf("kv: rate limit: unexpected reply %v", res)
	}
	for j, i := range index {
		tats[i] = time.UnixMicro(res[2+j])
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, tats, nil
}
