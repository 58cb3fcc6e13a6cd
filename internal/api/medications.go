package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// medicationRoutes registers a care recipient's medications, today's dose
// schedule, and the dose log.
func (s *Server) medicationRoutes() {
	const list = "/care-recipients/{careRecipientId}/medications"
	const item = list + "/{medicationId}"
	s.authed("POST", list, s.createMedication)
	s.authed("GET", list, s.listMedications)
	s.authed("GET", list+"/schedule/today", s.todaysMedicationSchedule)
	s.authed("GET", item, s.getMedication)
	s.authed("PATCH", item, s.updateMedication)
	s.authed("DELETE", item, s.deleteMedication)
	s.authed("PATCH", item+"/deactivate", s.deactivateMedication)
	s.authed("GET", item+"/logs", s.listMedicationLogs)
	s.authed("POST", "/medications/{medicationId}/log", s.logDose)
}

// medicationAccess checks the principal's membership in the family of the
// care recipient {careRecipientId}, then loads the medication
// {medicationId}, which must be theirs (404 otherwise).
func (s *Server) medicationAccess(r *http.Request, p *Principal, n need) (*care.CareRecipient, *care.Medication, error) {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", n)
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "medicationId")
	if err != nil {
		return nil, nil, err
	}
	m, err := s.store.Medication(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.CareRecipientID != cr.ID) {
		return nil, nil, notFound("Medication")
	}
	if err != nil {
		return nil, nil, err
	}
	return cr, m, nil
}

func (s *Server) createMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", writer)
	if err != nil {
		return err
	}
	var b medicationBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	in := b.medication()
	in.CareRecipientID = cr.ID
	var m *care.Medication
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if m, err = s.store.CreateMedication(ctx, in); err != nil {
			return err
		}
		return s.emitMedication(ctx, p, cr, events.MedicationCreated, m)
	})
	if errors.Is(err, store.ErrReference) {
		return notFound("Care recipient")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

// listMedications lists the active medications, or all with activeOnly=false.
func (s *Server) listMedications(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	activeOnly := true
	switch v := r.URL.Query().Get("activeOnly"); v {
	case "", "true":
	case "false":
		activeOnly = false
	default:
		return Problems{"activeOnly": {"must be true or false"}}.Err()
	}
	ms, err := s.store.Medications(r.Context(), cr.ID, activeOnly)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ms)
	return nil
}

func (s *Server) getMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	_, m, err := s.medicationAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// updateMedication edits a medication. The merged result is checked as a
// whole (a schedule for scheduled frequencies, end not before start), so a
// PATCH can never leave an inconsistent medication behind.
func (s *Server) updateMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, m, err := s.medicationAccess(r, p, writer)
	if err != nil {
		return err
	}
	var b medicationPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var out *care.Medication
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.store.UpdateMedication(ctx, m.ID, func(m *care.Medication) error {
			return b.apply(m)
		})
		if err != nil {
			return err
		}
		return s.emitMedication(ctx, p, cr, events.MedicationUpdated, out)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Medication")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deactivateMedication stops a medication: no more reminders or dose logs,
// its history kept. Deactivating an inactive medication changes nothing
// (and announces nothing).
func (s *Server) deactivateMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, m, err := s.medicationAccess(r, p, writer)
	if err != nil {
		return err
	}
	var out *care.Medication
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		wasActive := false
		var err error
		out, err = s.store.UpdateMedication(ctx, m.ID, func(m *care.Medication) error {
			wasActive, m.IsActive = m.IsActive, false
			return nil
		})
		if err != nil || !wasActive {
			return err
		}
		return s.emitMedication(ctx, p, cr, events.MedicationUpdated, out)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Medication")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteMedication deletes a medication with its dose logs.
func (s *Server) deleteMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, m, err := s.medicationAccess(r, p, writer)
	if err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if err := s.store.DeleteMedication(ctx, m.ID); err != nil {
			return err
		}
		return s.emitMedication(ctx, p, cr, events.MedicationDeleted, m)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Medication")
	}
	if err != nil {
		return err
	}
	writeDeleted(w)
	return nil
}

// emitMedication announces a change to one of cr's medications; m is the
// medication as the API answers it (as it was, for a deletion).
func (s *Server) emitMedication(ctx context.Context, p *Principal, cr *care.CareRecipient, typ string, m *care.Medication) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: p.User.ID, Data: m})
}
