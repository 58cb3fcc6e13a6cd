package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns a named value the system keeps (ok is false when unset).
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.rq(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return value, true, nil
}

// PutSettingIfAbsent stores value under key unless a value is already there,
// and returns the value that is kept, so nodes starting together agree.
func (s *Store) PutSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	if _, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, value, ts(s.now())); err != nil {
		return "", fmt.Errorf("store: put setting %s: %w", key, err)
	}
	var kept string
	if err := s.wq(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&kept); err != nil {
		return "", fmt.Errorf("store: read setting %s: %w", key, err)
	}
	return kept, nil
}
