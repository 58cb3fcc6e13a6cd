package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// This file holds the set-based reads and writes of reminder delivery: a
// batch of reminders reads the world it depends on and writes its ledger
// moves, notifications and events in a handful of statements, not a few
// round trips per reminder, so a morning peak is bounded by the database's
// row writes rather than by its round trips.

// batchRows is how many rows one multi-row statement carries: PostgreSQL
// pays a round trip per statement, SQLite pays to prepare a large one.
func (s *Store) batchRows() int {
	if s.dialect == Postgres {
		return 500
	}
	return 50
}

// anyArgs turns ids into query arguments.
func anyArgs(ids []string) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// distinct returns ids without repeats, in first-seen order.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// inChunks runs fn over ids in chunks of at most size.
func inChunks(ids []string, size int, fn func(chunk []string) error) error {
	for start := 0; start < len(ids); start += size {
		if err := fn(ids[start:min(start+size, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

// byIDs loads rows by id into a map, one query per chunk of ids; missing
// ids are left out. query is the statement up to its WHERE clause; the ids
// are its "id IN (...)", and extra, when not empty, more conditions.
func byIDs[T any](ctx context.Context, s *Store, ids []string, query, extra string,
	scan func(interface{ Scan(...any) error }) (*T, error), id func(*T) string) (map[string]*T, error) {
	out := make(map[string]*T, len(ids))
	if extra != "" {
		extra = " AND " + extra
	}
	err := inChunks(distinct(ids), s.batchRows(), func(chunk []string) error {
		rows, err := s.rq(ctx).QueryContext(ctx, query+` WHERE id IN (`+placeholders(1, len(chunk))+`)`+extra, anyArgs(chunk)...)
		if err != nil {
			return mapErr(err)
		}
		vs, err := collect(rows, scan)
		for i := range vs {
			out[id(&vs[i])] = &vs[i]
		}
		return err
	})
	return out, err
}

// MedicationsByID loads medications by id; missing ones are left out.
func (s *Store) MedicationsByID(ctx context.Context, ids []string) (map[string]*care.Medication, error) {
	out, err := byIDs(ctx, s, ids, `SELECT `+medicationColumns+` FROM medications`, "", scanMedication,
		func(m *care.Medication) string { return m.ID })
	if err != nil {
		return nil, fmt.Errorf("store: medications by id: %w", err)
	}
	return out, nil
}

// CareRecipientsByID loads care recipients by id; missing ones are left out.
func (s *Store) CareRecipientsByID(ctx context.Context, ids []string) (map[string]*care.CareRecipient, error) {
	out, err := byIDs(ctx, s, ids, `SELECT `+careRecipientColumns+` FROM care_recipients`, "", scanCareRecipient,
		func(c *care.CareRecipient) string { return c.ID })
	if err != nil {
		return nil, fmt.Errorf("store: care recipients by id: %w", err)
	}
	return out, nil
}

// MembersWithPreferencesOf is MembersWithPreferences for several families at
// once, by family id; a family without such members maps to nothing.
func (s *Store) MembersWithPreferencesOf(ctx context.Context, familyIDs []string) (map[string][]care.Member, error) {
	out := make(map[string][]care.Member, len(familyIDs))
	err := inChunks(distinct(familyIDs), s.batchRows(), func(chunk []string) error {
		rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+prefixed("m.", memberColumns)+`, u.preferences
			FROM family_members m JOIN users u ON u.id = m.user_id
			WHERE m.family_id IN (`+placeholders(1, len(chunk))+`) AND m.is_active = TRUE AND u.status = 'ACTIVE'
			ORDER BY m.family_id, m.joined_at, m.id`, anyArgs(chunk)...)
		if err != nil {
			return mapErr(err)
		}
		ms, err := collect(rows, func(row interface{ Scan(...any) error }) (*care.Member, error) {
			var m care.Member
			err := row.Scan(&m.ID, &m.FamilyID, &m.UserID, &m.Role, &m.Nickname, &m.CanEdit, &m.IsActive,
				timeCol{&m.JoinedAt}, jsonCol{&m.Preferences})
			if err != nil {
				return nil, mapErr(err)
			}
			return &m, nil
		})
		for _, m := range ms {
			out[m.FamilyID] = append(out[m.FamilyID], m)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: members with preferences: %w", err)
	}
	return out, nil
}

// DoseRef names one scheduled dose of a medication.
type DoseRef struct {
	MedicationID string
	At           int64 // the dose's instant, Unix seconds
}

// MedicationLogsAt loads the logs of the given doses; doses without a log
// are left out.
func (s *Store) MedicationLogsAt(ctx context.Context, doses []DoseRef) (map[DoseRef]*care.MedicationLog, error) {
	out := make(map[DoseRef]*care.MedicationLog, len(doses))
	want := make(map[DoseRef]bool, len(doses))
	var meds []string
	var times []any
	seenTime := map[int64]bool{}
	for _, d := range doses {
		want[d] = true
		meds = append(meds, d.MedicationID)
		if !seenTime[d.At] {
			seenTime[d.At] = true
			times = append(times, ts(time.Unix(d.At, 0)))
		}
	}
	meds = distinct(meds)
	if len(meds) == 0 {
		return out, nil
	}
	// Doses of a batch share a handful of instants, so one query per chunk
	// of medications reads them all.
	err := inChunks(meds, s.batchRows(), func(chunk []string) error {
		args := append(anyArgs(chunk), times...)
		rows, err := s.rq(ctx).QueryContext(ctx, medicationLogSelect+` WHERE l.medication_id IN (`+
			placeholders(1, len(chunk))+`) AND l.scheduled_time IN (`+placeholders(len(chunk)+1, len(times))+`)`, args...)
		if err != nil {
			return mapErr(err)
		}
		logs, err := collect(rows, scanMedicationLog)
		for i := range logs {
			ref := DoseRef{MedicationID: logs[i].MedicationID, At: logs[i].ScheduledTime.Unix()}
			if want[ref] {
				out[ref] = &logs[i]
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: medication logs at: %w", err)
	}
	return out, nil
}

// MarkLedgerMany applies updates in one statement per chunk. Only entries
// still in one of the from states change, so a late duplicate delivery
// cannot overwrite a finished one. It returns the keys that changed.
func (s *Store) MarkLedgerMany(ctx context.Context, updates []LedgerUpdate, from ...string) (map[string]bool, error) {
	changed := make(map[string]bool, len(updates))
	if len(updates) == 0 {
		return changed, nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.markLedgerMany(ctx, tx, updates, from, changed) })
	if err != nil {
		return nil, err
	}
	return changed, nil
}

func (s *Store) markLedgerMany(ctx context.Context, tx *sql.Tx, updates []LedgerUpdate, from []string, changed map[string]bool) error {
	now := ts(s.now())
	size := s.batchRows()
	for start := 0; start < len(updates); start += size {
		chunk := updates[start:min(start+size, len(updates))]
		args := make([]any, 0, 1+len(from)+4*len(chunk))
		args = append(args, now)
		for _, f := range from {
			args = append(args, f)
		}
		var values strings.Builder
		for i, u := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&values, "($%d, $%d, CAST($%d AS TEXT), CAST($%d AS INTEGER))", n+1, n+2, n+3, n+4)
			args = append(args, u.Key, u.Status, u.Reason, u.Recipients)
		}
		rows, err := tx.QueryContext(ctx, `WITH v (k, st, rsn, n) AS (VALUES `+values.String()+`)
			UPDATE reminder_ledger SET status = v.st, reason = v.rsn, recipients = v.n, fingerprint = NULL,
			event_id = NULL, event_type = NULL, event_family_id = NULL, event_envelope = NULL,
			enqueued_at = CASE WHEN v.st = 'ENQUEUED' THEN $1 ELSE reminder_ledger.enqueued_at END,
			done_at = CASE WHEN v.st = 'ENQUEUED' THEN reminder_ledger.done_at ELSE $1 END
			FROM v WHERE reminder_ledger.key = v.k AND reminder_ledger.status IN (`+placeholders(2, len(from))+`)
			RETURNING key`, args...)
		if err != nil {
			return fmt.Errorf("store: mark reminders: %w", mapErr(err))
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return fmt.Errorf("store: mark reminders: %w", mapErr(err))
			}
			changed[k] = true
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: mark reminders: %w", mapErr(err))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: mark reminders: %w", mapErr(err))
		}
	}
	return nil
}

// InsertNotifications stores notifications in one statement per chunk,
// skipping any whose dedupe key the user already has. It returns the ones
// created, in the order given. Notifications are created by
// notify.Notifier.Send, which applies preferences and announces them; call
// this directly only to set up a test.
func (s *Store) InsertNotifications(ctx context.Context, ns []care.Notification) ([]care.Notification, error) {
	var out []care.Notification
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.insertNotifications(ctx, tx, ns)
		return err
	})
	return out, err
}

func (s *Store) insertNotifications(ctx context.Context, tx *sql.Tx, ns []care.Notification) ([]care.Notification, error) {
	now := s.now()
	prepared := make([]care.Notification, len(ns))
	for i, n := range ns {
		if n.ID == "" {
			n.ID = newID()
		}
		if n.CreatedAt.IsZero() {
			n.CreatedAt = now
		}
		prepared[i] = n
	}
	created := make(map[string]bool, len(ns))
	if s.dialect == SQLite {
		// In process, a statement's cost is parsing it: one prepared row,
		// run for each notification, parses once per batch.
		if err := s.insertNotificationsPrepared(ctx, tx, prepared, created); err != nil {
			return nil, fmt.Errorf("store: insert notifications: %w", err)
		}
	}
	size := s.batchRows()
	for start := 0; start < len(prepared) && s.dialect == Postgres; start += size {
		chunk := prepared[start:min(start+size, len(prepared))]
		args := make([]any, 0, 8*len(chunk))
		var values strings.Builder
		for i, n := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&values, "($%d, $%d, $%d, $%d, $%d, $%d, FALSE, $%d, $%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8)
			args = append(args, n.ID, n.UserID, n.Type, n.Title, n.Body, jsonArg(n.Data), n.DedupeKey, ts(n.CreatedAt))
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO notifications (id, user_id, type, title, body, data,
			read, dedupe_key, created_at) VALUES `+values.String()+` ON CONFLICT DO NOTHING RETURNING id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: insert notifications: %w", mapErr(err))
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: insert notifications: %w", mapErr(err))
			}
			created[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: insert notifications: %w", mapErr(err))
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: insert notifications: %w", mapErr(err))
		}
	}
	out := make([]care.Notification, 0, len(created))
	for _, n := range prepared {
		if created[n.ID] {
			n.Read = false
			out = append(out, n)
		}
	}
	return out, nil
}

// insertNotificationsPrepared inserts ns one row at a time through one
// prepared statement, noting the ids created.
func (s *Store) insertNotificationsPrepared(ctx context.Context, tx *sql.Tx, ns []care.Notification, created map[string]bool) error {
	if len(ns) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO notifications (id, user_id, type, title, body, data,
		read, dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8) ON CONFLICT DO NOTHING`)
	if err != nil {
		return mapErr(err)
	}
	defer stmt.Close()
	for _, n := range ns {
		res, err := stmt.ExecContext(ctx, n.ID, n.UserID, n.Type, n.Title, n.Body, jsonArg(n.Data), n.DedupeKey, ts(n.CreatedAt))
		if err != nil {
			return mapErr(err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			created[n.ID] = true
		}
	}
	return nil
}

// AppendEvents writes domain events to the outbox, in the order given, in
// one statement per chunk. Inside Atomically they commit with the caller's
// change, and the dispatcher is woken once that commits (at once without a
// transaction). Events of one family are serialised so their sequence order
// is their commit order: on PostgreSQL it first takes every family's outbox
// lock, in a fixed order so that two writers sharing families cannot
// deadlock, and a family's later change waits for this commit.
func (s *Store) AppendEvents(ctx context.Context, events []OutboxEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.appendEvents(ctx, tx, events) })
	if err != nil {
		return err
	}
	s.eventsAppended(ctx)
	return nil
}

func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, events []OutboxEvent) error {
	if s.dialect == Postgres {
		var families []string
		for _, e := range events {
			if e.FamilyID != "" {
				families = append(families, e.FamilyID)
			}
		}
		families = distinct(families)
		if len(families) > 0 {
			// One round trip takes them all, in sorted order.
			if _, err := tx.ExecContext(ctx, `SELECT COUNT(pg_advisory_xact_lock(hashtextextended('outbox:' || f, 0)))
				FROM (SELECT f FROM unnest(CAST($1 AS TEXT[])) AS f ORDER BY f) AS sorted`, families); err != nil {
				return fmt.Errorf("store: append events: %w", mapErr(err))
			}
		}
	}
	now := ts(s.now())
	size := s.batchRows()
	for start := 0; start < len(events); start += size {
		chunk := events[start:min(start+size, len(events))]
		args := make([]any, 0, 5*len(chunk))
		var values strings.Builder
		for i, e := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&values, "($%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5)
			var family any
			if e.FamilyID != "" {
				family = e.FamilyID
			}
			args = append(args, e.ID, e.Type, family, string(e.Envelope), now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (id, type, family_id, envelope, created_at)
			VALUES `+values.String(), args...); err != nil {
			return fmt.Errorf("store: append events: %w", mapErr(err))
		}
	}
	return nil
}
