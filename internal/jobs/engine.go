package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// plannerName is the watermark of the reminder planner.
const plannerName = "reminders"

// EngineConfig tunes the reminder engine.
type EngineConfig struct {
	// QueueEnabled hands due reminders to River; false delivers them inline.
	QueueEnabled bool
	// Horizon is how far ahead of now the planner plans.
	Horizon time.Duration
	// Grace is how late a reminder may still be sent; older ones are skipped.
	Grace time.Duration
	// MaxCatchUp bounds how far back the planner looks after downtime.
	MaxCatchUp time.Duration
	// BatchSize is how many reminders one delivery job carries.
	BatchSize int
	// StageAhead is how long before its instant a reminder is decided and
	// written, hidden, so that the instant itself only flips it (stage.go);
	// 0 decides and writes everything at the instant.
	StageAhead time.Duration
	// Senders is how many pages of due staged reminders are decided and
	// sent at once; 0 is 3 on PostgreSQL and 2 on SQLite (one decides while
	// the other writes).
	Senders int
	Rules   PlanRules
}

// DefaultEngineConfig is the production configuration.
func DefaultEngineConfig() EngineConfig {
	return EngineConfig{
		QueueEnabled: true,
		Horizon:      15 * time.Minute,
		Grace:        10 * time.Minute,
		MaxCatchUp:   24 * time.Hour,
		BatchSize:    100,
		StageAhead:   2 * time.Minute,
		Rules:        PlanRules{MissedAfter: time.Hour, RefillCheckAt: care.ClockTime{Hour: 9}},
	}
}

// Engine plans reminders into the ledger, dispatches them when due, and
// delivers them exactly once.
type Engine struct {
	store  *store.Store
	river  *river.Client[*sql.Tx]
	clock  clock.Clock
	logger *slog.Logger
	cfg    EngineConfig
	wake   chan struct{}
	locker kv.Locker // elects the node that reports failed jobs; nil: every one
}

