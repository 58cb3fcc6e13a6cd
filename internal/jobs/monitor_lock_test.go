package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
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
	if !a.monitorTurn(ctx) {
		t.Fatal("the first node to tick did not report")
	}
	clk.Advance(time.Minute)
	if b.monitorTurn(ctx) {
		t.Fatal("a second node reported in the same interval")
	}
	clk.Advance(monitorInterval - time.Minute)
	if !a.monitorTurn(ctx) {
		t.Fatal("the node ticking an interval later did not report")
	}
	// a stops; b ticks one minute after a would have.
	clk.Advance(monitorInterval + time.Minute)
	if !b.monitorTurn(ctx) {
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
	if !e.monitorTurn(context.Background()) {
		t.Fatal("a node without a locker did not report")
	}
	e.SetLocker(failingLocker{})
	if !e.monitorTurn(context.Background()) {
		t.Fatal("a node whose locker is away did not report")
	}
}
