package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// ErrLastAdmin refuses a change that would leave a family without an ADMIN.
// It is also an ErrConflict.
var ErrLastAdmin = fmt.Errorf("%w: a family needs at least one admin", ErrConflict)

const memberColumns = `id, family_id, user_id, role, nickname, can_edit, is_active, joined_at`

// memberUserColumns are the member's user as other members see them; they
// follow prefixed("m.", memberColumns) in joins with users u.
const memberUserColumns = `u.id, u.email, u.full_name, u.phone, u.avatar_url`

func scanMember(row interface{ Scan(...any) error }) (*care.Member, error) {
	var m care.Member
	err := row.Scan(&m.ID, &m.FamilyID, &m.UserID, &m.Role, &m.Nickname, &m.CanEdit, &m.IsActive,
		timeCol{&m.JoinedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

func scanMemberWithUser(row interface{ Scan(...any) error }) (*care.Member, error) {
	var m care.Member
	var u care.UserRef
	err := row.Scan(&m.ID, &m.FamilyID, &m.UserID, &m.Role, &m.Nickname, &m.CanEdit, &m.IsActive,
		timeCol{&m.JoinedAt}, &u.ID, &u.Email, &u.FullName, &u.Phone, &u.AvatarURL)
	if err != nil {
		return nil, mapErr(err)
	}
	m.User = &u
	return &m, nil
}

// MemberOf returns the user's active membership in a family, or ErrNotFound.
func (s *Store) MemberOf(ctx context.Context, familyID, userID string) (*care.Member, error) {
	m, err := scanMember(s.rq(ctx).QueryRowContext(ctx, `SELECT `+memberColumns+` FROM family_members
		WHERE family_id = $1 AND user_id = $2 AND is_active = TRUE`, familyID, userID))
	if err != nil {
		return nil, fmt.Errorf("store: membership: %w", err)
	}
	return m, nil
}

// Members lists a family's active members with their users, oldest first.
func (s *Store) Members(ctx context.Context, familyID string) ([]care.Member, error) {
	byFamily, err := s.membersWhere(ctx, `m.family_id = $1`, familyID)
	if err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	return append([]care.Member{}, byFamily[familyID]...), nil
}

// membersWhere lists active members with their users matching a condition on
// family_members m, grouped by family.
func (s *Store) membersWhere(ctx context.Context, where string, args ...any) (map[string][]care.Member, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+prefixed("m.", memberColumns)+`, `+memberUserColumns+`
		FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.is_active = TRUE AND `+where+` ORDER BY m.joined_at, m.id`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string][]care.Member{}
	for rows.Next() {
		m, err := scanMemberWithUser(rows)
		if err != nil {
			return nil, err
		}
		out[m.FamilyID] = append(out[m.FamilyID], *m)
	}
	return out, mapErr(rows.Err())
}

// Member loads an active member of a family, with their user, by membership id.
func (s *Store) Member(ctx context.Context, familyID, memberID string) (*care.Member, error) {
	m, err := scanMemberWithUser(s.rq(ctx).QueryRowContext(ctx, `SELECT `+prefixed("m.", memberColumns)+`, `+
		memberUserColumns+` FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.id = $1 AND m.family_id = $2 AND m.is_active = TRUE`, memberID, familyID))
	if err != nil {
		return nil, fmt.Errorf("store: member %s: %w", memberID, err)
	}
	return m, nil
}

// ChangeMemberRole sets an active member's role. Demoting the family's last
// ADMIN is ErrLastAdmin; a missing member is ErrNotFound.
func (s *Store) ChangeMemberRole(ctx context.Context, familyID, memberID string, role care.Role) (*care.Member, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.lockedMember(ctx, tx, familyID, memberID)
		if err != nil {
			return err
		}
		if cur.Role == care.RoleAdmin && role != care.RoleAdmin {
			if err := s.requireAnotherAdmin(ctx, tx, familyID, memberID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE family_members SET role = $2 WHERE id = $1`, memberID, role)
		return mapErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("store: change member role: %w", err)
	}
	return s.Member(ctx, familyID, memberID)
}

// RemoveMember ends an active membership; the row stays, inactive, so that a
// later invitation reactivates it. Removing the last ADMIN is ErrLastAdmin.
func (s *Store) RemoveMember(ctx context.Context, familyID, memberID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.lockedMember(ctx, tx, familyID, memberID)
		if err != nil {
			return err
		}
		if cur.Role == care.RoleAdmin {
			if err := s.requireAnotherAdmin(ctx, tx, familyID, memberID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE family_members SET is_active = FALSE WHERE id = $1`, memberID)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("store: remove member: %w", err)
	}
	return nil
}

// lockedMember locks the family (so that concurrent role changes see each
// other) and loads one of its active members.
func (s *Store) lockedMember(ctx context.Context, tx *sql.Tx, familyID, memberID string) (*care.Member, error) {
	if err := s.lockFamily(ctx, tx, familyID); err != nil {
		return nil, err
	}
	return scanMember(tx.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM family_members
		WHERE id = $1 AND family_id = $2 AND is_active = TRUE`, memberID, familyID))
}

// requireAnotherAdmin fails with ErrLastAdmin unless the family has an active
// ADMIN other than memberID.
func (s *Store) requireAnotherAdmin(ctx context.Context, tx *sql.Tx, familyID, memberID string) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM family_members
		WHERE family_id = $1 AND id <> $2 AND role = $3 AND is_active = TRUE`,
		familyID, memberID, care.RoleAdmin).Scan(&n)
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}
