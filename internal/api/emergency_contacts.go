package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
)

func (s *Server) emergencyContactRoutes() {
	s.authed("POST", "/care-recipients/{careRecipientId}/emergency-contacts", s.createEmergencyContact)
	s.authed("GET", "/care-recipients/{careRecipientId}/emergency-contacts", s.listEmergencyContacts)
	s.authed("PATCH", "/emergency-contacts/{contactId}", s.updateEmergencyContact)
	s.authed("DELETE", "/emergency-contacts/{contactId}", s.deleteEmergencyContact)
}

type emergencyContactBody struct {
	Name         string  `json:"name"`
	Relationship string  `json:"relationship"`
	Phone        string  `json:"phone"`
	Email        *string `json:"email"`
	IsPrimary    bool    `json:"isPrimary"`
	Notes        *string `json:"notes"`
}

func (b *emergencyContactBody) Validate(p Problems) {
	b.Name = p.line("name", b.Name, maxNameLen)
	b.Relationship = p.line("relationship", b.Relationship, 50)
	b.Phone = requiredPhone(p, "phone", b.Phone)
	b.Email = p.contactEmail("email", b.Email)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
}

// requiredPhone checks a phone number that must be given.
func requiredPhone(p Problems, field, v string) string {
	t := p.phone(field, &v)
	if t == nil {
		p.Add(field, "is required")
		return ""
	}
	return *t
}

// input is the emergency contact the body describes.
func (b *emergencyContactBody) input() care.EmergencyContact {
	return care.EmergencyContact{Name: b.Name, Relationship: b.Relationship, Phone: b.Phone,
		Email: b.Email, IsPrimary: b.IsPrimary, Notes: b.Notes}
}

func (s *Server) createEmergencyContact(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return createByID(w, r, p, "careRecipientId", s.svc.CareRecipients.CreateEmergencyContact, &emergencyContactBody{})
}

func (s *Server) listEmergencyContacts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "careRecipientId", s.svc.CareRecipients.EmergencyContacts, writeOK)
}

// emergencyContactPatch is the body of PATCH /emergency-contacts/{contactId}:
// absent fields stay, null clears optional ones.
type emergencyContactPatch struct {
	Name         Optional[string] `json:"name"`
	Relationship Optional[string] `json:"relationship"`
	Phone        Optional[string] `json:"phone"`
	Email        Optional[string] `json:"email"`
	IsPrimary    Optional[bool]   `json:"isPrimary"`
	Notes        Optional[string] `json:"notes"`
}

func (b *emergencyContactPatch) Validate(p Problems) {
	p.patchRequired("name", &b.Name, func(v string) string { return p.line("name", v, maxNameLen) })
	p.patchRequired("relationship", &b.Relationship, func(v string) string { return p.line("relationship", v, 50) })
	p.patchRequired("phone", &b.Phone, func(v string) string { return requiredPhone(p, "phone", v) })
	patchOptional(&b.Email, func(v *string) *string { return p.contactEmail("email", v) })
	patchOptional(&b.Notes, func(v *string) *string { return p.optText("notes", v, maxNotesLen) })
	if b.IsPrimary.Set && b.IsPrimary.Null {
		p.Add("isPrimary", "must not be null")
	}
}

func (b *emergencyContactPatch) apply(c *care.EmergencyContact) error {
	assignRequired(&c.Name, b.Name)
	assignRequired(&c.Relationship, b.Relationship)
	assignRequired(&c.Phone, b.Phone)
	assignRequired(&c.IsPrimary, b.IsPrimary)
	assign(&c.Email, b.Email)
	assign(&c.Notes, b.Notes)
	return nil
}

// updateEmergencyContact edits a contact; making it primary demotes the
// previous primary contact.
func (s *Server) updateEmergencyContact(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return updateByID(w, r, p, "contactId", s.svc.CareRecipients.UpdateEmergencyContact, &emergencyContactPatch{})
}

func (s *Server) deleteEmergencyContact(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByID(w, r, p, "contactId", s.svc.CareRecipients.DeleteEmergencyContact)
}
