package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/operator"
)

// JobRetrier sends a failed job back to its queue; the River client is one.
type JobRetrier = operator.JobRetrier

func (s *Server) adminJobRoutes() {
	s.authed("GET", "/admin/jobs/failed", s.listFailedJobs)
	s.authed("POST", "/admin/jobs/failed/{id}/retry", s.retryFailedJob)
}

// systemAdmin refuses everyone but system administrators.
func systemAdmin(p *Principal) error {
	if !p.User.SystemRole.IsAdmin() {
		return forbidden("Only system administrators can do this")
	}
	return nil
}

func (s *Server) listFailedJobs(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, 1_000_000)
	if err != nil {
		return err
	}
	list, err := s.ops.FailedJobs(r.Context(), limit, offset)
	return writeOK(w, list, err)
}

func (s *Server) retryFailedJob(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	jobID, err := s.ops.RetryFailedJob(r.Context(), id, s.jobs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "jobId": jobID})
	return nil
}
