package web

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
)

// documents lists the family's documents.
func (s *Server) documents(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Documents"
	if p.Family == nil {
		return "documents", nil
	}
	docs, err := s.svc.Documents.Browse(r.Context(), *p.Viewer, p.Family.ID)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Documents": docs, "Types": []string{"INSURANCE_CARD", "PHOTO_ID", "MEDICAL_RECORD", "LAB_RESULT",
		"PRESCRIPTION", "POWER_OF_ATTORNEY", "LIVING_WILL", "DNR", "OTHER"},
		"CanUpload": p.Family.Role == care.RoleAdmin || p.Family.Role == care.RoleCaregiver}
	return "documents", nil
}
