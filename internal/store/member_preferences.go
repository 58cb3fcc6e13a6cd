package store

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// MembersWithPreferences lists a family's active members whose accounts are
// active, each with the account's preferences, for notification routing.
func (s *Store) MembersWithPreferences(ctx context.Context, familyID string) ([]care.Member, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+prefixed("m.", memberColumns)+`, u.preferences
		FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.family_id = $1 AND m.is_active = TRUE AND u.status = 'ACTIVE'
		ORDER BY m.joined_at, m.id`, familyID)
	if err != nil {
		return nil, fmt.Errorf("store: members with preferences: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*care.Member, error) {
		var m care.Member
		err := row.Scan(&m.ID, &m.FamilyID, &m.UserID, &m.Role, &m.Nickname, &m.CanEdit, &m.IsActive,
			timeCol{&m.JoinedAt}, jsonCol{&m.Preferences})
		if err != nil {
			return nil, mapErr(err)
		}
		return &m, nil
	})
}
