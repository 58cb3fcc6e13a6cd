package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const emergencyContactColumns = `id, care_recipient_id, name, relationship, phone, email,
	is_primary, notes, created_at, updated_at`

func scanEmergencyContact(row interface{ Scan(...any) error }) (*care.EmergencyContact, error) {
	var c care.EmergencyContact
	err := row.Scan(&c.ID, &c.CareRecipientID, &c.Name, &c.Relationship, &c.Phone, &c.Email,
		&c.IsPrimary, &c.Notes, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &c, nil
}

// CreateEmergencyContact adds a contact to c.CareRecipientID; the id and
// timestamps are assigned here. A primary contact takes over from the
// previous one.
func (s *Store) CreateEmergencyContact(ctx context.Context, c care.EmergencyContact) (*care.EmergencyContact, error) {
	var out *care.EmergencyContact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id := newID()
		if c.IsPrimary {
			if err := s.lockContacts(ctx, tx, c.CareRecipientID); err != nil {
				return err
			}
			if err := s.clearPrimaryContact(ctx, tx, c.CareRecipientID, id); err != nil {
				return err
			}
		}
		var err error
		out, err = scanEmergencyContact(tx.QueryRowContext(ctx, `INSERT INTO emergency_contacts (id,
			care_recipient_id, name, relationship, phone, email, is_primary, notes, created_at,
			updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING `+emergencyContactColumns,
			id, c.CareRecipientID, c.Name, c.Relationship, c.Phone, c.Email, c.IsPrimary, c.Notes,
			ts(s.now())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create emergency contact: %w", err)
	}
	return out, nil
}

// lockContacts locks a care recipient so that changes of their primary
// contact queue up. ErrNotFound when the care recipient is gone.
func (s *Store) lockContacts(ctx context.Context, tx *sql.Tx, careRecipientID string) error {
	var id string
	err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT id FROM care_recipients WHERE id = $1`),
		careRecipientID).Scan(&id)
	return mapErr(err)
}

// clearPrimaryContact makes every contact of the care recipient but keepID
// non-primary. The caller holds lockContacts.
func (s *Store) clearPrimaryContact(ctx context.Context, tx *sql.Tx, careRecipientID, keepID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE emergency_contacts SET is_primary = FALSE, updated_at = $3
		WHERE care_recipient_id = $1 AND id <> $2 AND is_primary = TRUE`,
		careRecipientID, keepID, ts(s.now()))
	return mapErr(err)
}

// EmergencyContact loads an emergency contact by id.
func (s *Store) EmergencyContact(ctx context.Context, id string) (*care.EmergencyContact, error) {
	c, err := scanEmergencyContact(s.rq(ctx).QueryRowContext(ctx, `SELECT `+emergencyContactColumns+`
		FROM emergency_contacts WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: emergency contact %s: %w", id, err)
	}
	return c, nil
}

// EmergencyContacts lists a care recipient's contacts, the primary one first.
func (s *Store) EmergencyContacts(ctx context.Context, careRecipientID string) ([]care.EmergencyContact, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+emergencyContactColumns+` FROM emergency_contacts
		WHERE care_recipient_id = $1 ORDER BY is_primary DESC, name, id`, careRecipientID)
	if err != nil {
		return nil, fmt.Errorf("store: emergency contacts: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.EmergencyContact{}
	for rows.Next() {
		c, err := scanEmergencyContact(rows)
		if err != nil {
			return nil, fmt.Errorf("store: emergency contacts: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: emergency contacts: %w", mapErr(err))
	}
	return out, nil
}

// UpdateEmergencyContact loads a contact, lets edit change it and writes the
// result in one transaction; a contact made primary takes over from the
// previous one. An error from edit aborts the update and is returned as is.
func (s *Store) UpdateEmergencyContact(ctx context.Context, id string, edit func(*care.EmergencyContact) error) (*care.EmergencyContact, error) {
	var out *care.EmergencyContact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The care recipient is locked before the contact, as every writer
		// of the primary flag does, so that they cannot deadlock.
		var crID string
		err := tx.QueryRowContext(ctx, `SELECT care_recipient_id FROM emergency_contacts
			WHERE id = $1`, id).Scan(&crID)
		if err != nil {
			return mapErr(err)
		}
		if err := s.lockContacts(ctx, tx, crID); err != nil {
			return err
		}
		c, err := scanEmergencyContact(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+
			emergencyContactColumns+` FROM emergency_contacts WHERE id = $1`), id))
		if err != nil {
			return err
		}
		if err := edit(c); err != nil {
			return err
		}
		if c.IsPrimary {
			if err := s.clearPrimaryContact(ctx, tx, c.CareRecipientID, id); err != nil {
				return err
			}
		}
		out, err = scanEmergencyContact(tx.QueryRowContext(ctx, `UPDATE emergency_contacts SET
			name = $2, relationship = $3, phone = $4, email = $5, is_primary = $6, notes = $7,
			updated_at = $8 WHERE id = $1 RETURNING `+emergencyContactColumns,
			id, c.Name, c.Relationship, c.Phone, c.Email, c.IsPrimary, c.Notes, ts(s.now())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update emergency contact: %w", err)
	}
	return out, nil
}

// DeleteEmergencyContact deletes an emergency contact.
func (s *Store) DeleteEmergencyContact(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "emergency_contacts", id)
}
