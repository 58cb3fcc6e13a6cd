package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// CodePurpose names what a one-time code proves. A user holds at most one
// live code per purpose; issuing a new one replaces it.
type CodePurpose string

// Code purposes.
const (
	PurposeEmailVerify CodePurpose = "EMAIL_VERIFY"
)

// CooldownError refuses a new code requested before the previous one's
// cooldown has passed.
type CooldownError struct {
	// Until is when a new code may be issued.
	Until time.Time
}

func (e *CooldownError) Error() string {
	return "a code was sent recently; next one allowed at " + e.Until.UTC().Format(time.RFC3339)
}

// CodeRequest describes a one-time code to issue.
type CodeRequest struct {
	UserID   string
	Purpose  CodePurpose
	CodeHash string
	// TTL is how long the code may be used.
	TTL time.Duration
	// Cooldown is the least time between two codes of the same purpose; a
	// request within it fails with *CooldownError and changes nothing.
	Cooldown time.Duration
}

// IssueCode stores a new code for the user and purpose, replacing the
// previous one and resetting its wrong-try count.
func (s *Store) IssueCode(ctx context.Context, req CodeRequest) error {
	now := s.now()
	// The conditional upsert makes the cooldown check and the replacement
	// one atomic step, so two racing requests cannot both send a code.
	res, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO one_time_codes (user_id, purpose, code_hash,
		attempts, sent_at, expires_at) VALUES ($1, $2, $3, 0, $4, $5)
		ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash,
			attempts = 0, sent_at = excluded.sent_at, expires_at = excluded.expires_at
		WHERE one_time_codes.sent_at <= $6`,
		req.UserID, string(req.Purpose), req.CodeHash, ts(now), ts(now.Add(req.TTL)),
		ts(now.Add(-req.Cooldown)))
	if err != nil {
		return fmt.Errorf("store: issue code: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: issue code: %w", err)
	}
	if n > 0 {
		return nil
	}
	var sentAt time.Time
	err = s.wq(ctx).QueryRowContext(ctx, `SELECT sent_at FROM one_time_codes WHERE user_id = $1 AND purpose = $2`,
		req.UserID, string(req.Purpose)).Scan(timeCol{&sentAt})
	if err != nil {
		return fmt.Errorf("store: issue code: read cooldown: %w", mapErr(err))
	}
	return &CooldownError{Until: sentAt.Add(req.Cooldown)}
}

// CheckCode presents a code for the user and purpose. A match uses the code
// up; a mismatch counts a wrong try, and the maxTries-th wrong try voids the
// code until a new one is issued. Expired, voided and absent codes count
// nothing. The error reports only database failures.
func (s *Store) CheckCode(ctx context.Context, userID string, purpose CodePurpose, codeHash string, maxTries int) (care.CodeOutcome, error) {
	outcome := care.CodeAbsent
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(s.now())
		// Each statement locks the row it changes, so of two racing correct
		// answers only one is accepted.
		res, err := tx.ExecContext(ctx, `DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2
			AND code_hash = $3 AND attempts < $4 AND expires_at > $5`,
			userID, string(purpose), codeHash, maxTries, now)
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
			RETURNING attempts`, userID, string(purpose), maxTries, now).Scan(&tries)
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
			WHERE user_id = $1 AND purpose = $2`, userID, string(purpose)).Scan(&tries, timeCol{&expiresAt})
		switch err = mapErr(err); {
		case errors.Is(err, ErrNotFound):
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
