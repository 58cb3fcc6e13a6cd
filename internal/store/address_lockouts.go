package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/kv"
)

// AddressKey is the kv key of state kept for an email address rather than
// an account, "PURPOSE@sha256(address)": failures against an address count
// and lock alike whether or not an account has it. The address is
// normalised (trimmed, lower case) and never kept in the clear.
func AddressKey(purpose CodePurpose, address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return string(purpose) + "@" + hex.EncodeToString(sum[:])
}

// isAddressKey tells keys made by AddressKey from those made by UserKey.
func isAddressKey(key string) bool {
	purpose, digest, ok := strings.Cut(key, "@")
	return ok && purpose != "" && len(digest) == sha256.Size*2 && !strings.Contains(purpose, ":")
}

// failAddress is dbLockout.Fail for an address key, in address_lockouts.
func (l dbLockout) failAddress(ctx context.Context, key string, p kv.LockoutPolicy) (bool, time.Time, error) {
	var (
		locked bool
		until  time.Time
	)
	err := l.s.inTx(ctx, func(tx *sql.Tx) error {
		now := l.s.preciseNow()
		// Rows whose window and lock have both ended mean nothing; sweeping
		// them here bounds the table by the failures of the last lock period.
		if _, err := tx.ExecContext(ctx, `DELETE FROM address_lockouts WHERE expires_at <= $1`, ts(now)); err != nil {
			return mapErr(err)
		}
		var (
			fails       int
			windowEnd   time.Time
			lockedUntil time.Time
		)
		// The no-op upsert creates the row or locks it, so racing failures
		// are counted one after the other.
		err := tx.QueryRowContext(ctx, `INSERT INTO address_lockouts (key, attempts, window_ends_at,
			locked_until, expires_at) VALUES ($1, 0, $2, $2, $2)
			ON CONFLICT (key) DO UPDATE SET attempts = address_lockouts.attempts
			RETURNING attempts, window_ends_at, locked_until`, key, ts(now)).
			Scan(&fails, timeCol{&windowEnd}, timeCol{&lockedUntil})
		if err != nil {
			return mapErr(err)
		}
		var changed bool
		if changed, locked, until = countFailure(now, p, &fails, &windowEnd, &lockedUntil); !changed {
			return nil
		}
		expires := windowEnd
		if lockedUntil.After(expires) {
			expires = lockedUntil
		}
		_, err = tx.ExecContext(ctx, `UPDATE address_lockouts SET attempts = $2, window_ends_at = $3,
			locked_until = $4, expires_at = $5 WHERE key = $1`, key, fails, ts(windowEnd), ts(lockedUntil), ts(expires))
		return mapErr(err)
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: address lockout: %w", err)
	}
	return locked, until, nil
}

// addressLocked is dbLockout.Locked for an address key.
func (l dbLockout) addressLocked(ctx context.Context, key string) (bool, time.Time, error) {
	return l.lockedUntil(l.s.rq(ctx).QueryRowContext(ctx, `SELECT locked_until FROM address_lockouts WHERE key = $1`, key),
		"address lockout")
}

// lockedUntil reads the end of a lock from row (none: not locked) and
// reports whether it is still in force.
func (l dbLockout) lockedUntil(row *sql.Row, what string) (bool, time.Time, error) {
	var until time.Time
	switch err := mapErr(row.Scan(timeCol{&until})); {
	case errors.Is(err, ErrNotFound):
		return false, time.Time{}, nil
	case err != nil:
		return false, time.Time{}, fmt.Errorf("store: %s: %w", what, err)
	case l.s.preciseNow().Before(until):
		return true, until, nil
	}
	return false, time.Time{}, nil
}

// resetAddress is dbLockout.Reset for an address key.
func (l dbLockout) resetAddress(ctx context.Context, key string) error {
	if _, err := l.s.wq(ctx).ExecContext(ctx, `DELETE FROM address_lockouts WHERE key = $1`, key); err != nil {
		return fmt.Errorf("store: address lockout reset: %w", mapErr(err))
	}
	return nil
}
