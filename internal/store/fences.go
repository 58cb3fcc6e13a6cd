package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RecordJobRunFenced appends run to the job-run log as work done under the
// lease of lock (a kv.Locker lock) with its fencing token, a lease that lasts
// until expires. In one transaction it raises the highest token recorded for
// lock to token and writes the run carrying it; it refuses with ErrLeaseLost,
// writing nothing, when the lease has expired by the store's clock or a
// greater token has been recorded and its lease still lasts. So a holder
// paused past its lease cannot report after the holder that followed it has.
// A smaller token is accepted once the recorded lease has expired: the
// lock's counter may have started again (Redis lost its data), and the
// lock's work must not stop for good.
func (s *Store) RecordJobRunFenced(ctx context.Context, lock string, token int64, expires time.Time, run JobRun) error {
	now := s.now()
	if !expires.After(now) {
		return fmt.Errorf("store: record job run: %w (%s, token %d expired)", ErrLeaseLost, lock, token)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The upsert locks the fence row until commit (PostgreSQL) or runs
		// under the single writer (SQLite): a concurrent holder's report
		// waits, then compares its token with the one written here.
		res, err := tx.ExecContext(ctx, `INSERT INTO lock_fences (name, token, expires_at, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, updated_at = excluded.updated_at
			WHERE lock_fences.token <= excluded.token OR lock_fences.expires_at < excluded.updated_at`,
			lock, token, ts(expires), ts(now))
		if err != nil {
			return mapErr(err)
		}
		if err := leaseWrite(res, "raise fence", Lease{Name: lock, Token: token}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO job_runs (id, job, started_at, duration_ms, items, status, error, fence)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID(), run.Job, ts(run.StartedAt), run.DurationMS, run.Items, run.Status, run.Error, token)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("store: record job run: %w", err)
	}
	return nil
}
