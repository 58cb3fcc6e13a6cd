package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RetentionCutoffs says, per kind of record, before which instant records
// are pruned; a zero time keeps that kind for ever.
type RetentionCutoffs struct {
	// Notifications: read notifications created before it (with their
	// delivery records). Unread ones are kept whatever their age.
	Notifications time.Time
	// Outbox: events dispatched before it, with their per-consumer progress.
	// Undispatched events are kept.
	Outbox time.Time
	// Ledger: reminder ledger entries due before it that are finished (sent,
	// suppressed, skipped), and periodic job runs started before it.
	Ledger time.Time
	// EmailLog: email attempts made before it, and expired counters.
	EmailLog time.Time
	// Audit: audit entries recorded before it.
	Audit time.Time
}

// PruneCounts is how many rows of each kind a prune removed.
type PruneCounts struct {
	Notifications int64 `json:"notifications"`
	Outbox        int64 `json:"outbox"`
	Ledger        int64 `json:"ledger"`
	JobRuns       int64 `json:"jobRuns"`
	EmailLog      int64 `json:"emailLog"`
	Audit         int64 `json:"audit"`
}

// Total sums the counts.
func (c PruneCounts) Total() int64 {
	return c.Notifications + c.Outbox + c.Ledger + c.JobRuns + c.EmailLog + c.Audit
}

// pruneBatch bounds one delete, so the writer (SQLite's single one in
// particular) is never held for long while a large backlog goes.
const pruneBatch = 5000

// PruneRetention deletes what the cutoffs say is old, in batches of bounded
// size, each its own transaction. It is idempotent: run twice, the second
// run finds nothing.
func (s *Store) PruneRetention(ctx context.Context, c RetentionCutoffs) (PruneCounts, error) {
	var n PruneCounts
	var err error
	if !c.Notifications.IsZero() {
		// notification_deliveries go with them (ON DELETE CASCADE).
		if n.Notifications, err = s.pruneBatches(ctx, `DELETE FROM notifications WHERE id IN
			(SELECT id FROM notifications WHERE read = TRUE AND created_at < $1 LIMIT $2)`, c.Notifications, nil); err != nil {
			return n, fmt.Errorf("store: prune notifications: %w", err)
		}
	}
	if !c.Outbox.IsZero() {
		if n.Outbox, err = s.pruneBatches(ctx, `DELETE FROM outbox_events WHERE seq IN
			(SELECT seq FROM outbox_events WHERE dispatched_at < $1 ORDER BY seq LIMIT $2)`, c.Outbox,
			func(tx *sql.Tx, cutoff string) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM outbox_deliveries WHERE event_id IN
					(SELECT id FROM outbox_events WHERE dispatched_at < $1 ORDER BY seq LIMIT $2)`, cutoff, pruneBatch)
				return err
			}); err != nil {
			return n, fmt.Errorf("store: prune outbox: %w", err)
		}
	}
	if !c.Ledger.IsZero() {
		if n.Ledger, err = s.pruneBatches(ctx, `DELETE FROM reminder_ledger WHERE key IN
			(SELECT key FROM reminder_ledger WHERE fire_at < $1 AND status IN ('SENT', 'SUPPRESSED', 'SKIPPED') LIMIT $2)`, c.Ledger, nil); err != nil {
			return n, fmt.Errorf("store: prune ledger: %w", err)
		}
		if n.JobRuns, err = s.pruneBatches(ctx, `DELETE FROM job_runs WHERE id IN
			(SELECT id FROM job_runs WHERE started_at < $1 LIMIT $2)`, c.Ledger, nil); err != nil {
			return n, fmt.Errorf("store: prune job runs: %w", err)
		}
	}
	if !c.EmailLog.IsZero() {
		if n.EmailLog, err = s.pruneBatches(ctx, `DELETE FROM email_attempts WHERE id IN
			(SELECT id FROM email_attempts WHERE at < $1 LIMIT $2)`, c.EmailLog, nil); err != nil {
			return n, fmt.Errorf("store: prune email log: %w", err)
		}
		if _, err := s.w.ExecContext(ctx, `DELETE FROM counters WHERE expires_at < $1`, ts(s.now())); err != nil {
			return n, fmt.Errorf("store: prune counters: %w", mapErr(err))
		}
	}
	if !c.Audit.IsZero() {
		// The audit log's trigger lets a row go only when it is older than
		// the recorded prune_before, set in the same transaction.
		if n.Audit, err = s.pruneBatches(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE at < $1 LIMIT $2)`, c.Audit,
			func(tx *sql.Tx, cutoff string) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO audit_retention (id, prune_before) VALUES (1, $1)
					ON CONFLICT (id) DO UPDATE SET prune_before = excluded.prune_before`, cutoff)
				return err
			}); err != nil {
			return n, fmt.Errorf("store: prune audit log: %w", err)
		}
	}
	return n, nil
}

// pruneBatches runs del (with the cutoff and the batch size as $1, $2) until
// a batch deletes fewer rows than the batch size; before, when set, runs
// first in each batch's transaction.
func (s *Store) pruneBatches(ctx context.Context, del string, cutoff time.Time, before func(tx *sql.Tx, cutoff string) error) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if before != nil {
				if err := before(tx, ts(cutoff)); err != nil {
					return mapErr(err)
				}
			}
			res, err := tx.ExecContext(ctx, del, ts(cutoff), pruneBatch)
			if err != nil {
				return mapErr(err)
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// TableSizes reports the rows of the tables retention governs, for the
// operator and the year-of-use benchmark.
func (s *Store) TableSizes(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range []string{"notifications", "notification_deliveries", "outbox_events", "outbox_deliveries",
		"reminder_ledger", "job_runs", "email_attempts", "audit_log"} {
		var n int64
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}
