package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// monitorInterval is how often the failed-jobs monitor runs.
const monitorInterval = 5 * time.Minute

// monitorLease names the lease that picks the node reporting failed jobs in
// each monitor interval; its fencing tokens are checked by the job-run log
// under the same name.
const monitorLease = "failed-jobs-monitor"

// SetLocker makes the failed-jobs monitor report once per interval across
// every node sharing the locker (Redis), instead of once on each node that
// plans. Without one, each planning node reports.
func (e *Engine) SetLocker(l kv.Locker) { e.locker = l }

// monitorLoop reports, every five minutes, the jobs that failed for good
// since the last report, and the queue's failing and retrying jobs.
func (e *Engine) monitorLoop(ctx context.Context) error {
	since := e.clock.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(monitorInterval):
		}
		if turn, ok := e.monitorTurn(ctx); ok {
			if err := e.reportFailures(ctx, turn, since); errors.Is(err, store.ErrLeaseLost) {
				e.logger.Warn("failed-jobs monitor: a later holder of the lease reported, this report was dropped",
					slog.Int64("fence", turn.lease.Token), slog.Any("error", err))
			}
		}
		since = e.clock.Now()
	}
}

// reportTurn is a node's turn to report failed jobs: under a lease of the
// locker, whose fencing token the report carries, or unfenced when there is
// no locker or it is unavailable.
type reportTurn struct {
	lease  kv.Lease
	fenced bool
}

// monitorTurn reports whether this node reports failed jobs this interval.
// The first node to tick takes the lease for nine tenths of the interval and
// keeps it, so the others skip the interval and the next tick of any node
// can take it again; if that node stops, another reports within an
// interval. While the locker is unavailable every node reports, unfenced: a
// duplicate report is better than none.
func (e *Engine) monitorTurn(ctx context.Context) (reportTurn, bool) {
	if e.locker == nil {
		return reportTurn{}, true
	}
	lease, ok, err := e.locker.Acquire(ctx, monitorLease, monitorInterval-monitorInterval/10)
	switch {
	case err != nil:
		e.logger.Debug("failed-jobs monitor: no lock, reporting anyway", slog.Any("error", err))
		return reportTurn{}, true
	case ok:
		e.logger.Debug("failed-jobs monitor: this node reports", slog.Int64("fence", lease.Token))
	}
	return reportTurn{lease: lease, fenced: true}, ok
}

// reportFailures is one turn's report: it counts the failures since the
// given time, records the run in the job-run log and only then logs the
// report. Under a lease the run is recorded with the lease's token, which
// the store refuses (store.ErrLeaseLost) when the lease has expired or a
// later holder has already reported: a node paused past its lease then
// reports nothing, neither the run nor the log line.
func (e *Engine) reportFailures(ctx context.Context, turn reportTurn, since time.Time) error {
	start := time.Now()
	f, err := e.countFailures(ctx, since)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	run := store.JobRun{Job: monitorLease, StartedAt: e.clock.Now().Add(-time.Since(start)),
		DurationMS: time.Since(start).Milliseconds(), Items: f.recent, Status: "ok"}
	if err != nil {
		msg := err.Error()
		run.Status, run.Error = "error", &msg
	}
	var rerr error
	if turn.fenced {
		rerr = e.store.RecordJobRunFenced(ctx, monitorLease, turn.lease.Token, turn.lease.Expires, run)
		if errors.Is(rerr, store.ErrLeaseLost) {
			return rerr
		}
	} else {
		rerr = e.store.RecordJobRun(ctx, run)
	}
	if rerr != nil {
		e.logger.Warn("record job run", slog.Any("error", rerr))
	}
	if err != nil {
		return err
	}
	e.logFailures(ctx, f)
	return nil
}

// failureCounts is what the failed-jobs monitor reports.
type failureCounts struct {
	recent, open, retrying, discarded int
}

// MonitorFailures logs the dead letters recorded since the given time and
// the jobs waiting to be retried, and returns how many dead letters are new.
func (e *Engine) MonitorFailures(ctx context.Context, since time.Time) (int, error) {
	f, err := e.countFailures(ctx, since)
	if err != nil {
		return 0, err
	}
	e.logFailures(ctx, f)
	return f.recent, nil
}

func (e *Engine) countFailures(ctx context.Context, since time.Time) (failureCounts, error) {
	var f failureCounts
	var err error
	f.open, f.recent, err = e.store.CountDeadLetters(ctx, since)
	if err != nil {
		return failureCounts{}, err
	}
	depths, err := e.store.QueueDepths(ctx)
	if err != nil {
		return failureCounts{}, err
	}
	for _, d := range depths {
		switch d.State {
		case "retryable":
			f.retrying += d.Count
		case "discarded", "cancelled":
			f.discarded += d.Count
		}
	}
	return f, nil
}

func (e *Engine) logFailures(ctx context.Context, f failureCounts) {
	level := slog.LevelInfo
	if f.recent > 0 {
		level = slog.LevelWarn
	}
	e.logger.Log(ctx, level, "failed jobs", slog.Int("newDeadLetters", f.recent), slog.Int("openDeadLetters", f.open),
		slog.Int("retrying", f.retrying), slog.Int("discardedOrCancelled", f.discarded))
}
