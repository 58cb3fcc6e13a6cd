package web

import (
	"net/http"
)

// emergency is the alerts page with the printable emergency info card; the
// alerts and the card come from the API, so they are kept fresh offline by
// the service worker.
func (s *Server) emergency(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Emergency"
	p.Data = map[string]any{"AlertID": r.PathValue("id"), "Types": []string{"FALL", "MEDICAL", "MISSING", "HOSPITALIZATION", "OTHER"}}
	return "emergency", nil
}
