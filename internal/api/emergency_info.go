package api

import (
	"net/http"
)

// emergencyInfo answers the emergency card of a care recipient: everything
// paramedics or a hospital ask for, on one page (see emergency.Card).
// Reading it is recorded in the audit log.
func (s *Server) emergencyInfo(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	card, err := s.svc.Emergency.Card(r.Context(), *p, crID)
	if err != nil {
		return err
	}
	if err := s.auditRead(r, p, "emergency_info.read", "care_recipient", card.CareRecipientID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, card)
	return nil
}
