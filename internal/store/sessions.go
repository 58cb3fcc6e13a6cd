package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// ErrTokenReused means a refresh token that had already been rotated was
// presented again. Its session has been revoked.
var ErrTokenReused = errors.New("refresh token reused")

const sessionColumns = `id, user_id, device_info, ip_address, user_agent, remember_me,
	created_at, last_used_at, expires_at, revoked_at`

func scanSession(row interface{ Scan(...any) error }) (*care.Session, error) {
	var s care.Session
	err := row.Scan(&s.ID, &s.UserID, &s.DeviceInfo, &s.IPAddress, &s.UserAgent, &s.RememberMe,
		timeCol{&s.CreatedAt}, timeCol{&s.LastUsedAt}, timeCol{&s.ExpiresAt}, nullTimeCol{&s.RevokedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &s, nil
}

// NewSession describes a sign-in.
type NewSession struct {
	UserID      string
	DeviceInfo  *string
	IPAddress   *string
	UserAgent   *string
	RememberMe  bool
	TTL         time.Duration
	RefreshHash string
}

// CreateSession starts a session with its first refresh token.
func (s *Store) CreateSession(ctx context.Context, ns NewSession) (*care.Session, error) {
	var sess *care.Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var err error
		sess, err = scanSession(tx.QueryRowContext(ctx, `INSERT INTO sessions (id, user_id, device_info,
			ip_address, user_agent, remember_me, created_at, last_used_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING `+sessionColumns,
			newID(), ns.UserID, ns.DeviceInfo, ns.IPAddress, ns.UserAgent, ns.RememberMe,
			ts(now), ts(now.Add(ns.TTL))))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at)
			VALUES ($1, $2, $3)`, ns.RefreshHash, sess.ID, ts(now))
		return mapErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("store: create session: %w", err)
	}
	return sess, nil
}

// ActiveSession loads a session that is neither revoked nor expired, with its
// user. Anything else is ErrNotFound.
func (s *Store) ActiveSession(ctx context.Context, sessionID string) (*care.Session, *care.User, error) {
	// One round trip for both: every signed-in request asks this.
	var g gathered
	sess, _ := scanSession(&g)
	u, _ := scanUser(&g)
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT `+activeSessionColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2`, sessionID, ts(s.now())).Scan(g.dest...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: active session: %w", mapErr(err))
	}
	return sess, u, nil
}

// activeSessionColumns are a session's columns (s.) then its user's (u.),
// as prefixed("s.", sessionColumns) + ", " + prefixed("u.", userColumns)
// spells them (a test holds that).
const activeSessionColumns = `s.id, s.user_id, s.device_info, s.ip_address, s.user_agent, s.remember_me,
	s.created_at, s.last_used_at, s.expires_at, s.revoked_at, u.id, u.email, u.password_hash, u.full_name,
	u.phone, u.timezone, u.avatar_url, u.status, u.system_role, u.email_verified, u.email_verified_at,
	u.phone_verified, u.last_login_at, u.onboarding_completed, u.preferences, u.failed_logins, u.locked_until,
	u.created_at, u.updated_at`

// gathered collects the destinations that scan functions (scanSession,
// scanUser…) ask a row for, so that one row of a join fills the values of
// several: call each scan function with it first, then scan the row once
// into dest.
type gathered struct{ dest []any }

// Scan records dest; it never fails.
func (g *gathered) Scan(dest ...any) error {
	g.dest = append(g.dest, dest...)
	return nil
}

// RotateRefreshToken exchanges the refresh token with hash oldHash for one
// with hash newHash within the same session, extending its expiry by ttl. A
// token that was already rotated revokes the whole session and returns
// ErrTokenReused; an unknown, expired or revoked one is ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash, newHash string, ttl time.Duration) (*care.Session, error) {
	var sess *care.Session
	reused := false
	var userID string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var sessionID string
		var rotatedAt *time.Time
		err := tx.QueryRowContext(ctx, `SELECT t.session_id, t.rotated_at, s.user_id
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
			WHERE t.token_hash = $1`, oldHash).Scan(&sessionID, nullTimeCol{&rotatedAt}, &userID)
		if err != nil {
			return mapErr(err)
		}
		if rotatedAt != nil {
			reused = true
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2, revoke_reason = 'refresh token reuse'
				WHERE id = $1 AND revoked_at IS NULL`, sessionID, ts(now))
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = $2
			WHERE token_hash = $1 AND rotated_at IS NULL`, oldHash, ts(now))
		if err != nil {
			return mapErr(err)
		}
		if err := expectOne(res, "rotate refresh token"); err != nil {
			return err
		}
		sess, err = scanSession(tx.QueryRowContext(ctx, `UPDATE sessions SET last_used_at = $2, expires_at = $3
			WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING `+sessionColumns,
			sessionID, ts(now), ts(now.Add(ttl))))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at)
			VALUES ($1, $2, $3)`, newHash, sessionID, ts(now))
		return mapErr(err)
	})
	if userID != "" {
		s.accountsChanged(ctx, userID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: rotate refresh token: %w", err)
	}
	if reused {
		return nil, fmt.Errorf("store: rotate refresh token: %w", ErrTokenReused)
	}
	return sess, nil
}

// SessionByRefreshToken finds the live session a current refresh token belongs to.
func (s *Store) SessionByRefreshToken(ctx context.Context, hash string) (*care.Session, error) {
	sess, err := scanSession(s.rq(ctx).QueryRowContext(ctx, `SELECT `+prefixed("s.", sessionColumns)+`
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.token_hash = $1 AND t.rotated_at IS NULL AND s.revoked_at IS NULL`, hash))
	if err != nil {
		return nil, fmt.Errorf("store: session by refresh token: %w", err)
	}
	return sess, nil
}

// RevokeSession ends one of the user's sessions.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID, reason string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `UPDATE sessions SET revoked_at = $3, revoke_reason = $4
		WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, sessionID, userID, ts(s.now()), reason)
	s.accountsChanged(ctx, userID)
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return expectOne(res, "revoke session")
}

// RevokeUserSessions ends every session of the user except keepSessionID
// (empty: all of them) and returns how many ended.
func (s *Store) RevokeUserSessions(ctx context.Context, userID, keepSessionID, reason string) (int64, error) {
	n, err := s.revokeUserSessions(ctx, s.wq(ctx), userID, keepSessionID, reason)
	s.accountsChanged(ctx, userID)
	return n, err
}

func (s *Store) revokeUserSessions(ctx context.Context, q querier, userID, keepSessionID, reason string) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $3, revoke_reason = $4
		WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2`,
		userID, orNilUUID(keepSessionID), ts(s.now()), reason)
	if err != nil {
		return 0, fmt.Errorf("store: revoke sessions: %w", err)
	}
	return res.RowsAffected()
}

// UserSessions lists the user's live sessions, most recently used first.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]care.Session, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
		ORDER BY last_used_at DESC`, userID, ts(s.now()))
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return collect(rows, scanSession)
}

// orNilUUID substitutes the nil UUID for an empty id, so comparisons against
// UUID columns stay well-typed on PostgreSQL.
func orNilUUID(id string) string {
	if id == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id
}

// scanString scans a one-column row of text, for collect.
func scanString(row interface{ Scan(...any) error }) (*string, error) {
	var v string
	if err := row.Scan(&v); err != nil {
		return nil, mapErr(err)
	}
	return &v, nil
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (*T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}
