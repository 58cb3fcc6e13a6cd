package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const careRecipientColumns = `id, family_id, full_name, preferred_name, date_of_birth, photo_url,
	blood_type, allergies, conditions, notes, primary_hospital, hospital_address,
	insurance_provider, insurance_policy_no, timezone, created_at, updated_at`

func scanCareRecipient(row interface{ Scan(...any) error }) (*care.CareRecipient, error) {
	var c care.CareRecipient
	err := row.Scan(&c.ID, &c.FamilyID, &c.FullName, &c.PreferredName, &c.DateOfBirth, &c.PhotoURL,
		&c.BloodType, jsonCol{&c.Allergies}, jsonCol{&c.Conditions}, &c.Notes, &c.PrimaryHospital,
		&c.HospitalAddress, &c.InsuranceProvider, &c.InsurancePolicyNo, &c.Timezone,
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	if c.Allergies == nil {
		c.Allergies = []string{}
	}
	if c.Conditions == nil {
		c.Conditions = []string{}
	}
	return &c, nil
}

// CareRecipient loads a care recipient by id.
func (s *Store) CareRecipient(ctx context.Context, id string) (*care.CareRecipient, error) {
	c, err := scanCareRecipient(s.rq(ctx).QueryRowContext(ctx, `SELECT `+careRecipientColumns+`
		FROM care_recipients WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: care recipient %s: %w", id, err)
	}
	return c, nil
}

// CreateCareRecipient adds a care recipient to c.FamilyID; the id and
// timestamps are assigned here.
func (s *Store) CreateCareRecipient(ctx context.Context, c care.CareRecipient) (*care.CareRecipient, error) {
	now := ts(s.now())
	out, err := scanCareRecipient(s.wq(ctx).QueryRowContext(ctx, `INSERT INTO care_recipients (id,
		family_id, full_name, preferred_name, date_of_birth, photo_url, blood_type, allergies,
		conditions, notes, primary_hospital, hospital_address, insurance_provider,
		insurance_policy_no, timezone, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
		RETURNING `+careRecipientColumns,
		newID(), c.FamilyID, c.FullName, c.PreferredName, c.DateOfBirth, c.PhotoURL, c.BloodType,
		stringsArg(c.Allergies), stringsArg(c.Conditions), c.Notes, c.PrimaryHospital,
		c.HospitalAddress, c.InsuranceProvider, c.InsurancePolicyNo, c.Timezone, now))
	if err != nil {
		return nil, fmt.Errorf("store: create care recipient: %w", err)
	}
	return out, nil
}

// CareRecipients lists a family's care recipients by name.
func (s *Store) CareRecipients(ctx context.Context, familyID string) ([]care.CareRecipient, error) {
	byFamily, err := s.careRecipientsWhere(ctx, `family_id = $1`, familyID)
	if err != nil {
		return nil, fmt.Errorf("store: care recipients: %w", err)
	}
	return append([]care.CareRecipient{}, byFamily[familyID]...), nil
}

// careRecipientsWhere lists the care recipients matching a condition, grouped
// by family and ordered by name.
func (s *Store) careRecipientsWhere(ctx context.Context, where string, args ...any) (map[string][]care.CareRecipient, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+careRecipientColumns+` FROM care_recipients
		WHERE `+where+` ORDER BY full_name, id`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string][]care.CareRecipient{}
	for rows.Next() {
		c, err := scanCareRecipient(rows)
		if err != nil {
			return nil, err
		}
		out[c.FamilyID] = append(out[c.FamilyID], *c)
	}
	return out, mapErr(rows.Err())
}

// UpdateCareRecipient loads a care recipient, lets edit change it and writes
// the result, all in one transaction. An error from edit aborts the update
// and is returned as is. The id, family and timestamps cannot be edited.
func (s *Store) UpdateCareRecipient(ctx context.Context, id string, edit func(*care.CareRecipient) error) (*care.CareRecipient, error) {
	var out *care.CareRecipient
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanCareRecipient(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+careRecipientColumns+`
			FROM care_recipients WHERE id = $1`), id))
		if err != nil {
			return err
		}
		if err := edit(c); err != nil {
			return err
		}
		out, err = scanCareRecipient(tx.QueryRowContext(ctx, `UPDATE care_recipients SET
			full_name = $2, preferred_name = $3, date_of_birth = $4, photo_url = $5, blood_type = $6,
			allergies = $7, conditions = $8, notes = $9, primary_hospital = $10,
			hospital_address = $11, insurance_provider = $12, insurance_policy_no = $13,
			timezone = $14, updated_at = $15 WHERE id = $1 RETURNING `+careRecipientColumns,
			id, c.FullName, c.PreferredName, c.DateOfBirth, c.PhotoURL, c.BloodType,
			stringsArg(c.Allergies), stringsArg(c.Conditions), c.Notes, c.PrimaryHospital,
			c.HospitalAddress, c.InsuranceProvider, c.InsurancePolicyNo, c.Timezone, ts(s.now())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update care recipient: %w", err)
	}
	return out, nil
}

// DeleteCareRecipient deletes a care recipient and everything recorded about them.
func (s *Store) DeleteCareRecipient(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "care_recipients", id)
}
