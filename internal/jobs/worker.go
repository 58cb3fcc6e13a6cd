package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/store"
)

// ReminderBatchArgs is a delivery job: reminders of one kind that fell due
// together, by ledger key.
type ReminderBatchArgs struct {
	ReminderKind string   `json:"kind"`
	Keys         []string `json:"keys"`
}

// Kind names the job for River.
func (ReminderBatchArgs) Kind() string { return "reminder_batch" }

// InsertOpts puts the batch in its kind's queue.
func (a ReminderBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueFor(a.ReminderKind)}
}

// ReminderWorker delivers reminder batches.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderBatchArgs]
	engine *Engine
}

// Work delivers every reminder of the batch still waiting for delivery and
// completes the job in the same transaction as the delivery, so a crash
// either redoes the whole batch or none of it. Its reminder events wake the
// outbox dispatcher once it has committed.
func (w *ReminderWorker) Work(ctx context.Context, job *river.Job[ReminderBatchArgs]) error {
	e := w.engine
	if len(job.Args.Keys) == 0 {
		return e.deadLetter(ctx, job.JobRow, permanent(errors.New("reminder batch without keys")))
	}
	entries, err := e.store.LedgerEntries(ctx, job.Args.Keys)
	if err != nil {
		return e.deadLetter(ctx, job.JobRow, err)
	}
	var pending []store.LedgerEntry
	for _, en := range entries {
		if en.Status == store.LedgerEnqueued {
			pending = append(pending, en)
		}
	}
	outs, err := e.prepare(ctx, pending)
	if err != nil {
		return e.deadLetter(ctx, job.JobRow, err)
	}
	err = e.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := e.apply(ctx, pending, outs, store.LedgerEnqueued); err != nil {
			return err
		}
		if err := completeTx(ctx, e.store, e.store.Tx(ctx), job); err != nil {
			return fmt.Errorf("complete job: %w", err)
		}
		return nil
	})
	if err != nil {
		return e.deadLetter(ctx, job.JobRow, err)
	}
	return nil
}

// permanentError marks a failure that no retry can fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return permanentError{err} }

// deadLetter records a job that has failed for good — a permanent error, or
// its last attempt — and tells River: permanent errors cancel the job, others
// go back for a retry with backoff until attempts run out.
func (e *Engine) deadLetter(ctx context.Context, job *rivertype.JobRow, err error) error {
	var perm permanentError
	isPermanent := errors.As(err, &perm)
	if isPermanent || job.Attempt >= job.MaxAttempts {
		args, _ := json.Marshal(json.RawMessage(job.EncodedArgs))
		id := job.ID
		if dlErr := e.store.AddDeadLetter(context.WithoutCancel(ctx), store.DeadLetter{
			JobID: &id, Kind: job.Kind, Queue: job.Queue, Args: string(args), Error: err.Error(), Attempts: job.Attempt,
		}); dlErr != nil {
			e.logger.Error("record dead letter", "job", job.ID, "error", dlErr)
		}
	}
	if isPermanent {
		return river.JobCancel(err)
	}
	return err
}

// Workers returns River's worker set for this engine.
func (e *Engine) Workers() *river.Workers {
	ws := river.NewWorkers()
	river.AddWorker(ws, &ReminderWorker{engine: e})
	return ws
}

// SetRiver attaches the River client the dispatcher enqueues through; the
// client is built after the engine because its workers belong to the engine.
func (e *Engine) SetRiver(rc *river.Client[*sql.Tx]) { e.river = rc }
