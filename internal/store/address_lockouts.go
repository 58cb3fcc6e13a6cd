package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// AddressKey is the key of state kept for an email address rather than an
// account, "PURPOSE@sha256(address)": failures against an address count and
// lock alike whether or not an account has it. The address is normalised
// (trimmed, lower case) and never kept in the clear.
func AddressKey(purpose CodePurpose, address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return string(purpose) + "@" + hex.EncodeToString(sum[:])
}

// IsAddressKey tells keys made by AddressKey from those made by UserKey.
func IsAddressKey(key string) bool {
	purpose, digest, ok := strings.Cut(key, "@")
	return ok && purpose != "" && len(digest) == sha256.Size*2 && !strings.Contains(purpose, ":")
}

// AddressLockout is a row of address_lockouts: the failures counted against
// an address key, when their counting window ends, until when the key is
// locked, and when the row means nothing any more.
type AddressLockout struct {
	Attempts     int
	WindowEndsAt time.Time
	LockedUntil  time.Time
	ExpiresAt    time.Time
}

// SweepAddressLockouts deletes the rows that expired by now.
func (s *Store) SweepAddressLockouts(ctx context.Context, now time.Time) error {
	_, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM address_lockouts WHERE expires_at <= $1`, ts(now))
	return mapErr(err)
}

// LockAddressLockout returns the key's row, creating it with no attempts and
// every instant at now when there is none, and locks it until the
// transaction ctx carries ends, so that racing changes go one after the
// other.
func (s *Store) LockAddressLockout(ctx context.Context, key string, now time.Time) (AddressLockout, error) {
	var l AddressLockout
	err := s.wq(ctx).QueryRowContext(ctx, `INSERT INTO address_lockouts (key, attempts, window_ends_at,
		locked_until, expires_at) VALUES ($1, 0, $2, $2, $2)
		ON CONFLICT (key) DO UPDATE SET attempts = address_lockouts.attempts
		RETURNING attempts, window_ends_at, locked_until, expires_at`, key, ts(now)).
		Scan(&l.Attempts, timeCol{&l.WindowEndsAt}, timeCol{&l.LockedUntil}, timeCol{&l.ExpiresAt})
	return l, mapErr(err)
}

// UpdateAddressLockout writes the key's row.
func (s *Store) UpdateAddressLockout(ctx context.Context, key string, l AddressLockout) error {
	_, err := s.wq(ctx).ExecContext(ctx, `UPDATE address_lockouts SET attempts = $2, window_ends_at = $3,
		locked_until = $4, expires_at = $5 WHERE key = $1`,
		key, l.Attempts, ts(l.WindowEndsAt), ts(l.LockedUntil), ts(l.ExpiresAt))
	return mapErr(err)
}

// AddressLockedUntil reads the end of the key's lock; ErrNotFound when it
// has no row.
func (s *Store) AddressLockedUntil(ctx context.Context, key string) (time.Time, error) {
	var until time.Time
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT locked_until FROM address_lockouts WHERE key = $1`, key).
		Scan(timeCol{&until})
	return until, mapErr(err)
}

// DeleteAddressLockout deletes the key's row, if any.
func (s *Store) DeleteAddressLockout(ctx context.Context, key string) error {
	_, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM address_lockouts WHERE key = $1`, key)
	return mapErr(err)
}