// NewEngine builds the reminder engine. river may be nil when
// cfg.QueueEnabled is false.
func NewEngine(st *store.Store, rc *river.Client[*sql.Tx], clk clock.Clock, logger *slog.Logger, cfg EngineConfig) *Engine {
	return &Engine{store: st, river: rc, clock: clk, logger: logger, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Plan computes every reminder instant from the durable watermark (or, when
// the watermark is recent, from Grace ago, so entities created since the last
// run are planned too) to Horizon ahead, records them in the ledger and
// advances the watermark. Instants already older than Grace are recorded as
// skipped.
func (e *Engine) Plan(ctx context.Context, now time.Time) (store.PlanCounts, error) {
	wm, ok, err := e.store.Watermark(ctx, plannerName)
	if err != nil {
		return store.PlanCounts{}, err
	}
	from := now.Add(-e.cfg.Grace)
	if ok && wm.Before(from) {
		from = wm // catch up after downtime
	}
	if oldest := now.Add(-e.cfg.MaxCatchUp); from.Before(oldest) {
		from = oldest
	}
	w := window{From: from, To: now.Add(e.cfg.Horizon)}
	entries, err := e.entries(ctx, w)
	if err != nil {
		return store.PlanCounts{}, err
	}
	c, err := e.store.RecordPlan(ctx, plannerName, w.To, entries, now.Add(-e.cfg.Grace))
	if err != nil {
		return c, err
	}
	e.Wake()
	return c, nil
}

func (e *Engine) entries(ctx context.Context, w window) ([]store.LedgerEntry, error) {
	meds, err := e.store.ActiveMedicationSchedules(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan: medications: %w", err)
	}
	appts, err := e.store.AppointmentsStartingBetween(ctx, w.From, w.To.Add(maxAppointmentReminder))
	if err != nil {
		return nil, fmt.Errorf("plan: appointments: %w", err)
	}
	shifts, err := e.store.ShiftsStartingBetween(ctx, w.From, w.To.Add(time.Hour+time.Second))
	if err != nil {
		return nil, fmt.Errorf("plan: shifts: %w", err)
	}
	out := planMedications(meds, w, e.cfg.Rules)
	out = append(out, planAppointments(appts, w)...)
	out = append(out, planShifts(shifts, w)...)
	sortEntries(out)
	return out, nil
}

// Wake tells the dispatcher that the plan changed.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// claimBatch is how many due entries one dispatch transaction takes.
const claimBatch = 500

// DispatchDue moves every reminder due at now onward: staged ones are sent
// (SendStagedDue); of the rest, too-late ones are skipped and the others
// enqueued for delivery (or delivered inline when the queue is off). Then
// it stages the reminders that fire within StageAhead (StageDue). It
// returns how many entries it handled.
func (e *Engine) DispatchDue(ctx context.Context, now time.Time) (int, error) {
	total, err := e.SendStagedDue(ctx, now)
	if err != nil {
		return total, err
	}
	n, err := e.dispatchPlanned(ctx, now)
	total += n
	if err != nil {
		return total, err
	}
	n, err = e.StageDue(ctx, now)
	return total + n, err
}

// dispatchPlanned moves the planned (not staged) reminders due at now.
func (e *Engine) dispatchPlanned(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		n, err := e.store.ClaimDue(ctx, now, claimBatch, func(ctx context.Context, due []store.LedgerEntry) error {
			return e.dispatch(ctx, now, due)
		})
		total += n
		if err != nil || n < claimBatch {
			return total, err
		}
	}
}

// dispatch moves the claimed entries inside the claim's transaction, which
// ctx carries.
func (e *Engine) dispatch(ctx context.Context, now time.Time, due []store.LedgerEntry) error {
	var late []store.LedgerUpdate
	var ready []store.LedgerEntry
	for _, en := range due {
		if skip, ok := e.tooLate(en, now); ok {
			late = append(late, skip)
			continue
		}
		ready = append(ready, en)
	}
	if _, err := e.store.MarkLedgerMany(ctx, late, store.LedgerPlanned); err != nil {
		return err
	}
	if !e.cfg.QueueEnabled {
		_, err := e.deliver(ctx, ready, store.LedgerPlanned)
		return err
	}
	var params []river.InsertManyParams
	var enqueued []store.LedgerUpdate
	for _, batch := range batches(ready, e.cfg.BatchSize) {
		keys := make([]string, len(batch))
		for i, en := range batch {
			keys[i] = en.Key
			enqueued = append(enqueued, store.LedgerUpdate{Key: en.Key, Status: store.LedgerEnqueued})
		}
		params = append(params, river.InsertManyParams{Args: ReminderBatchArgs{ReminderKind: batch[0].Kind, Keys: keys}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := e.store.MarkLedgerMany(ctx, enqueued, store.LedgerPlanned); err != nil {
		return err
	}
	if _, err := e.river.InsertManyTx(ctx, e.store.Tx(ctx), params); err != nil {
		return fmt.Errorf("dispatch: enqueue: %w", err)
	}
	return nil
}

// tooLate is the SKIPPED move of an entry due longer ago than the grace
// period (after downtime), and whether it is one.
func (e *Engine) tooLate(en store.LedgerEntry, now time.Time) (store.LedgerUpdate, bool) {
	if !en.FireAt.Before(now.Add(-e.cfg.Grace)) {
		return store.LedgerUpdate{}, false
	}
	reason := "due during downtime, older than the grace period"
	return store.LedgerUpdate{Key: en.Key, Status: store.LedgerSkipped, Reason: &reason}, true
}

// batches splits entries into runs of one kind of at most size each.
func batches(es []store.LedgerEntry, size int) [][]store.LedgerEntry {
	if size <= 0 {
		size = 100
	}
	byKind := map[string][]store.LedgerEntry{}
	var kinds []string
	for _, en := range es {
		if _, ok := byKind[en.Kind]; !ok {
			kinds = append(kinds, en.Kind)
		}
		byKind[en.Kind] = append(byKind[en.Kind], en)
	}
	var out [][]store.LedgerEntry
	for _, k := range kinds {
		list := byKind[k]
		for len(list) > 0 {
			n := min(size, len(list))
			out = append(out, list[:n])
			list = list[n:]
		}
	}
	return out
}

// queueFor names the queue of a reminder kind.
func queueFor(kind string) string {
	switch kind {
	case KindAppointment:
		return QueueAppointmentReminders
	case KindShift:
		return QueueShiftReminders
	case KindRefill:
		return QueueRefillAlerts
	default:
		return QueueMedicationReminders
	}
}

// Run plans every minute and dispatches each reminder at its fire time until
// ctx ends. plan is false on nodes with ENABLE_CRON_JOBS=false, which still
// dispatch (claims never collide).
func (e *Engine) Run(ctx context.Context, plan bool) error {
	errc := make(chan error, 3)
	go func() { errc <- e.dispatchLoop(ctx) }()
	if plan {
		go func() { errc <- e.planLoop(ctx) }()
		go func() { errc <- e.monitorLoop(ctx) }()
	} else {
		errc <- nil
		errc <- nil
	}
	return errors.Join(<-errc, <-errc, <-errc)
}

// planLoop runs the planner at start and then at the top of every minute.
func (e *Engine) planLoop(ctx context.Context) error {
	for {
		start := time.Now()
		c, err := e.Plan(ctx, e.clock.Now())
		e.recordRun(ctx, "reminder-planner", start, c.Planned+c.Skipped, err)
		if err != nil && !errors.Is(err, store.ErrPlannerBusy) && ctx.Err() == nil {
			e.logger.Error("reminder planner failed", slog.Any("error", err))
		}
		now := e.clock.Now()
		next := now.Truncate(time.Minute).Add(time.Minute)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next.Sub(now)):
		}
	}
}

// dispatchLoop sleeps until the next planned fire time (or a wake-up) and
// dispatches what is due, so a reminder leaves at its instant rather than at
// the next poll.
func (e *Engine) dispatchLoop(ctx context.Context) error {
	const maxSleep = 30 * time.Second
	backoff := time.Duration(0)
	for {
		n, err := e.DispatchDue(ctx, e.clock.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			// Due entries stay due while the database refuses: back off
			// instead of spinning on them.
			backoff = min(max(2*backoff, 250*time.Millisecond), 10*time.Second)
			e.logger.Error("reminder dispatch failed", slog.Any("error", err), slog.Duration("retryIn", backoff))
		case n > 0:
			backoff = 0
			e.logger.Debug("reminders dispatched", slog.Int("count", n))
		default:
			backoff = 0
		}
		sleep := maxSleep
		if next, ok := e.nextWork(ctx); ok {
			sleep = min(maxSleep, max(backoff, next.Sub(e.clock.Now())))
		}
		timer := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-e.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// nextWork is when the dispatcher next has something to do: a staged
// reminder's instant, or StageAhead before a planned one's.
func (e *Engine) nextWork(ctx context.Context) (time.Time, bool) {
	planned, staged, err := e.store.NextFireTimes(ctx)
	if err != nil {
		return time.Time{}, false
	}
	var next time.Time
	if planned != nil {
		next = planned.Add(-e.cfg.StageAhead)
	}
	if staged != nil && (next.IsZero() || staged.Before(next)) {
		next = *staged
	}
	return next, !next.IsZero()
}

// recordRun appends a run to the job-run log.
func (e *Engine) recordRun(ctx context.Context, job string, start time.Time, items int, err error) {
	if ctx.Err() != nil {
		return
	}
	run := store.JobRun{Job: job, StartedAt: e.clock.Now().Add(-time.Since(start)), DurationMS: time.Since(start).Milliseconds(), Items: items, Status: "ok"}
	if err != nil {
		msg := err.Error()
		run.Status, run.Error = "error", &msg
		if errors.Is(err, store.ErrPlannerBusy) {
			run.Status, run.Error = "skipped", nil
		}
	}
	if err := e.store.RecordJobRun(ctx, run); err != nil {
		e.logger.Warn("record job run", slog.Any("error", err))
	}
}
