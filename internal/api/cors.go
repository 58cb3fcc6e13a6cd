package api

import (
	"net/http"
	"strings"
)

// corsMaxAge is how long (seconds) a browser may keep a preflight answer.
const corsMaxAge = "600"

// corsAllowedHeaders are the request headers a cross-origin client may send.
var corsAllowedHeaders = []string{"Authorization", "Content-Type", "X-Request-Id", "Accept", "Accept-Language"}

// allowedOrigin reports whether origin is one of the configured
// ALLOWED_ORIGINS (exactly: scheme, host and port; letter case aside).
func (s *Server) allowedOrigin(origin string) bool {
	origin = strings.TrimSuffix(origin, "/")
	for _, o := range s.cfg.AllowedOrigins {
		if strings.EqualFold(origin, strings.TrimSuffix(o, "/")) {
			return true
		}
	}
	return false
}

// cors lets the allowed origins call the API with credentials (cookies):
// it answers their preflight requests and marks their responses readable.
// Other origins get no CORS headers, so browsers keep their answers from
// them; never "*", which browsers refuse with credentials anyway.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !strings.HasPrefix(r.URL.Path, s.cfg.Prefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if !s.allowedOrigin(origin) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Content-Disposition")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", strings.Join(corsAllowedHeaders, ", "))
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
