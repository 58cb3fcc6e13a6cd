package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

func (s *Server) doctorRoutes() {
	s.authed("POST", "/care-recipients/{careRecipientId}/doctors", s.createDoctor)
	s.authed("GET", "/care-recipients/{careRecipientId}/doctors", s.listDoctors)
	s.authed("GET", "/doctors/{doctorId}", s.getDoctor)
	s.authed("PATCH", "/doctors/{doctorId}", s.updateDoctor)
	s.authed("DELETE", "/doctors/{doctorId}", s.deleteDoctor)
}

// doctorAccess loads the doctor {doctorId} (404 when missing) and checks the
// principal's membership in the care recipient's family.
func (s *Server) doctorAccess(r *http.Request, p *Principal, n need) (*care.Doctor, *care.CareRecipient, error) {
	id, err := pathID(r, "doctorId")
	if err != nil {
		return nil, nil, err
	}
	d, err := s.store.Doctor(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("Doctor")
	}
	if err != nil {
		return nil, nil, err
	}
	cr, _, err := s.careRecipientMember(r.Context(), p, d.CareRecipientID, n)
	if err != nil {
		return nil, nil, err
	}
	return d, cr, nil
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

func (s *Server) createDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", writer)
	if err != nil {
		return err
	}
	var b doctorBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var d *care.Doctor
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		d, err = s.store.CreateDoctor(ctx, care.Doctor{
			CareRecipientID: cr.ID, Name: b.Name, Specialty: b.Specialty, Phone: b.Phone, Fax: b.Fax,
			Email: b.Email, Address: b.Address, Notes: b.Notes,
		})
		if err != nil {
			return err
		}
		return s.emitDoctor(ctx, p, cr, events.DoctorCreated, d)
	})
	if errors.Is(err, store.ErrReference) {
		return notFound("Care recipient")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) listDoctors(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	ds, err := s.store.Doctors(r.Context(), cr.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ds)
	return nil
}

func (s *Server) getDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, _, err := s.doctorAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
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

func (b *doctorPatch) apply(d *care.Doctor) {
	assignRequired(&d.Name, b.Name)
	assign(&d.Specialty, b.Specialty)
	assign(&d.Phone, b.Phone)
	assign(&d.Fax, b.Fax)
	assign(&d.Email, b.Email)
	assign(&d.Address, b.Address)
	assign(&d.Notes, b.Notes)
}

func (s *Server) updateDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, cr, err := s.doctorAccess(r, p, writer)
	if err != nil {
		return err
	}
	var b doctorPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var out *care.Doctor
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.store.UpdateDoctor(ctx, d.ID, func(d *care.Doctor) error {
			b.apply(d)
			return nil
		})
		if err != nil {
			return err
		}
		return s.emitDoctor(ctx, p, cr, events.DoctorUpdated, out)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Doctor")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteDoctor(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, cr, err := s.doctorAccess(r, p, writer)
	if err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if err := s.store.DeleteDoctor(ctx, d.ID); err != nil {
			return err
		}
		return s.emitDoctor(ctx, p, cr, events.DoctorDeleted, d)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Doctor")
	}
	if err != nil {
		return err
	}
	writeDeleted(w)
	return nil
}

// emitDoctor announces a change to one of cr's doctors; d is the doctor as
// the API answers it (as it was, for a deletion).
func (s *Server) emitDoctor(ctx context.Context, p *Principal, cr *care.CareRecipient, typ string, d *care.Doctor) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: p.User.ID, Data: d})
}
