package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/feature/timeline"
)

// Paging of the family activity feed.
const (
	defaultActivityLimit = 20
	maxActivityLimit     = 100
	maxActivityOffset    = 1_000_000
)

// activityRoutes registers the routes of the family activity feed.
func (s *Server) activityRoutes() {
	s.authed("GET", "/families/{familyId}/activity", s.familyActivity)
}

// familyActivity answers one page of what happened around the family's
// care recipients, newest first: timeline entries, doses given, skipped or
// missed, appointments scheduled and emergency alerts raised. ?limit (20,
// at most 100) and ?offset page through it; total counts the whole feed.
func (s *Server) familyActivity(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	page, err := s.svc.Timeline.Activity(r.Context(), *p, id, func() (timeline.Page, error) {
		q, problems := r.URL.Query(), Problems{}
		limit := problems.wholeNumber("limit", q.Get("limit"), defaultActivityLimit, 1, maxActivityLimit)
		offset := problems.wholeNumber("offset", q.Get("offset"), 0, 0, maxActivityOffset)
		return timeline.Page{Limit: limit, Offset: offset}, problems.Err()
	})
	return writeOK(w, page, err)
}
