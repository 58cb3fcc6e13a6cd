package store

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const memberColumns = `id, family_id, user_id, role, nickname, can_edit, is_active, joined_at`

func scanMember(row interface{ Scan(...any) error }) (*care.Member, error) {
	var m care.Member
	err := row.Scan(&m.ID, &m.FamilyID, &m.UserID, &m.Role, &m.Nickname, &m.CanEdit, &m.IsActive,
		timeCol{&m.JoinedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

// MemberOf returns the user's active membership in a family, or ErrNotFound.
func (s *Store) MemberOf(ctx context.Context, familyID, userID string) (*care.Member, error) {
	m, err := scanMember(s.r.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM family_members
		WHERE family_id = $1 AND user_id = $2 AND is_active = TRUE`, familyID, userID))
	if err != nil {
		return nil, fmt.Errorf("store: membership: %w", err)
	}
	return m, nil
}
