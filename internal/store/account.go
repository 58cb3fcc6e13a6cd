package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// A user's data export and the deletion of their account.

// ExportSection names one list of a user's data export, as the export's
// JSON field calls it.
type ExportSection string

// The lists of a data export, in the order the export holds them.
const (
	ExportMemberships    ExportSection = "familyMemberships"
	ExportCareRecipients ExportSection = "careRecipients"
	ExportMedications    ExportSection = "medications"
	ExportMedicationLogs ExportSection = "medicationLogs"
	ExportAppointments   ExportSection = "appointments"
	ExportTimeline       ExportSection = "timelineEntries"
	ExportShifts         ExportSection = "shifts"
	ExportAlerts         ExportSection = "emergencyAlerts"
	ExportDocuments      ExportSection = "documents"
	ExportNotifications  ExportSection = "notifications"
	ExportSessions       ExportSection = "sessions"
)

// ExportSections lists the sections of a data export in order: the
// contract's, with the shifts, emergency alerts and documents (their
// details; the files are downloaded one by one) after the timeline.
func ExportSections() []ExportSection {
	return []ExportSection{ExportMemberships, ExportCareRecipients, ExportMedications,
		ExportMedicationLogs, ExportAppointments, ExportTimeline, ExportShifts, ExportAlerts,
		ExportDocuments, ExportNotifications, ExportSessions}
}

// ExportedMembership is one of the user's family memberships, current or
// ended, with the family's name.
type ExportedMembership struct {
	ID         string    `json:"id"`
	FamilyID   string    `json:"familyId"`
	FamilyName string    `json:"familyName"`
	Role       care.Role `json:"role"`
	Nickname   *string   `json:"nickname"`
	CanEdit    bool      `json:"canEdit"`
	IsActive   bool      `json:"isActive"`
	JoinedAt   time.Time `json:"joinedAt"`
}

