package store

import (
	"context"
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
	c, err := scanCareRecipient(s.r.QueryRowContext(ctx, `SELECT `+careRecipientColumns+`
		FROM care_recipients WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: care recipient %s: %w", id, err)
	}
	return c, nil
}
