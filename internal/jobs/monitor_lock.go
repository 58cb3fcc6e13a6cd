package jobs

import (
	"context"
	"log/slog"

	"github.com/carecircle/carecircle/internal/kv"
)

// monitorLease names the lease that picks the node reporting failed jobs in
// each monitor interval.
const monitorLease = "failed-jobs-monitor"

// SetLocker makes the failed-jobs monitor report once per interval across
// every node sharing the locker (Redis), instead of once on each node that
// plans. Without one, each planning node reports.
func (e *Engine) SetLocker(l kv.Locker) { e.locker = l }

// monitorTurn reports whether this node reports failed jobs this interval.
// The first node to tick takes the lease for nine tenths of the interval and
// keeps it, so the others skip the interval and the next tick of any node
// can take it again; if that node stops, another reports within an
// interval. While the locker is unavailable every node reports: a duplicate
// report is better than none. The report is a log line and a job-run row, so
// a holder paused past its lease can at worst add one duplicate; the lease's
// fencing token is logged with the turn to tell them apart.
func (e *Engine) monitorTurn(ctx context.Context) bool {
	if e.locker == nil {
		return true
	}
	lease, ok, err := e.locker.Acquire(ctx, monitorLease, monitorInterval-monitorInterval/10)
	switch {
	case err != nil:
		e.logger.Debug("failed-jobs monitor: no lock, reporting anyway", slog.Any("error", err))
		return true
	case ok:
		e.logger.Debug("failed-jobs monitor: this node reports", slog.Int64("fence", lease.Token))
	}
	return ok
}
