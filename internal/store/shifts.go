package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Errors of shift creation.
var (
	// ErrShiftOverlap refuses a shift that overlaps another non-cancelled
	// shift of the same caregiver. It is also an ErrConflict.
	ErrShiftOverlap = fmt.Errorf("%w: the caregiver already has a shift at that time", ErrConflict)
	// ErrShiftCaregiver refuses a caregiver who is not an active, non-VIEWER
	// member of the care recipient's family with an active account.
	ErrShiftCaregiver = errors.New("the caregiver cannot take shifts for this care recipient")
)

// shiftColumns are a shift with its caregiver and care recipient, read from
// shiftFrom.
const shiftColumns = `sh.id, sh.care_recipient_id, sh.caregiver_id, sh.start_time, sh.end_time,
	sh.notes, sh.status, sh.checked_in_at, sh.checked_out_at, sh.handoff_notes, sh.checkout_notes,
	sh.checkout_location, sh.checkin_notes, sh.checkin_location, sh.created_by_id, sh.created_at, sh.updated_at,
	u.full_name, u.phone, u.avatar_url, cr.family_id, cr.full_name, cr.timezone`

const shiftFrom = ` FROM caregiver_shifts sh JOIN users u ON u.id = sh.caregiver_id
	JOIN care_recipients cr ON cr.id = sh.care_recipient_id`

func scanShift(row interface{ Scan(...any) error }) (*care.Shift, error) {
	var sh care.Shift
	u := care.UserRef{}
	cr := care.ShiftCareRecipient{}
	err := row.Scan(&sh.ID, &sh.CareRecipientID, &sh.CaregiverID, timeCol{&sh.StartTime},
		timeCol{&sh.EndTime}, &sh.Notes, &sh.Status, nullTimeCol{&sh.CheckedInAt},
		nullTimeCol{&sh.CheckedOutAt}, &sh.HandoffNotes, &sh.CheckoutNotes, &sh.CheckoutLocation,
		&sh.CheckInNotes, &sh.CheckInLocation, &sh.CreatedByID, timeCol{&sh.CreatedAt}, timeCol{&sh.UpdatedAt},
		&u.FullName, &u.Phone, &u.AvatarURL, &cr.FamilyID, &cr.FullName, &cr.Timezone)
	if err != nil {
		return nil, mapErr(err)
	}
	u.ID, cr.ID = sh.CaregiverID, sh.CareRecipientID
	sh.Caregiver, sh.CareRecipient = &u, &cr
	return &sh, nil
}

// NewShift is a shift to create.
type NewShift struct {
	CareRecipientID string
	CaregiverID     string
	StartTime       time.Time
	EndTime         time.Time
	Notes           *string
	CreatedByID     string
}

