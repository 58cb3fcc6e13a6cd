package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

func (s *Server) emergencyContactRoutes() {
	s.authed("POST", "/care-recipients/{careRecipientId}/emergency-contacts", s.createEmergencyContact)
	s.authed("GET", "/care-recipients/{careRecipientId}/emergency-contacts", s.listEmergencyContacts)
	s.authed("PATCH", "/emergency-contacts/{contactId}", s.updateEmergencyContact)
	s.authed("DELETE", "/emergency-contacts/{contactId}", s.deleteEmergencyContact)
}

// emergencyContactAccess loads the contact {contactId} (404 when missing) and
// checks the principal's membership in the care recipient's family.
func (s *Server) emergencyContactAccess(r *http.Request, p *Principal, n need) (*care.EmergencyContact, *care.CareRecipient, error) {
	id, err := pathID(r, "contactId")
	if err != nil {
		return nil, nil, err
	}
	c, err := s.store.EmergencyContact(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("Emergency contact")
	}
	if err != nil {
		return nil, nil, err
	}
	cr, _, err := s.careRecipientMember(r.Context(), p, c.CareRecipientID, n)
	if err != nil {
		return nil, nil, err
	}
	return c, cr, nil
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

func (s *Server) createEmergencyContact(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", writer)
	if err != nil {
		return err
	}
	var b emergencyContactBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var c *care.EmergencyContact
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		c, err = s.store.CreateEmergencyContact(ctx, care.EmergencyContact{
			CareRecipientID: cr.ID, Name: b.Name, Relationship: b.Relationship, Phone: b.Phone,
			Email: b.Email, IsPrimary: b.IsPrimary, Notes: b.Notes,
		})
		if err != nil {
			return err
		}
		return s.emitEmergencyContact(ctx, p, cr, events.EmergencyContactCreated, c)
	})
	if errors.Is(err, store.ErrReference) || errors.Is(err, store.ErrNotFound) {
		return notFound("Care recipient")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) listEmergencyContacts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	cs, err := s.store.EmergencyContacts(r.Context(), cr.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
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

func (b *emergencyContactPatch) apply(c *care.EmergencyContact) {
	assignRequired(&c.Name, b.Name)
	assignRequired(&c.Relationship, b.Relationship)
	assignRequired(&c.Phone, b.Phone)
	assignRequired(&c.IsPrimary, b.IsPrimary)
	assign(&c.Email, b.Email)
	assign(&c.Notes, b.Notes)
}

// updateEmergencyContact edits a contact; making it primary demotes the
// previous primary contact.
func (s *Server) updateEmergencyContact(w http.ResponseWriter, r *http.Request, p *Principal) error {
	c, cr, err := s.emergencyContactAccess(r, p, writer)
	if err != nil {
		return err
	}
	var b emergencyContactPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var out *care.EmergencyContact
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.store.UpdateEmergencyContact(ctx, c.ID, func(c *care.EmergencyContact) error {
			b.apply(c)
			return nil
		})
		if err != nil {
			return err
		}
		return s.emitEmergencyContact(ctx, p, cr, events.EmergencyContactUpdated, out)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Emergency contact")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteEmergencyContact(w http.ResponseWriter, r *http.Request, p *Principal) error {
	c, cr, err := s.emergencyContactAccess(r, p, writer)
	if err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if err := s.store.DeleteEmergencyContact(ctx, c.ID); err != nil {
			return err
		}
		return s.emitEmergencyContact(ctx, p, cr, events.EmergencyContactDeleted, c)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Emergency contact")
	}
	if err != nil {
		return err
	}
	writeDeleted(w)
	return nil
}

// emitEmergencyContact announces a change to one of cr's emergency
// contacts; c is the contact as the API answers it (as it was, for a
// deletion).
func (s *Server) emitEmergencyContact(ctx context.Context, p *Principal, cr *care.CareRecipient, typ string, c *care.EmergencyContact) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: p.User.ID, Data: c})
}
