package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const familyColumns = `id, name, created_at, updated_at`

// familyReadColumns are what scanFamily reads.
const familyReadColumns = familyColumns + `, description`

func scanFamily(row interface{ Scan(...any) error }) (*care.Family, error) {
	var f care.Family
	if err := row.Scan(&f.ID, &f.Name, timeCol{&f.CreatedAt}, timeCol{&f.UpdatedAt}, &f.Description); err != nil {
		return nil, mapErr(err)
	}
	return &f, nil
}

// forUpdate locks the rows a SELECT reads against other writers until the
// transaction ends. On PostgreSQL that is FOR NO KEY UPDATE, which, unlike
// FOR UPDATE, still lets other transactions insert rows referencing them.
// SQLite has no row locks and needs none: its single writer connection starts
// every transaction with BEGIN IMMEDIATE, so writers are already serialised.
func (s *Store) forUpdate(query string) string {
	if s.dialect == Postgres {
		return query + " FOR NO KEY UPDATE"
	}
	return query
}

// lockFamily serialises writes that check a family-wide rule (such as "one
// admin at least", or "one open invitation per email") against each other.
// Transactions take it before locking any member or invitation row, so that
// they cannot deadlock. ErrNotFound when the family is gone.
func (s *Store) lockFamily(ctx context.Context, tx *sql.Tx, familyID string) error {
	var id string
	err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT id FROM families WHERE id = $1`), familyID).Scan(&id)
	return mapErr(err)
}

// CreateFamily creates a family whose creator is its first ADMIN, and returns
// it with that membership.
func (s *Store) CreateFamily(ctx context.Context, name, creatorID string, nickname *string) (*care.Family, *care.Member, error) {
	var f *care.Family
	var m *care.Member
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(s.now())
		var err error
		f, err = scanFamily(tx.QueryRowContext(ctx, `INSERT INTO families (id, name, created_by_id,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING `+familyReadColumns,
			newID(), name, creatorID, now))
		if err != nil {
			return err
		}
		m, err = scanMember(tx.QueryRowContext(ctx, `INSERT INTO family_members (id, family_id,
			user_id, role, nickname, can_edit, is_active, joined_at)
			VALUES ($1, $2, $3, $4, $5, TRUE, TRUE, $6) RETURNING `+memberColumns,
			newID(), f.ID, creatorID, care.RoleAdmin, nickname, now))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: create family: %w", err)
	}
	return f, m, nil
}

// Family loads a family by id.
func (s *Store) Family(ctx context.Context, id string) (*care.Family, error) {
	f, err := scanFamily(s.rq(ctx).QueryRowContext(ctx, `SELECT `+familyReadColumns+` FROM families WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: family %s: %w", id, err)
	}
	return f, nil
}

// RenameFamily changes a family's name.
func (s *Store) RenameFamily(ctx context.Context, id, name string) (*care.Family, error) {
	f, err := scanFamily(s.wq(ctx).QueryRowContext(ctx, `UPDATE families SET name = $2, updated_at = $3
		WHERE id = $1 RETURNING `+familyReadColumns, id, name, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: rename family: %w", err)
	}
	return f, nil
}

// DescribeFamily sets (or, with nil, clears) a family's description.
func (s *Store) DescribeFamily(ctx context.Context, id string, description *string) (*care.Family, error) {
	f, err := scanFamily(s.wq(ctx).QueryRowContext(ctx, `UPDATE families SET description = $2, updated_at = $3
		WHERE id = $1 RETURNING `+familyReadColumns, id, description, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: describe family: %w", err)
	}
	return f, nil
}

// DeleteFamily deletes a family with its memberships, invitations, care
// recipients and everything recorded about them.
func (s *Store) DeleteFamily(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "families", id)
}

// deleteByID deletes one row of table; ErrNotFound when there is none.
// table is always a constant from this package.
func (s *Store) deleteByID(ctx context.Context, table, id string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete from %s: %w", table, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete from %s: %w", table, err)
	} else if n == 0 {
		return fmt.Errorf("store: delete from %s: %w", table, ErrNotFound)
	}
	return nil
}

