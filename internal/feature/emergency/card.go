package emergency

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Card is the emergency information card: care.EmergencyInfo, plus the
// care recipient's name, hospital and insurance under the flat names of
// the data model, as the API has always answered them.
type Card struct {
	care.EmergencyInfo
	Name              string  `json:"name"`
	PrimaryHospital   *string `json:"primaryHospital"`
	HospitalAddress   *string `json:"hospitalAddress"`
	InsuranceProvider *string `json:"insuranceProvider"`
	InsurancePolicyNo *string `json:"insurancePolicyNo"`
}

// Card gathers the emergency card of the care recipient crID for a member
// of their family: everything paramedics or a hospital ask for, on one
// page.
//
// The card is read from the database every time, not cached: it gathers
// the care recipient, their medications, doctors and emergency contacts,
// the family's members (with the phone of each member's account) and key
// documents, and the open alerts, so a cached copy would have to be
// dropped by the writes of every one of those, and a stale allergy or
// medication list is the one thing it must never show.
func (s *Service) Card(ctx context.Context, a feature.Actor, crID string) (*Card, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	now := s.b.Clock.Now().UTC()
	info := care.EmergencyInfo{
		CareRecipientID: cr.ID, FamilyID: cr.FamilyID, FullName: cr.FullName, PreferredName: cr.PreferredName,
		DateOfBirth: cr.DateOfBirth, PhotoURL: cr.PhotoURL, BloodType: cr.BloodType,
		Allergies: list(cr.Allergies), Conditions: list(cr.Conditions), Notes: cr.Notes, Timezone: cr.Timezone,
		Hospital:    care.EmergencyHospital{Name: cr.PrimaryHospital, Address: cr.HospitalAddress},
		Insurance:   care.EmergencyInsurance{Provider: cr.InsuranceProvider, PolicyNumber: cr.InsurancePolicyNo},
		GeneratedAt: now,
	}
	if cr.DateOfBirth != nil {
		// The age the care recipient has today where they live.
		if age, ok := care.AgeOn(*cr.DateOfBirth, now.In(feature.Zone(cr.Timezone))); ok {
			info.Age = &age
		}
	}
	if info.Medications, err = s.b.Store.Medications(ctx, cr.ID, true); err != nil {
		return nil, err
	}
	if info.EmergencyContacts, err = s.b.Store.EmergencyContacts(ctx, cr.ID); err != nil {
		return nil, err
	}
	if info.Doctors, err = s.b.Store.Doctors(ctx, cr.ID); err != nil {
		return nil, err
	}
	members, err := s.b.Store.Members(ctx, cr.FamilyID)
	if err != nil {
		return nil, err
	}
	info.FamilyMembers = make([]care.EmergencyMember, 0, len(members))
	for _, m := range members {
		em := care.EmergencyMember{UserID: m.UserID, Nickname: m.Nickname, Role: m.Role}
		if m.User != nil {
			em.FullName, em.Phone, em.Email = m.User.FullName, m.User.Phone, m.User.Email
			em.Name = em.FullName
		}
		info.FamilyMembers = append(info.FamilyMembers, em)
	}
	types := care.KeyDocumentTypes()
	docTypes := make([]store.DocumentType, len(types))
	for i, t := range types {
		docTypes[i] = store.DocumentType(t)
	}
	docs, err := s.b.Store.Documents(ctx, cr.FamilyID, docTypes...)
	if err != nil {
		return nil, err
	}
	info.Documents = []care.EmergencyDocument{}
	for _, d := range docs {
		if d.Status != store.DocReady {
			continue // still being checked, or refused
		}
		info.Documents = append(info.Documents, care.EmergencyDocument{ID: d.ID, Name: d.Name, Type: string(d.Type),
			Status: string(d.Status), MimeType: d.MimeType, ExpiresAt: d.ExpiresAt, CreatedAt: d.CreatedAt})
	}
	if info.ActiveAlerts, err = s.b.Store.OpenEmergencyAlerts(ctx, cr.ID); err != nil {
		return nil, err
	}
	return &Card{EmergencyInfo: info, Name: cr.FullName, PrimaryHospital: cr.PrimaryHospital,
		HospitalAddress: cr.HospitalAddress, InsuranceProvider: cr.InsuranceProvider, InsurancePolicyNo: cr.InsurancePolicyNo}, nil
}

// list answers an empty list for none, so the card shows [] not null.
func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
