package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// checkTransportAssignee checks that userID is an active member of the
// family with an active account.
func checkTransportAssignee(ctx context.Context, q querier, familyID, userID string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.family_id = $1 AND m.user_id = $2 AND m.is_active = TRUE AND u.status = $3`,
		familyID, userID, care.UserActive).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrTransportAssignee
	}
	return mapErr(err)
}

// AssignTransport makes userID the driver of an appointment, replacing any
// earlier assignment (which then needs confirming afresh), and returns the
// appointment. The assignee must be an active member of the care
// recipient's family (ErrTransportAssignee).
func (s *Store) AssignTransport(ctx context.Context, appointmentID, userID string, notes *string) (*care.Appointment, error) {
	var out *care.Appointment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The appointment's row serialises assignments to it.
		var careRecipientID, familyID string
		if err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT care_recipient_id FROM appointments
			WHERE id = $1`), appointmentID).Scan(&careRecipientID); err != nil {
			return mapErr(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT family_id FROM care_recipients WHERE id = $1`,
			careRecipientID).Scan(&familyID); err != nil {
			return mapErr(err)
		}
		if err := checkTransportAssignee(ctx, tx, familyID, userID); err != nil {
			return err
		}
		now := ts(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO transport_assignments (id, appointment_id,
			assigned_to_id, notes, confirmed, created_at, updated_at)
			VALUES ($1, $2, $3, $4, FALSE, $5, $5)
			ON CONFLICT (appointment_id) DO UPDATE SET assigned_to_id = excluded.assigned_to_id,
			notes = excluded.notes, confirmed = FALSE, updated_at = excluded.updated_at`,
			newID(), appointmentID, userID, notes, now); err != nil {
			return mapErr(err)
		}
		var err error
		out, err = appointmentByID(ctx, tx, appointmentID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: assign transport: %w", err)
	}
	return out, nil
}

// ConfirmTransport records that the assignee will drive, and returns the
// appointment. ErrNoTransport when nobody is assigned,
// ErrTransportNotAssignee when userID is not the assignee.
func (s *Store) ConfirmTransport(ctx context.Context, appointmentID, userID string) (*care.Appointment, error) {
	var out *care.Appointment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var assignee string
		err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT assigned_to_id FROM transport_assignments
			WHERE appointment_id = $1`), appointmentID).Scan(&assignee)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoTransport
		}
		if err != nil {
			return mapErr(err)
		}
		if assignee != userID {
			return ErrTransportNotAssignee
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transport_assignments SET confirmed = TRUE,
			updated_at = $2 WHERE appointment_id = $1`, appointmentID, ts(s.now())); err != nil {
			return mapErr(err)
		}
		out, err = appointmentByID(ctx, tx, appointmentID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: confirm transport: %w", err)
	}
	return out, nil
}

// DropTransport takes a member off driving the care recipients of one
// family to their appointments still to come (scheduled or confirmed,
// starting after now), which is what ending their membership does, so that
// no appointment shows a driver who is no longer there. It returns those
// appointments as they are now, without a driver, earliest first (none is
// an empty list).
func (s *Store) DropTransport(ctx context.Context, familyID, userID string, now time.Time) ([]care.Appointment, error) {
	out := []care.Appointment{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The appointments' rows serialise this against new assignments.
		rows, err := tx.QueryContext(ctx, s.forUpdate(`SELECT a.id FROM appointments a
			WHERE a.id IN (SELECT appointment_id FROM transport_assignments WHERE assigned_to_id = $1)
			AND a.care_recipient_id IN (SELECT id FROM care_recipients WHERE family_id = $2)
			AND a.start_time > $3 AND a.status IN ($4, $5)
			ORDER BY a.start_time, a.id`),
			userID, familyID, ts(now), care.AppointmentScheduled, care.AppointmentConfirmed)
		if err != nil {
			return mapErr(err)
		}
		ids, err := collect(rows, scanString)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM transport_assignments
				WHERE appointment_id = $1 AND assigned_to_id = $2`, id, userID); err != nil {
				return mapErr(err)
			}
			a, err := appointmentByID(ctx, tx, id)
			if err != nil {
				return err
			}
			out = append(out, *a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: drop transport: %w", err)
	}
	return out, nil
}
