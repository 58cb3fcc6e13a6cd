package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// CreatePasswordReset records a reset link for the user; only the hash of
// its token is kept. The link works once, within ttl, and voids every
// earlier link of the user: only the newest one mailed can be used.
func (s *Store) CreatePasswordReset(ctx context.Context, userID, tokenHash string, ttl time.Duration) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = $2
			WHERE user_id = $1 AND used_at IS NULL`, userID, ts(now)); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at,
			expires_at) VALUES ($1, $2, $3, $4)`, tokenHash, userID, ts(now), ts(now.Add(ttl)))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("store: create password reset: %w", err)
	}
	return nil
}

// PasswordResetUser returns the user a live (unused, unexpired) reset token
// belongs to. Anything else is ErrNotFound.
func (s *Store) PasswordResetUser(ctx context.Context, tokenHash string) (*care.User, error) {
	u, err := scanUser(s.rq(ctx).QueryRowContext(ctx, `SELECT `+prefixed("u.", userColumns)+`
		FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2`, tokenHash, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: password reset: %w", err)
	}
	return u, nil
}

// ResetPassword spends a live reset token: it sets the user's password hash,
// voids every other reset link of the user and ends all their sessions. An
// unknown, used or expired token is ErrNotFound and changes nothing.
func (s *Store) ResetPassword(ctx context.Context, tokenHash, passwordHash string) (*care.User, error) {
	var u *care.User
	var userID string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(s.now())
		// The conditional update claims the token, so it is spent once even
		// when two resets race.
		err := tx.QueryRowContext(ctx, `UPDATE password_resets SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id`,
			tokenHash, now).Scan(&userID)
		if err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = $2
			WHERE user_id = $1 AND used_at IS NULL`, userID, now); err != nil {
			return mapErr(err)
		}
		if err := s.setPassword(ctx, tx, userID, passwordHash); err != nil {
			return err
		}
		if _, err := s.revokeUserSessions(ctx, tx, userID, "", "password reset"); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, userID))
		return err
	})
	if userID != "" {
		s.accountsChanged(ctx, userID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reset password: %w", err)
	}
	return u, nil
}

// ChangePassword sets the user's password hash and ends every session of
// theirs except keepSessionID, in one transaction.
func (s *Store) ChangePassword(ctx context.Context, userID, passwordHash, keepSessionID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.setPassword(ctx, tx, userID, passwordHash); err != nil {
			return err
		}
		_, err := s.revokeUserSessions(ctx, tx, userID, keepSessionID, "password changed")
		return err
	})
	s.accountsChanged(ctx, userID)
	if err != nil {
		return fmt.Errorf("store: change password: %w", err)
	}
	return nil
}
