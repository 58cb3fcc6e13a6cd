package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Reminder ledger states.
const (
	LedgerPlanned    = "PLANNED"    // waiting for its fire time
	LedgerEnqueued   = "ENQUEUED"   // handed to the job queue for delivery
	LedgerSent       = "SENT"       // delivered to its recipients (LedgerStaged: decided ahead)
	LedgerSkipped    = "SKIPPED"    // planned too late to be useful (after downtime)
	LedgerSuppressed = "SUPPRESSED" // no longer true at delivery (dose logged, cancelled, ...)
)

// ErrPlannerBusy means another node holds the planner lock right now.
var ErrPlannerBusy = errors.New("planner busy on another node")

// plannerLockClass is the first half of the PostgreSQL advisory lock that
// makes planning leader-only (the second is the schema's hash, so separate
// deployments sharing a database do not contend). The ledger's keys make
// planning safe even without it.
const plannerLockClass = 0x43504c4e // "CPLN"

// LedgerEntry is one reminder instant.
type LedgerEntry struct {
	Key             string
	Kind            string
	EntityID        string
	CareRecipientID string
	OccurrenceAt    time.Time
	OffsetMinutes   int
	FireAt          time.Time
	Status          string
	Reason          *string
	Recipients      int
	PlannedAt       time.Time
	EnqueuedAt      *time.Time
	DoneAt          *time.Time
}

const ledgerColumns = `key, kind, entity_id, care_recipient_id, occurrence_at, offset_minutes,
	fire_at, status, reason, recipients, planned_at, enqueued_at, done_at`

func scanLedger(row interface{ Scan(...any) error }) (*LedgerEntry, error) {
	var e LedgerEntry
	err := row.Scan(&e.Key, &e.Kind, &e.EntityID, &e.CareRecipientID, timeCol{&e.OccurrenceAt},
		&e.OffsetMinutes, timeCol{&e.FireAt}, &e.Status, &e.Reason, &e.Recipients,
		timeCol{&e.PlannedAt}, nullTimeCol{&e.EnqueuedAt}, nullTimeCol{&e.DoneAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}

// Watermark returns how far the named planner has planned; ok is false
// before its first run.
func (s *Store) Watermark(ctx context.Context, name string) (t time.Time, ok bool, err error) {
	err = s.rq(ctx).QueryRowContext(ctx, `SELECT watermark FROM planner_state WHERE name = $1`, name).Scan(timeCol{&t})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: watermark %s: %w", name, err)
	}
	return t, true, nil
}

// PlanCounts tells what recording a plan did.
type PlanCounts struct {
	Planned  int // new entries waiting to fire
	Skipped  int // new entries already too late, recorded as skipped
	Existing int // entries already in the ledger
}

// RecordPlan writes the planner's entries and advances its watermark to
// planned, atomically. Entries whose fire time is before skipBefore are
// recorded as skipped. Keys already present are left alone, so planning a
// window twice is harmless. On PostgreSQL only one node plans at a time;
// another gets ErrPlannerBusy.
func (s *Store) RecordPlan(ctx context.Context, name string, planned time.Time, entries []LedgerEntry, skipBefore time.Time) (PlanCounts, error) {
	var c PlanCounts
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			var got bool
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema()))`, int32(plannerLockClass)).Scan(&got); err != nil {
				return err
			}
			if !got {
				return ErrPlannerBusy
			}
		}
		now := ts(s.now())
		size := s.ledgerInsertChunk()
		for start := 0; start < len(entries); start += size {
			chunk := entries[start:min(start+size, len(entries))]
			counts, err := s.insertLedgerChunk(ctx, tx, chunk, skipBefore, now)
			if err != nil {
				return err
			}
			c.Planned += counts.Planned
			c.Skipped += counts.Skipped
			c.Existing += counts.Existing
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO planner_state (name, watermark, updated_at)
			VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET
			watermark = CASE WHEN excluded.watermark > planner_state.watermark THEN excluded.watermark ELSE planner_state.watermark END,
			updated_at = excluded.updated_at`, name, ts(planned), now)
		return mapErr(err)
	})
	if err != nil {
		return PlanCounts{}, fmt.Errorf("store: record plan: %w", err)
	}
	return c, nil
}

// ledgerInsertChunk is how many entries one INSERT writes: many on
// PostgreSQL, where each statement is a round trip; few on SQLite, where
// statements are in-process and large ones cost more to prepare than they
// save (measured with cmd/reminderbench).
func (s *Store) ledgerInsertChunk() int {
	if s.dialect == Postgres {
		return 400
	}
	return 8
}

