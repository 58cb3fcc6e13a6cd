// Package jobs runs CareCircle's background work on River: the reminder
// planner and dispatcher, the reminder delivery workers, dead letters and
// the failed-jobs monitor. The same code runs on SQLite and PostgreSQL.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/carecircle/carecircle/internal/store"
)

// Queue names, as the existing workers named them.
const (
	QueueMedicationReminders  = "medication-reminders"
	QueueAppointmentReminders = "appointment-reminders"
	QueueShiftReminders       = "shift-reminders"
	QueueNotifications        = "notifications"
	QueueRefillAlerts         = "refill-alerts"
	QueueDocumentUpload       = "document-upload"
	QueueDeadLetter           = "dead-letter-queue"
)

// DefaultConcurrency is each queue's number of workers.
func DefaultConcurrency() map[string]int {
	return map[string]int{
		QueueMedicationReminders:  10,
		QueueAppointmentReminders: 10,
		QueueShiftReminders:       10,
		QueueNotifications:        20,
		QueueRefillAlerts:         5,
		QueueDocumentUpload:       5,
		QueueDeadLetter:           1,
	}
}

// Job defaults.
const (
	maxAttempts = 5
	// jobTimeout bounds one attempt; a reminder batch takes milliseconds.
	jobTimeout = 30 * time.Second
	// rescueAfter is when a job left running by a crashed process is handed
	// back to the queue (River checks every 30 s), bounding how long a crash
	// can delay the reminders it was delivering.
	rescueAfter = 45 * time.Second
)

// riverDriver picks River's driver for the store's database. Both work on
// *sql.Tx, so jobs are enqueued in the same transaction as the rows that
// cause them.
func riverDriver(st *store.Store) riverdriver.Driver[*sql.Tx] {
	if st.Dialect() == store.Postgres {
		return riverdatabasesql.New(st.DB())
	}
	return riversqlite.New(st.DB())
}

// completeTx marks a job completed inside tx, with the driver of the store's
// dialect.
func completeTx[T river.JobArgs](ctx context.Context, st *store.Store, tx *sql.Tx, job *river.Job[T]) error {
	var err error
	if st.Dialect() == store.Postgres {
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
	} else {
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
	}
	return err
}

// Migrate applies River's own schema migrations. On PostgreSQL it holds the
// same advisory lock as the store's migrations, so nodes starting together
// take turns.
func Migrate(ctx context.Context, st *store.Store) error {
	return st.WithMigrationLock(ctx, func() error {
		m, err := rivermigrate.New(riverDriver(st), nil)
		if err != nil {
			return fmt.Errorf("jobs: migrator: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate river: %w", err)
		}
		return nil
	})
}

// ClientConfig configures the River client.
type ClientConfig struct {
	// Work makes the client fetch and work jobs; false makes it insert-only
	// (an API node in a split deployment).
	Work bool
	// Concurrency overrides DefaultConcurrency for the queues it names.
	Concurrency map[string]int
	Logger      *slog.Logger
	// Documents, when set, adds the document-upload and expiry workers.
	Documents *Documents
	// Channels, when set, adds the worker that sends notifications on
	// their channels (the notifications queue).
	Channels *Channels
}

// NewClient builds a River client over the store's database with the given
// workers.
func NewClient(st *store.Store, workers *river.Workers, cfg ClientConfig) (*river.Client[*sql.Tx], error) {
	rc := &river.Config{
		Logger:      cfg.Logger,
		MaxAttempts: maxAttempts,
		JobTimeout:  jobTimeout,
		// RescueStuckJobsAfter defaults to an hour; reminders cannot wait that long.
		RescueStuckJobsAfter: rescueAfter,
		// Reminders never wait on River's scheduler: the dispatcher enqueues
		// them when they are due, so a short poll only bounds pickup on a
		// node that did not insert the job itself.
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 200 * time.Millisecond,
		Workers:           workers,
	}
	if cfg.Documents != nil {
		cfg.Documents.register(workers, rc, cfg.Work)
	}
	if cfg.Channels != nil {
		river.AddWorker(workers, &DeliverNotificationsWorker{channels: cfg.Channels})
	}
	if cfg.Work {
		conc := DefaultConcurrency()
		for q, n := range cfg.Concurrency {
			if _, ok := conc[q]; !ok {
				return nil, fmt.Errorf("jobs: unknown queue %q in QUEUE_CONCURRENCY", q)
			}
			conc[q] = n
		}
		rc.Queues = map[string]river.QueueConfig{}
		for q, n := range conc {
			if n > 0 {
				rc.Queues[q] = river.QueueConfig{MaxWorkers: n}
			}
		}
	}
	c, err := river.NewClient(riverDriver(st), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return c, nil
}
