package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/kv"
)

// requestID returns the id of the request in ctx, which is also the
// correlation id of the events and notifications it records.
func requestID(ctx context.Context) string { return feature.Correlation(ctx) }

// withRequestID echoes a sane X-Request-Id or generates one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(feature.WithCorrelation(r.Context(), id)))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic into a 500 envelope and a log line.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status a response is answered with: the first
// one written, or 200 when the body comes first.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// loggedWriter records the status and size of a response.
type loggedWriter struct {
	statusWriter
	bytes int
}

func (w *loggedWriter) Write(b []byte) (int, error) {
	n, err := w.statusWriter.Write(b)
	w.bytes += n
	return n, err
}

// accessLog writes one structured line per request.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &loggedWriter{statusWriter: statusWriter{ResponseWriter: w}}
		next.ServeHTTP(lw, r)
		s.metrics.observe(r, lw.status, time.Since(start))
		level := slog.LevelInfo
		if lw.status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", lw.status),
			slog.Int("bytes", lw.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", s.clientIP(r)),
			slog.String("requestId", requestID(r.Context())),
		)
	})
}

// securityHeaders sets the headers every response carries. API answers are
// not to be stored by any cache (most carry personal and health data); a
// handler serving a public constant opts out by setting Cache-Control
// itself.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		if r.URL.Path == s.cfg.Prefix || strings.HasPrefix(r.URL.Path, s.cfg.Prefix+"/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// hstsValue keeps browsers on HTTPS for two years, subdomains included.
const hstsValue = "max-age=63072000; includeSubDomains"

// TransportSecurity adds Strict-Transport-Security to every response of
// next in production when the request came over HTTPS: on a TLS connection,
// or, behind a trusted proxy (TRUST_PROXY), with X-Forwarded-Proto https.
// The realtime endpoints and the web pages are served beside the API, so
// the process wraps its whole handler in this.
func (s *Server) TransportSecurity(next http.Handler) http.Handler {
	if !s.cfg.Production {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.overHTTPS(r) {
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}

// overHTTPS reports whether the client reached us over HTTPS. Only a
// trusted proxy's X-Forwarded-Proto is believed, and only its first value
// (the scheme the client used with the first proxy).
func (s *Server) overHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.cfg.TrustProxy {
		return false
	}
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}

// clientIP is the address a request came from.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateTiers are the contract's per-client limits.
func rateTiers() []struct {
	name  string
	limit kv.Limit
} {
	return []struct {
		name  string
		limit kv.Limit
	}{
		{"short", kv.Limit{Count: 5, Period: time.Second}},
		{"medium", kv.Limit{Count: 30, Period: 10 * time.Second}},
		{"long", kv.Limit{Count: 150, Period: time.Minute}},
	}
}

// CountedLocallyFirst reports whether a rate-limit key may be counted in a
// node's memory before Redis (kv.LocalFirstLimiter): the per-client tiers,
// checked on every request, may; the per-account limits of sensitive routes
// (login, sign-up, codes, password, account deletion) are counted in Redis
// on every attempt, so that no node adds attempts of its own.
func CountedLocallyFirst(key string) bool { return strings.HasPrefix(key, "rl:") }

// rateLimit applies the tiers to API requests per client: the signed-in user
// when the request carries a valid access token, otherwise the address.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.RateLimit || !strings.HasPrefix(r.URL.Path, s.cfg.Prefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		client := "ip:" + s.clientIP(r)
		if tok := accessToken(r); tok != "" {
			if c, err := s.tokens.Parse(tok); err == nil {
				client = "user:" + c.Subject
			}
		}
		var rules []kv.Rule
		for _, tier := range rateTiers() {
			rules = append(rules, kv.Rule{Key: "rl:" + tier.name + ":" + client, Limit: tier.limit})
		}
		ok, retry, err := allowAll(r.Context(), s.limiter, rules)
		if err != nil {
			// A limiter fault must not take the API down with it.
			s.logger.WarnContext(r.Context(), "rate limiter unavailable", slog.Any("error", err))
		} else if !ok {
			s.writeError(w, r, tooManyRequests(retry))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowAll checks every rule as one event: in one Redis command when the
// limiter can, otherwise rule by rule.
func allowAll(ctx context.Context, l kv.RateLimiter, rules []kv.Rule) (bool, time.Duration, error) {
	if m, ok := l.(kv.MultiLimiter); ok {
		return m.AllowAll(ctx, rules...)
	}
	for _, r := range rules {
		if ok, retry, err := l.Allow(ctx, r.Key, r.Limit); err != nil || !ok {
			return ok, retry, err
		}
	}
	return true, 0, nil
}

// tooManyRequests is the 429 envelope with Retry-After in whole seconds.
func tooManyRequests(retry time.Duration) *Error {
	secs := int((retry + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &Error{
		Status:  http.StatusTooManyRequests,
		Message: "Too many requests. Please try again later.",
		Header:  http.Header{"Retry-After": {strconv.Itoa(secs)}},
	}
}

// limit applies an extra limit (per account on auth routes) under key.
func (s *Server) limit(ctx context.Context, key string, l kv.Limit) error {
	if !s.cfg.RateLimit {
		return nil
	}
	ok, retry, err := s.limiter.Allow(ctx, key, l)
	if err != nil {
		s.logger.WarnContext(ctx, "rate limiter unavailable", slog.Any("error", err))
		return nil
	}
	if !ok {
		return tooManyRequests(retry)
	}
	return nil
}
