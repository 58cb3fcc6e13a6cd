package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// timelineSelect reads timeline entries (alias te) with their author's name.
const timelineSelect = `SELECT te.id, te.care_recipient_id, te.created_by_id, u.full_name, u.avatar_url,
	te.type, te.title, te.description, te.severity, te.vitals, te.attachments, te.occurred_at,
	te.created_at, te.updated_at
	FROM timeline_entries te LEFT JOIN users u ON u.id = te.created_by_id`

// Orders of timeline lists; the id breaks ties between entries of the same
// instant (ids are time-ordered, so the later-written entry counts as later).
const (
	timelineNewestFirst = ` ORDER BY te.occurred_at DESC, te.id DESC`
	timelineOldestFirst = ` ORDER BY te.occurred_at, te.id`
)

func scanTimelineEntry(row interface{ Scan(...any) error }) (*care.TimelineEntry, error) {
	var e care.TimelineEntry
	var authorName, authorAvatar *string
	err := row.Scan(&e.ID, &e.CareRecipientID, &e.CreatedByID, &authorName, &authorAvatar, &e.Type, &e.Title,
		&e.Description, &e.Severity, jsonCol{&e.Vitals}, jsonCol{&e.Attachments}, timeCol{&e.OccurredAt},
		timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	if e.CreatedByID != nil && authorName != nil {
		e.CreatedBy = &care.UserRef{ID: *e.CreatedByID, FullName: *authorName, AvatarURL: authorAvatar}
	}
	if e.Attachments == nil {
		e.Attachments = []string{}
	}
	return &e, nil
}

func queryTimelineEntries(ctx context.Context, q querier, query string, args ...any) ([]care.TimelineEntry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanTimelineEntry)
}

func timelineEntryByID(ctx context.Context, q querier, id string) (*care.TimelineEntry, error) {
	return scanTimelineEntry(q.QueryRowContext(ctx, timelineSelect+` WHERE te.id = $1`, id))
}

// vitalsArg is the vitals column's value: SQL NULL when there are none (not
// the JSON null, which PostgreSQL would keep as a value).
func vitalsArg(v *care.Vitals) driver.Value {
	if v == nil {
		return nil
	}
	return jsonArg(v)
}

