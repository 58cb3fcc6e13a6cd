package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// medicationLogSelect reads logs (alias l) with the name of who logged them.
const medicationLogSelect = `SELECT l.id, l.medication_id, l.given_by_id, u.full_name,
	l.scheduled_time, l.given_time, l.status, l.skip_reason, l.notes, l.created_at, l.updated_at
	FROM medication_logs l LEFT JOIN users u ON u.id = l.given_by_id`

func scanMedicationLog(row interface{ Scan(...any) error }) (*care.MedicationLog, error) {
	var l care.MedicationLog
	var givenByName *string
	err := row.Scan(&l.ID, &l.MedicationID, &l.GivenByID, &givenByName, timeCol{&l.ScheduledTime},
		nullTimeCol{&l.GivenTime}, &l.Status, &l.SkipReason, &l.Notes, timeCol{&l.CreatedAt},
		timeCol{&l.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	if l.GivenByID != nil && givenByName != nil {
		l.GivenBy = &care.UserRef{ID: *l.GivenByID, FullName: *givenByName}
	}
	return &l, nil
}

func (s *Store) queryMedicationLogs(ctx context.Context, q querier, query string, args ...any) ([]care.MedicationLog, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []care.MedicationLog{}
	for rows.Next() {
		l, err := scanMedicationLog(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// LogDose records what happened to the dose of a medication at
// e.ScheduledTime, in one transaction with its effect on the supply. A dose
// without a log gets one (created is true); a PENDING or MISSED log is
// replaced by the new status; any other log refuses with
// care.ErrDoseAlreadyLogged, and an inactive medication with
// care.ErrMedicationInactive. A dose that becomes GIVEN takes one unit from
// the current supply (never below zero) and stamps the given time.
func (s *Store) LogDose(ctx context.Context, medicationID string, e care.DoseEntry) (log *care.MedicationLog, created bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// Locking the medication serialises every log of its doses, so two
		// members logging the same dose at once cannot both decrement.
		var active bool
		err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT is_active FROM medications WHERE id = $1`),
			medicationID).Scan(&active)
		if err != nil {
			return mapErr(err)
		}
		if !active {
			return care.ErrMedicationInactive
		}
		now := s.now()
		var givenTime *string
		if e.Status == care.DoseGiven {
			g := ts(now)
			givenTime = &g
		}
		// The missed-dose job writes logs without taking the medication's
		// lock, so the insert yields to a log that appeared meanwhile and the
		// rule is then judged against that log.
		id := newID()
		res, err := tx.ExecContext(ctx, `INSERT INTO medication_logs (id, medication_id, given_by_id,
			scheduled_time, given_time, status, skip_reason, notes, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (medication_id, scheduled_time) DO NOTHING`,
			id, medicationID, e.LoggedByID, ts(e.ScheduledTime), givenTime, e.Status, e.SkipReason,
			e.Notes, ts(now))
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			created = true
		} else {
			existing, err := scanMedicationLog(tx.QueryRowContext(ctx, medicationLogSelect+`
				WHERE l.medication_id = $1 AND l.scheduled_time = $2`, medicationID, ts(e.ScheduledTime)))
			if err != nil {
				return err
			}
			if err := care.CheckDoseLog(active, existing); err != nil {
				return err
			}
			id = existing.ID
			if _, err := tx.ExecContext(ctx, `UPDATE medication_logs SET given_by_id = $2, given_time = $3,
				status = $4, skip_reason = $5, notes = $6, updated_at = $7 WHERE id = $1`,
				id, e.LoggedByID, givenTime, e.Status, e.SkipReason, e.Notes, ts(now)); err != nil {
				return mapErr(err)
			}
		}
		// Only PENDING and MISSED logs are ever replaced, so a dose enters
		// GIVEN here at most once.
		if e.Status == care.DoseGiven {
			if _, err := tx.ExecContext(ctx, `UPDATE medications SET current_supply = current_supply - 1,
				updated_at = $2 WHERE id = $1 AND current_supply > 0`, medicationID, ts(now)); err != nil {
				return mapErr(err)
			}
		}
		log, err = scanMedicationLog(tx.QueryRowContext(ctx, medicationLogSelect+` WHERE l.id = $1`, id))
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: log dose: %w", err)
	}
	return log, created, nil
}

// MedicationLogAt loads the log of a medication's dose at scheduledTime;
// ErrNotFound when the dose has none.
func (s *Store) MedicationLogAt(ctx context.Context, medicationID string, scheduledTime time.Time) (*care.MedicationLog, error) {
	l, err := scanMedicationLog(s.rq(ctx).QueryRowContext(ctx, medicationLogSelect+`
		WHERE l.medication_id = $1 AND l.scheduled_time = $2`, medicationID, ts(scheduledTime)))
	if err != nil {
		return nil, fmt.Errorf("store: medication log: %w", err)
	}
	return l, nil
}

// MedicationLogRange selects logs by the dose's scheduled time: From
// inclusive, To exclusive, either open when nil; at most Limit, newest dose
// first.
type MedicationLogRange struct {
	From, To *time.Time
	Limit    int
}

// MedicationLogs lists a medication's dose logs within r.
func (s *Store) MedicationLogs(ctx context.Context, medicationID string, r MedicationLogRange) ([]care.MedicationLog, error) {
	q := medicationLogSelect + ` WHERE l.medication_id = $1`
	args := []any{medicationID}
	if r.From != nil {
		args = append(args, ts(*r.From))
		q += fmt.Sprintf(` AND l.scheduled_time >= $%d`, len(args))
	}
	if r.To != nil {
		args = append(args, ts(*r.To))
		q += fmt.Sprintf(` AND l.scheduled_time < $%d`, len(args))
	}
	args = append(args, r.Limit)
	q += fmt.Sprintf(` ORDER BY l.scheduled_time DESC, l.id DESC LIMIT $%d`, len(args))
	out, err := s.queryMedicationLogs(ctx, s.r, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: medication logs: %w", err)
	}
	return out, nil
}

// CareRecipientDoseLogs lists the logs of every medication of a care
// recipient for doses scheduled in [from, to), by scheduled time.
func (s *Store) CareRecipientDoseLogs(ctx context.Context, careRecipientID string, from, to time.Time) ([]care.MedicationLog, error) {
	out, err := s.queryMedicationLogs(ctx, s.r, medicationLogSelect+`
		JOIN medications m ON m.id = l.medication_id
		WHERE m.care_recipient_id = $1 AND l.scheduled_time >= $2 AND l.scheduled_time < $3
		ORDER BY l.scheduled_time, l.id`, careRecipientID, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("store: care recipient dose logs: %w", err)
	}
	return out, nil
}

// ActiveMedicationsWithDoseLogs lists a care recipient's active medications
// by name, each with its dose logs scheduled in [from, to) in order, in one
// query: what a day's schedule is built from.
func (s *Store) ActiveMedicationsWithDoseLogs(ctx context.Context, careRecipientID string, from, to time.Time) ([]care.Medication, map[string][]care.MedicationLog, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+prefixed("m.", medicationColumns)+`,
		l.id, l.given_by_id, u.full_name, l.scheduled_time, l.given_time, l.status, l.skip_reason,
		l.notes, l.created_at, l.updated_at
		FROM medications m
		LEFT JOIN medication_logs l ON l.medication_id = m.id AND l.scheduled_time >= $2 AND l.scheduled_time < $3
		LEFT JOIN users u ON u.id = l.given_by_id
		WHERE m.care_recipient_id = $1 AND m.is_active = TRUE
		ORDER BY m.name, m.id, l.scheduled_time, l.id`, careRecipientID, ts(from), ts(to))
	if err != nil {
		return nil, nil, fmt.Errorf("store: medications with dose logs: %w", mapErr(err))
	}
	defer rows.Close()
	meds := []care.Medication{}
	logs := map[string][]care.MedicationLog{}
	for rows.Next() {
		var m care.Medication
		var logID, givenByID, givenByName, status *string
		var l care.MedicationLog
		var scheduled, created, updated *time.Time
		err := rows.Scan(&m.ID, &m.CareRecipientID, &m.Name, &m.GenericName, &m.Dosage, &m.Form,
			&m.Frequency, &m.TimesPerDay, jsonCol{&m.ScheduledTimes}, &m.Instructions, &m.PrescribedBy,
			&m.Pharmacy, &m.PharmacyPhone, &m.CurrentSupply, &m.RefillAt, &m.LastRefillDate,
			&m.IsActive, &m.StartDate, &m.EndDate, &m.Notes, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt},
			&logID, &givenByID, &givenByName, nullTimeCol{&scheduled}, nullTimeCol{&l.GivenTime}, &status,
			&l.SkipReason, &l.Notes, nullTimeCol{&created}, nullTimeCol{&updated})
		if err != nil {
			return nil, nil, fmt.Errorf("store: medications with dose logs: %w", mapErr(err))
		}
		if n := len(meds); n == 0 || meds[n-1].ID != m.ID {
			if m.ScheduledTimes == nil {
				m.ScheduledTimes = []string{}
			}
			meds = append(meds, m)
		}
		if logID == nil {
			continue // a medication without a log in the range
		}
		if scheduled == nil || created == nil || updated == nil || status == nil {
			return nil, nil, fmt.Errorf("store: medications with dose logs: dose log %s: unexpected NULL", *logID)
		}
		l.ID, l.MedicationID, l.GivenByID, l.Status = *logID, m.ID, givenByID, care.DoseStatus(*status)
		l.ScheduledTime, l.CreatedAt, l.UpdatedAt = *scheduled, *created, *updated
		if givenByID != nil && givenByName != nil {
			l.GivenBy = &care.UserRef{ID: *givenByID, FullName: *givenByName}
		}
		logs[m.ID] = append(logs[m.ID], l)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: medications with dose logs: %w", mapErr(err))
	}
	return meds, logs, nil
}
