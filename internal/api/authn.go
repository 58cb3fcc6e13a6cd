package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/feature"
)

// Principal is the signed-in user making a request: the actor of the
// commands and queries it runs.
type Principal = feature.Actor

// authedFunc is a handler for signed-in users.
type authedFunc func(w http.ResponseWriter, r *http.Request, p *Principal) error

// accessToken reads the bearer token, falling back to the access_token cookie.
func accessToken(r *http.Request) string { return auth.AccessToken(r) }

// authed registers a route for signed-in users. Its successful writes are
// recorded in the audit log.
func (s *Server) authed(method, path string, fn authedFunc) {
	if !safeMethod(method) {
		fn = s.auditWrites(method, path, fn)
	}
	s.route(method, path, func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return fn(w, r, p)
	})
}

// authenticate verifies the access token, that its session is still live and
// that the account may act; cookie-authenticated writes must also come from
// a trusted origin.
func (s *Server) authenticate(r *http.Request) (*Principal, error) {
	a, err := s.base.Authenticate(r.Context(), s.tokens, accessToken(r))
	switch {
	case errors.Is(err, auth.ErrNoToken):
		return nil, unauthorized("Authentication required")
	case errors.Is(err, auth.ErrInvalidToken):
		return nil, unauthorized("Invalid or expired token")
	case errors.Is(err, auth.ErrSessionEnded):
		return nil, unauthorized("Session has ended")
	case errors.Is(err, auth.ErrInactive):
		return nil, unauthorized("Account is not active")
	case err != nil:
		return nil, err
	}
	if r.Header.Get("Authorization") == "" && !safeMethod(r.Method) && !s.trustedOrigin(r) {
		return nil, forbidden("Cross-site request refused")
	}
	return &a, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// trustedOrigin implements CSRF protection for cookie-authenticated writes:
// the Origin (or, failing that, the Referer) must be PUBLIC_URL's origin,
// one of ALLOWED_ORIGINS, or the origin the request was addressed to.
func (s *Server) trustedOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return false
		}
		origin = ref.Scheme + "://" + ref.Host
	}
	if origin == "null" {
		return false
	}
	if strings.EqualFold(origin, originOf(s.cfg.PublicURL)) || s.allowedOrigin(origin) {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(origin, scheme+"://"+r.Host)
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// setAuthCookies stores the tokens as httpOnly cookies.
func (s *Server) setAuthCookies(w http.ResponseWriter, access, refresh string, refreshTTL time.Duration) {
	same, secure := http.SameSiteLaxMode, false
	if s.cfg.Production {
		same, secure = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, &http.Cookie{
		Name: "access_token", Value: access, Path: "/", HttpOnly: true, Secure: secure, SameSite: same,
		MaxAge: int(s.tokens.TTL() / time.Second),
	})
	if refresh != "" {
		http.SetCookie(w, &http.Cookie{
			Name: "refresh_token", Value: refresh, Path: s.cfg.Prefix + "/auth", HttpOnly: true,
			Secure: secure, SameSite: same, MaxAge: int(refreshTTL / time.Second),
		})
	}
}

// clearAuthCookies removes both auth cookies.
func (s *Server) clearAuthCookies(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: "access_token", Value: "", Path: "/", HttpOnly: true, MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: "refresh_token", Value: "", Path: s.cfg.Prefix + "/auth", HttpOnly: true, MaxAge: -1})
}
