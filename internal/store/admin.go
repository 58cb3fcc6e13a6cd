package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// LedgerWindow is what the reminder ledger did with the reminders whose
// fire time fell in [From, To): how many there were, what became of them,
// and how late the sent ones went out.
type LedgerWindow struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Planned counts every reminder due in the window, whatever became of it.
	Planned    int `json:"planned"`
	Sent       int `json:"sent"`
	Suppressed int `json:"suppressed"`
	Skipped    int `json:"skipped"`
	// Pending are due but not yet done (planned or handed to the queue).
	Pending int `json:"pending"`
	// LateP99Ms is the 99th percentile of how long after its fire time a
	// sent reminder was done, in milliseconds; nil when none was sent.
	LateP99Ms *int64 `json:"lateP99Ms"`
}

// LedgerWindow summarises the ledger entries whose fire time is in
// [from, to).
func (s *Store) LedgerWindow(ctx context.Context, from, to time.Time) (LedgerWindow, error) {
	w := LedgerWindow{From: from.UTC(), To: to.UTC()}
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT status, COUNT(*) FROM reminder_ledger
		WHERE fire_at >= $1 AND fire_at < $2 GROUP BY status`, ts(from), ts(to))
	if err != nil {
		return w, fmt.Errorf("store: ledger window: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return w, fmt.Errorf("store: ledger window: %w", mapErr(err))
		}
		w.Planned += n
		switch st {
		case LedgerSent:
			w.Sent = n
		case LedgerSuppressed:
			w.Suppressed = n
		case LedgerSkipped:
			w.Skipped = n
		default:
			w.Pending += n
		}
	}
	if err := rows.Err(); err != nil {
		return w, fmt.Errorf("store: ledger window: %w", mapErr(err))
	}
	if w.Sent == 0 {
		return w, nil
	}
	// The p99 is the k-th smallest lateness, k = ceil(0.99 n): one row read
	// through the ordered result rather than every lateness brought back.
	k := (w.Sent*99 + 99) / 100
	late := `(julianday(done_at) - julianday(fire_at)) * 86400000.0`
	if s.dialect == Postgres {
		late = `EXTRACT(EPOCH FROM (done_at - fire_at)) * 1000.0`
	}
	var ms float64
	err = s.rq(ctx).QueryRowContext(ctx, `SELECT `+late+` AS late FROM reminder_ledger
		WHERE status = $1 AND fire_at >= $2 AND fire_at < $3 AND done_at IS NOT NULL
		ORDER BY late LIMIT 1 OFFSET $4`, LedgerSent, ts(from), ts(to), k-1).Scan(&ms)
	if err != nil {
		return w, fmt.Errorf("store: ledger lateness: %w", mapErr(err))
	}
	p99 := int64(max(0, ms) + 0.5)
	w.LateP99Ms = &p99
	return w, nil
}

// EmailCount counts the email attempts of one provider, priority and
// outcome.
type EmailCount struct {
	Provider string `json:"provider"`
	Priority string `json:"priority"`
	Status   string `json:"status"`
	Count    int    `json:"count"`
}

// EmailCountsSince counts the email attempts made since a time by
// provider, priority and status ("" for attempts no provider took).
func (s *Store) EmailCountsSince(ctx context.Context, since time.Time) ([]EmailCount, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT COALESCE(provider, ''), priority, status, COUNT(*)
		FROM email_attempts WHERE at >= $1 GROUP BY COALESCE(provider, ''), priority, status
		ORDER BY 1, 2, 3`, ts(since))
	if err != nil {
		return nil, fmt.Errorf("store: email counts: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*EmailCount, error) {
		var c EmailCount
		if err := row.Scan(&c.Provider, &c.Priority, &c.Status, &c.Count); err != nil {
			return nil, mapErr(err)
		}
		return &c, nil
	})
}

// SearchUsers lists the accounts whose email or name contains q (any case;
// every account when q is empty), by email, with the number that match.
func (s *Store) SearchUsers(ctx context.Context, q string, limit, offset int) ([]care.User, int, error) {
	pattern := "%" + likeEscaper.Replace(strings.ToLower(q)) + "%"
	where := ` WHERE LOWER(email) LIKE $1 ESCAPE '\' OR LOWER(full_name) LIKE $1 ESCAPE '\'`
	var total int
	if err := s.rq(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM users`+where, pattern).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: search users: %w", mapErr(err))
	}
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+userColumns+` FROM users`+where+`
		ORDER BY email LIMIT $2 OFFSET $3`, pattern, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("store: search users: %w", mapErr(err))
	}
	users, err := collect(rows, scanUser)
	if err != nil {
		return nil, 0, fmt.Errorf("store: search users: %w", err)
	}
	return users, total, nil
}

// likeEscaper escapes LIKE's wildcards (and its escape character) so a
// search matches them literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SuspendUser bars an account: its status becomes SUSPENDED and every one
// of its sessions ends, in one transaction. It returns the account and how
// many sessions ended; ErrNotFound when there is no such account.
func (s *Store) SuspendUser(ctx context.Context, id string) (*care.User, int64, error) {
	var u *care.User
	var ended int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `UPDATE users SET status = $2, updated_at = $3
			WHERE id = $1 RETURNING `+userColumns, id, care.UserSuspended, ts(s.now())))
		if err != nil {
			return err
		}
		ended, err = s.revokeUserSessions(ctx, tx, id, "", "suspended")
		return err
	})
	s.accountsChanged(ctx, id)
	if err != nil {
		return nil, 0, fmt.Errorf("store: suspend user: %w", err)
	}
	return u, ended, nil
}

// UnsuspendUser lifts a suspension: the account is ACTIVE again, or
// PENDING when its email was never verified. ErrNotFound when there is no
// such account.
func (s *Store) UnsuspendUser(ctx context.Context, id string) (*care.User, error) {
	u, err := scanUser(s.wq(ctx).QueryRowContext(ctx, `UPDATE users SET
		status = CASE WHEN email_verified THEN $2 ELSE $3 END, updated_at = $4
		WHERE id = $1 RETURNING `+userColumns, id, care.UserActive, care.UserPending, ts(s.now())))
	s.accountsChanged(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: unsuspend user: %w", err)
	}
	return u, nil
}

// DeleteDeadLetter removes a dead letter that will not be retried;
// ErrNotFound when there is none with the id.
func (s *Store) DeleteDeadLetter(ctx context.Context, id string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM dead_letters WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete dead letter: %w", mapErr(err))
	}
	return expectOne(res, "delete dead letter")
}
