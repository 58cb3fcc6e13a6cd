package store

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// SetSystemRole gives the account with this (normalised) email a role across
// the whole installation and returns it updated; ErrNotFound when no account
// has the email.
func (s *Store) SetSystemRole(ctx context.Context, email string, role care.SystemRole) (*care.User, error) {
	u, err := scanUser(s.wq(ctx).QueryRowContext(ctx, `UPDATE users SET system_role = $2, updated_at = $3
		WHERE email = $1 RETURNING `+userColumns, email, role, ts(s.now())))
	if err != nil {
		// One statement: when it fails, nothing changed.
		return nil, fmt.Errorf("store: set system role: %w", err)
	}
	s.accountsChanged(ctx, u.ID)
	return u, nil
}
