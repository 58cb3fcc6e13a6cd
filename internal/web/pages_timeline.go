package web

import (
	"net/http"
)

// timeline is the care recipient's journal with the vitals chart.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Timeline"
	p.Data = map[string]any{
		"Types":      []string{"NOTE", "VITALS", "SYMPTOM", "INCIDENT", "MOOD", "MEAL", "ACTIVITY", "SLEEP", "BATHROOM", "MEDICATION_CHANGE", "APPOINTMENT_SUMMARY", "OTHER"},
		"Severities": []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"},
		"Now":        p.LocalInput(s.clock.Now()),
	}
	return "timeline", nil
}
