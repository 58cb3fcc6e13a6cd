package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
)

func (s *Server) doctorRoutes() {
	s.authed("POST", "/care-recipients/{careRecipientId}/doctors", s.createDoctor)
	s.authed("GET", "/care-recipients/{careRecipientId}/doctors", s.listDoctors)
	s.authed("GET", "/doctors/{doctorId}", s.getDoctor)
	s.authed("PATCH", "/doctors/{doctorId}", s.updateDoctor)
	s.authed("DELETE", "/doctors/{doctorId}", s.deleteDoctor)
}

type doctorBody struct {
	Name      string  `json:"name"`
	Specialty *string `json:"specialty"`
	Phone     *string `json:"phone"`
	Fax       *string `json:"fax"`
	Email     *string `json:"email"`
	Address   *string `json:"address"`
	Notes     *string `json:"notes"`
}

func (b *doctorBody) Validate(p Problems) {
	b.Name = p.line("name", b.Name, maxNameLen)
	b.Specialty = p.optLine("specialty", b.Specialty, maxNameLen)
	b.Phone = p.phone("phone", b.Phone)
	b.Fax = p.phone("fax", b.Fax)
	b.Email = p.contactEmail("email", b.Email)
	b.Address = p.optText("address", b.Address, maxAddressLen)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
}

// input is the doctor the body describes.
func (b *doctorBody) input() care.Doctor {
	return care.Doctor{Name: b.Name, Specialty: b.Specialty, Phone: b.Phone, Fax: b.Fax,
		Email: b.Email, Address: b.Address, Notes: b.Notes}
}

func (s *Server) createDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return createByID(w, r, p, "careRecipientId", s.svc.CareRecipients.CreateDoctor, &doctorBody{})
}

func (s *Server) listDoctors(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "careRecipientId", s.svc.CareRecipients.Doctors, writeOK)
}

func (s *Server) getDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "doctorId", s.svc.CareRecipients.Doctor, writeOK)
}

// doctorPatch is the body of PATCH /doctors/{doctorId}: absent fields stay,
// null clears optional ones.
type doctorPatch struct {
	Name      Optional[string] `json:"name"`
	Specialty Optional[string] `json:"specialty"`
	Phone     Optional[string] `json:"phone"`
	Fax       Optional[string] `json:"fax"`
	Email     Optional[string] `json:"email"`
	Address   Optional[string] `json:"address"`
	Notes     Optional[string] `json:"notes"`
}

func (b *doctorPatch) Validate(p Problems) {
	p.patchRequired("name", &b.Name, func(v string) string { return p.line("name", v, maxNameLen) })
	patchOptional(&b.Specialty, func(v *string) *string { return p.optLine("specialty", v, maxNameLen) })
	patchOptional(&b.Phone, func(v *string) *string { return p.phone("phone", v) })
	patchOptional(&b.Fax, func(v *string) *string { return p.phone("fax", v) })
	patchOptional(&b.Email, func(v *string) *string { return p.contactEmail("email", v) })
	patchOptional(&b.Address, func(v *string) *string { return p.optText("address", v, maxAddressLen) })
	patchOptional(&b.Notes, func(v *string) *string { return p.optText("notes", v, maxNotesLen) })
}

func (b *doctorPatch) apply(d *care.Doctor) error {
	assignRequired(&d.Name, b.Name)
	assign(&d.Specialty, b.Specialty)
	assign(&d.Phone, b.Phone)
	assign(&d.Fax, b.Fax)
	assign(&d.Email, b.Email)
	assign(&d.Address, b.Address)
	assign(&d.Notes, b.Notes)
	return nil
}

func (s *Server) updateDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return updateByID(w, r, p, "doctorId", s.svc.CareRecipients.UpdateDoctor, &doctorPatch{})
}

func (s *Server) deleteDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByID(w, r, p, "doctorId", s.svc.CareRecipients.DeleteDoctor)
}
