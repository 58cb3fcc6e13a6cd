package web

import (
	"net/http"
	"time"
)

// caregivers lists who is on duty and the shifts of the next two weeks.
func (s *Server) caregivers(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Caregiver shifts"
	if p.CR == nil {
		return "caregivers", nil
	}
	now := s.clock.Now()
	rota, err := s.svc.Shifts.Rota(r.Context(), *p.Viewer, p.CR.ID, now.Add(-24*time.Hour), now.AddDate(0, 0, 14))
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Shifts": rota.Shifts, "Members": rota.Caregivers, "DefaultStart": now.Add(time.Hour).Truncate(time.Hour)}
	return "caregivers", nil
}

// shiftPage shows one shift with its check-in, check-out and handoff.
func (s *Server) shiftPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", err
	}
	sh, err := s.svc.Shifts.Shift(r.Context(), *p.Viewer, id)
	if err != nil {
		return "", err
	}
	if err := p.focus(sh.CareRecipientID); err != nil {
		return "", err
	}
	p.Title = "Shift"
	p.Data = map[string]any{"Shift": sh, "Mine": sh.CaregiverID == p.Viewer.User.ID}
	return "shift", nil
}
