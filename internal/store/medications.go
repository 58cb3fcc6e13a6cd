package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const medicationColumns = `id, care_recipient_id, name, generic_name, dosage, form, frequency,
	times_per_day, scheduled_times, instructions, prescribed_by, pharmacy, pharmacy_phone,
	current_supply, refill_at, last_refill_date, is_active, start_date, end_date, notes,
	created_at, updated_at`

func scanMedication(row interface{ Scan(...any) error }) (*care.Medication, error) {
	var m care.Medication
	err := row.Scan(&m.ID, &m.CareRecipientID, &m.Name, &m.GenericName, &m.Dosage, &m.Form,
		&m.Frequency, &m.TimesPerDay, jsonCol{&m.ScheduledTimes}, &m.Instructions, &m.PrescribedBy,
		&m.Pharmacy, &m.PharmacyPhone, &m.CurrentSupply, &m.RefillAt, &m.LastRefillDate,
		&m.IsActive, &m.StartDate, &m.EndDate, &m.Notes, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	if m.ScheduledTimes == nil {
		m.ScheduledTimes = []string{}
	}
	return &m, nil
}

// CreateMedication adds a medication to m.CareRecipientID; the id and
// timestamps are assigned here. ErrReference when the care recipient is gone.
func (s *Store) CreateMedication(ctx context.Context, m care.Medication) (*care.Medication, error) {
	out, err := scanMedication(s.wq(ctx).QueryRowContext(ctx, `INSERT INTO medications (id,
		care_recipient_id, name, generic_name, dosage, form, frequency, times_per_day,
		scheduled_times, instructions, prescribed_by, pharmacy, pharmacy_phone, current_supply,
		refill_at, last_refill_date, is_active, start_date, end_date, notes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
		$19, $20, $21, $21) RETURNING `+medicationColumns,
		newID(), m.CareRecipientID, m.Name, m.GenericName, m.Dosage, m.Form, m.Frequency,
		m.TimesPerDay, stringsArg(m.ScheduledTimes), m.Instructions, m.PrescribedBy, m.Pharmacy,
		m.PharmacyPhone, m.CurrentSupply, m.RefillAt, m.LastRefillDate, m.IsActive, m.StartDate,
		m.EndDate, m.Notes, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: create medication: %w", err)
	}
	return out, nil
}

// Medication loads a medication by id.
func (s *Store) Medication(ctx context.Context, id string) (*care.Medication, error) {
	m, err := scanMedication(s.rq(ctx).QueryRowContext(ctx, `SELECT `+medicationColumns+`
		FROM medications WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: medication %s: %w", id, err)
	}
	return m, nil
}

// Medications lists a care recipient's medications by name, only the active
// ones when activeOnly.
func (s *Store) Medications(ctx context.Context, careRecipientID string, activeOnly bool) ([]care.Medication, error) {
	q := `SELECT ` + medicationColumns + ` FROM medications WHERE care_recipient_id = $1`
	if activeOnly {
		q += ` AND is_active = TRUE`
	}
	rows, err := s.rq(ctx).QueryContext(ctx, q+` ORDER BY name, id`, careRecipientID)
	if err != nil {
		return nil, fmt.Errorf("store: medications: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.Medication{}
	for rows.Next() {
		m, err := scanMedication(rows)
		if err != nil {
			return nil, fmt.Errorf("store: medications: %w", err)
		}
		out = append(out, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: medications: %w", mapErr(err))
	}
	return out, nil
}

// UpdateMedication loads a medication, lets edit change it and writes the
// result in one transaction. An error from edit aborts the update and is
// returned as is.
func (s *Store) UpdateMedication(ctx context.Context, id string, edit func(*care.Medication) error) (*care.Medication, error) {
	var out *care.Medication
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		m, err := scanMedication(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+medicationColumns+`
			FROM medications WHERE id = $1`), id))
		if err != nil {
			return err
		}
		if err := edit(m); err != nil {
			return err
		}
		out, err = scanMedication(tx.QueryRowContext(ctx, `UPDATE medications SET name = $2,
			generic_name = $3, dosage = $4, form = $5, frequency = $6, times_per_day = $7,
			scheduled_times = $8, instructions = $9, prescribed_by = $10, pharmacy = $11,
			pharmacy_phone = $12, current_supply = $13, refill_at = $14, last_refill_date = $15,
			is_active = $16, start_date = $17, end_date = $18, notes = $19, updated_at = $20
			WHERE id = $1 RETURNING `+medicationColumns,
			id, m.Name, m.GenericName, m.Dosage, m.Form, m.Frequency, m.TimesPerDay,
			stringsArg(m.ScheduledTimes), m.Instructions, m.PrescribedBy, m.Pharmacy,
			m.PharmacyPhone, m.CurrentSupply, m.RefillAt, m.LastRefillDate, m.IsActive,
			m.StartDate, m.EndDate, m.Notes, ts(s.now())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update medication: %w", err)
	}
	return out, nil
}

// DeleteMedication deletes a medication with its dose logs.
func (s *Store) DeleteMedication(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "medications", id)
}

// ActiveMedicationSchedules lists the schedule of every active medication
// taken at fixed times (all but AS_NEEDED), with its care recipient's zone
// and family, for the reminder engine.
func (s *Store) ActiveMedicationSchedules(ctx context.Context) ([]care.MedicationSchedule, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT m.id, m.care_recipient_id, c.family_id, m.name,
		m.dosage, c.timezone, m.scheduled_times, m.start_date, m.end_date
		FROM medications m JOIN care_recipients c ON c.id = m.care_recipient_id
		WHERE m.is_active = TRUE AND m.frequency <> $1 ORDER BY m.id`, care.FrequencyAsNeeded)
	if err != nil {
		return nil, fmt.Errorf("store: active medication schedules: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.MedicationSchedule{}
	for rows.Next() {
		var m care.MedicationSchedule
		var times []string
		if err := rows.Scan(&m.MedicationID, &m.CareRecipientID, &m.FamilyID, &m.Name, &m.Dosage,
			&m.Timezone, jsonCol{&times}, &m.StartDate, &m.EndDate); err != nil {
			return nil, fmt.Errorf("store: active medication schedules: %w", mapErr(err))
		}
		if m.Times, err = parseStoredClockTimes(times); err != nil {
			return nil, fmt.Errorf("store: medication %s: %w", m.MedicationID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: active medication schedules: %w", mapErr(err))
	}
	return out, nil
}

// parseStoredClockTimes reads dose times written by this package.
func parseStoredClockTimes(in []string) ([]care.ClockTime, error) {
	out := make([]care.ClockTime, 0, len(in))
	for _, v := range in {
		c, err := care.ParseClockTime(v)
		if err != nil {
			return nil, fmt.Errorf("stored dose time: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}
