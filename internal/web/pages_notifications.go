package web

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/feature/notifications"
)

// notifications lists the viewer's notifications, newest first.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Notifications"
	list, err := s.svc.Notifications.List(r.Context(), *p.Viewer, notifications.Query{Limit: 100})
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Notifications": list}
	return "notifications", nil
}
