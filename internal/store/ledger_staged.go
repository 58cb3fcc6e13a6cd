package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// This file holds the ledger's staging: a reminder decided and written
// minutes before its instant, so that at the instant sending it is a flip
// of its ledger entry and a copy of its held event into the outbox.
//
// While an entry is STAGED its notifications exist but are hidden: every
// read of notifications leaves out those whose dedupe key names a STAGED
// entry (visibleNotification). The entry holds a fingerprint of the outcome
// it was staged with and the event that will announce it.

// LedgerStaged is the state of an entry decided and written ahead of its
// fire time, waiting to be sent.
const LedgerStaged = "STAGED"

// visibleNotification is the condition every read of notifications adds:
// a staged reminder's notifications stay out of sight until it is sent.
const visibleNotification = `NOT EXISTS (SELECT 1 FROM reminder_ledger l
	WHERE l.key = notifications.dedupe_key AND l.status = 'STAGED')`

// Staging is what an entry is staged with.
type Staging struct {
	Key         string
	Fingerprint string
	Recipients  int
	// Event, when set, is the event that announces the entry's
	// notifications; it goes to the outbox when the entry is sent.
	Event *OutboxEvent
}

// StagedEntry is a STAGED ledger entry with the fingerprint it was staged
// with.
type StagedEntry struct {
	LedgerEntry
	Fingerprint string
}

// ClaimToStage takes up to limit planned entries that fire after now and
// no later than until, earliest first, and passes them to handle inside one
// transaction, which the context handle gets carries; handle must stage
// each (StageMany). On PostgreSQL concurrent claimers skip each other's
// rows.
func (s *Store) ClaimToStage(ctx context.Context, now, until time.Time, limit int, handle func(ctx context.Context, entries []LedgerEntry) error) (int, error) {
	n, err := claim(ctx, s, `SELECT `+ledgerColumns+` FROM reminder_ledger WHERE status = $1 AND fire_at > $2 AND fire_at <= $3
		ORDER BY fire_at LIMIT $4`, []any{LedgerPlanned, ts(now), ts(until), limit}, scanLedger, handle)
	if err != nil {
		return 0, fmt.Errorf("store: claim reminders to stage: %w", err)
	}
	return n, nil
}

// StageMany moves planned entries to STAGED with what they were staged
// with, in one statement per chunk, in the transaction ctx carries (or one
// of its own); an entry's enqueued_at records when it was staged. Entries
// no longer planned are left alone.
func (s *Store) StageMany(ctx context.Context, staged []Staging) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(s.now())
		size := s.batchRows()
		for start := 0; start < len(staged); start += size {
			chunk := staged[start:min(start+size, len(staged))]
			args := make([]any, 0, 2+7*len(chunk))
			args = append(args, now, LedgerPlanned)
			var values strings.Builder
			for i, st := range chunk {
				if i > 0 {
					values.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&values, "($%d, $%d, CAST($%d AS INTEGER), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT))",
					n+1, n+2, n+3, n+4, n+5, n+6, n+7)
				var id, typ, family, env any
				if e := st.Event; e != nil {
					id, typ, env = e.ID, e.Type, string(e.Envelope)
					if e.FamilyID != "" {
						family = e.FamilyID
					}
				}
				args = append(args, st.Key, st.Fingerprint, st.Recipients, id, typ, family, env)
			}
			id, family := `v.eid`, `v.efam`
			if s.dialect == Postgres {
				id, family = `CAST(v.eid AS UUID)`, `CAST(v.efam AS UUID)`
			}
			set := `status = 'STAGED', fingerprint = v.fp, recipients = v.n, event_id = ` + id + `, event_type = v.etype,
				event_family_id = ` + family + `, event_envelope = v.env, enqueued_at = $1`
			if _, err := tx.ExecContext(ctx, `WITH v (k, fp, n, eid, etype, efam, env) AS (VALUES `+values.String()+`)
				UPDATE reminder_ledger SET `+set+` FROM v WHERE reminder_ledger.key = v.k AND reminder_ledger.status = $2`, args...); err != nil {
				return fmt.Errorf("store: stage reminders: %w", mapErr(err))
			}
		}
		return nil
	})
	return err
}

// StagedDue lists up to limit STAGED entries whose fire time has come,
// in (fire time, key) order after the entry after (none when nil), with
// their fingerprints. It locks nothing: a sender decides them outside any
// transaction, then claims them (ClaimStaged).
func (s *Store) StagedDue(ctx context.Context, now time.Time, after *StagedEntry, limit int) ([]StagedEntry, error) {
	q := `SELECT ` + ledgerColumns + `, fingerprint FROM reminder_ledger WHERE status = $1 AND fire_at <= $2`
	args := []any{LedgerStaged, ts(now)}
	if after != nil {
		q += ` AND (fire_at, key) > ($3, $4)`
		args = append(args, ts(after.FireAt), after.Key)
	}
	q += ` ORDER BY fire_at, key LIMIT ` + fmt.Sprint(limit)
	rows, err := s.rq(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: staged reminders due: %w", mapErr(err))
	}
	due, err := collect(rows, scanStaged)
	if err != nil {
		return nil, fmt.Errorf("store: staged reminders due: %w", err)
	}
	return due, nil
}

