package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// careRecipientRoutes registers care recipients with their doctors and
// emergency contacts.
func (s *Server) careRecipientRoutes() {
	s.authed("POST", "/families/{familyId}/care-recipients", s.createCareRecipient)
	s.authed("GET", "/families/{familyId}/care-recipients", s.listCareRecipients)
	s.authed("GET", "/care-recipients/{id}", s.getCareRecipient)
	s.authed("PATCH", "/care-recipients/{id}", s.updateCareRecipient)
	s.authed("DELETE", "/care-recipients/{id}", s.deleteCareRecipient)
	s.doctorRoutes()
	s.emergencyContactRoutes()
}

// careRecipientAccess reads the care recipient id from the path parameter
// named param and checks the principal's membership in their family.
func (s *Server) careRecipientAccess(r *http.Request, p *Principal, param string, n need) (*care.CareRecipient, error) {
	id, err := pathID(r, param)
	if err != nil {
		return nil, err
	}
	cr, _, err := s.base.CareRecipient(r.Context(), *p, id, n)
	return cr, err
}

// careRecipientBody is the body of POST /families/{familyId}/care-recipients.
type careRecipientBody struct {
	FullName          string   `json:"fullName"`
	PreferredName     *string  `json:"preferredName"`
	DateOfBirth       *string  `json:"dateOfBirth"`
	PhotoURL          *string  `json:"photoUrl"`
	BloodType         *string  `json:"bloodType"`
	Allergies         []string `json:"allergies"`
	Conditions        []string `json:"conditions"`
	Notes             *string  `json:"notes"`
	PrimaryHospital   *string  `json:"primaryHospital"`
	HospitalAddress   *string  `json:"hospitalAddress"`
	InsuranceProvider *string  `json:"insuranceProvider"`
	InsurancePolicyNo *string  `json:"insurancePolicyNo"`
	Timezone          *string  `json:"timezone"`

	now time.Time // judges whether the birth date is in the future
}

func (b *careRecipientBody) Validate(p Problems) {
	b.FullName = p.line("fullName", b.FullName, maxNameLen)
	b.PreferredName = p.optLine("preferredName", b.PreferredName, maxNameLen)
	b.DateOfBirth = p.birthDate("dateOfBirth", b.DateOfBirth, b.now)
	b.PhotoURL = p.webURL("photoUrl", b.PhotoURL)
	b.BloodType = p.bloodType("bloodType", b.BloodType)
	b.Allergies = p.stringList("allergies", b.Allergies)
	b.Conditions = p.stringList("conditions", b.Conditions)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
	b.PrimaryHospital = p.optText("primaryHospital", b.PrimaryHospital, maxShortText)
	b.HospitalAddress = p.optText("hospitalAddress", b.HospitalAddress, maxAddressLen)
	b.InsuranceProvider = p.optText("insuranceProvider", b.InsuranceProvider, maxShortText)
	b.InsurancePolicyNo = p.optText("insurancePolicyNo", b.InsurancePolicyNo, maxNameLen)
	if b.Timezone != nil {
		p.timezone("timezone", *b.Timezone)
	}
}

// input is the care recipient the body describes; a nil timezone is left
// empty, for the service to choose the creating user's zone.
func (b *careRecipientBody) input() care.CareRecipient {
	c := care.CareRecipient{
		FullName: b.FullName, PreferredName: b.PreferredName,
		DateOfBirth: b.DateOfBirth, PhotoURL: b.PhotoURL, BloodType: b.BloodType,
		Allergies: b.Allergies, Conditions: b.Conditions, Notes: b.Notes,
		PrimaryHospital: b.PrimaryHospital, HospitalAddress: b.HospitalAddress,
		InsuranceProvider: b.InsuranceProvider, InsurancePolicyNo: b.InsurancePolicyNo,
	}
	if b.Timezone != nil {
		c.Timezone = *b.Timezone
	}
	return c
}

// createCareRecipient adds a care recipient whose schedule is kept in the
// given zone, or else in the creating user's.
func (s *Server) createCareRecipient(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return createByID(w, r, p, "familyId", s.svc.CareRecipients.Create, &careRecipientBody{now: s.clock.Now()})
}

