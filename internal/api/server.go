// Package api serves CareCircle's REST API under the configured prefix, with
// the contract's error envelope, validation, authentication and permissions.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/documents"
	"github.com/carecircle/carecircle/internal/feature/features"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/dbkv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/operator"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/store"
)

// Config holds what the API needs to know about its deployment.
type Config struct {
	Prefix     string // e.g. /api/v1
	PublicURL  string // base for links in emails; its origin is trusted for cookies
	Production bool   // secure cookies
	RateLimit  bool   // apply the per-client tiers
	TrustProxy bool   // client address from X-Forwarded-For
	// MetricsToken, when set, is required as a bearer token on /metrics.
	MetricsToken string
	// AllowedOrigins are browser origins (scheme://host[:port]) besides
	// PublicURL's allowed credentialed cross-origin calls to the API; their
	// cookie-authenticated writes pass the CSRF check.
	AllowedOrigins []string
}

// Deps are the collaborators the API is built from.
type Deps struct {
	Store   *store.Store
	Tokens  *auth.Tokens
	Mail    mail.Sender
	Limiter kv.RateLimiter
	// Cache keeps read results (see cache.go); nil reads the database every
	// time.
	Cache kv.Cache
	// Codes and Lockout keep one-time codes, resend cooldowns and login
	// lockouts; nil keeps them in the database (Store.Codes, Store.Lockout).
	Codes   kv.Codes
	Lockout kv.Lockout
	Clock   clock.Clock
	Logger  *slog.Logger
	// Jobs retries failed jobs; nil where this node has no job queue.
	Jobs JobRetrier
	// Shared reports the shared-state backend (Redis); nil when there is none.
	Shared SharedState
	// VAPIDPublicKey is the web push key browsers subscribe with.
	VAPIDPublicKey string
	// Push sends the test push; nil answers that web push is not set up.
	Push *webpush.Sender
	// SMS texts phone verification codes; nil when SMS is not configured.
	SMS sms.Sender
	// Health adds components to GET /health (email quota, outbox, broker…).
	Health []HealthReporter
	// Files keeps uploaded documents; nil answers 503 on the document routes.
	Files storage.Storage
	// DocumentJobs enqueues document processing in the upload's
	// transaction; nil processes each upload inline after it commits.
	DocumentJobs JobInserter
	// LinkSecret keys the signed document links; a key of this process
	// only when empty.
	LinkSecret []byte
	// Realtime closes the live connections of ended sessions; nil where
	// there are none to close.
	Realtime SessionDisconnector
	// Operator reads the operator's view for the /admin routes and /health's
	// detail; nil builds one from Store, Clock, Shared, Health and Jobs.
	Operator *operator.Service
}

// HealthReporter describes one more component of GET /health.
type HealthReporter = operator.HealthReporter

// SharedState is the shared-state backend as /health reports it: "up", or
// "degraded" while Redis is away and node-local fallbacks serve.
type SharedState = operator.SharedState

// Server is the HTTP API: it decodes a request, calls the application
// layer's command or query (internal/feature/...), and encodes the answer.
type Server struct {
	cfg Config
	// base is what the application layer's services share.
	base *feature.Base
	// svc are the application layer's services the handlers call.
	svc     features.Services
	tokens  *auth.Tokens
	limiter kv.RateLimiter
	// cache, codes and lockout are the ones the services were given (codes
	// and lockout in the database when Deps leaves them nil).
	cache   kv.Cache
	codes   kv.Codes
	lockout kv.Lockout
	clock   clock.Clock
	logger  *slog.Logger
	jobs    JobRetrier
	vapid   string
	metrics *metrics
	// realtime closes the live connections of revoked sessions.
	realtime SessionDisconnector
	// ops reads the operator's view (the /admin routes, /health's detail).
	ops *operator.Service
	// checkPassword checks a password against its argon2id hash; a sign-in
	// runs it exactly once, whether or not the account exists.
	checkPassword func(hash, password string) bool
	mux           *http.ServeMux
	// started is when the server was built, for /health/live's uptime.
	started time.Time
	// patterns are the mux patterns registered, for Routes.
	patterns []string
	// openAPI is the OpenAPI document served at {prefix}/openapi.json.
	openAPI []byte
}

// New builds the API server.
func New(cfg Config, d Deps) *Server {
	s := &Server{
		cfg: cfg, tokens: d.Tokens, limiter: d.Limiter,
		clock: d.Clock, logger: d.Logger, jobs: d.Jobs, vapid: d.VAPIDPublicKey, metrics: newMetrics(), mux: http.NewServeMux(),
	}
	s.cache, s.codes, s.lockout = d.Cache, d.Codes, d.Lockout
	s.base = feature.New(feature.Deps{Store: d.Store, Cache: d.Cache, Clock: d.Clock, Logger: d.Logger, Mail: d.Mail})
	s.svc = features.New(s.base, features.Deps{
		Family:    s.familyDeps(),
		Documents: documents.Deps{Files: d.Files, Jobs: d.DocumentJobs, LinkSecret: d.LinkSecret, LinkBase: cfg.PublicURL + cfg.Prefix},
		Push:      d.Push,
		Account:   s.accountDeps(d),
	})
	s.realtime = d.Realtime
	s.ops = d.Operator
	if s.ops == nil {
		lister, _ := d.Jobs.(operator.JobLister)
		s.ops = operator.New(operator.Deps{Store: d.Store, Clock: d.Clock, Shared: d.Shared, Health: d.Health, Jobs: lister})
	}
	s.checkPassword = auth.CheckPassword
	s.started = d.Clock.Now()
	if s.codes == nil {
		s.codes = dbkv.Codes(d.Store)
	}
	if s.lockout == nil {
		s.lockout = dbkv.Lockout(d.Store)
	}
	s.routes()
	return s
}