// CreateShift schedules a shift. The caregiver must be an active member of
// the care recipient's family who is not a VIEWER (ErrShiftCaregiver), and
// must have no other non-cancelled shift overlapping it, for any care
// recipient (ErrShiftOverlap); shifts that only touch do not overlap.
// ErrNotFound when the care recipient is gone.
func (s *Store) CreateShift(ctx context.Context, n NewShift) (*care.Shift, error) {
	var out *care.Shift
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The caregiver's user row is the lock that serialises the overlap
		// check against concurrent assignments of the same person.
		var status care.UserStatus
		err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT status FROM users WHERE id = $1`),
			n.CaregiverID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrShiftCaregiver
		}
		if err != nil {
			return mapErr(err)
		}
		var familyID string
		if err := tx.QueryRowContext(ctx, `SELECT family_id FROM care_recipients WHERE id = $1`,
			n.CareRecipientID).Scan(&familyID); err != nil {
			return mapErr(err)
		}
		var role care.Role
		err = tx.QueryRowContext(ctx, `SELECT role FROM family_members
			WHERE family_id = $1 AND user_id = $2 AND is_active = TRUE`, familyID, n.CaregiverID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (!role.CanWrite() || status != care.UserActive)) {
			return ErrShiftCaregiver
		}
		if err != nil {
			return mapErr(err)
		}
		var clash string
		err = tx.QueryRowContext(ctx, `SELECT id FROM caregiver_shifts
			WHERE caregiver_id = $1 AND status <> $2 AND start_time < $4 AND end_time > $3
			LIMIT 1`, n.CaregiverID, care.ShiftCancelled, ts(n.StartTime), ts(n.EndTime)).Scan(&clash)
		if err == nil {
			return ErrShiftOverlap
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		id, now := newID(), ts(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO caregiver_shifts (id, care_recipient_id,
			caregiver_id, start_time, end_time, notes, status, created_by_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			id, n.CareRecipientID, n.CaregiverID, ts(n.StartTime), ts(n.EndTime), n.Notes,
			care.ShiftScheduled, shiftCreatorArg(n.CreatedByID), now); err != nil {
			return mapErr(err)
		}
		out, err = shiftByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create shift: %w", err)
	}
	return out, nil
}

// shiftCreatorArg is NULL for an empty id.
func shiftCreatorArg(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

func shiftByID(ctx context.Context, q querier, id string) (*care.Shift, error) {
	return scanShift(q.QueryRowContext(ctx, `SELECT `+shiftColumns+shiftFrom+` WHERE sh.id = $1`, id))
}

// Shift loads a shift by id, with its caregiver and care recipient.
func (s *Store) Shift(ctx context.Context, id string) (*care.Shift, error) {
	sh, err := shiftByID(ctx, s.r, id)
	if err != nil {
		return nil, fmt.Errorf("store: shift %s: %w", id, err)
	}
	return sh, nil
}

// UpdateShift loads a shift, lets edit change it and writes its status,
// check-in and check-out stamps and notes in one transaction, so concurrent
// transitions of one shift are applied one after the other. An error from
// edit aborts the update and is returned as is.
func (s *Store) UpdateShift(ctx context.Context, id string, edit func(*care.Shift) error) (*care.Shift, error) {
	var out *care.Shift
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.updateShift(ctx, tx, id, edit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update shift: %w", err)
	}
	return out, nil
}

// updateShift is UpdateShift in tx.
func (s *Store) updateShift(ctx context.Context, tx *sql.Tx, id string, edit func(*care.Shift) error) (*care.Shift, error) {
	var locked string
	if err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT id FROM caregiver_shifts WHERE id = $1`),
		id).Scan(&locked); err != nil {
		return nil, mapErr(err)
	}
	sh, err := shiftByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := edit(sh); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE caregiver_shifts SET status = $2, checked_in_at = $3,
		checked_out_at = $4, notes = $5, handoff_notes = $6, checkout_notes = $7,
		checkout_location = $8, updated_at = $9, checkin_notes = $10, checkin_location = $11 WHERE id = $1`,
		id, sh.Status, shiftTimeArg(sh.CheckedInAt), shiftTimeArg(sh.CheckedOutAt), sh.Notes, sh.HandoffNotes,
		sh.CheckoutNotes, sh.CheckoutLocation, ts(s.now()), sh.CheckInNotes, sh.CheckInLocation); err != nil {
		return nil, mapErr(err)
	}
	return shiftByID(ctx, tx, id)
}

// ReleasedShifts are the shifts of a caregiver that ReleaseShifts changed,
// each list earliest first.
type ReleasedShifts struct {
	// Cancelled were still to be worked: scheduled or confirmed, not over.
	Cancelled []care.Shift
	// Ended were in progress, and are now checked out.
	Ended []care.Shift
}

// ReleaseShifts is what ending a caregiver's membership of a family does to
// the rota of its care recipients, so that no shift shows as covered, or
// worked, by someone who is no longer there: the shifts still to be worked
// are cancelled, and a shift in progress is checked out at the store's now
// (no one else may check it out). Past shifts stay as they are.
func (s *Store) ReleaseShifts(ctx context.Context, familyID, caregiverID string) (*ReleasedShifts, error) {
	out := &ReleasedShifts{Cancelled: []care.Shift{}, Ended: []care.Shift{}}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		rows, err := tx.QueryContext(ctx, `SELECT sh.id FROM caregiver_shifts sh
			WHERE sh.caregiver_id = $1 AND (sh.status = $2 OR (sh.status IN ($3, $4) AND sh.end_time > $5))
			AND sh.care_recipient_id IN (SELECT id FROM care_recipients WHERE family_id = $6)
			ORDER BY sh.start_time, sh.id`,
			caregiverID, care.ShiftInProgress, care.ShiftScheduled, care.ShiftConfirmed, ts(now), familyID)
		if err != nil {
			return mapErr(err)
		}
		ids, err := collect(rows, scanString)
		if err != nil {
			return err
		}
		for _, id := range ids {
			// Locked and re-read: a concurrent check-in or cancellation
			// decides what is left to do.
			sh, err := s.updateShift(ctx, tx, id, func(sh *care.Shift) error {
				switch {
				case sh.Status == care.ShiftInProgress:
					return sh.Apply(care.ShiftCheckOut, now)
				case (sh.Status == care.ShiftScheduled || sh.Status == care.ShiftConfirmed) && sh.EndTime.After(now):
					return sh.Apply(care.ShiftCancel, now)
				}
				return errSkipShift
			})
			switch {
			case errors.Is(err, errSkipShift):
			case err != nil:
				return err
			case sh.Status == care.ShiftCompleted:
				out.Ended = append(out.Ended, *sh)
			default:
				out.Cancelled = append(out.Cancelled, *sh)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: release shifts: %w", err)
	}
	return out, nil
}

// errSkipShift leaves a shift as it is.
var errSkipShift = errors.New("store: shift left as it is")

// shiftTimeArg formats an optional time for a query argument.
func shiftTimeArg(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// shiftsWhere lists shifts matching a condition on caregiver_shifts sh (and
// its joins), in the given order, at most limit (all when limit <= 0).
func (s *Store) shiftsWhere(ctx context.Context, where, order string, limit int, args ...any) ([]care.Shift, error) {
	q := `SELECT ` + shiftColumns + shiftFrom + ` WHERE ` + where + ` ORDER BY ` + order
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.rq(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []care.Shift{}
	for rows.Next() {
		sh, err := scanShift(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sh)
	}
	return out, mapErr(rows.Err())
}

const (
	shiftsByStart     = `sh.start_time, sh.id`
	shiftsByStartDesc = `sh.start_time DESC, sh.id DESC`
)

// RecentShifts lists a care recipient's shifts that ended at or after since
// or have not ended yet, in any status, earliest first, at most limit.
func (s *Store) RecentShifts(ctx context.Context, careRecipientID string, since time.Time, limit int) ([]care.Shift, error) {
	out, err := s.shiftsWhere(ctx, `sh.care_recipient_id = $1 AND sh.end_time >= $2`, shiftsByStart, limit,
		careRecipientID, ts(since))
	if err != nil {
		return nil, fmt.Errorf("store: recent shifts: %w", err)
	}
	return out, nil
}

// ShiftsOverlapping lists a care recipient's shifts, in any status, that
// share an instant with [from, to), earliest first.
func (s *Store) ShiftsOverlapping(ctx context.Context, careRecipientID string, from, to time.Time) ([]care.Shift, error) {
	out, err := s.shiftsWhere(ctx, `sh.care_recipient_id = $1 AND sh.start_time < $3 AND sh.end_time > $2`,
		shiftsByStart, 0, careRecipientID, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("store: shifts in range: %w", err)
	}
	return out, nil
}

// UpcomingShifts lists a care recipient's non-cancelled shifts that start in
// [from, to), earliest first.
func (s *Store) UpcomingShifts(ctx context.Context, careRecipientID string, from, to time.Time) ([]care.Shift, error) {
	out, err := s.shiftsWhere(ctx, `sh.care_recipient_id = $1 AND sh.status <> $2
		AND sh.start_time >= $3 AND sh.start_time < $4`, shiftsByStart, 0,
		careRecipientID, care.ShiftCancelled, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("store: upcoming shifts: %w", err)
	}
	return out, nil
}

// CurrentShift returns the care recipient's shift at now: one in progress
// (checked in, not yet out, even past its planned end), else a scheduled or
// confirmed one whose period covers now. ErrNotFound when there is none.
func (s *Store) CurrentShift(ctx context.Context, careRecipientID string, now time.Time) (*care.Shift, error) {
	out, err := s.shiftsWhere(ctx, `sh.care_recipient_id = $1 AND (sh.status = $2
		OR (sh.status IN ($3, $4) AND sh.start_time <= $5 AND sh.end_time > $5))`,
		`CASE WHEN sh.status = $2 THEN 0 ELSE 1 END, `+shiftsByStart, 1,
		careRecipientID, care.ShiftInProgress, care.ShiftScheduled, care.ShiftConfirmed, ts(now))
	if err != nil {
		return nil, fmt.Errorf("store: current shift: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: current shift: %w", ErrNotFound)
	}
	return &out[0], nil
}

// OnDutyShifts lists the care recipient's shifts whose caregiver has checked
// in and not yet out, earliest check-in first.
func (s *Store) OnDutyShifts(ctx context.Context, careRecipientID string) ([]care.Shift, error) {
	out, err := s.shiftsWhere(ctx, `sh.care_recipient_id = $1 AND sh.status = $2`,
		`sh.checked_in_at, sh.id`, 0, careRecipientID, care.ShiftInProgress)
	if err != nil {
		return nil, fmt.Errorf("store: on-duty shifts: %w", err)
	}
	return out, nil
}

// NextShift returns the shift that follows sh for the same care recipient:
// the earliest non-cancelled one starting after sh starts and no later than
// within after sh ends. ErrNotFound when there is none.
func (s *Store) NextShift(ctx context.Context, sh care.Shift, within time.Duration) (*care.Shift, error) {
	out, err := s.shiftsWhere(ctx, `sh.care_recipient_id = $1 AND sh.id <> $2 AND sh.status <> $3
		AND sh.start_time > $4 AND sh.start_time <= $5`, shiftsByStart, 1,
		sh.CareRecipientID, sh.ID, care.ShiftCancelled, ts(sh.StartTime), ts(sh.EndTime.Add(within)))
	if err != nil {
		return nil, fmt.Errorf("store: next shift: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: next shift: %w", ErrNotFound)
	}
	return &out[0], nil
}

// UserShiftsQuery selects a caregiver's own shifts.
type UserShiftsQuery struct {
	// UpcomingOnly keeps the scheduled, confirmed and in-progress shifts that
	// have not ended by Now, earliest first; otherwise every shift is listed,
	// latest first.
	UpcomingOnly bool
	Now          time.Time
	Limit        int
}

// UserShifts lists the shifts assigned to a user for care recipients of the
// families in which they are an active member.
func (s *Store) UserShifts(ctx context.Context, userID string, q UserShiftsQuery) ([]care.Shift, error) {
	where := `sh.caregiver_id = $1 AND cr.family_id IN (SELECT family_id FROM family_members
		WHERE user_id = $1 AND is_active = TRUE)`
	args := []any{userID}
	order := shiftsByStartDesc
	if q.UpcomingOnly {
		where += ` AND sh.status IN ($2, $3, $4) AND sh.end_time > $5`
		args = append(args, care.ShiftScheduled, care.ShiftConfirmed, care.ShiftInProgress, ts(q.Now))
		order = shiftsByStart
	}
	out, err := s.shiftsWhere(ctx, where, order, q.Limit, args...)
	if err != nil {
		return nil, fmt.Errorf("store: user shifts: %w", err)
	}
	return out, nil
}

// ShiftsStartingBetween lists, for the reminder planner, every scheduled or
// confirmed shift starting in [from, to), earliest first, with what a
// reminder needs to say about it.
func (s *Store) ShiftsStartingBetween(ctx context.Context, from, to time.Time) ([]care.ShiftReminderSource, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT sh.id, sh.care_recipient_id, cr.full_name,
		cr.family_id, sh.caregiver_id, cr.timezone, sh.start_time, sh.end_time, sh.updated_at
		FROM caregiver_shifts sh JOIN care_recipients cr ON cr.id = sh.care_recipient_id
		WHERE sh.status IN ($1, $2) AND sh.start_time >= $3 AND sh.start_time < $4
		ORDER BY sh.start_time, sh.id`,
		care.ShiftScheduled, care.ShiftConfirmed, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("store: shifts starting: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.ShiftReminderSource{}
	for rows.Next() {
		var r care.ShiftReminderSource
		if err := rows.Scan(&r.ShiftID, &r.CareRecipientID, &r.CareRecipientName, &r.FamilyID,
			&r.CaregiverID, &r.Timezone, timeCol{&r.StartTime}, timeCol{&r.EndTime},
			timeCol{&r.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("store: shifts starting: %w", mapErr(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: shifts starting: %w", mapErr(err))
	}
	return out, nil
}
