package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/operator"
)

// adminData is what the operator's page shows; every part is read through
// the operator service, as the admin API reads it.
type adminData struct {
	System      operator.System
	Components  []operator.ComponentSummary
	Jobs        operator.Jobs
	JobsError   string
	States      []string
	Queues      []string
	DeadLetters operator.DeadLetters
	Ledger      operator.LedgerWindow
	Quota       operator.EmailQuota
	Users       operator.Users
	// NextUsers is the next page of the search, when there is one.
	NextUsers string
	// JobsUI says River UI is served at /admin/jobs/.
	JobsUI bool
}

// adminPage is the operator's page, for system administrators only; anyone
// else gets the 404 page, as for anything that is not theirs.
func (s *Server) adminPage(_ http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if s.ops == nil || !p.Viewer.User.SystemRole.IsAdmin() {
		return "", errNotFound
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := adminData{States: operator.JobStates(), Queues: operator.Queues(), JobsUI: s.jobsUI != nil}
	d.System = s.ops.System(ctx)
	d.Components = operator.Summarise(d.System)
	var err error
	filter := operator.JobFilter{Queue: q.Get("queue"), State: q.Get("state"), Limit: 20, Cursor: q.Get("cursor")}
	if d.Jobs, err = s.ops.ListJobs(ctx, filter); errors.Is(err, operator.ErrBadRequest) {
		d.JobsError = "That filter cannot be used; showing available jobs of every queue."
		d.Jobs, err = s.ops.ListJobs(ctx, operator.JobFilter{Limit: 20})
	}
	if err != nil {
		return "", err
	}
	if d.DeadLetters, err = s.ops.ListDeadLetters(ctx, 20, 0); err != nil {
		return "", err
	}
	if d.Ledger, err = s.ops.LedgerLastHour(ctx); err != nil {
		return "", err
	}
	if d.Quota, err = s.ops.EmailQuota(ctx); err != nil {
		return "", err
	}
	search := strings.TrimSpace(q.Get("q"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	if d.Users, err = s.ops.SearchUsers(ctx, search, 20, max(0, min(offset, 1_000_000))); errors.Is(err, operator.ErrBadRequest) {
		d.Users, err = s.ops.SearchUsers(ctx, "", 20, 0)
	}
	if err != nil {
		return "", err
	}
	if next := d.Users.Offset + len(d.Users.Items); next < d.Users.Total {
		v := url.Values{"q": {d.Users.Query}, "offset": {strconv.Itoa(next)}}
		d.NextUsers = "/admin?" + v.Encode() + "#users"
	}
	p.Title = "Admin"
	p.Data = d
	return "admin", nil
}

// jobsUICSP is the policy River UI's pages get instead of the app's: its
// stylesheet and components set inline styles, which the app's own pages
// never need.
const jobsUICSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// serveJobsUI serves River UI under /admin/jobs/ to signed-in system
// administrators: others are sent to sign in or get the 404 page. Its
// writes (retry, cancel, delete) must come from this site, and each one
// that succeeds is recorded in the audit log.
func (s *Server) serveJobsUI(w http.ResponseWriter, r *http.Request) {
	v, err := s.signedIn(r)
	if errors.Is(err, errSignedOut) {
		if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/admin/jobs/api/") {
			http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
			return
		}
		http.Error(w, "Authentication required", http.StatusUnauthorized)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !v.User.SystemRole.IsAdmin() {
		s.notFound(w, r, v)
		return
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if write && !sameSite(r) {
		http.Error(w, "Cross-site request refused", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Security-Policy", jobsUICSP)
	w.Header().Set("Cache-Control", "no-store")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.jobsUI.ServeHTTP(rec, r)
	if write && rec.status >= 200 && rec.status < 300 {
		typ, action := "job", r.Method+" "+r.URL.Path
		if err := s.base.Audit(r.Context(), feature.AuditEntry{ActorID: &v.User.ID, Action: action,
			ResourceType: &typ, Status: rec.status}); err != nil {
			s.logger.ErrorContext(r.Context(), "audit entry not written", slog.String("action", action), slog.Any("error", err))
		}
	}
}

// sameSite reports whether a write comes from a page of this host: its
// Origin (or, failing that, its Referer) names the host it was sent to.
func sameSite(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// statusRecorder notes the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush passes streaming through.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