// insertLedgerChunk inserts entries in one statement, leaving existing keys
// alone, and counts what it did.
func (s *Store) insertLedgerChunk(ctx context.Context, tx *sql.Tx, entries []LedgerEntry, skipBefore time.Time, now string) (PlanCounts, error) {
	var c PlanCounts
	status := make(map[string]string, len(entries))
	args := make([]any, 0, len(entries)*11)
	values := make([]byte, 0, len(entries)*64)
	late := "planned after its fire time had passed"
	for i, e := range entries {
		st, reason := LedgerPlanned, (*string)(nil)
		if e.FireAt.Before(skipBefore) {
			st, reason = LedgerSkipped, &late
		}
		status[e.Key] = st
		if i > 0 {
			values = append(values, ", "...)
		}
		values = append(values, '(')
		values = append(values, placeholders(len(args)+1, 11)...)
		values = append(values, ')')
		args = append(args, e.Key, e.Kind, e.EntityID, e.CareRecipientID, ts(e.OccurrenceAt), e.OffsetMinutes,
			ts(e.FireAt), st, reason, now, doneAt(st, now))
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO reminder_ledger (key, kind, entity_id, care_recipient_id,
		occurrence_at, offset_minutes, fire_at, status, reason, planned_at, done_at) VALUES `+string(values)+`
		ON CONFLICT (key) DO NOTHING RETURNING key`, args...)
	if err != nil {
		return c, mapErr(err)
	}
	defer rows.Close()
	inserted := 0
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return c, mapErr(err)
		}
		inserted++
		if status[key] == LedgerSkipped {
			c.Skipped++
		} else {
			c.Planned++
		}
	}
	if err := rows.Err(); err != nil {
		return c, mapErr(err)
	}
	c.Existing = len(entries) - inserted
	return c, nil
}

func doneAt(status, now string) any {
	if status == LedgerPlanned {
		return nil
	}
	return now
}

// ClaimDue takes up to limit planned entries whose fire time has come, oldest
// first, and passes them to handle inside one transaction (Atomically's,
// which the context handle gets carries); handle must move each to another
// state (MarkLedgerMany). On PostgreSQL concurrent claimers skip each
// other's rows.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, handle func(ctx context.Context, due []LedgerEntry) error) (int, error) {
	n, err := claim(ctx, s, `SELECT `+ledgerColumns+` FROM reminder_ledger WHERE status = $1 AND fire_at <= $2
		ORDER BY fire_at LIMIT $3`, []any{LedgerPlanned, ts(now), limit}, scanLedger, handle)
	if err != nil {
		return 0, fmt.Errorf("store: claim due reminders: %w", err)
	}
	return n, nil
}

// claim runs q, a SELECT of ledger rows, in a transaction of its own and
// passes what it found to handle in that transaction, which the context
// handle gets carries; nothing found calls nothing. On PostgreSQL the rows
// are locked, and rows another claimer holds are skipped. It returns how
// many rows it found.
func claim[T any](ctx context.Context, s *Store, q string, args []any, scan func(interface{ Scan(...any) error }) (*T, error),
	handle func(ctx context.Context, rows []T) error) (int, error) {
	if s.dialect == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	n := 0
	err := s.Atomically(ctx, func(ctx context.Context) error {
		rows, err := s.txFrom(ctx).QueryContext(ctx, q, args...)
		if err != nil {
			return mapErr(err)
		}
		found, err := collect(rows, scan)
		if err != nil || len(found) == 0 {
			return err
		}
		n = len(found)
		return handle(ctx, found)
	})
	return n, err
}

// LedgerUpdate moves one entry to a new state.
type LedgerUpdate struct {
	Key        string
	Status     string
	Reason     *string
	Recipients int
}

// LedgerCounts counts ledger entries by status.
func (s *Store) LedgerCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT status, COUNT(*) FROM reminder_ledger GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("store: ledger counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: ledger counts: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// placeholders returns "$first, $first+1, ..." for n arguments.
func placeholders(first, n int) string {
	b := make([]byte, 0, n*4)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "$%d", first+i)
	}
	return string(b)
}

// LedgerEntries loads entries by key, in key order; missing keys are left out.
func (s *Store) LedgerEntries(ctx context.Context, keys []string) ([]LedgerEntry, error) {
	return s.ledgerEntries(ctx, s.rq(ctx), keys)
}

func (s *Store) ledgerEntries(ctx context.Context, q querier, keys []string) ([]LedgerEntry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := q.QueryContext(ctx, `SELECT `+ledgerColumns+` FROM reminder_ledger WHERE key IN (`+
		placeholders(1, len(keys))+`) ORDER BY key`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: ledger entries: %w", mapErr(err))
	}
	return collect(rows, scanLedger)
}

// RecordMissedDose writes a MISSED log for a dose nobody logged; an
// existing log for that dose is left alone. It reports whether the log was
// written.
func (s *Store) RecordMissedDose(ctx context.Context, medicationID string, scheduled time.Time) (bool, error) {
	now := ts(s.now())
	res, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO medication_logs (id, medication_id, scheduled_time, status,
		created_at, updated_at) VALUES ($1, $2, $3, 'MISSED', $4, $4) ON CONFLICT (medication_id, scheduled_time) DO NOTHING`,
		newID(), medicationID, ts(scheduled), now)
	if err != nil {
		return false, fmt.Errorf("store: record missed dose: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