func scanStaged(row interface{ Scan(...any) error }) (*StagedEntry, error) {
	var fp sql.NullString
	e, err := scanLedger(withColumn{row, &fp})
	if err != nil {
		return nil, err
	}
	return &StagedEntry{LedgerEntry: *e, Fingerprint: fp.String}, nil
}

// withColumn scans one more column after what its caller scans.
type withColumn struct {
	row  interface{ Scan(...any) error }
	last any
}

func (w withColumn) Scan(dest ...any) error { return w.row.Scan(append(dest, w.last)...) }

// ClaimStaged takes those of the given entries that are still STAGED and
// passes them to handle inside one transaction, which the context handle
// gets carries; handle must move each on (SendStaged, MarkLedgerMany from
// LedgerStaged). On PostgreSQL an entry another sender holds is skipped.
func (s *Store) ClaimStaged(ctx context.Context, keys []string, handle func(ctx context.Context, claimed []StagedEntry) error) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	n, err := claim(ctx, s, `SELECT `+ledgerColumns+`, fingerprint FROM reminder_ledger WHERE status = $1 AND key IN (`+
		placeholders(2, len(keys))+`) ORDER BY fire_at, key`, append([]any{LedgerStaged}, anyArgs(keys)...), scanStaged, handle)
	if err != nil {
		return 0, fmt.Errorf("store: claim staged reminders: %w", err)
	}
	return n, nil
}

// SendStaged sends STAGED entries as they were staged, in the transaction
// ctx carries (or one of its own): each entry's held event is appended to
// the outbox (after its family's earlier events) and the entry moves to the
// state its update gives, its staged notifications becoming visible as it
// leaves STAGED. Entries no longer STAGED are left alone.
func (s *Store) SendStaged(ctx context.Context, updates []LedgerUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(s.now())
		size := s.batchRows()
		for start := 0; start < len(updates); start += size {
			chunk := updates[start:min(start+size, len(updates))]
			keys := make([]string, len(chunk))
			for i, u := range chunk {
				keys[i] = u.Key
			}
			in := placeholders(2, len(keys))
			args := append([]any{LedgerStaged}, anyArgs(keys)...)
			if s.dialect == Postgres {
				// The outbox's order within a family is its commit order:
				// take the families' locks as appendEvents does.
				if _, err := tx.ExecContext(ctx, `SELECT COUNT(pg_advisory_xact_lock(hashtextextended('outbox:' || f, 0)))
					FROM (SELECT DISTINCT CAST(event_family_id AS TEXT) AS f FROM reminder_ledger
					WHERE status = $1 AND event_family_id IS NOT NULL AND key IN (`+in+`) ORDER BY f) AS sorted`, args...); err != nil {
					return fmt.Errorf("store: send staged reminders: %w", mapErr(err))
				}
			}
			// The keys pick the rows: on SQLite, "+status" keeps its planner
			// from scanning every staged entry by the status index instead.
			status := `status`
			if s.dialect == SQLite {
				status = `+status`
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (id, type, family_id, envelope, created_at)
				SELECT event_id, event_type, event_family_id, event_envelope, $`+fmt.Sprint(len(args)+1)+`
				FROM reminder_ledger WHERE key IN (`+in+`) AND `+status+` = $1 AND event_id IS NOT NULL
				ORDER BY fire_at, key`, append(args, now)...); err != nil {
				return fmt.Errorf("store: send staged reminders: %w", mapErr(err))
			}
			if err := s.markLedgerMany(ctx, tx, chunk, []string{LedgerStaged}, map[string]bool{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.eventsAppended(ctx)
	return nil
}

// DropStagedNotifications deletes the notifications staged for the given
// ledger keys, in the transaction ctx carries (or one of its own): the
// reminder is to be delivered as decided now instead.
func (s *Store) DropStagedNotifications(ctx context.Context, keys []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return inChunks(keys, s.batchRows(), func(chunk []string) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE dedupe_key IN (`+placeholders(1, len(chunk))+`)`,
				anyArgs(chunk)...)
			if err != nil {
				return fmt.Errorf("store: drop staged notifications: %w", mapErr(err))
			}
			return nil
		})
	})
}

// NextFireTimes returns the earliest fire time of a planned entry and of a
// staged one (nil when there is none).
func (s *Store) NextFireTimes(ctx context.Context) (planned, staged *time.Time, err error) {
	err = s.rq(ctx).QueryRowContext(ctx, `SELECT
		(SELECT MIN(fire_at) FROM reminder_ledger WHERE status = $1),
		(SELECT MIN(fire_at) FROM reminder_ledger WHERE status = $2)`,
		LedgerPlanned, LedgerStaged).Scan(nullTimeCol{&planned}, nullTimeCol{&staged})
	if err != nil {
		return nil, nil, fmt.Errorf("store: next fire times: %w", err)
	}
	return planned, staged, nil
}
