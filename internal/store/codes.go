package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
)

// CodePurpose names what a user's short-lived state is for: a one-time code
// proving something, its resend cooldown, or the count of failures that
// locks an action.
type CodePurpose string

// Purposes.
const (
	// PurposeEmailVerify is the code that activates a new account.
	PurposeEmailVerify CodePurpose = "EMAIL_VERIFY"
	// PurposeLogin counts wrong passwords towards the login lockout.
	PurposeLogin CodePurpose = "LOGIN"
	// PurposePhoneVerify is the code texted to prove the account's phone.
	PurposePhoneVerify CodePurpose = "phone_verification"
)

// UserKey is the kv key of a user's state for purpose, "PURPOSE:userID".
// The database's Codes and Lockout accept only such keys (their rows belong
// to the user and go with the account); Redis and memory accept any key, so
// callers use UserKey with every backend.
func UserKey(purpose CodePurpose, userID string) string {
	return string(purpose) + ":" + userID
}

// parseUserKey splits a key made by UserKey.
func parseUserKey(key string) (purpose, userID string, err error) {
	purpose, userID, ok := strings.Cut(key, ":")
	if !ok || purpose == "" || userID == "" || strings.Contains(userID, ":") {
		return "", "", fmt.Errorf("store: %q is not a user key (PURPOSE:userID)", key)
	}
	return purpose, userID, nil
}

// The rows of one_time_codes, keyed by user and purpose, hold three kinds of
// state, told apart by the purpose's prefix:
//
//   - a code under "PURPOSE": code_hash, attempts (wrong tries), sent_at
//     (issued), expires_at;
//   - a resend cooldown under "COOLDOWN:PURPOSE": sent_at (claimed) and
//     expires_at (the claim's end);
//   - a lockout under "LOCKOUT:PURPOSE": attempts (failures in the counting
//     window), sent_at (the window's end) and expires_at (the lock's end; a
//     past instant when unlocked).
const (
	cooldownPrefix = "COOLDOWN:"
	lockoutPrefix  = "LOCKOUT:"
)

// Codes returns the database as kv.Codes: one-time codes, their wrong-try
// counts and resend cooldowns, for deployments without Redis and for a
// Redis outage. Keys must come from UserKey.
func (s *Store) Codes() kv.Codes { return dbCodes{s} }

// Lockout returns the database as kv.Lockout: failure counts and locks per
// user or per email address. Keys must come from UserKey or AddressKey.
func (s *Store) Lockout() kv.Lockout { return dbLockout{s} }

type dbCodes struct{ s *Store }

// preciseNow is the store's clock at the database's precision, so that what is
// returned equals what a later read finds.
func (s *Store) preciseNow() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Put implements kv.Codes: it replaces the user's code for the purpose and
// its wrong-try count.
func (c dbCodes) Put(ctx context.Context, key, codeHash string, ttl time.Duration) error {
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return err
	}
	now := c.s.preciseNow()
	_, err = c.s.wq(ctx).ExecContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
		attempts, sent_at, expires_at) VALUES ($1, $2, $3, 0, $4, $5)
		ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash,
			attempts = 0, sent_at = excluded.sent_at, expires_at = excluded.expires_at`,
		userID, purpose, codeHash, ts(now), ts(now.Add(ttl)))
	if err != nil {
		return fmt.Errorf("store: put code: %w", mapErr(err))
	}
	return nil
}

// Check implements kv.Codes.
func (c dbCodes) Check(ctx context.Context, key, codeHash string, maxTries int) (care.CodeOutcome, error) {
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return care.CodeAbsent, err
	}
	outcome := care.CodeAbsent
	err = c.s.inTx(ctx, func(tx *sql.Tx) error {
		now := c.s.preciseNow()
		// Each statement locks the row it changes, so of two racing correct
		// answers only one is accepted.
		res, err := tx.ExecContext(ctx, `DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2
			AND code_hash = $3 AND attempts < $4 AND expires_at > $5`,
			userID, purpose, codeHash, maxTries, ts(now))
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			outcome = care.CodeAccepted
			return nil
		}
		var tries int
		err = tx.QueryRowContext(ctx, `UPDATE one_time_codes SET attempts = attempts + 1
			WHERE user_id = $1 AND purpose = $2 AND attempts < $3 AND expires_at > $4
			RETURNING attempts`, userID, purpose, maxTries, ts(now)).Scan(&tries)
		switch err = mapErr(err); {
		case err == nil && tries >= maxTries:
			outcome = care.CodeVoided
			return nil
		case err == nil:
			outcome = care.CodeRejected
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		// Nothing live to count against: say why.
		var expiresAt time.Time
		err = tx.QueryRowContext(ctx, `SELECT attempts, expires_at FROM one_time_codes
			WHERE user_id = $1 AND purpose = $2`, userID, purpose).Scan(&tries, timeCol{&expiresAt})
		switch err = mapErr(err); {
		case errors.Is(err, ErrNotFound) || !now.Before(expiresAt.Add(kv.CodeRetention)):
			outcome = care.CodeAbsent
		case err != nil:
			return err
		case tries >= maxTries:
			outcome = care.CodeVoided
		default:
			outcome = care.CodeExpired
		}
		return nil
	})
	if err != nil {
		return care.CodeAbsent, fmt.Errorf("store: check code: %w", err)
	}
	return outcome, nil
}

// Cooldown implements kv.Codes.
func (c dbCodes) Cooldown(ctx context.Context, key string, d time.Duration) (bool, time.Duration, error) {
	if d <= 0 {
		return true, 0, nil
	}
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return false, 0, err
	}
	purpose = cooldownPrefix + purpose
	var (
		ok    bool
		retry time.Duration
	)
	err = c.s.inTx(ctx, func(tx *sql.Tx) error {
		now := c.s.preciseNow()
		// The conditional upsert claims the cooldown in one atomic step, so
		// two racing requests cannot both start one.
		res, err := tx.ExecContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
			attempts, sent_at, expires_at) VALUES ($1, $2, '', 0, $3, $4)
			ON CONFLICT (user_id, purpose) DO UPDATE SET sent_at = excluded.sent_at,
				expires_at = excluded.expires_at
			WHERE one_time_codes.expires_at <= $3`,
			userID, purpose, ts(now), ts(now.Add(d)))
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n > 0 {
			ok = true
			return nil
		}
		var until time.Time
		err = tx.QueryRowContext(ctx, `SELECT expires_at FROM one_time_codes WHERE user_id = $1 AND purpose = $2`,
			userID, purpose).Scan(timeCol{&until})
		if err != nil {
			return mapErr(err)
		}
		retry = until.Sub(now)
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("store: cooldown: %w", err)
	}
	return ok, retry, nil
}