// ExportedSession is one of the user's sign-ins, ended ones included.
type ExportedSession struct {
	ID         string     `json:"id"`
	DeviceInfo *string    `json:"deviceInfo"`
	IPAddress  *string    `json:"ipAddress"`
	UserAgent  *string    `json:"userAgent"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt time.Time  `json:"lastUsedAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// visibleCareRecipients selects the ids of the care recipients of every
// family in which $1 is an active member.
const visibleCareRecipients = `SELECT id FROM care_recipients WHERE ` + userFamiliesFilter

func scanExportedMembership(row interface{ Scan(...any) error }) (*ExportedMembership, error) {
	var m ExportedMembership
	err := row.Scan(&m.ID, &m.FamilyID, &m.FamilyName, &m.Role, &m.Nickname, &m.CanEdit,
		&m.IsActive, timeCol{&m.JoinedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

func scanExportedSession(row interface{ Scan(...any) error }) (*ExportedSession, error) {
	var s ExportedSession
	err := row.Scan(&s.ID, &s.DeviceInfo, &s.IPAddress, &s.UserAgent, timeCol{&s.CreatedAt},
		timeCol{&s.LastUsedAt}, timeCol{&s.ExpiresAt}, nullTimeCol{&s.RevokedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &s, nil
}

// EachExported calls fn with every record of one section of userID's data
// export, in a stable order, reading row by row so that an export of any
// size is served in constant memory. The care sections hold what the user
// can see through their active memberships; memberships, notifications and
// sessions are the user's own, ended ones included. No record carries a
// password hash, token hash or one-time code. An error from fn stops the
// walk and is returned as is.
func (s *Store) EachExported(ctx context.Context, userID string, section ExportSection, fn func(v any) error) error {
	var err error
	switch section {
	case ExportMemberships:
		err = scanEach(ctx, s.rq(ctx), scanExportedMembership, fn, `SELECT m.id, m.family_id, f.name,
			m.role, m.nickname, m.can_edit, m.is_active, m.joined_at
			FROM family_members m JOIN families f ON f.id = m.family_id
			WHERE m.user_id = $1 ORDER BY m.joined_at, m.id`, userID)
	case ExportCareRecipients:
		err = scanEach(ctx, s.rq(ctx), scanCareRecipient, fn, `SELECT `+careRecipientColumns+`
			FROM care_recipients WHERE `+userFamiliesFilter+` ORDER BY family_id, full_name, id`, userID)
	case ExportMedications:
		err = scanEach(ctx, s.rq(ctx), scanMedication, fn, `SELECT `+medicationColumns+`
			FROM medications WHERE care_recipient_id IN (`+visibleCareRecipients+`)
			ORDER BY care_recipient_id, name, id`, userID)
	case ExportMedicationLogs:
		err = scanEach(ctx, s.rq(ctx), scanMedicationLog, fn, medicationLogSelect+`
			WHERE l.medication_id IN (SELECT id FROM medications
				WHERE care_recipient_id IN (`+visibleCareRecipients+`))
			ORDER BY l.medication_id, l.scheduled_time, l.id`, userID)
	case ExportAppointments:
		err = scanEach(ctx, s.rq(ctx), scanAppointment, fn, `SELECT `+appointmentColumns+appointmentFrom+`
			WHERE a.care_recipient_id IN (`+visibleCareRecipients+`)
			ORDER BY a.care_recipient_id, a.start_time, a.id`, userID)
	case ExportTimeline:
		err = scanEach(ctx, s.rq(ctx), scanTimelineEntry, fn, timelineSelect+`
			WHERE te.care_recipient_id IN (`+visibleCareRecipients+`)
			ORDER BY te.care_recipient_id, te.occurred_at, te.id`, userID)
	case ExportShifts:
		err = scanEach(ctx, s.rq(ctx), scanShift, fn, `SELECT `+shiftColumns+shiftFrom+`
			WHERE sh.care_recipient_id IN (`+visibleCareRecipients+`)
			ORDER BY sh.care_recipient_id, sh.start_time, sh.id`, userID)
	case ExportAlerts:
		err = scanEach(ctx, s.rq(ctx), scanAlert, fn, `SELECT `+alertColumns+alertFrom+`
			WHERE a.care_recipient_id IN (`+visibleCareRecipients+`)
			ORDER BY a.care_recipient_id, a.created_at, a.id`, userID)
	case ExportDocuments:
		err = scanEach(ctx, s.rq(ctx), scanDocument, fn, `SELECT `+documentColumns+`
			FROM documents WHERE `+userFamiliesFilter+` ORDER BY family_id, created_at, id`, userID)
	case ExportNotifications:
		err = scanEach(ctx, s.rq(ctx), scanNotification, fn, `SELECT `+notificationColumns+`
			FROM notifications WHERE user_id = $1 AND `+visibleNotification+` ORDER BY created_at, id`, userID)
	case ExportSessions:
		err = scanEach(ctx, s.rq(ctx), scanExportedSession, fn, `SELECT id, device_info, ip_address,
			user_agent, created_at, last_used_at, expires_at, revoked_at
			FROM sessions WHERE user_id = $1 ORDER BY created_at, id`, userID)
	default:
		return fmt.Errorf("store: export: unknown section %q", section)
	}
	if err != nil {
		return fmt.Errorf("store: export %s: %w", section, err)
	}
	return nil
}

// scanEach scans the rows of a query one at a time and hands each to fn.
func scanEach[T any](ctx context.Context, q querier, scan func(interface{ Scan(...any) error }) (*T, error), fn func(v any) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// DeletedUserName is the name a deleted account keeps, so that the care
// records it made still say who made them without saying who that was.
const DeletedUserName = "Deleted user"

// DeletedUserEmail is the address a deleted account is given in place of its
// own: unique, and undeliverable (.invalid is reserved by RFC 2606), so the
// old address can sign up again and nothing is ever mailed to the new one.
func DeletedUserEmail(userID string) string { return "deleted-" + userID + "@deleted.invalid" }

// unusablePasswordHash is no encoding any password can match.
const unusablePasswordHash = "!deleted"

// AccountDeletion is what deleting an account changed.
type AccountDeletion struct {
	// Left are the memberships it ended, in families that keep other
	// members; their user is the anonymised account.
	Left []care.Member
	// DeletedFamilies are the families the user was the only active member
	// of, deleted with the account.
	DeletedFamilies []care.Family
}

// LastAdminError refuses to delete an account while its user is the last
// active ADMIN of families that have other active members. It is an
// ErrLastAdmin (and so an ErrConflict).
type LastAdminError struct {
	// Families are the families that would be left without an ADMIN.
	Families []care.Family
}

func (e *LastAdminError) Error() string {
	names := make([]string, len(e.Families))
	for i, f := range e.Families {
		names[i] = f.Name
	}
	return "last admin of " + strings.Join(names, ", ")
}

// Unwrap makes a LastAdminError an ErrLastAdmin.
func (e *LastAdminError) Unwrap() error { return ErrLastAdmin }

// DeleteAccount anonymises a user's account in one transaction: status
// DELETED, the email replaced by DeletedUserEmail, the name by
// DeletedUserName, phone, avatar and preferences cleared and the password
// made unusable. Every session (with its refresh tokens), push subscription,
// push token, one-time code, password reset, notification and deferred email
// of the user goes. The user leaves every family; a family they were the
// only active member of is deleted. The care records others depend on
// (medication logs, timeline entries, appointments, shifts) stay, and keep
// their ids, now attributed to the anonymised account.
//
// While the user is the last active ADMIN of a family with other active
// members, nothing changes and the error is a *LastAdminError. ErrNotFound
// when there is no such account or it was already deleted.
func (s *Store) DeleteAccount(ctx context.Context, userID string) (*AccountDeletion, error) {
	out := &AccountDeletion{Left: []care.Member{}, DeletedFamilies: []care.Family{}}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var email string
		err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT email FROM users WHERE id = $1 AND status <> $2`),
			userID, care.UserDeleted).Scan(&email)
		if err != nil {
			return mapErr(err)
		}
		memberships, err := s.lockedMemberships(ctx, tx, userID)
		if err != nil {
			return err
		}
		var blocked []care.Family
		for _, m := range memberships {
			switch {
			case m.others == 0:
				out.DeletedFamilies = append(out.DeletedFamilies, m.family)
			case m.Role == care.RoleAdmin && m.otherAdmins == 0:
				blocked = append(blocked, m.family)
			default:
				out.Left = append(out.Left, m.Member)
			}
		}
		if len(blocked) > 0 {
			return &LastAdminError{Families: blocked}
		}
		return s.eraseAccount(ctx, tx, userID, email, out)
	})
	s.accountsChanged(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("store: delete account: %w", err)
	}
	return out, nil
}

// accountMembership is one of the user's active memberships, with how many
// other active members (and ADMINs) its family has.
type accountMembership struct {
	care.Member
	family      care.Family
	others      int
	otherAdmins int
}

// lockedMemberships locks each family the user is an active member of, in
// id order (so that two deletions cannot deadlock; other writers lock one
// family at a time), and loads the memberships with their families' counts.
func (s *Store) lockedMemberships(ctx context.Context, tx *sql.Tx, userID string) ([]accountMembership, error) {
	rows, err := tx.QueryContext(ctx, `SELECT family_id FROM family_members
		WHERE user_id = $1 AND is_active = TRUE ORDER BY family_id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	ids, err := collect(rows, scanString)
	if err != nil {
		return nil, err
	}
	out := make([]accountMembership, 0, len(ids))
	for _, id := range ids {
		if err := s.lockFamily(ctx, tx, id); err != nil {
			return nil, err
		}
		var am accountMembership
		row := tx.QueryRowContext(ctx, `SELECT `+prefixed("m.", memberColumns)+`, `+prefixed("f.", familyColumns)+`,
			(SELECT COUNT(*) FROM family_members o WHERE o.family_id = m.family_id
				AND o.user_id <> m.user_id AND o.is_active = TRUE),
			(SELECT COUNT(*) FROM family_members o WHERE o.family_id = m.family_id
				AND o.user_id <> m.user_id AND o.is_active = TRUE AND o.role = $3)
			FROM family_members m JOIN families f ON f.id = m.family_id
			WHERE m.family_id = $1 AND m.user_id = $2 AND m.is_active = TRUE`, id, userID, care.RoleAdmin)
		err := row.Scan(&am.ID, &am.FamilyID, &am.UserID, &am.Role, &am.Nickname, &am.CanEdit,
			&am.IsActive, timeCol{&am.JoinedAt}, &am.family.ID, &am.family.Name,
			timeCol{&am.family.CreatedAt}, timeCol{&am.family.UpdatedAt}, &am.others, &am.otherAdmins)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, am)
	}
	return out, nil
}

// eraseAccount makes the changes DeleteAccount describes, once the
// memberships have been checked; it completes d.Left with their new state.
func (s *Store) eraseAccount(ctx context.Context, tx *sql.Tx, userID, email string, d *AccountDeletion) error {
	now := ts(s.now())
	for _, f := range d.DeletedFamilies {
		if _, err := tx.ExecContext(ctx, `DELETE FROM families WHERE id = $1`, f.ID); err != nil {
			return mapErr(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE family_members SET is_active = FALSE, nickname = NULL
		WHERE user_id = $1`, userID); err != nil {
		return mapErr(err)
	}
	for _, stmt := range []string{
		`DELETE FROM sessions WHERE user_id = $1`, // and their refresh tokens
		`DELETE FROM push_subscriptions WHERE user_id = $1`,
		`DELETE FROM push_tokens WHERE user_id = $1`,
		`DELETE FROM one_time_codes WHERE user_id = $1`,
		`DELETE FROM password_resets WHERE user_id = $1`,
		`DELETE FROM notifications WHERE user_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, stmt, userID); err != nil {
			return mapErr(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deferred_emails WHERE to_address = $1`, email); err != nil {
		return mapErr(err)
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET email = $2, password_hash = $3, full_name = $4,
		phone = NULL, phone_verified = FALSE, avatar_url = NULL, status = $5, email_verified = FALSE,
		email_verified_at = NULL, last_login_at = NULL, preferences = '{}', failed_logins = 0,
		locked_until = NULL, updated_at = $6 WHERE id = $1`,
		userID, DeletedUserEmail(userID), unusablePasswordHash, DeletedUserName, care.UserDeleted, now)
	if err != nil {
		return mapErr(err)
	}
	ref := &care.UserRef{ID: userID, FullName: DeletedUserName}
	for i := range d.Left {
		d.Left[i].IsActive, d.Left[i].Nickname, d.Left[i].User = false, nil, ref
	}
	return nil
}
