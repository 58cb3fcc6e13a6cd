// Package retention runs the daily job that prunes what CareCircle no longer
// needs: read notifications, dispatched outbox events, finished reminder
// ledger entries and job runs, the email attempt log and, kept longest, the
// audit log, each after the time the operator set (config.Retention).
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/store"
)

// JobName names the job in the job-run log and its lease.
const JobName = "retention"

// Interval is how often the job runs.
const Interval = 24 * time.Hour

// retryAfter is how soon a failed run is tried again.
const retryAfter = time.Hour

// leaseTTL bounds how long a node that died mid-run keeps others from
// pruning.
const leaseTTL = time.Hour

// Pruner is the retention job.
type Pruner struct {
	Store  *store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	Policy config.Retention
	// Holder names this process for the lease that keeps the job on one
	// node at a time.
	Holder string
	// After waits for d (time.After when nil); tests replace it.
	After func(d time.Duration) <-chan time.Time
}

// Cutoffs turns the policy into instants before which records go.
func Cutoffs(p config.Retention, now time.Time) store.RetentionCutoffs {
	before := func(d time.Duration) time.Time {
		if d == 0 {
			return time.Time{}
		}
		return now.Add(-d)
	}
	return store.RetentionCutoffs{
		Notifications: before(p.Notifications),
		Outbox:        before(p.Outbox),
		Ledger:        before(p.Ledger),
		EmailLog:      before(p.EmailLog),
		Audit:         before(p.Audit),
	}
}

// RunOnce prunes now and records the run in the job-run log.
func (p *Pruner) RunOnce(ctx context.Context) (store.PruneCounts, error) {
	start := p.Clock.Now()
	counts, err := p.Store.PruneRetention(ctx, Cutoffs(p.Policy, start))
	run := store.JobRun{Job: JobName, StartedAt: start, DurationMS: p.Clock.Now().Sub(start).Milliseconds(), Items: int(counts.Total()), Status: "ok"}
	if err != nil {
		msg := err.Error()
		run.Status, run.Error = "error", &msg
	}
	if rerr := p.Store.RecordJobRun(ctx, run); rerr != nil && err == nil {
		err = rerr
	}
	return counts, err
}

// NextRun says how long until the job is due: Interval after its last run
// on any node (the job-run log is shared), an hour after a failed one, at
// once when it never ran.
func (p *Pruner) NextRun(ctx context.Context) (time.Duration, error) {
	runs, err := p.Store.LastJobRuns(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range runs {
		if r.Job == JobName {
			every := Interval
			if r.Status != "ok" {
				every = retryAfter
			}
			if wait := r.StartedAt.Add(every).Sub(p.Clock.Now()); wait > 0 {
				return wait, nil
			}
		}
	}
	return 0, nil
}

// Run prunes every Interval until ctx ends, on one node at a time.
func (p *Pruner) Run(ctx context.Context) {
	after := p.After
	if after == nil {
		after = time.After
	}
	for {
		wait, err := p.NextRun(ctx)
		if err != nil {
			wait = time.Hour
			if ctx.Err() == nil {
				p.Logger.Warn("retention: read last run", slog.Any("error", err))
			}
		} else if wait == 0 {
			p.runLeased(ctx)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-after(wait):
		}
	}
}

// runLeased runs the job if this node takes the lease, and otherwise waits
// for the holder to finish (and record its run).
func (p *Pruner) runLeased(ctx context.Context) {
	ok, _, err := p.Store.AcquireLease(ctx, JobName, p.Holder, leaseTTL)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			p.Logger.Warn("retention: lease", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
		case <-p.wait(time.Minute):
		}
		return
	}
	defer func() { _ = p.Store.ReleaseLease(context.WithoutCancel(ctx), JobName, p.Holder) }()
	counts, err := p.RunOnce(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.Logger.Warn("retention: prune", slog.Any("error", err))
		}
		// A run that could not even be recorded would look due again at
		// once: pause before the next look.
		select {
		case <-ctx.Done():
		case <-p.wait(time.Minute):
		}
		return
	}
	p.Logger.Info("retention: pruned", slog.Int64("notifications", counts.Notifications), slog.Int64("outbox", counts.Outbox),
		slog.Int64("ledger", counts.Ledger), slog.Int64("jobRuns", counts.JobRuns), slog.Int64("emailLog", counts.EmailLog),
		slog.Int64("audit", counts.Audit))
}

func (p *Pruner) wait(d time.Duration) <-chan time.Time {
	if p.After != nil {
		return p.After(d)
	}
	return time.After(d)
}