// Handler returns the API with its middleware: HSTS in production, request
// id, panic recovery, access log, security headers, CORS for the allowed
// origins and rate limits.
func (s *Server) Handler() http.Handler {
	var h http.Handler = http.HandlerFunc(s.dispatch)
	h = s.rateLimit(h)
	h = s.cors(h)
	h = s.securityHeaders(h)
	h = s.accessLog(h)
	h = s.recoverPanics(h)
	h = withRequestID(h)
	return s.TransportSecurity(h)
}

// Mount registers an extra handler (web pages, realtime) on the same mux.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

// dispatch routes a request, rendering unmatched paths and methods in the
// error envelope rather than ServeMux's plain text.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &statusOnly{header: http.Header{}}
	h.ServeHTTP(rec, r)
	status := rec.status
	if status == 0 || status == http.StatusOK {
		status = http.StatusNotFound
	}
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if status == http.StatusMovedPermanently || status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
		w.Header().Set("Location", rec.header.Get("Location"))
		w.WriteHeader(status)
		return
	}
	msg := "Cannot " + r.Method + " " + r.URL.Path
	writeEnvelope(w, r, s.clock.Now(), &Error{Status: status, Message: msg})
}

// statusOnly captures what ServeMux's fallback handlers would answer.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }

// handlerFunc is a handler that reports failure by returning an error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc, rendering its error in the envelope.
func (s *Server) handle(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// route registers a handler for "METHOD /path" under the API prefix.
func (s *Server) route(method, path string, fn handlerFunc) {
	s.rootRoute(method, s.cfg.Prefix+path, fn)
}

// rootRoute registers a handler for "METHOD /path" outside the API prefix.
func (s *Server) rootRoute(method, path string, fn handlerFunc) {
	s.patterns = append(s.patterns, method+" "+path)
	s.mux.HandleFunc(method+" "+path, s.handle(fn))
}

// routes registers every API route. Each resource adds its own in its file.
func (s *Server) routes() {
	s.rootRoute("GET", "/health", s.health)
	s.rootRoute("GET", "/health/ready", s.ready)
	s.rootRoute("GET", "/health/live", s.live)
	s.rootRoute("GET", "/metrics", s.serveMetrics)
	s.openAPIRoutes()
	s.authRoutes()
	s.familyRoutes()
	s.careRecipientRoutes()
	s.medicationRoutes()
	s.appointmentRoutes()
	s.shiftRoutes()
	s.notificationRoutes()
	s.adminJobRoutes()
	s.adminRoutes()
	s.auditRoutes()
	s.preferenceRoutes()
	s.pushSubscriptionRoutes()
	s.documentRoutes()
	s.pushTokenRoutes()
	s.testPushRoutes()
	s.phoneRoutes()
	s.emergencyRoutes()
	s.timelineRoutes()
	s.activityRoutes()
	s.accountDataRoutes()
	s.notProvidedRoutes()
}

// health reports each component's state; 503 when any is down. In
// production the public answer is only {"status":"up"} or "down": the
// detail (versions, queue depths, node names) is for operators, who send
// METRICS_TOKEN as a bearer token or are signed in as a system admin.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, code := "ok", http.StatusOK
	ping := s.ops.PingDatabase(ctx)
	db := map[string]any{"status": ping.Status, "dialect": ping.Dialect}
	if ping.Status != "up" {
		db["error"] = "database did not answer"
		status, code = "error", http.StatusServiceUnavailable
	}
	if s.cfg.Production && !s.healthDetailAllowed(r) {
		up := "up"
		if code != http.StatusOK {
			up = "down"
		}
		writeJSON(w, code, map[string]string{"status": up})
		return nil
	}
	db["latencyMs"] = ping.LatencyMs
	components := s.ops.Components(ctx)
	components["database"] = db
	writeJSON(w, code, map[string]any{
		"status":     status,
		"timestamp":  s.clock.Now().Format(time.RFC3339),
		"components": components,
	})
	return nil
}

// healthDetailAllowed reports whether the request may read /health in
// detail in production: it carries METRICS_TOKEN, or the access token of a
// system admin's live session.
func (s *Server) healthDetailAllowed(r *http.Request) bool {
	if s.metricsTokenGiven(r) {
		return true
	}
	p, err := s.authenticate(r)
	return err == nil && p.User.SystemRole.IsAdmin()
}

// ready answers 200 once the database answers, for load balancers.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.ops.PingDatabase(ctx).Status != "up" {
		return errorf(http.StatusServiceUnavailable, "Database unavailable")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// live answers 200 while the process serves requests, with its uptime in
// seconds, as probes written for the original API match on it.
func (s *Server) live(w http.ResponseWriter, _ *http.Request) error {
	now := s.clock.Now()
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "alive", "uptime": now.Sub(s.started).Seconds(), "timestamp": now.UTC().Format(time.RFC3339),
	})
	return nil
}
