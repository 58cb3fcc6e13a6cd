package kv

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/redis/go-redis/v9"
)

// outage is a Resilient whose Redis sits behind a proxy the test stops and
// starts, with the probe's waits and the state changes handed to the test.
type outage struct {
	r      *Resilient
	proxy  *tcpProxy
	direct *redis.Client // straight to Redis, to look at what is stored
	prefix string
	logs   *logRecorder
	waits  chan time.Duration // each wait the probe asks for
	fire   chan time.Time     // ends the probe's current wait
	states chan string        // each state change
}

func newOutage(t *testing.T, proxyUp bool, fallbackLocker Locker) *outage {
	t.Helper()
	direct := newRedisClient(t)
	o := &outage{
		direct: direct,
		prefix: newPrefix(t),
		proxy:  newTCPProxy(t, direct.Options().Addr),
		logs:   &logRecorder{},
		waits:  make(chan time.Duration, 16),
		fire:   make(chan time.Time),
		states: make(chan string, 16),
	}
	if !proxyUp {
		o.proxy.stop()
	}
	opt := redisTestOptions(t)
	opt.Addr = o.proxy.addr
	// Enough room that the client's own dial breaker (after PoolSize failed
	// dials) never trips in this test.
	opt.PoolSize = 200
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	r, err := NewResilient(context.Background(), ResilientConfig{
		Client:     client,
		Prefix:     o.prefix,
		Clock:      newFakeClock(),
		Logger:     slog.New(o.logs),
		Locker:     fallbackLocker,
		MinBackoff: time.Second,
		MaxBackoff: 4 * time.Second,
		After: func(d time.Duration) <-chan time.Time {
			o.waits <- d
			return o.fire
		},
		OnChange: func(state string, _ time.Time) { o.states <- state },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	o.r = r
	return o
}

// waitingProbe returns once the probe waits, checking its backoff; the
// probe's previous attempt is then over.
func (o *outage) waitingProbe(t *testing.T, want time.Duration) {
	t.Helper()
	if d := receive(t, o.waits, "the probe to wait"); d != want {
		t.Fatalf("probe waits %v, want %v", d, want)
	}
}

// runProbe ends the waiting probe's wait, so it pings Redis.
func (o *outage) runProbe(t *testing.T) {
	t.Helper()
	select {
	case o.fire <- time.Time{}:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe stopped waiting")
	}
}

func (o *outage) wantState(t *testing.T, want string) {
	t.Helper()
	if got := receive(t, o.states, "a state change to "+want); got != want {
		t.Fatalf("state changed to %s, want %s", got, want)
	}
	if got, _ := o.r.Status(); got != want {
		t.Fatalf("Status() = %s, want %s", got, want)
	}
}

func (o *outage) wantLogs(t *testing.T, warnings, infos int) {
	t.Helper()
	if w, i := o.logs.count(slog.LevelWarn), o.logs.count(slog.LevelInfo); w != warnings || i != infos {
		t.Fatalf("logged %d warnings and %d infos, want %d and %d", w, i, warnings, infos)
	}
}

func TestResilientFallsBackAndRecovers(t *testing.T) {
	t.Parallel()
	o := newOutage(t, true, nil)
	ctx := context.Background()
	r := o.r
	lim := Limit{Count: 3, Period: time.Minute}

	// Up: every seam uses Redis, and nothing probes.
	if ok, _, err := r.Limiter().Allow(ctx, "before", lim); !ok || err != nil {
		t.Fatalf("Allow while up: %v, %v", ok, err)
	}
	if n := o.direct.Exists(ctx, o.prefix+"rate:before").Val(); n != 1 {
		t.Fatal("the limiter did not use Redis while it was up")
	}
	if err := r.Cache().Set(ctx, "me:u1", []byte("old profile"), time.Minute); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r.Cache(), "me:u1", "old profile")
	select {
	case d := <-o.waits:
		t.Fatalf("the probe waited %v while Redis was up: nothing may poll a healthy Redis", d)
	default:
	}

	// Redis dies under concurrent load: every call still answers, from the
	// fallback, and the outage is logged once.
	o.proxy.stop()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := r.Limiter().Allow(ctx, "during", lim); err != nil {
				t.Errorf("Allow while Redis dies: %v", err)
			}
		}()
	}
	wg.Wait()
	o.wantState(t, StateDegraded)
	o.wantLogs(t, 1, 0)

	// Rate limits still hold, on this node.
	for i := 0; i < 3; i++ {
		if ok, _, err := r.Limiter().Allow(ctx, "down", lim); !ok || err != nil {
			t.Fatalf("request %d refused while degraded: %v", i+1, err)
		}
	}
	if ok, retry, err := r.Limiter().Allow(ctx, "down", lim); ok || retry <= 0 || err != nil {
		t.Fatalf("4th request while degraded: ok=%v retry=%v err=%v; want refused", ok, retry, err)
	}
	// The cache is bypassed, and a write's invalidation is kept for later.
	wantCached(t, r.Cache(), "me:u1", "")
	if err := r.Cache().Delete(ctx, "me:u1"); err != nil {
		t.Fatalf("Delete while degraded: %v", err)
	}
	if err := r.Cache().Bump(ctx, "family:f1"); err != nil {
		t.Fatalf("Bump while degraded: %v", err)
	}
	// Codes and lockouts answer from memory.
	if err := r.Codes().Put(ctx, "verify:u1", "h", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Codes().Check(ctx, "verify:u1", "h", 3); got != care.CodeAccepted || err != nil {
		t.Fatalf("code while degraded: %v, %v", got, err)
	}
	p := LockoutPolicy{Max: 2, Window: time.Minute, LockFor: time.Minute}
	r.Lockout().Fail(ctx, "login:a", p)
	if locked, _, err := r.Lockout().Fail(ctx, "login:a", p); !locked || err != nil {
		t.Fatalf("lockout while degraded: %v, %v", locked, err)
	}
	// No fallback locker: locks are refused rather than granted twice.
	if _, ok, err := r.Locker().Acquire(ctx, "planner", time.Minute); ok || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Acquire while degraded: ok=%v err=%v; want ErrUnavailable", ok, err)
	}

	// The probe backs off while Redis stays away...
	o.waitingProbe(t, time.Second)
	o.runProbe(t)
	o.waitingProbe(t, 2*time.Second)
	o.runProbe(t)
	o.waitingProbe(t, 4*time.Second)
	// ...and brings the node back once it returns, without a restart.
	o.proxy.start()
	o.runProbe(t)
	o.wantState(t, StateUp)
	o.wantLogs(t, 1, 1)

	// The invalidation made during the outage reached Redis before it was
	// used again: the stale profile is not served.
	wantCached(t, r.Cache(), "me:u1", "")
	if n := o.direct.Exists(ctx, o.prefix+"cache:{family:f1}:gen").Val(); n != 1 {
		t.Fatal("the namespace bumped during the outage was not bumped on recovery")
	}
	before := o.direct.Get(ctx, o.prefix+"rate:before").Val()
	if ok, _, err := r.Limiter().Allow(ctx, "before", lim); !ok || err != nil {
		t.Fatalf("Allow after recovery: %v, %v", ok, err)
	}
	if after := o.direct.Get(ctx, o.prefix+"rate:before").Val(); after == before {
		t.Fatal("the limiter did not return to Redis")
	}
	if lease, ok, err := r.Locker().Acquire(ctx, "planner", time.Minute); !ok || err != nil || lease.Token < 1 {
		t.Fatalf("Acquire after recovery: %+v, %v, %v", lease, ok, err)
	}

	// A second outage is a second transition, logged once more.
	o.proxy.stop()
	if ok, _, err := r.Limiter().Allow(ctx, "again", lim); !ok || err != nil {
		t.Fatalf("Allow as Redis dies again: %v, %v", ok, err)
	}
	o.wantState(t, StateDegraded)
	o.wantLogs(t, 2, 1)
	o.waitingProbe(t, time.Second) // the backoff starts over
	o.proxy.start()
	o.runProbe(t)
	o.wantState(t, StateUp)
	o.wantLogs(t, 2, 2)
}

func TestResilientStartsDegradedWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	o := newOutage(t, false, NewMemoryLocker(newFakeClock()))
	ctx := context.Background()
	o.wantState(t, StateDegraded)
	o.wantLogs(t, 1, 0)

	// With a fallback locker, leases come from it and go back to it.
	lease, ok, err := o.r.Locker().Acquire(ctx, "planner", time.Minute)
	if !ok || err != nil {
		t.Fatalf("Acquire on the fallback: %v, %v", ok, err)
	}
	if _, ok, _ := o.r.Locker().Acquire(ctx, "planner", time.Minute); ok {
		t.Fatal("the fallback locker granted a held lock")
	}

	o.waitingProbe(t, time.Second)
	o.proxy.start()
	o.runProbe(t)
	o.wantState(t, StateUp)
	o.wantLogs(t, 1, 1)
	if err := o.r.Locker().Release(ctx, lease); err != nil {
		t.Fatalf("releasing a fallback lease after recovery: %v", err)
	}
	if ok, _, err := o.r.Limiter().Allow(ctx, "k", Limit{Count: 1, Period: time.Minute}); !ok || err != nil {
		t.Fatalf("Allow after recovery: %v, %v", ok, err)
	}
	if n := o.direct.Exists(ctx, o.prefix+"rate:k").Val(); n != 1 {
		t.Fatal("the limiter did not move to Redis after recovery")
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"success", ctx, nil, false},
		{"miss", ctx, redis.Nil, false},
		{"closed client", ctx, redis.ErrClosed, true},
		{"pool timeout", ctx, redis.ErrPoolTimeout, true},
		{"timeout", ctx, context.DeadlineExceeded, true},
		{"caller gave up", canceled, context.Canceled, false},
		{"script error", ctx, errors.New("ERR Error running script"), false},
	}
	for _, c := range cases {
		if got := unavailable(c.ctx, c.err); got != c.want {
			t.Errorf("%s: unavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
