package api

import (
	"net/http"
	"strconv"

	"github.com/carecircle/carecircle/internal/feature/notifications"
)

func (s *Server) notificationRoutes() {
	s.authed("GET", "/notifications", s.listNotifications)
	s.authed("GET", "/notifications/unread", s.listUnreadNotifications)
	s.authed("GET", "/notifications/unread/count", s.unreadCount)
	s.authed("PATCH", "/notifications/read", s.markRead)
	s.authed("PATCH", "/notifications/read/all", s.markAllRead)
	s.authed("PATCH", "/notifications/{notificationId}/read", s.markOneRead)
}

// queryInt reads an integer query parameter within [min, max], or def.
func queryInt(r *http.Request, name string, def, min, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, badRequest("%s must be a whole number from %d to %d", name, min, max)
	}
	return n, nil
}

// queryBool reads a boolean query parameter, or def.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("%s must be true or false", name)
	}
	return b, nil
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, p *Principal) error {
	unread, err := queryBool(r, "unreadOnly", false)
	if err != nil {
		return err
	}
	return s.writeNotifications(w, r, p, unread)
}

func (s *Server) listUnreadNotifications(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.writeNotifications(w, r, p, true)
}

func (s *Server) writeNotifications(w http.ResponseWriter, r *http.Request, p *Principal, unread bool) error {
	limit, err := queryInt(r, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, 1_000_000)
	if err != nil {
		return err
	}
	ns, err := s.svc.Notifications.List(r.Context(), *p, notifications.Query{UnreadOnly: unread, Limit: limit, Offset: offset})
	return writeOK(w, ns, err)
}

func (s *Server) unreadCount(w http.ResponseWriter, r *http.Request, p *Principal) error {
	n, err := s.svc.Notifications.UnreadCount(r.Context(), *p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
	return nil
}

// markReadBody is the body of PATCH /notifications/read.
type markReadBody struct {
	IDs []string `json:"ids"`
}

// Validate requires 1 to 500 UUIDs.
func (b *markReadBody) Validate(p Problems) {
	if len(b.IDs) == 0 || len(b.IDs) > 500 {
		p.Add("ids", "must list 1 to 500 notification ids")
	}
	for _, id := range b.IDs {
		if !validUUID(id) {
			p.Add("ids", "must contain only UUIDs")
			return
		}
	}
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b markReadBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	n, err := s.svc.Notifications.MarkRead(r.Context(), *p, b.IDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
	return nil
}

func (s *Server) markAllRead(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	n, err := s.svc.Notifications.MarkAllRead(r.Context(), *p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
	return nil
}

func (s *Server) markOneRead(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "notificationId", s.svc.Notifications.MarkOneRead, writeOK)
}
