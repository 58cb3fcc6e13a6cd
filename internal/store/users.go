package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

const userColumns = `id, email, password_hash, full_name, phone, timezone, avatar_url, status,
	system_role, email_verified, email_verified_at, phone_verified, last_login_at,
	onboarding_completed, preferences, failed_logins, locked_until, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*care.User, error) {
	var u care.User
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.FullName, &u.Phone, &u.Timezone,
		&u.AvatarURL, &u.Status, &u.SystemRole, &u.EmailVerified, nullTimeCol{&u.EmailVerifiedAt},
		&u.PhoneVerified, nullTimeCol{&u.LastLoginAt}, &u.OnboardingCompleted,
		jsonCol{&u.Preferences}, &u.FailedLogins, nullTimeCol{&u.LockedUntil},
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &u, nil
}

// NewUser is what registration supplies.
type NewUser struct {
	Email        string
	PasswordHash string
	FullName     string
	Phone        *string
	Timezone     string
	Status       care.UserStatus
	SystemRole   care.SystemRole
}

// CreateUser inserts an account. A taken email is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (*care.User, error) {
	return s.createUser(ctx, s.wq(ctx), nu)
}

func (s *Store) createUser(ctx context.Context, q querier, nu NewUser) (*care.User, error) {
	now := s.now()
	if nu.SystemRole == "" {
		nu.SystemRole = care.SystemUser
	}
	row := q.QueryRowContext(ctx, `INSERT INTO users (id, email, password_hash, full_name, phone,
		timezone, status, system_role, preferences, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}', $9, $9) RETURNING `+userColumns,
		newID(), nu.Email, nu.PasswordHash, nu.FullName, nu.Phone, nu.Timezone, nu.Status,
		nu.SystemRole, ts(now))
	u, err := scanUser(row)
	if err != nil {
		return nil, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// UserByID loads an account.
func (s *Store) UserByID(ctx context.Context, id string) (*care.User, error) {
	u, err := scanUser(s.rq(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail loads an account by its normalised email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*care.User, error) {
	u, err := scanUser(s.rq(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if err != nil {
		return nil, fmt.Errorf("store: user by email: %w", err)
	}
	return u, nil
}

// UserPatch lists profile fields to change; nil fields stay as they are.
// ClearPhone and ClearAvatar set those fields to NULL.
type UserPatch struct {
	FullName    *string
	Phone       *string
	ClearPhone  bool
	Timezone    *string
	AvatarURL   *string
	ClearAvatar bool
	Preferences json.RawMessage
}

// UpdateUser applies a profile patch and returns the updated account.
func (s *Store) UpdateUser(ctx context.Context, id string, p UserPatch) (*care.User, error) {
	var u *care.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		if err != nil {
			return err
		}
		if p.FullName != nil {
			cur.FullName = *p.FullName
		}
		if p.Phone != nil {
			if cur.Phone == nil || *cur.Phone != *p.Phone {
				cur.PhoneVerified = false
			}
			cur.Phone = p.Phone
		}
		if p.ClearPhone {
			cur.Phone, cur.PhoneVerified = nil, false
		}
		if p.Timezone != nil {
			cur.Timezone = *p.Timezone
		}
		if p.AvatarURL != nil {
			cur.AvatarURL = p.AvatarURL
		}
		if p.ClearAvatar {
			cur.AvatarURL = nil
		}
		if p.Preferences != nil {
			cur.Preferences = p.Preferences
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `UPDATE users SET full_name = $2, phone = $3,
			phone_verified = $4, timezone = $5, avatar_url = $6, preferences = $7, updated_at = $8
			WHERE id = $1 RETURNING `+userColumns,
			id, cur.FullName, cur.Phone, cur.PhoneVerified, cur.Timezone, cur.AvatarURL,
			jsonArg(cur.Preferences), ts(s.now())))
		return err
	})
	s.accountsChanged(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: update user: %w", err)
	}
	return u, nil
}

// CompleteOnboarding marks the user's onboarding as done.
func (s *Store) CompleteOnboarding(ctx context.Context, id string) (*care.User, error) {
	u, err := scanUser(s.wq(ctx).QueryRowContext(ctx, `UPDATE users SET onboarding_completed = TRUE,
		updated_at = $2 WHERE id = $1 RETURNING `+userColumns, id, ts(s.now())))
	s.accountsChanged(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: complete onboarding: %w", err)
	}
	return u, nil
}

// ActivateUser marks the email verified and the account ACTIVE.
func (s *Store) ActivateUser(ctx context.Context, id string) (*care.User, error) {
	now := ts(s.now())
	u, err := scanUser(s.wq(ctx).QueryRowContext(ctx, `UPDATE users SET status = $2, email_verified = TRUE,
		email_verified_at = $3, updated_at = $3 WHERE id = $1 RETURNING `+userColumns,
		id, care.UserActive, now))
	s.accountsChanged(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: activate user: %w", err)
	}
	return u, nil
}

// RecordLoginFailure counts a failed password and locks the account for
// lockFor once maxFailures is reached. It returns the updated account.
func (s *Store) RecordLoginFailure(ctx context.Context, id string, maxFailures int, lockFor time.Duration) (*care.User, error) {
	now := s.now()
	u, err := scanUser(s.wq(ctx).QueryRowContext(ctx, `UPDATE users SET
		failed_logins = failed_logins + 1,
		locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END,
		updated_at = $4
		WHERE id = $1 RETURNING `+userColumns,
		id, maxFailures, ts(now.Add(lockFor)), ts(now)))
	s.accountsChanged(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: record login failure: %w", err)
	}
	if u.LockedUntil != nil && u.FailedLogins >= maxFailures {
		// The lock has been set; restart the count for the next window.
		if _, err := s.wq(ctx).ExecContext(ctx, `UPDATE users SET failed_logins = 0 WHERE id = $1`, id); err != nil {
			return nil, fmt.Errorf("store: reset login failures: %w", err)
		}
	}
	return u, nil
}

// RecordLoginSuccess clears failures and stamps the login time.
func (s *Store) RecordLoginSuccess(ctx context.Context, id string) error {
	now := ts(s.now())
	_, err := s.wq(ctx).ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL,
		last_login_at = $2 WHERE id = $1`, id, now)
	s.accountsChanged(ctx, id)
	if err != nil {
		return fmt.Errorf("store: record login: %w", err)
	}
	return nil
}

// SetPassword replaces the password hash.
func (s *Store) SetPassword(ctx context.Context, id, hash string) error {
	err := s.setPassword(ctx, s.wq(ctx), id, hash)
	s.accountsChanged(ctx, id)
	return err
}

// setPassword replaces the password hash and lifts any login lock.
func (s *Store) setPassword(ctx context.Context, q querier, id, hash string) error {
	res, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $2, failed_logins = 0,
		locked_until = NULL, updated_at = $3 WHERE id = $1`, id, hash, ts(s.now()))
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return expectOne(res, "set password")
}

// expectOne turns "no row changed" into ErrNotFound.
func expectOne(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}
