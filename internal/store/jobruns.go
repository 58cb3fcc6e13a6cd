package store

import (
	"context"
	"fmt"
	"time"
)

// JobRun is one run of a periodic job.
type JobRun struct {
	ID         string    `json:"id"`
	Job        string    `json:"job"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMS int64     `json:"durationMs"`
	Items      int       `json:"items"`
	Status     string    `json:"status"`
	Error      *string   `json:"error,omitempty"`
}

// RecordJobRun appends to the job-run log.
func (s *Store) RecordJobRun(ctx context.Context, r JobRun) error {
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO job_runs (id, job, started_at, duration_ms, items, status, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, newID(), r.Job, ts(r.StartedAt), r.DurationMS, r.Items, r.Status, r.Error)
	if err != nil {
		return fmt.Errorf("store: record job run: %w", err)
	}
	return nil
}

// LastJobRuns returns the latest run of each job.
func (s *Store) LastJobRuns(ctx context.Context) ([]JobRun, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT r.id, r.job, r.started_at, r.duration_ms, r.items, r.status, r.error
		FROM job_runs r JOIN (SELECT job, MAX(started_at) AS started_at FROM job_runs GROUP BY job) l
		ON l.job = r.job AND l.started_at = r.started_at ORDER BY r.job`)
	if err != nil {
		return nil, fmt.Errorf("store: last job runs: %w", err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*JobRun, error) {
		var r JobRun
		if err := row.Scan(&r.ID, &r.Job, timeCol{&r.StartedAt}, &r.DurationMS, &r.Items, &r.Status, &r.Error); err != nil {
			return nil, mapErr(err)
		}
		return &r, nil
	})
}

// DeadLetter is a job that failed for good.
type DeadLetter struct {
	ID        string     `json:"id"`
	JobID     *int64     `json:"jobId"`
	Kind      string     `json:"kind"`
	Queue     string     `json:"queue"`
	Args      string     `json:"args"`
	Error     string     `json:"error"`
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"createdAt"`
	RetriedAt *time.Time `json:"retriedAt"`
}

const deadLetterColumns = `id, job_id, kind, queue, args, error, attempts, created_at, retried_at`

func scanDeadLetter(row interface{ Scan(...any) error }) (*DeadLetter, error) {
	var d DeadLetter
	if err := row.Scan(&d.ID, &d.JobID, &d.Kind, &d.Queue, &d.Args, &d.Error, &d.Attempts,
		timeCol{&d.CreatedAt}, nullTimeCol{&d.RetriedAt}); err != nil {
		return nil, mapErr(err)
	}
	return &d, nil
}

// AddDeadLetter records a job that failed for good.
func (s *Store) AddDeadLetter(ctx context.Context, d DeadLetter) error {
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO dead_letters (id, job_id, kind, queue, args, error, attempts, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID(), d.JobID, d.Kind, d.Queue, d.Args, d.Error, d.Attempts, ts(s.now()))
	if err != nil {
		return fmt.Errorf("store: add dead letter: %w", err)
	}
	return nil
}

// DeadLetters lists dead letters, newest first.
func (s *Store) DeadLetters(ctx context.Context, limit, offset int) ([]DeadLetter, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters
		ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: dead letters: %w", err)
	}
	return collect(rows, scanDeadLetter)
}

// DeadLetter loads one dead letter.
func (s *Store) DeadLetter(ctx context.Context, id string) (*DeadLetter, error) {
	d, err := scanDeadLetter(s.rq(ctx).QueryRowContext(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: dead letter: %w", err)
	}
	return d, nil
}

// MarkDeadLetterRetried stamps a dead letter as sent back to its queue.
func (s *Store) MarkDeadLetterRetried(ctx context.Context, id string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `UPDATE dead_letters SET retried_at = $2 WHERE id = $1`, id, ts(s.now()))
	if err != nil {
		return fmt.Errorf("store: retry dead letter: %w", err)
	}
	return expectOne(res, "retry dead letter")
}

// CountDeadLetters counts dead letters not yet retried, and those created since.
func (s *Store) CountDeadLetters(ctx context.Context, since time.Time) (open, recent int, err error) {
	err = s.rq(ctx).QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN retried_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN created_at > $1 THEN 1 ELSE 0 END), 0) FROM dead_letters`, ts(since)).Scan(&open, &recent)
	if err != nil {
		return 0, 0, fmt.Errorf("store: count dead letters: %w", err)
	}
	return open, recent, nil
}
