// Package web serves CareCircle's web app: server-rendered pages
// (html/template) for the signed-in user, read through the application
// layer (internal/feature/...) as the API answers, with small
// progressive JavaScript modules that act through the REST API, a service
// worker for push and offline use, and a web app manifest. Every asset is
// embedded; there is no build step.
package web

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/feature/features"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/operator"
	"github.com/carecircle/carecircle/internal/store"
)

//go:embed static templates
var files embed.FS

// Config is what the web app needs to know about its deployment.
type Config struct {
	// APIPrefix is where the REST API lives (e.g. /api/v1); the pages' scripts
	// call it.
	APIPrefix string
}

// Deps are the collaborators the web app reads from.
type Deps struct {
	Store *store.Store
	// Cache keeps read results, shared with the API; nil reads the
	// database every time.
	Cache  kv.Cache
	Tokens *auth.Tokens
	Clock  clock.Clock
	Logger *slog.Logger
	// Operator reads the /admin page's figures, as the admin API does; nil
	// leaves the page out.
	Operator *operator.Service
	// JobsUI, when set, is River UI, served under /admin/jobs/ to system
	// administrators.
	JobsUI http.Handler
}

// Server renders the web app from the application layer's queries
// (internal/feature/...), the same the API answers from.
type Server struct {
	cfg Config
	// base is what the application layer's services share.
	base *feature.Base
	// svc are the application layer's services the pages read through.
	svc    features.Services
	tokens *auth.Tokens
	clock  clock.Clock
	logger *slog.Logger
	ops    *operator.Service
	jobsUI http.Handler
	pages  map[string]*pageTemplate
	static fs.FS
	mux    *http.ServeMux
}

// New builds the web app; it fails only when an embedded template is broken.
func New(cfg Config, d Deps) (*Server, error) {
	if cfg.APIPrefix == "" {
		cfg.APIPrefix = "/api/v1"
	}
	s := &Server{cfg: cfg, tokens: d.Tokens, clock: d.Clock, logger: d.Logger, mux: http.NewServeMux()}
	s.ops, s.jobsUI = d.Operator, d.JobsUI
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.base = feature.New(feature.Deps{Store: d.Store, Cache: d.Cache, Clock: s.clock, Logger: s.logger})
	s.svc = features.New(s.base, features.Deps{Account: account.Deps{Tokens: d.Tokens}})
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.static, err = fs.Sub(files, "static"); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler serves the pages and assets with the security headers every
// response carries.
func (s *Server) Handler() http.Handler { return securityHeaders(s.mux) }

// Split sends the API's paths (the prefix, the health probes, metrics and
// the API's readable document at /api/docs) to api and every other path to
// web. The realtime endpoints are mounted beside both.
func Split(prefix string, api, web http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == prefix || strings.HasPrefix(p, prefix+"/") || p == "/health" || strings.HasPrefix(p, "/health/") || p == "/metrics" ||
			p == "/api/docs" || strings.HasPrefix(p, "/api/docs/") {
			api.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
}

// securityHeaders sets a strict Content-Security-Policy (no inline script
// or style; WebSocket only back to this host) and the other usual headers.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
			"connect-src 'self' ws://"+r.Host+" wss://"+r.Host+"; font-src 'self'; object-src 'none'; base-uri 'none'; "+
			"form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// viewer is the signed-in user of a request, the actor of the queries a
// page runs.
type viewer = feature.Actor

var errSignedOut = errors.New("web: not signed in")

// signedIn reads the access_token cookie the API's sign-in set and checks
// it as the API does (auth.Authenticate).
func (s *Server) signedIn(r *http.Request) (*viewer, error) {
	c, err := r.Cookie("access_token")
	if err != nil || s.tokens == nil {
		return nil, errSignedOut
	}
	a, err := s.base.Authenticate(r.Context(), s.tokens, c.Value)
	switch {
	case errors.Is(err, auth.ErrNoToken), errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrSessionEnded),
		errors.Is(err, auth.ErrInactive):
		return nil, errSignedOut
	case err != nil:
		return nil, err
	}
	return &a, nil
}

// loginURL is the sign-in page that returns to r's page afterwards.
func loginURL(r *http.Request) string {
	return "/login?next=" + url.QueryEscape(r.URL.RequestURI())
}

// zone loads an IANA zone, falling back to UTC for a stored name this
// binary does not know.
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}
