// Package dbkv keeps one-time codes, their resend cooldowns and lockouts in
// the database, as kv.Codes and kv.Lockout: for deployments without Redis,
// and for a Redis outage (kv.Resilient falls back to them). The rules are
// the same as the memory and Redis implementations' (kv/kvtest holds all of
// them to one behaviour); the rows are the store's, read and written through
// its plain data-access methods.
//
// Keys must come from store.UserKey (a user's rows in one_time_codes, which
// go with the account) or, for lockouts, store.AddressKey (address_lockouts).
package dbkv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// A user's rows in one_time_codes hold three kinds of state, told apart by
// the purpose's prefix:
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
// counts and resend cooldowns. Keys must come from store.UserKey.
func Codes(st *store.Store) kv.Codes { return codes{st} }

// Lockout returns the database as kv.Lockout: failure counts and locks per
// user or per email address. Keys must come from store.UserKey or
// store.AddressKey.
func Lockout(st *store.Store) kv.Lockout { return lockout{st} }

type codes struct{ st *store.Store }

// Put implements kv.Codes: it replaces the user's code for the purpose and
// its wrong-try count.
func (c codes) Put(ctx context.Context, key, codeHash string, ttl time.Duration) error {
	purpose, userID, err := store.SplitUserKey(key)
	if err != nil {
		return err
	}
	now := c.st.Now()
	err = c.st.PutCodeRow(ctx, userID, purpose, store.CodeRow{CodeHash: codeHash, SentAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return fmt.Errorf("dbkv: put code: %w", err)
	}
	return nil
}

// Check implements kv.Codes.
func (c codes) Check(ctx context.Context, key, codeHash string, maxTries int) (care.CodeOutcome, error) {
	purpose, userID, err := store.SplitUserKey(key)
	if err != nil {
		return care.CodeAbsent, err
	}
	outcome := care.CodeAbsent
	err = c.st.Atomically(ctx, func(ctx context.Context) error {
		now := c.st.Now()
		// Each statement locks the row it changes, so of two racing correct
		// answers only one is accepted.
		taken, err := c.st.TakeCode(ctx, userID, purpose, codeHash, maxTries, now)
		if err != nil {
			return err
		}
		if taken {
			outcome = care.CodeAccepted
			return nil
		}
		tries, err := c.st.CountCodeAttempt(ctx, userID, purpose, maxTries, now)
		switch {
		case err == nil && tries >= maxTries:
			outcome = care.CodeVoided
			return nil
		case err == nil:
			outcome = care.CodeRejected
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// Nothing live to count against: say why.
		r, err := c.st.CodeRowOf(ctx, userID, purpose)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && !now.Before(r.ExpiresAt.Add(kv.CodeRetention)):
			outcome = care.CodeAbsent
		case err != nil:
			return err
		case r.Attempts >= maxTries:
			outcome = care.CodeVoided
		default:
			outcome = care.CodeExpired
		}
		return nil
	})
	if err != nil {
		return care.CodeAbsent, fmt.Errorf("dbkv: check code: %w", err)
	}
	return outcome, nil
}

// Cooldown implements kv.Codes.
func (c codes) Cooldown(ctx context.Context, key string, d time.Duration) (bool, time.Duration, error) {
	if d <= 0 {
		return true, 0, nil
	}
	purpose, userID, err := store.SplitUserKey(key)
	if err != nil {
		return false, 0, err
	}
	purpose = cooldownPrefix + purpose
	var (
		ok    bool
		retry time.Duration
	)
	err = c.st.Atomically(ctx, func(ctx context.Context) error {
		now := c.st.Now()
		var err error
		if ok, err = c.st.ClaimCodeRow(ctx, userID, purpose, now, now, now.Add(d)); err != nil || ok {
			return err
		}
		r, err := c.st.CodeRowOf(ctx, userID, purpose)
		if err != nil {
			return err
		}
		retry = r.ExpiresAt.Sub(now)
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("dbkv: cooldown: %w", err)
	}
	return ok, retry, nil
}

// EndCooldown implements kv.Codes.
func (c codes) EndCooldown(ctx context.Context, key string) error {
	purpose, userID, err := store.SplitUserKey(key)
	if err != nil {
		return err
	}
	if err := c.st.DeleteCodeRow(ctx, userID, cooldownPrefix+purpose); err != nil {
		return fmt.Errorf("dbkv: end cooldown: %w", err)
	}
	return nil
}

type lockout struct{ st *store.Store }

// Fail implements kv.Lockout.
func (l lockout) Fail(ctx context.Context, key string, p kv.LockoutPolicy) (bool, time.Time, error) {
	if store.IsAddressKey(key) {
		return l.failAddress(ctx, key, p)
	}
	purpose, userID, err := store.SplitUserKey(key)
	if err != nil {
		return false, time.Time{}, err
	}
	purpose = lockoutPrefix + purpose
	var (
		locked bool
		until  time.Time
	)
	err = l.st.Atomically(ctx, func(ctx context.Context) error {
		now := l.st.Now()
		// The row is created or locked first, so racing failures are
		// counted one after the other.
		r, err := l.st.LockCodeRow(ctx, userID, purpose, now)
		if err != nil {
			return err
		}
		var changed bool
		if changed, locked, until = countFailure(now, p, &r.Attempts, &r.SentAt, &r.ExpiresAt); !changed {
			return nil
		}
		return l.st.UpdateCodeRow(ctx, userID, purpose, r)
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("dbkv: lockout: %w", err)
	}
	return locked, until, nil
}

// failAddress is Fail for an address key, in address_lockouts.
func (l lockout) failAddress(ctx context.Context, key string, p kv.LockoutPolicy) (bool, time.Time, error) {
	var (
		locked bool
		until  time.Time
	)
	err := l.st.Atomically(ctx, func(ctx context.Context) error {
		now := l.st.Now()
		// Rows whose window and lock have both ended mean nothing; sweeping
		// them here bounds the table by the failures of the last lock period.
		if err := l.st.SweepAddressLockouts(ctx, now); err != nil {
			return err
		}
		// The row is created or locked first, so racing failures are
		// counted one after the other.
		r, err := l.st.LockAddressLockout(ctx, key, now)
		if err != nil {
			return err
		}
		var changed bool
		if changed, locked, until = countFailure(now, p, &r.Attempts, &r.WindowEndsAt, &r.LockedUntil); !changed {
			return nil
		}
		r.ExpiresAt = r.WindowEndsAt
		if r.LockedUntil.After(r.ExpiresAt) {
			r.ExpiresAt = r.LockedUntil
		}
		return l.st.UpdateAddressLockout(ctx, key, r)
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("dbkv: address lockout: %w", err)
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
func (l lockout) Locked(ctx context.Context, key string) (bool, time.Time, error) {
	var (
		until time.Time
		err   error
		what  = "lockout"
	)
	if store.IsAddressKey(key) {
		what = "address lockout"
		until, err = l.st.AddressLockedUntil(ctx, key)
	} else {
		purpose, userID, kerr := store.SplitUserKey(key)
		if kerr != nil {
			return false, time.Time{}, kerr
		}
		var r store.CodeRow
		r, err = l.st.CodeRowOf(ctx, userID, lockoutPrefix+purpose)
		until = r.ExpiresAt
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, time.Time{}, nil
	case err != nil:
		return false, time.Time{}, fmt.Errorf("dbkv: %s: %w", what, err)
	case l.st.Now().Before(until):
		return true, until, nil
	}
	return false, time.Time{}, nil
}

// Reset implements kv.Lockout.
func (l lockout) Reset(ctx context.Context, key string) error {
	if store.IsAddressKey(key) {
		if err := l.st.DeleteAddressLockout(ctx, key); err != nil {
			return fmt.Errorf("dbkv: address lockout reset: %w", err)
		}
		return nil
	}
	purpose, userID, err := store.SplitUserKey(key)
	if err != nil {
		return err
	}
	if err := l.st.DeleteCodeRow(ctx, userID, lockoutPrefix+purpose); err != nil {
		return fmt.Errorf("dbkv: lockout reset: %w", err)
	}
	return nil
}