// EndCooldown implements kv.Codes.
func (c dbCodes) EndCooldown(ctx context.Context, key string) error {
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return err
	}
	_, err = c.s.wq(ctx).ExecContext(ctx, `DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2`,
		userID, cooldownPrefix+purpose)
	if err != nil {
		return fmt.Errorf("store: end cooldown: %w", mapErr(err))
	}
	return nil
}

type dbLockout struct{ s *Store }

// Fail implements kv.Lockout.
func (l dbLockout) Fail(ctx context.Context, key string, p kv.LockoutPolicy) (bool, time.Time, error) {
	if isAddressKey(key) {
		return l.failAddress(ctx, key, p)
	}
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return false, time.Time{}, err
	}
	purpose = lockoutPrefix + purpose
	var (
		locked bool
		until  time.Time
	)
	err = l.s.inTx(ctx, func(tx *sql.Tx) error {
		now := l.s.preciseNow()
		// The no-op upsert creates the row or locks it, so racing failures
		// are counted one after the other.
		var (
			fails       int
			windowEnd   time.Time
			lockedUntil time.Time
		)
		err := tx.QueryRowContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
			attempts, sent_at, expires_at) VALUES ($1, $2, '', 0, $3, $3)
			ON CONFLICT (user_id, purpose) DO UPDATE SET attempts = one_time_codes.attempts
			RETURNING attempts, sent_at, expires_at`, userID, purpose, ts(now)).
			Scan(&fails, timeCol{&windowEnd}, timeCol{&lockedUntil})
		if err != nil {
			return mapErr(err)
		}
		var changed bool
		if changed, locked, until = countFailure(now, p, &fails, &windowEnd, &lockedUntil); !changed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE one_time_codes SET attempts = $3, sent_at = $4, expires_at = $5
			WHERE user_id = $1 AND purpose = $2`, userID, purpose, fails, ts(windowEnd), ts(lockedUntil))
		return mapErr(err)
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: lockout: %w", err)
	}
	return locked, until, nil
}

// countFailure counts one failure at now into a lockout's state (failures in
// the window, the window's end, the lock's end) under policy p. It reports
// whether the state changed and whether the key is locked, and until when.
func countFailure(now time.Time, p kv.LockoutPolicy, fails *int, windowEnd, lockedUntil *time.Time) (changed, locked bool, until time.Time) {
	if now.Before(*lockedUntil) {
		return false, true, *lockedUntil
	}
	if p.Max <= 0 || p.LockFor <= 0 {
		return false, false, time.Time{}
	}
	if !now.Before(*windowEnd) {
		*fails = 0
		*windowEnd = now.Add(lockoutWindow(p))
	}
	*fails++
	if *fails >= p.Max {
		// The lock restarts the count.
		*fails, *windowEnd, *lockedUntil = 0, now, now.Add(p.LockFor)
		return true, true, *lockedUntil
	}
	return true, false, time.Time{}
}

// lockoutWindow is the policy's counting window, LockFor when unset.
func lockoutWindow(p kv.LockoutPolicy) time.Duration {
	if p.Window > 0 {
		return p.Window
	}
	return p.LockFor
}

// Locked implements kv.Lockout.
func (l dbLockout) Locked(ctx context.Context, key string) (bool, time.Time, error) {
	if isAddressKey(key) {
		return l.addressLocked(ctx, key)
	}
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return false, time.Time{}, err
	}
	return l.lockedUntil(l.s.rq(ctx).QueryRowContext(ctx, `SELECT expires_at FROM one_time_codes WHERE user_id = $1 AND purpose = $2`,
		userID, lockoutPrefix+purpose), "lockout")
}

// Reset implements kv.Lockout.
func (l dbLockout) Reset(ctx context.Context, key string) error {
	if isAddressKey(key) {
		return l.resetAddress(ctx, key)
	}
	purpose, userID, err := parseUserKey(key)
	if err != nil {
		return err
	}
	_, err = l.s.wq(ctx).ExecContext(ctx, `DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2`,
		userID, lockoutPrefix+purpose)
	if err != nil {
		return fmt.Errorf("store: lockout reset: %w", mapErr(err))
	}
	return nil
}
