package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestMonitorReportsOncePerIntervalAcrossNodes: nodes sharing a locker take
// turns, one report per interval, and a node whose peer stopped takes over
// within an interval.
func TestMonitorReportsOncePerIntervalAcrossNodes(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	locker := kv.NewMemoryLocker(clk)
	a := NewEngine(nil, nil, clk, quietLogger(), DefaultEngineConfig())
	b := NewEngine(nil, nil, clk, quietLogger(), DefaultEngineConfig())
	a.SetLocker(locker)
	b.SetLocker(locker)
	ctx := context.Background()
	first, ok := a.monitorTurn(ctx)
	if !ok || !first.fenced {
		t.Fatalf("the first node to tick did not report under the lease: %+v %v", first, ok)
	}
	clk.Advance(time.Minute)
	if _, ok := b.monitorTurn(ctx); ok {
		t.Fatal("a second node reported in the same interval")
	}
	clk.Advance(monitorInterval - time.Minute)
	second, ok := a.monitorTurn(ctx)
	if !ok || second.lease.Token <= first.lease.Token {
		t.Fatalf("the node ticking an interval later: ok %v, token %d after %d", ok, second.lease.Token, first.lease.Token)
	}
	// a stops; b ticks one minute after a would have.
	clk.Advance(monitorInterval + time.Minute)
	if _, ok := b.monitorTurn(ctx); !ok {
		t.Fatal("the remaining node did not take over")
	}
}

// failingLocker is a locker whose backend is away with no fallback.
type failingLocker struct{ kv.Locker }

func (failingLocker) Acquire(context.Context, string, time.Duration) (kv.Lease, bool, error) {
	return kv.Lease{}, false, kv.ErrUnavailable
}

// TestMonitorReportsWithoutALock: no locker, or one that is unavailable,
// leaves every node reporting rather than none.
func TestMonitorReportsWithoutALock(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	e := NewEngine(nil, nil, clk, quietLogger(), DefaultEngineConfig())
	if turn, ok := e.monitorTurn(context.Background()); !ok || turn.fenced {
		t.Fatalf("a node without a locker: %+v %v, want an unfenced report", turn, ok)
	}
	e.SetLocker(failingLocker{})
	if turn, ok := e.monitorTurn(context.Background()); !ok || turn.fenced {
		t.Fatalf("a node whose locker is away: %+v %v, want an unfenced report", turn, ok)
	}
}

// logBuffer collects a logger's lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), "msg=\""+msg+"\"")
}

// monitorFences lists the fencing tokens of the failed-jobs monitor's
// recorded runs, oldest first (0 for an unfenced run).
func monitorFences(t *testing.T, st *store.Store) []int64 {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(),
		`SELECT COALESCE(fence, 0) FROM job_runs WHERE job = $1 ORDER BY started_at`, monitorLease)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var f int64
		if err := rows.Scan(&f); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPausedMonitorCannotReportAfterTakeover: a node that took its turn and
// was paused past its lease, while another node took the lease over and
// reported, records no run and logs no report when it wakes; the new
// holder's report carries its token, and the holder after it reports too.
func TestPausedMonitorCannotReportAfterTakeover(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		if err := Migrate(ctx, st); err != nil {
			t.Fatal(err)
		}
		locker := kv.NewMemoryLocker(clk)
		var logA, logB logBuffer
		a := NewEngine(st, nil, clk, slog.New(slog.NewTextHandler(&logA, nil)), DefaultEngineConfig())
		b := NewEngine(st, nil, clk, slog.New(slog.NewTextHandler(&logB, nil)), DefaultEngineConfig())
		a.SetLocker(locker)
		b.SetLocker(locker)
		since := clk.Now()

		turnA, ok := a.monitorTurn(ctx)
		if !ok {
			t.Fatal("a did not get its turn")
		}
		// a is paused past its lease; b's next tick takes the lease over.
		clk.Advance(monitorInterval)
		turnB, ok := b.monitorTurn(ctx)
		if !ok || turnB.lease.Token <= turnA.lease.Token {
			t.Fatalf("b's takeover: ok %v, token %d after %d", ok, turnB.lease.Token, turnA.lease.Token)
		}
		if err := b.reportFailures(ctx, turnB, since); err != nil {
			t.Fatalf("the new holder's report: %v", err)
		}
		// a wakes and carries on with its stale turn.
		if err := a.reportFailures(ctx, turnA, since); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("the paused holder's report: %v, want ErrLeaseLost", err)
		}
		if got := monitorFences(t, st); len(got) != 1 || got[0] != turnB.lease.Token {
			t.Fatalf("recorded runs with fences %v, want only b's %d", got, turnB.lease.Token)
		}
		if n, m := logA.count("failed jobs"), logB.count("failed jobs"); n != 0 || m != 1 {
			t.Fatalf("report lines: a %d, b %d; want 0 and 1", n, m)
		}

		// The next interval a holds the lease again, with a newer token.
		clk.Advance(monitorInterval)
		turnA, ok = a.monitorTurn(ctx)
		if !ok {
			t.Fatal("a did not get the next interval")
		}
		if err := a.reportFailures(ctx, turnA, since); err != nil {
			t.Fatalf("a's report in its own interval: %v", err)
		}
		if got := monitorFences(t, st); len(got) != 2 || got[1] != turnA.lease.Token {
			t.Fatalf("recorded runs with fences %v, want b's then a's %d", got, turnA.lease.Token)
		}
		if n := logA.count("failed jobs"); n != 1 {
			t.Fatalf("a logged %d reports, want 1", n)
		}

		// Without a lock the report is recorded unfenced.
		clk.Advance(time.Minute)
		c := NewEngine(st, nil, clk, quietLogger(), DefaultEngineConfig())
		turnC, _ := c.monitorTurn(ctx)
		if err := c.reportFailures(ctx, turnC, since); err != nil {
			t.Fatal(err)
		}
		if got := monitorFences(t, st); len(got) != 3 || got[2] != 0 {
			t.Fatalf("recorded runs with fences %v, want a third unfenced", got)
		}
	})
}
