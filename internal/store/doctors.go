package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const doctorColumns = `id, care_recipient_id, name, specialty, phone, fax, email, address, notes,
	created_at, updated_at`

func scanDoctor(row interface{ Scan(...any) error }) (*care.Doctor, error) {
	var d care.Doctor
	err := row.Scan(&d.ID, &d.CareRecipientID, &d.Name, &d.Specialty, &d.Phone, &d.Fax, &d.Email,
		&d.Address, &d.Notes, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &d, nil
}

// CreateDoctor adds a doctor to d.CareRecipientID; the id and timestamps are
// assigned here.
func (s *Store) CreateDoctor(ctx context.Context, d care.Doctor) (*care.Doctor, error) {
	out, err := scanDoctor(s.wq(ctx).QueryRowContext(ctx, `INSERT INTO doctors (id, care_recipient_id,
		name, specialty, phone, fax, email, address, notes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING `+doctorColumns,
		newID(), d.CareRecipientID, d.Name, d.Specialty, d.Phone, d.Fax, d.Email, d.Address,
		d.Notes, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: create doctor: %w", err)
	}
	return out, nil
}

// Doctor loads a doctor by id.
func (s *Store) Doctor(ctx context.Context, id string) (*care.Doctor, error) {
	d, err := scanDoctor(s.rq(ctx).QueryRowContext(ctx, `SELECT `+doctorColumns+` FROM doctors WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: doctor %s: %w", id, err)
	}
	return d, nil
}

// Doctors lists a care recipient's doctors by name.
func (s *Store) Doctors(ctx context.Context, careRecipientID string) ([]care.Doctor, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+doctorColumns+` FROM doctors
		WHERE care_recipient_id = $1 ORDER BY name, id`, careRecipientID)
	if err != nil {
		return nil, fmt.Errorf("store: doctors: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.Doctor{}
	for rows.Next() {
		d, err := scanDoctor(rows)
		if err != nil {
			return nil, fmt.Errorf("store: doctors: %w", err)
		}
		out = append(out, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: doctors: %w", mapErr(err))
	}
	return out, nil
}

// UpdateDoctor loads a doctor, lets edit change it and writes the result in
// one transaction. An error from edit aborts the update and is returned as is.
func (s *Store) UpdateDoctor(ctx context.Context, id string, edit func(*care.Doctor) error) (*care.Doctor, error) {
	var out *care.Doctor
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		d, err := scanDoctor(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+doctorColumns+`
			FROM doctors WHERE id = $1`), id))
		if err != nil {
			return err
		}
		if err := edit(d); err != nil {
			return err
		}
		out, err = scanDoctor(tx.QueryRowContext(ctx, `UPDATE doctors SET name = $2, specialty = $3,
			phone = $4, fax = $5, email = $6, address = $7, notes = $8, updated_at = $9
			WHERE id = $1 RETURNING `+doctorColumns,
			id, d.Name, d.Specialty, d.Phone, d.Fax, d.Email, d.Address, d.Notes, ts(s.now())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update doctor: %w", err)
	}
	return out, nil
}

// DeleteDoctor deletes a doctor; appointments with them keep their details
// but lose the link.
func (s *Store) DeleteDoctor(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "doctors", id)
}
