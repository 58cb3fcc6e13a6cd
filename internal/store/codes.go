package store

import (
	"context"
	"fmt"
	"strings"
	"time"
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

// UserKey is the key of a user's state for purpose, "PURPOSE:userID". The
// database-backed codes and lockouts (internal/kv/dbkv) accept only such
// keys (their rows belong to the user and go with the account); Redis and
// memory accept any key, so callers use UserKey with every backend.
func UserKey(purpose CodePurpose, userID string) string {
	return string(purpose) + ":" + userID
}

// SplitUserKey splits a key made by UserKey.
func SplitUserKey(key string) (purpose, userID string, err error) {
	purpose, userID, ok := strings.Cut(key, ":")
	if !ok || purpose == "" || userID == "" || strings.Contains(userID, ":") {
		return "", "", fmt.Errorf("store: %q is not a user key (PURPOSE:userID)", key)
	}
	return purpose, userID, nil
}

// Now is the store's clock at the database's precision, so that an instant
// written equals what a later read finds.
func (s *Store) Now() time.Time { return s.now() }

// CodeRow is a row of one_time_codes, a user's short-lived state for one
// purpose: what its fields mean is the caller's (a code, a cooldown, a
// lockout); internal/kv/dbkv says.
type CodeRow struct {
	CodeHash  string
	Attempts  int
	SentAt    time.Time
	ExpiresAt time.Time
}

// PutCodeRow writes the user's row for purpose, replacing any.
func (s *Store) PutCodeRow(ctx context.Context, userID, purpose string, r CodeRow) error {
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
		attempts, sent_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash,
			attempts = excluded.attempts, sent_at = excluded.sent_at, expires_at = excluded.expires_at`,
		userID, purpose, r.CodeHash, r.Attempts, ts(r.SentAt), ts(r.ExpiresAt))
	return mapErr(err)
}

// ClaimCodeRow writes the user's row for purpose, with no code and no
// attempts, unless one exists whose expires_at is after now; it reports
// whether it wrote. The check and the write are one statement, so of two
// racing claims one wins.
func (s *Store) ClaimCodeRow(ctx context.Context, userID, purpose string, now, sentAt, expiresAt time.Time) (bool, error) {
	res, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
		attempts, sent_at, expires_at) VALUES ($1, $2, '', 0, $4, $5)
		ON CONFLICT (user_id, purpose) DO UPDATE SET sent_at = excluded.sent_at,
			expires_at = excluded.expires_at
		WHERE one_time_codes.expires_at <= $3`,
		userID, purpose, ts(now), ts(sentAt), ts(expiresAt))
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// TakeCode deletes the user's row for purpose if it holds codeHash, has
// fewer than maxTries attempts and expires after now, and reports whether
// it did. One statement: of two racing takes, one succeeds.
func (s *Store) TakeCode(ctx context.Context, userID, purpose, codeHash string, maxTries int, now time.Time) (bool, error) {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2
		AND code_hash = $3 AND attempts < $4 AND expires_at > $5`,
		userID, purpose, codeHash, maxTries, ts(now))
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CountCodeAttempt adds one attempt to the user's row for purpose if it has
// fewer than maxTries and expires after now, and returns the new count;
// ErrNotFound when there is no such row.
func (s *Store) CountCodeAttempt(ctx context.Context, userID, purpose string, maxTries int, now time.Time) (int, error) {
	var tries int
	err := s.wq(ctx).QueryRowContext(ctx, `UPDATE one_time_codes SET attempts = attempts + 1
		WHERE user_id = $1 AND purpose = $2 AND attempts < $3 AND expires_at > $4
		RETURNING attempts`, userID, purpose, maxTries, ts(now)).Scan(&tries)
	return tries, mapErr(err)
}

// CodeRowOf reads the user's row for purpose (without its code hash);
// ErrNotFound when there is none.
func (s *Store) CodeRowOf(ctx context.Context, userID, purpose string) (CodeRow, error) {
	var r CodeRow
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT attempts, sent_at, expires_at FROM one_time_codes
		WHERE user_id = $1 AND purpose = $2`, userID, purpose).
		Scan(&r.Attempts, timeCol{&r.SentAt}, timeCol{&r.ExpiresAt})
	return r, mapErr(err)
}

// LockCodeRow returns the user's row for purpose (without its code hash),
// creating it with no attempts and both instants at now when there is none,
// and locks it until the transaction ctx carries ends, so that racing
// changes to it go one after the other.
func (s *Store) LockCodeRow(ctx context.Context, userID, purpose string, now time.Time) (CodeRow, error) {
	var r CodeRow
	err := s.wq(ctx).QueryRowContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
		attempts, sent_at, expires_at) VALUES ($1, $2, '', 0, $3, $3)
		ON CONFLICT (user_id, purpose) DO UPDATE SET attempts = one_time_codes.attempts
		RETURNING attempts, sent_at, expires_at`, userID, purpose, ts(now)).
		Scan(&r.Attempts, timeCol{&r.SentAt}, timeCol{&r.ExpiresAt})
	return r, mapErr(err)
}

// UpdateCodeRow sets the attempts and instants of the user's row for
// purpose, keeping its code hash.
func (s *Store) UpdateCodeRow(ctx context.Context, userID, purpose string, r CodeRow) error {
	_, err := s.wq(ctx).ExecContext(ctx, `UPDATE one_time_codes SET attempts = $3, sent_at = $4, expires_at = $5
		WHERE user_id = $1 AND purpose = $2`, userID, purpose, r.Attempts, ts(r.SentAt), ts(r.ExpiresAt))
	return mapErr(err)
}

// DeleteCodeRow deletes the user's row for purpose, if any.
func (s *Store) DeleteCodeRow(ctx context.Context, userID, purpose string) error {
	_, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2`,
		userID, purpose)
	return mapErr(err)
}
