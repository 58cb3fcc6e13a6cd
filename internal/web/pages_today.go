package web

import (
	"errors"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// dashboard shows today at a glance for the chosen care recipient.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if len(p.Families) == 0 {
		http.Redirect(w, r, "/onboarding", http.StatusSeeOther)
		return "", nil
	}
	p.Title = "Today"
	ctx := r.Context()
	now := s.clock.Now()
	data := map[string]any{}
	if p.CR != nil {
		doses, err := s.todaysDoses(r, p.Viewer, p.CR)
		if err != nil {
			return "", err
		}
		appts, err := s.store.Appointments(ctx, p.CR.ID, store.AppointmentFilter{EndAfter: &now,
			Statuses: []care.AppointmentStatus{care.AppointmentScheduled, care.AppointmentConfirmed}})
		if err != nil {
			return "", err
		}
		if len(appts) > 3 {
			appts = appts[:3]
		}
		onDuty, err := s.store.OnDutyShifts(ctx, p.CR.ID)
		if err != nil {
			return "", err
		}
		var current *care.Shift
		if len(onDuty) == 0 {
			if current, err = s.store.CurrentShift(ctx, p.CR.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return "", err
			}
		}
		data["Doses"], data["Appointments"], data["OnDuty"], data["Current"] = doses, appts, onDuty, current
	}
	unread, err := s.store.UserNotifications(ctx, p.Viewer.User.ID, store.NotificationQuery{UnreadOnly: true, Limit: 5})
	if err != nil {
		return "", err
	}
	count, err := s.store.UnreadNotificationCount(ctx, p.Viewer.User.ID)
	if err != nil {
		return "", err
	}
	data["Unread"], data["UnreadCount"] = unread, count
	p.Data = data
	return "dashboard", nil
}
