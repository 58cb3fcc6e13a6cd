package realtime

import (
	"net/http"
	"strings"
	"time"
)

// Paths of the realtime endpoints, all on the API port.
const (
	// WebSocketPath is where clients connect (centrifuge-js's endpoint).
	WebSocketPath = "/connection/websocket"
	// HTTPStreamPath and SSEPath are the fallbacks for networks that block
	// WebSocket; EmulationPath takes their commands (centrifuge-js's
	// emulationEndpoint).
	HTTPStreamPath = "/connection/http_stream"
	SSEPath        = "/connection/sse"
	EmulationPath  = "/connection/emulation"
)

// Handler serves the realtime endpoints. Mount it at "/connection/".
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(WebSocketPath, n.guard(n.ws, false))
	mux.Handle(HTTPStreamPath, n.guard(n.stream, true))
	mux.Handle(SSEPath, n.guard(n.sse, true))
	mux.Handle(EmulationPath, n.guard(n.emulate, false))
	return mux
}

// guard refuses browsers from other origins (a cookie would otherwise let
// any site listen in), authenticates the request's header or cookie and,
// for streaming responses, lifts the server's read timeout, which would end
// them.
func (n *Node) guard(h http.Handler, streaming bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !n.originAllowed(r) {
			http.Error(w, "Origin not allowed", http.StatusForbidden)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if streaming {
			_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		h.ServeHTTP(w, n.authenticateRequest(r))
	})
}

// originAllowed lets in requests without an Origin (not from a browser) and
// browsers on PUBLIC_URL's origin or one of ALLOWED_ORIGINS.
func (n *Node) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range n.opts.AllowedOrigins {
		if strings.EqualFold(origin, o) {
			return true
		}
	}
	return false
}
