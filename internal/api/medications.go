package api

import (
	"net/http"
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

func (s *Server) createMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return createByID(w, r, p, "careRecipientId", s.svc.Medications.Create, &medicationBody{})
}

// listMedications lists the active medications, or all with activeOnly=false.
func (s *Server) listMedications(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
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
	ms, err := s.svc.Medications.List(r.Context(), *p, crID, activeOnly)
	return writeOK(w, ms, err)
}

// medicationIDs reads the path's care recipient and medication ids.
func medicationIDs(r *http.Request) (crID, medID string, err error) {
	if crID, err = pathID(r, "careRecipientId"); err != nil {
		return "", "", err
	}
	medID, err = pathID(r, "medicationId")
	return crID, medID, err
}

func (s *Server) getMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByIDs(w, r, p, medicationIDs, s.svc.Medications.Get, writeOK)
}

// updateMedication edits a medication. The merged result is checked as a
// whole (a schedule for scheduled frequencies, end not before start), so a
// PATCH can never leave an inconsistent medication behind.
func (s *Server) updateMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return updateByIDs(w, r, p, medicationIDs, s.svc.Medications.Update, &medicationPatch{})
}

// deactivateMedication stops a medication (see medications.Deactivate).
func (s *Server) deactivateMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByIDs(w, r, p, medicationIDs, s.svc.Medications.Deactivate, writeOK)
}

// deleteMedication deletes a medication with its dose logs.
func (s *Server) deleteMedication(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByIDs(w, r, p, medicationIDs, s.svc.Medications.Delete)
}
