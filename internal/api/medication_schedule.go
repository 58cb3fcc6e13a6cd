package api

import (
	"net/http"
	"time"
)

// todaysMedicationSchedule lays out today's doses with their logs and
// status (see medications.Today); ?date=YYYY-MM-DD picks another day.
func (s *Server) todaysMedicationSchedule(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	var date *time.Time
	if v := r.URL.Query().Get("date"); v != "" {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil || d.Year() < 1970 || d.Year() >= 2200 {
			return Problems{"date": {"must be a date in the form YYYY-MM-DD"}}.Err()
		}
		date = &d
	}
	out, err := s.svc.Medications.Today(r.Context(), *p, crID, date)
	return writeOK(w, out, err)
}
