package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Invitation errors. Each describes why an invitation cannot be used or made.
var (
	// ErrAlreadyMember: the email belongs to an active member of the family.
	ErrAlreadyMember = errors.New("already a member of the family")
	// ErrAlreadyInvited: the email has a pending invitation to the family.
	ErrAlreadyInvited = errors.New("already invited to the family")
	// ErrInvitationExpired: the invitation's time ran out.
	ErrInvitationExpired = errors.New("invitation expired")
	// ErrInvitationClosed: the invitation was accepted, declined or cancelled.
	ErrInvitationClosed = errors.New("invitation no longer open")
	// ErrInvitationEmail: the invitation was sent to another address.
	ErrInvitationEmail = errors.New("invitation is for another email address")
)

const invitationColumns = `id, family_id, email, role, status, invited_by_id, message, expires_at, created_at`

func scanInvitation(row interface{ Scan(...any) error }) (*care.Invitation, error) {
	var inv care.Invitation
	var invitedBy *string
	err := row.Scan(&inv.ID, &inv.FamilyID, &inv.Email, &inv.Role, &inv.Status, &invitedBy,
		&inv.Message, timeCol{&inv.ExpiresAt}, timeCol{&inv.CreatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	if invitedBy != nil {
		inv.InvitedByID = *invitedBy
	}
	return &inv, nil
}

// NewInvitation describes an invitation to create.
type NewInvitation struct {
	FamilyID    string
	Email       string // normalised
	Role        care.Role
	InvitedByID string
	Message     *string
	TokenHash   string
	TTL         time.Duration
}

// CreateInvitation records a pending invitation. It is ErrAlreadyMember when
// the email belongs to an active member and ErrAlreadyInvited when it has an
// open invitation to the family already.
func (s *Store) CreateInvitation(ctx context.Context, ni NewInvitation) (*care.Invitation, error) {
	var inv *care.Invitation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkInvitable(ctx, tx, ni.FamilyID, ni.Email, ""); err != nil {
			return err
		}
		now := s.now()
		var err error
		inv, err = scanInvitation(tx.QueryRowContext(ctx, `INSERT INTO family_invitations (id,
			family_id, email, role, status, token_hash, invited_by_id, message, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+invitationColumns,
			newID(), ni.FamilyID, ni.Email, ni.Role, care.InvitationPending, ni.TokenHash,
			ni.InvitedByID, ni.Message, ts(now.Add(ni.TTL)), ts(now)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create invitation: %w", err)
	}
	return inv, nil
}

// checkInvitable locks the family and checks that email is neither an active
// member's nor already invited (ignoring invitation exceptID). Pending
// invitations whose time ran out are marked EXPIRED on the way.
func (s *Store) checkInvitable(ctx context.Context, tx *sql.Tx, familyID, email, exceptID string) error {
	if err := s.lockFamily(ctx, tx, familyID); err != nil {
		return err
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.family_id = $1 AND m.is_active = TRUE AND u.email = $2`, familyID, email).Scan(&n)
	if err != nil {
		return mapErr(err)
	}
	if n > 0 {
		return ErrAlreadyMember
	}
	if err := s.expireInvitations(ctx, tx, `family_id = $2 AND email = $3`, familyID, email); err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM family_invitations
		WHERE family_id = $1 AND email = $2 AND status = $3 AND id <> $4`,
		familyID, email, care.InvitationPending, exceptOrNone(exceptID)).Scan(&n)
	if err != nil {
		return mapErr(err)
	}
	if n > 0 {
		return ErrAlreadyInvited
	}
	return nil
}

// exceptOrNone returns id, or the nil UUID (which no row has) when id is empty.
func exceptOrNone(id string) string {
	if id == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id
}

// expireInvitations marks PENDING invitations past their expiry, among those
// matching where (whose placeholders start at $2), as EXPIRED.
func (s *Store) expireInvitations(ctx context.Context, q querier, where string, args ...any) error {
	_, err := q.ExecContext(ctx, `UPDATE family_invitations SET status = 'EXPIRED'
		WHERE status = 'PENDING' AND expires_at <= $1 AND `+where, append([]any{ts(s.now())}, args...)...)
	return mapErr(err)
}

// Invitation loads an invitation by id, as it stands by the clock: a pending
// invitation whose time ran out reads as EXPIRED.
func (s *Store) Invitation(ctx context.Context, id string) (*care.Invitation, error) {
	inv, err := scanInvitation(s.rq(ctx).QueryRowContext(ctx, `SELECT `+invitationColumns+`
		FROM family_invitations WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: invitation %s: %w", id, err)
	}
	if inv.Status == care.InvitationPending && !s.now().Before(inv.ExpiresAt) {
		inv.Status = care.InvitationExpired
	}
	return inv, nil
}

// PendingInvitations lists a family's open invitations, newest first.
func (s *Store) PendingInvitations(ctx context.Context, familyID string) ([]care.Invitation, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+invitationColumns+` FROM family_invitations
		WHERE family_id = $1 AND status = $2 AND expires_at > $3 ORDER BY created_at DESC, id`,
		familyID, care.InvitationPending, ts(s.now()))
	if err != nil {
		return nil, fmt.Errorf("store: pending invitations: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pending invitations: %w", err)
		}
		out = append(out, *inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending invitations: %w", mapErr(err))
	}
	return out, nil
}

// InvitationDetails describes the invitation whose token has the given hash,
// with its family's and inviter's names. A pending invitation whose time ran
// out is marked EXPIRED; the status tells whether it can still be used.
func (s *Store) InvitationDetails(ctx context.Context, tokenHash string) (*care.InvitationDetails, error) {
	var d care.InvitationDetails
	var inviter *string
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT i.id, i.family_id, f.name, u.full_name, i.role, i.email,
		i.status, i.expires_at FROM family_invitations i JOIN families f ON f.id = i.family_id
		LEFT JOIN users u ON u.id = i.invited_by_id WHERE i.token_hash = $1`, tokenHash).
		Scan(&d.ID, &d.FamilyID, &d.FamilyName, &inviter, &d.Role, &d.Email, &d.Status, timeCol{&d.ExpiresAt})
	if err != nil {
		return nil, fmt.Errorf("store: invitation details: %w", mapErr(err))
	}
	if inviter != nil {
		d.InviterName = *inviter
	}
	if d.Status == care.InvitationPending && !s.now().Before(d.ExpiresAt) {
		if err := s.expireInvitations(ctx, s.wq(ctx), `id = $2`, d.ID); err != nil {
			return nil, fmt.Errorf("store: invitation details: %w", err)
		}
		d.Status = care.InvitationExpired
	}
	return &d, nil
}

// openInvitation locks the family, then loads and locks the invitation and
// checks that it can still be used. When its time ran out it is marked
// EXPIRED and expired is true; the caller should commit that and report
// ErrInvitationExpired.
func (s *Store) openInvitation(ctx context.Context, tx *sql.Tx, where string, arg string) (inv *care.Invitation, expired bool, err error) {
	var familyID string
	err = tx.QueryRowContext(ctx, `SELECT family_id FROM family_invitations WHERE `+where, arg).Scan(&familyID)
	if err != nil {
		return nil, false, mapErr(err)
	}
	if err := s.lockFamily(ctx, tx, familyID); err != nil {
		return nil, false, err
	}
	inv, err = scanInvitation(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+invitationColumns+`
		FROM family_invitations WHERE `+where), arg))
	if err != nil {
		return nil, false, err
	}
	switch {
	case inv.Status == care.InvitationExpired:
		return inv, false, ErrInvitationExpired
	case inv.Status != care.InvitationPending:
		return inv, false, ErrInvitationClosed
	case !s.now().Before(inv.ExpiresAt):
		_, err = tx.ExecContext(ctx, `UPDATE family_invitations SET status = $2 WHERE id = $1`,
			inv.ID, care.InvitationExpired)
		return inv, true, mapErr(err)
	}
	return inv, false, nil
}

// AcceptInvitation makes the user a member of the invitation's family with
// the invited role (reactivating a former membership) and marks the
// invitation ACCEPTED, in one transaction. It returns the family id. The
// invitation must be open and addressed to email (ErrInvitationEmail). A user
// who is already an active member keeps their role.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash, userID, email string) (string, error) {
	var familyID string
	var expired bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inv, exp, err := s.openInvitation(ctx, tx, `token_hash = $1`, tokenHash)
		if err != nil || exp {
			expired = exp
			return err
		}
		if !strings.EqualFold(inv.Email, email) {
			return ErrInvitationEmail
		}
		familyID = inv.FamilyID
		now := ts(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO family_members (id, family_id, user_id, role,
			can_edit, is_active, joined_at) VALUES ($1, $2, $3, $4, TRUE, TRUE, $5)
			ON CONFLICT (family_id, user_id) DO UPDATE SET role = EXCLUDED.role,
			is_active = TRUE, joined_at = EXCLUDED.joined_at WHERE family_members.is_active = FALSE`,
			newID(), inv.FamilyID, userID, inv.Role, now); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE family_invitations SET status = $2, responded_at = $3
			WHERE id = $1`, inv.ID, care.InvitationAccepted, now)
		return mapErr(err)
	})
	if err == nil && expired {
		err = ErrInvitationExpired
	}
	if err != nil {
		return "", fmt.Errorf("store: accept invitation: %w", err)
	}
	return familyID, nil
}

// DeclineInvitation marks the open invitation with the given token hash DECLINED.
func (s *Store) DeclineInvitation(ctx context.Context, tokenHash string) error {
	return s.closeInvitation(ctx, `token_hash = $1`, tokenHash, care.InvitationDeclined)
}

// DeleteInvitation removes a PENDING invitation, as if it had never been
// made: for one whose link could not be sent. Any other invitation, or none,
// is ErrNotFound.
func (s *Store) DeleteInvitation(ctx context.Context, id string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM family_invitations WHERE id = $1 AND status = $2`,
		id, care.InvitationPending)
	if err != nil {
		return fmt.Errorf("store: delete invitation: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete invitation: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: delete invitation: %w", ErrNotFound)
	}
	return nil
}

