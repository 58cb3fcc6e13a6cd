package events

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential delay schedule: Initial, then multiplied by
// Multiplier after every failure up to Max, each delay shortened by a random
// fraction of at most Jitter so that many clients do not retry in step.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64 // 0 to 1
}

// defaultReconnect is the schedule for reconnecting to the broker.
var defaultReconnect = Backoff{Initial: 250 * time.Millisecond, Max: 30 * time.Second, Multiplier: 2, Jitter: 0.2}

// defaultRetry is the schedule between local attempts of a failing handler.
var defaultRetry = Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: 0.2}

// withDefaults returns def for a zero b, and otherwise fills b's missing
// durations and multiplier from def.
func (b Backoff) withDefaults(def Backoff) Backoff {
	if b == (Backoff{}) {
		return def
	}
	if b.Initial <= 0 {
		b.Initial = def.Initial
	}
	if b.Max <= 0 {
		b.Max = def.Max
	}
	if b.Multiplier < 1 {
		b.Multiplier = def.Multiplier
	}
	if b.Jitter < 0 || b.Jitter > 1 {
		b.Jitter = def.Jitter
	}
	return b
}

// Delay is the wait before retry number attempt (0 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	d := float64(b.Initial)
	for i := 0; i < attempt && d < float64(b.Max); i++ {
		d *= b.Multiplier
	}
	d = min(d, float64(b.Max))
	if b.Jitter > 0 {
		d -= d * b.Jitter * rand.Float64()
	}
	return time.Duration(d)
}

// SleepFunc waits for d or until ctx is done, returning ctx's error then.
// It is injected so tests can observe and skip backoff waits.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Sleep is the real SleepFunc.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
