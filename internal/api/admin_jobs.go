package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/store"
)

// JobRetrier sends a failed job back to its queue; the River client is one.
type JobRetrier interface {
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

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
	list, err := s.store.DeadLetters(r.Context(), limit, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) retryFailedJob(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	ctx := r.Context()
	id, dl, err := s.pendingDeadLetter(r, "This job was already retried")
	if err != nil {
		return err
	}
	if s.jobs == nil || dl.JobID == nil {
		return errorf(http.StatusServiceUnavailable, "The job queue is not available on this node")
	}
	if _, err := s.jobs.JobRetry(ctx, *dl.JobID); err != nil {
		if errors.Is(err, rivertype.ErrNotFound) {
			return conflict("The job is no longer retained by the queue")
		}
		return err
	}
	if err := s.store.MarkDeadLetterRetried(ctx, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "jobId": *dl.JobID})
	return nil
}

// pendingDeadLetter reads the dead letter the path names: 404 when there is
// none, 409 with the given message when it was already retried.
func (s *Server) pendingDeadLetter(r *http.Request, retried string) (string, *store.DeadLetter, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", nil, err
	}
	dl, err := s.store.DeadLetter(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, notFound("Failed job")
	}
	if err != nil {
		return "", nil, err
	}
	if dl.RetriedAt != nil {
		return "", nil, conflict("%s", retried)
	}
	return id, dl, nil
}
