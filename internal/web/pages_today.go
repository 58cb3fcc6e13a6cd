package web

import (
	"net/http"
)

// dashboard shows today at a glance for the chosen care recipient: the
// day's doses, the next appointments, who is on duty and the unread
// notifications, each from its feature's query.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if len(p.Families) == 0 {
		http.Redirect(w, r, "/onboarding", http.StatusSeeOther)
		return "", nil
	}
	p.Title = "Today"
	ctx := r.Context()
	data := map[string]any{}
	if p.CR != nil {
		doses, err := s.todaysDoses(r, p.Viewer, p.CR)
		if err != nil {
			return "", err
		}
		appts, err := s.svc.Appointments.Upcoming(ctx, *p.Viewer, p.CR.ID, 3)
		if err != nil {
			return "", err
		}
		onDuty, current, err := s.svc.Shifts.OnDuty(ctx, *p.Viewer, p.CR.ID)
		if err != nil {
			return "", err
		}
		data["Doses"], data["Appointments"], data["OnDuty"], data["Current"] = doses, appts, onDuty, current
	}
	unread, count, err := s.svc.Notifications.Unread(ctx, *p.Viewer, 5)
	if err != nil {
		return "", err
	}
	data["Unread"], data["UnreadCount"] = unread, count
	p.Data = data
	return "dashboard", nil
}
