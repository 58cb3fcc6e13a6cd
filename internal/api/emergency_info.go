package api

import (
	"context"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// emergencyInfoView is the emergency card as GET .../emergency/info answers
// it: care.EmergencyInfo, plus the care recipient's name, hospital and
// insurance under the flat names of the data model, as the existing API
// answered them.
type emergencyInfoView struct {
	care.EmergencyInfo
	Name              string  `json:"name"`
	PrimaryHospital   *string `json:"primaryHospital"`
	HospitalAddress   *string `json:"hospitalAddress"`
	InsuranceProvider *string `json:"insuranceProvider"`
	InsurancePolicyNo *string `json:"insurancePolicyNo"`
}

// emergencyInfo answers the emergency card of a care recipient: everything
// paramedics or a hospital ask for, on one page. Reading it is recorded in
// the audit log.
//
// The card is read from the database every time, not cached: it gathers the
// care recipient, their medications, doctors and emergency contacts, the
// family's members (with the phone of each member's account) and key
// documents, and the open alerts, so a cached copy would have to be dropped
// by the writes of every one of those, and a stale allergy or medication
// list is the one thing this page must never show.
func (s *Server) emergencyInfo(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	cr, _, err := s.careRecipientMember(r.Context(), p, crID, anyMember)
	if err != nil {
		return err
	}
	info, err := s.loadEmergencyInfo(r.Context(), cr)
	if err != nil {
		return err
	}
	if err := s.auditRead(r, p, "emergency_info.read", "care_recipient", cr.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// loadEmergencyInfo gathers the emergency card of cr.
func (s *Server) loadEmergencyInfo(ctx context.Context, cr *care.CareRecipient) (*emergencyInfoView, error) {
	now := s.clock.Now().UTC()
	info := care.EmergencyInfo{
		CareRecipientID: cr.ID, FamilyID: cr.FamilyID, FullName: cr.FullName, PreferredName: cr.PreferredName,
		DateOfBirth: cr.DateOfBirth, PhotoURL: cr.PhotoURL, BloodType: cr.BloodType,
		Allergies: emergencyList(cr.Allergies), Conditions: emergencyList(cr.Conditions), Notes: cr.Notes, Timezone: cr.Timezone,
		Hospital:    care.EmergencyHospital{Name: cr.PrimaryHospital, Address: cr.HospitalAddress},
		Insurance:   care.EmergencyInsurance{Provider: cr.InsuranceProvider, PolicyNumber: cr.InsurancePolicyNo},
		GeneratedAt: now,
	}
	if cr.DateOfBirth != nil {
		// The age the care recipient has today where they live.
		if age, ok := care.AgeOn(*cr.DateOfBirth, now.In(shiftZone(cr.Timezone))); ok {
			info.Age = &age
		}
	}
	var err error
	if info.Medications, err = s.store.Medications(ctx, cr.ID, true); err != nil {
		return nil, err
	}
	if info.EmergencyContacts, err = s.store.EmergencyContacts(ctx, cr.ID); err != nil {
		return nil, err
	}
	if info.Doctors, err = s.store.Doctors(ctx, cr.ID); err != nil {
		return nil, err
	}
	members, err := s.store.Members(ctx, cr.FamilyID)
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
	docs, err := s.store.Documents(ctx, cr.FamilyID, docTypes...)
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
	if info.ActiveAlerts, err = s.store.OpenEmergencyAlerts(ctx, cr.ID); err != nil {
		return nil, err
	}
	return &emergencyInfoView{EmergencyInfo: info, Name: cr.FullName, PrimaryHospital: cr.PrimaryHospital,
		HospitalAddress: cr.HospitalAddress, InsuranceProvider: cr.InsuranceProvider, InsurancePolicyNo: cr.InsurancePolicyNo}, nil
}

// emergencyList answers an empty list for none, so the card shows [] not null.
func emergencyList(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
