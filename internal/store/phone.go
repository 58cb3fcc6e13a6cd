package store

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// MarkPhoneVerified records that the user proved they receive texts at
// phone. It changes nothing, and answers ErrNotFound, when the account's
// phone is no longer that number (it was changed after the code was sent).
func (s *Store) MarkPhoneVerified(ctx context.Context, userID, phone string) (*care.User, error) {
	u, err := scanUser(s.wq(ctx).QueryRowContext(ctx, `UPDATE users SET phone_verified = TRUE, updated_at = $3
		WHERE id = $1 AND phone = $2 RETURNING `+userColumns, userID, phone, ts(s.now())))
	s.accountsChanged(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("store: mark phone verified: %w", err)
	}
	return u, nil
}
