package web

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/store"
)

// notifications lists the viewer's notifications, newest first.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Notifications"
	list, err := s.store.UserNotifications(r.Context(), p.Viewer.User.ID, store.NotificationQuery{Limit: 100})
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Notifications": list}
	return "notifications", nil
}
