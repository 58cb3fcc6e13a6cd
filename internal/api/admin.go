package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/operator"
	"github.com/carecircle/carecircle/internal/store"
)

// JobDeleter removes a job from the queue; the River client is one.
type JobDeleter interface {
	JobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

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
	ctx := r.Context()
	id, dl, err := s.pendingDeadLetter(r, "This job was retried; it is no longer a dead letter")
	if err != nil {
		return err
	}
	if del, ok := s.jobs.(JobDeleter); ok && dl.JobID != nil {
		if _, err := del.JobDelete(ctx, *dl.JobID); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return err
		}
	}
	if err := s.store.DeleteDeadLetter(ctx, id); errors.Is(err, store.ErrNotFound) {
		return notFound("Failed job")
	} else if err != nil {
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminEmailQuota(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	out, err := s.ops.EmailQuota(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
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

// adminTarget loads the account an admin action is about. Nobody acts on
// their own account this way, and only a super admin on another admin's.
func (s *Server) adminTarget(r *http.Request, p *Principal) (*care.User, error) {
	if err := systemAdmin(p); err != nil {
		return nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("User")
	}
	if err != nil {
		return nil, err
	}
	if u.ID == p.User.ID {
		return nil, conflict("You cannot do this to your own account")
	}
	if u.SystemRole.IsAdmin() && p.User.SystemRole != care.SystemSuperAdmin {
		return nil, forbidden("Only a super admin can do this to a system administrator")
	}
	if u.Status == care.UserDeleted {
		return nil, conflict("This account has been deleted")
	}
	return u, nil
}

// suspendUser bars an account from signing in and ends its sessions,
// closing their live connections. Suspending a suspended account changes
// nothing.
func (s *Server) suspendUser(w http.ResponseWriter, r *http.Request, p *Principal) error {
	u, err := s.adminTarget(r, p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, ended, err := s.store.SuspendUser(ctx, u.ID)
	if err != nil {
		return err
	}
	s.sessionsEnded(ctx, u.ID, "")
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "user": operator.UserOf(u), "sessionsEnded": ended})
	return nil
}

// unsuspendUser lets a suspended account sign in again.
func (s *Server) unsuspendUser(w http.ResponseWriter, r *http.Request, p *Principal) error {
	u, err := s.adminTarget(r, p)
	if err != nil {
		return err
	}
	if u.Status != care.UserSuspended {
		return conflict("This account is not suspended")
	}
	if u, err = s.store.UnsuspendUser(r.Context(), u.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "user": operator.UserOf(u)})
	return nil
}

// adminResendVerification mails a new verification code to an account
// that has not confirmed its email, as POST /auth/resend-verification does
// (with its cooldown).
func (s *Server) adminResendVerification(w http.ResponseWriter, r *http.Request, p *Principal) error {
	u, err := s.adminTarget(r, p)
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