// CreateTimelineEntry records an entry about e.CareRecipientID, written by
// e.CreatedByID (nil for none). ID, CreatedAt and UpdatedAt are assigned.
// ErrReference when the care recipient or the author does not exist.
func (s *Store) CreateTimelineEntry(ctx context.Context, e care.TimelineEntry) (*care.TimelineEntry, error) {
	var out *care.TimelineEntry
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, now := newID(), ts(s.now())
		_, err := tx.ExecContext(ctx, `INSERT INTO timeline_entries (id, care_recipient_id, created_by_id, type,
			title, description, severity, vitals, attachments, occurred_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
			id, e.CareRecipientID, e.CreatedByID, e.Type, e.Title, e.Description, e.Severity,
			vitalsArg(e.Vitals), stringsArg(e.Attachments), ts(e.OccurredAt), now)
		if err != nil {
			return mapErr(err)
		}
		out, err = timelineEntryByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create timeline entry: %w", err)
	}
	return out, nil
}

// TimelineEntry loads an entry by id, with its author.
func (s *Store) TimelineEntry(ctx context.Context, id string) (*care.TimelineEntry, error) {
	e, err := timelineEntryByID(ctx, s.rq(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("store: timeline entry %s: %w", id, err)
	}
	return e, nil
}

// UpdateTimelineEntry loads an entry, lets edit change it and writes its
// type, title, description, severity, vitals, attachments and occurrence
// time in one transaction, so concurrent edits apply one after the other.
// An error from edit aborts the update and is returned as is.
func (s *Store) UpdateTimelineEntry(ctx context.Context, id string, edit func(*care.TimelineEntry) error) (*care.TimelineEntry, error) {
	var out *care.TimelineEntry
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var locked string
		if err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT id FROM timeline_entries WHERE id = $1`),
			id).Scan(&locked); err != nil {
			return mapErr(err)
		}
		e, err := timelineEntryByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := edit(e); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE timeline_entries SET type = $2, title = $3, description = $4,
			severity = $5, vitals = $6, attachments = $7, occurred_at = $8, updated_at = $9 WHERE id = $1`,
			id, e.Type, e.Title, e.Description, e.Severity, vitalsArg(e.Vitals), stringsArg(e.Attachments),
			ts(e.OccurredAt), ts(s.now())); err != nil {
			return mapErr(err)
		}
		out, err = timelineEntryByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update timeline entry: %w", err)
	}
	return out, nil
}

// DeleteTimelineEntry removes an entry; ErrNotFound when there is none.
func (s *Store) DeleteTimelineEntry(ctx context.Context, id string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM timeline_entries WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete timeline entry: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete timeline entry: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: delete timeline entry: %w", ErrNotFound)
	}
	return nil
}

// TimelineFilter selects a care recipient's entries: of one of Types (any
// when empty), occurred in [From, To) (either end open when nil), newest
// first, skipping Offset and returning at most Limit (all when <= 0).
type TimelineFilter struct {
	Types         []care.TimelineType
	From, To      *time.Time
	Limit, Offset int
}

// TimelineEntries lists a care recipient's entries matching f.
func (s *Store) TimelineEntries(ctx context.Context, careRecipientID string, f TimelineFilter) ([]care.TimelineEntry, error) {
	where := []string{`te.care_recipient_id = $1`}
	args := []any{careRecipientID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if len(f.Types) > 0 {
		in := make([]string, len(f.Types))
		for i, t := range f.Types {
			in[i] = arg(string(t))
		}
		where = append(where, `te.type IN (`+strings.Join(in, ", ")+`)`)
	}
	if f.From != nil {
		where = append(where, `te.occurred_at >= `+arg(ts(*f.From)))
	}
	if f.To != nil {
		where = append(where, `te.occurred_at < `+arg(ts(*f.To)))
	}
	q := timelineSelect + ` WHERE ` + strings.Join(where, " AND ") + timelineNewestFirst + pageClause(f.Limit, f.Offset)
	out, err := queryTimelineEntries(ctx, s.rq(ctx), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: timeline entries: %w", err)
	}
	return out, nil
}

// TimelineIncidents lists what went wrong for a care recipient: entries of
// type INCIDENT and entries of any type graded HIGH or CRITICAL, newest
// first, skipping offset and returning at most limit (all when <= 0).
func (s *Store) TimelineIncidents(ctx context.Context, careRecipientID string, limit, offset int) ([]care.TimelineEntry, error) {
	out, err := queryTimelineEntries(ctx, s.rq(ctx), timelineSelect+` WHERE te.care_recipient_id = $1
		AND (te.type = $2 OR te.severity IN ($3, $4))`+timelineNewestFirst+pageClause(limit, offset),
		careRecipientID, care.TimelineIncident, care.SeverityHigh, care.SeverityCritical)
	if err != nil {
		return nil, fmt.Errorf("store: timeline incidents: %w", err)
	}
	return out, nil
}

// VitalsHistory lists a care recipient's entries that carry vitals and
// occurred at or after since, oldest first, at most limit (all when <= 0):
// the series of a vitals chart.
func (s *Store) VitalsHistory(ctx context.Context, careRecipientID string, since time.Time, limit int) ([]care.TimelineEntry, error) {
	out, err := queryTimelineEntries(ctx, s.rq(ctx), timelineSelect+` WHERE te.care_recipient_id = $1
		AND te.vitals IS NOT NULL AND te.occurred_at >= $2`+timelineOldestFirst+pageClause(limit, 0),
		careRecipientID, ts(since))
	if err != nil {
		return nil, fmt.Errorf("store: vitals history: %w", err)
	}
	return out, nil
}

// pageClause is the LIMIT/OFFSET of a list; no limit when limit <= 0.
// Both are numbers the store was given, never text from a request.
func pageClause(limit, offset int) string {
	var b strings.Builder
	if limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", limit)
	}
	if offset > 0 {
		if limit <= 0 {
			// SQLite takes OFFSET only after a LIMIT; this one is no bound.
			b.WriteString(" LIMIT 9223372036854775807")
		}
		fmt.Fprintf(&b, " OFFSET %d", offset)
	}
	return b.String()
}