func (s *Server) listCareRecipients(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "familyId", s.svc.CareRecipients.List, writeOK)
}

// getCareRecipient answers with the care recipient, their doctors and their
// emergency contacts.
func (s *Server) getCareRecipient(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "id", s.svc.CareRecipients.Get, writeOK)
}

// careRecipientPatch is the body of PATCH /care-recipients/{id}: absent
// fields stay, null clears optional ones.
type careRecipientPatch struct {
	FullName          Optional[string]   `json:"fullName"`
	PreferredName     Optional[string]   `json:"preferredName"`
	DateOfBirth       Optional[string]   `json:"dateOfBirth"`
	PhotoURL          Optional[string]   `json:"photoUrl"`
	BloodType         Optional[string]   `json:"bloodType"`
	Allergies         Optional[[]string] `json:"allergies"`
	Conditions        Optional[[]string] `json:"conditions"`
	Notes             Optional[string]   `json:"notes"`
	PrimaryHospital   Optional[string]   `json:"primaryHospital"`
	HospitalAddress   Optional[string]   `json:"hospitalAddress"`
	InsuranceProvider Optional[string]   `json:"insuranceProvider"`
	InsurancePolicyNo Optional[string]   `json:"insurancePolicyNo"`
	Timezone          Optional[string]   `json:"timezone"`

	now time.Time
}

func (b *careRecipientPatch) Validate(p Problems) {
	p.patchRequired("fullName", &b.FullName, func(v string) string { return p.line("fullName", v, maxNameLen) })
	p.patchRequired("timezone", &b.Timezone, func(v string) string { p.timezone("timezone", v); return v })
	patchOptional(&b.PreferredName, func(v *string) *string { return p.optLine("preferredName", v, maxNameLen) })
	patchOptional(&b.DateOfBirth, func(v *string) *string { return p.birthDate("dateOfBirth", v, b.now) })
	patchOptional(&b.PhotoURL, func(v *string) *string { return p.webURL("photoUrl", v) })
	patchOptional(&b.BloodType, func(v *string) *string { return p.bloodType("bloodType", v) })
	patchOptional(&b.Notes, func(v *string) *string { return p.optText("notes", v, maxNotesLen) })
	patchOptional(&b.PrimaryHospital, func(v *string) *string { return p.optText("primaryHospital", v, maxShortText) })
	patchOptional(&b.HospitalAddress, func(v *string) *string { return p.optText("hospitalAddress", v, maxAddressLen) })
	patchOptional(&b.InsuranceProvider, func(v *string) *string { return p.optText("insuranceProvider", v, maxShortText) })
	patchOptional(&b.InsurancePolicyNo, func(v *string) *string { return p.optText("insurancePolicyNo", v, maxNameLen) })
	b.Allergies.Value = p.stringList("allergies", b.Allergies.Value)
	b.Conditions.Value = p.stringList("conditions", b.Conditions.Value)
}

// apply writes the patch onto c. Null lists become empty.
func (b *careRecipientPatch) apply(c *care.CareRecipient) error {
	assignRequired(&c.FullName, b.FullName)
	assignRequired(&c.Timezone, b.Timezone)
	assign(&c.PreferredName, b.PreferredName)
	assign(&c.DateOfBirth, b.DateOfBirth)
	assign(&c.PhotoURL, b.PhotoURL)
	assign(&c.BloodType, b.BloodType)
	assign(&c.Notes, b.Notes)
	assign(&c.PrimaryHospital, b.PrimaryHospital)
	assign(&c.HospitalAddress, b.HospitalAddress)
	assign(&c.InsuranceProvider, b.InsuranceProvider)
	assign(&c.InsurancePolicyNo, b.InsurancePolicyNo)
	if b.Allergies.Set {
		c.Allergies = b.Allergies.Value
	}
	if b.Conditions.Set {
		c.Conditions = b.Conditions.Value
	}
	return nil
}

func (s *Server) updateCareRecipient(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return updateByID(w, r, p, "id", s.svc.CareRecipients.Update, &careRecipientPatch{now: s.clock.Now()})
}

// deleteCareRecipient deletes a care recipient (a family admin's command).
func (s *Server) deleteCareRecipient(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByID(w, r, p, "id", s.svc.CareRecipients.Delete)
}