// userFamiliesFilter selects the families in which $1 is an active member.
const userFamiliesFilter = `family_id IN (SELECT family_id FROM family_members
	WHERE user_id = $1 AND is_active = TRUE)`

// UserFamilies lists the families in which the user is an active member, with
// the user's role and the family's care recipients.
func (s *Store) UserFamilies(ctx context.Context, userID string) ([]care.FamilySummary, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT f.id, f.name, m.role FROM family_members m
		JOIN families f ON f.id = m.family_id
		WHERE m.user_id = $1 AND m.is_active = TRUE ORDER BY f.created_at, f.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: user families: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.FamilySummary{}
	for rows.Next() {
		f := care.FamilySummary{CareRecipients: []care.CareRecipient{}}
		if err := rows.Scan(&f.ID, &f.Name, &f.Role); err != nil {
			return nil, fmt.Errorf("store: user families: %w", mapErr(err))
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: user families: %w", mapErr(err))
	}
	crs, err := s.careRecipientsWhere(ctx, userFamiliesFilter, userID)
	if err != nil {
		return nil, fmt.Errorf("store: user families: %w", err)
	}
	for i := range out {
		out[i].CareRecipients = append(out[i].CareRecipients, crs[out[i].ID]...)
	}
	return out, nil
}

// FamilyListings lists the families in which the user is an active member,
// each with the user's role, its active members and its care recipients.
func (s *Store) FamilyListings(ctx context.Context, userID string) ([]care.FamilyListing, error) {
	out, err := s.FamilyListingsWithoutCareRecipients(ctx, userID)
	if err != nil {
		return nil, err
	}
	crs, err := s.careRecipientsWhere(ctx, userFamiliesFilter, userID)
	if err != nil {
		return nil, fmt.Errorf("store: family listings: %w", err)
	}
	for i := range out {
		out[i].CareRecipients = append(out[i].CareRecipients, crs[out[i].ID]...)
	}
	return out, nil
}

// FamilyListingsWithoutCareRecipients lists the user's families as
// FamilyListings does, in one query, with their care recipients left empty
// for the caller to fill (from each family's cached view).
func (s *Store) FamilyListingsWithoutCareRecipients(ctx context.Context, userID string) ([]care.FamilyListing, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+prefixed("f.", familyColumns)+`, f.description, me.role,
		`+prefixed("m.", memberColumns)+`, `+memberUserColumns+`
		FROM family_members me JOIN families f ON f.id = me.family_id
		JOIN family_members m ON m.family_id = f.id AND m.is_active = TRUE
		JOIN users u ON u.id = m.user_id
		WHERE me.user_id = $1 AND me.is_active = TRUE
		ORDER BY f.created_at, f.id, m.joined_at, m.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: family listings: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.FamilyListing{}
	for rows.Next() {
		var l care.FamilyListing
		var m care.Member
		var u care.UserRef
		if err := rows.Scan(&l.ID, &l.Name, timeCol{&l.CreatedAt}, timeCol{&l.UpdatedAt}, &l.Description, &l.Role,
			&m.ID, &m.FamilyID, &m.UserID, &m.Role, &m.Nickname, &m.CanEdit, &m.IsActive, timeCol{&m.JoinedAt},
			&u.ID, &u.Email, &u.FullName, &u.Phone, &u.AvatarURL); err != nil {
			return nil, fmt.Errorf("store: family listings: %w", mapErr(err))
		}
		m.User = &u
		if n := len(out); n == 0 || out[n-1].ID != l.ID {
			l.Members = []care.Member{}
			l.CareRecipients = []care.CareRecipient{}
			out = append(out, l)
		}
		last := &out[len(out)-1]
		last.Members = append(last.Members, m)
		last.MemberCount = len(last.Members)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: family listings: %w", mapErr(err))
	}
	return out, nil
}