// CancelInvitation marks an open invitation CANCELLED.
func (s *Store) CancelInvitation(ctx context.Context, id string) error {
	return s.closeInvitation(ctx, `id = $1`, id, care.InvitationCancelled)
}

func (s *Store) closeInvitation(ctx context.Context, where, arg string, status care.InvitationStatus) error {
	var expired bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inv, exp, err := s.openInvitation(ctx, tx, where, arg)
		if err != nil || exp {
			expired = exp
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE family_invitations SET status = $2, responded_at = $3
			WHERE id = $1`, inv.ID, status, ts(s.now()))
		return mapErr(err)
	})
	if err == nil && expired {
		err = ErrInvitationExpired
	}
	if err != nil {
		return fmt.Errorf("store: close invitation: %w", err)
	}
	return nil
}

// RenewInvitation gives a pending or expired invitation a new token and a new
// expiry, which invalidates the old link. Accepted, declined and cancelled
// invitations are ErrInvitationClosed; an invitee who has joined meanwhile is
// ErrAlreadyMember.
func (s *Store) RenewInvitation(ctx context.Context, id, tokenHash string, ttl time.Duration) (*care.Invitation, error) {
	var inv *care.Invitation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var familyID string
		err := tx.QueryRowContext(ctx, `SELECT family_id FROM family_invitations WHERE id = $1`, id).Scan(&familyID)
		if err != nil {
			return mapErr(err)
		}
		if err := s.lockFamily(ctx, tx, familyID); err != nil {
			return err
		}
		cur, err := scanInvitation(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+invitationColumns+`
			FROM family_invitations WHERE id = $1`), id))
		if err != nil {
			return err
		}
		if cur.Status != care.InvitationPending && cur.Status != care.InvitationExpired {
			return ErrInvitationClosed
		}
		if err := s.checkInvitable(ctx, tx, cur.FamilyID, cur.Email, cur.ID); err != nil {
			return err
		}
		inv, err = scanInvitation(tx.QueryRowContext(ctx, `UPDATE family_invitations SET status = $2,
			token_hash = $3, expires_at = $4 WHERE id = $1 RETURNING `+invitationColumns,
			id, care.InvitationPending, tokenHash, ts(s.now().Add(ttl))))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: renew invitation: %w", err)
	}
	return inv, nil
}
