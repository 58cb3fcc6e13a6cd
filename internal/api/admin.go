package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/operator"
)

// JobDeleter removes a job from the queue; the River client is one.
type JobDeleter = operator.JobDeleter

// adminRoutes are the operator's routes behind the /admin page: the
// system's state, jobs, the reminder ledger, the email quota and accounts.
// Only system administrators may use them; their writes are audited.
func (s *Server) adminRoutes() {
	s.authed("GET", "/admin/system", s.adminSystem)
	s.authed("GET", "/admin/jobs", s.adminJobs)
	s.authed("POST", "/admin/jobs/failed/{id}/discard", s.discardFailedJob)
	s.authed("GET", "/admin/reminders/last-hour", s.adminLedger)
	s.authed("GET", "/admin/email/quota", s.adminEmailQuota)
	s.authed("GET", "/admin/users", s.adminUsers)
	s.authed("POST", "/admin/users/{id}/suspend", s.suspendUser)
	s.authed("POST", "/admin/users/{id}/unsuspend", s.unsuspendUser)
	s.authed("POST", "/admin/users/{id}/resend-verification", s.adminResendVerification)
}

// adminError renders the admin service's refusals of bad input as 400s.
func adminError(err error) error {
	if errors.Is(err, operator.ErrBadRequest) {
		msg := strings.TrimPrefix(err.Error(), operator.ErrBadRequest.Error()+": ")
		return badRequest("%s", msg)
	}
	return err
}

func (s *Server) adminSystem(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.ops.System(r.Context()))
	return nil
}

func (s *Server) adminJobs(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 20, 1, 200)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if len(q.Get("cursor")) > 1024 {
		return badRequest("cursor is not one this list gave")
	}
	out, err := s.ops.ListJobs(r.Context(), operator.JobFilter{Queue: q.Get("queue"), State: q.Get("state"), Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		return adminError(err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// discardFailedJob drops a dead letter that is not worth retrying, and its
// job from the queue when the queue still keeps it.
func (s *Server) discardFailedJob(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	del, _ := s.jobs.(JobDeleter)
	if err := s.ops.DiscardFailedJob(r.Context(), id, del); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "id": id})
	return nil
}

func (s *Server) adminLedger(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	out, err := s.ops.LedgerLastHour(r.Context())
	return writeOK(w, out, err)
}

func (s *Server) adminEmailQuota(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	out, err := s.ops.EmailQuota(r.Context())
	return writeOK(w, out, err)
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, 1_000_000)
	if err != nil {
		return err
	}
	out, err := s.ops.SearchUsers(r.Context(), strings.TrimSpace(r.URL.Query().Get("q")), limit, offset)
	if err != nil {
		return adminError(err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// adminTarget is the path's account, for an administrator's action on it
// (see operator.Account).
func (s *Server) adminTarget(r *http.Request, p *Principal) (string, error) {
	if err := systemAdmin(p); err != nil {
		return "", err
	}
	return pathID(r, "id")
}

// suspendUser bars an account from signing in and ends its sessions,
// closing their live connections. Suspending a suspended account changes
// nothing.
func (s *Server) suspendUser(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := s.adminTarget(r, p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, ended, err := s.ops.Suspend(ctx, *p, id)
	if err != nil {
		return err
	}
	s.sessionsEnded(ctx, u.ID, "")
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "user": operator.UserOf(u), "sessionsEnded": ended})
	return nil
}

// unsuspendUser lets a suspended account sign in again.
func (s *Server) unsuspendUser(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := s.adminTarget(r, p)
	if err != nil {
		return err
	}
	u, err := s.ops.Unsuspend(r.Context(), *p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "user": operator.UserOf(u)})
	return nil
}

// adminResendVerification mails a new verification code to an account
// that has not confirmed its email, as POST /auth/resend-verification does
// (with its cooldown).
func (s *Server) adminResendVerification(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := s.adminTarget(r, p)
	if err != nil {
		return err
	}
	u, err := s.ops.Account(r.Context(), *p, id)
	if err != nil {
		return err
	}
	if u.Status != care.UserPending {
		return conflict("This account is not waiting for email verification")
	}
	if err := s.sendVerificationCode(r.Context(), u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Verification email sent"})
	return nil
}
