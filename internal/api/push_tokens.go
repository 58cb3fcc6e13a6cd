package api

import (
	"net/http"
	"strings"
)

// maxPushTokenLen bounds a native push token; FCM's are about 160
// characters, APNs' 64.
const maxPushTokenLen = 4096

// pushPlatforms are the platforms a push token may come from.
var pushPlatforms = []string{"ios", "android", "web"}

func (s *Server) pushTokenRoutes() {
	s.authed("POST", "/notifications/push-token", s.registerPushToken)
	s.authed("DELETE", "/notifications/push-token", s.unregisterPushToken)
}

// pushTokenBody is the body of POST /notifications/push-token.
type pushTokenBody struct {
	Token    string `json:"token"`
	Platform string `json:"platform"`
}

// Validate checks the token and normalises the platform to lower case.
func (b *pushTokenBody) Validate(p Problems) {
	b.Token = checkPushToken(p, b.Token)
	b.Platform = strings.ToLower(strings.TrimSpace(b.Platform))
	p.oneOf("platform", b.Platform, pushPlatforms...)
}

// checkPushToken requires a token of printable ASCII without spaces, as
// every push vendor issues them, and returns it trimmed.
func checkPushToken(p Problems, token string) string {
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		p.Add("token", "is required")
	case len(token) > maxPushTokenLen:
		p.Add("token", "must be at most 4096 characters")
	case strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		p.Add("token", "must be printable ASCII without spaces")
	}
	return token
}

// registerPushToken stores the caller's token; registering it again is
// harmless, and a token registered by another account moves to the caller.
func (s *Server) registerPushToken(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b pushTokenBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	tok, err := s.svc.Notifications.RegisterPushToken(r.Context(), *p, b.Token, b.Platform)
	return writeCreated(w, tok, err)
}

// pushTokenDeleteBody is the body of DELETE /notifications/push-token; the
// platform may be sent as on registration but is not needed.
type pushTokenDeleteBody struct {
	Token    string  `json:"token"`
	Platform *string `json:"platform"`
}

// Validate checks the token.
func (b *pushTokenDeleteBody) Validate(p Problems) {
	b.Token = checkPushToken(p, b.Token)
	if b.Platform != nil {
		v := strings.ToLower(strings.TrimSpace(*b.Platform))
		p.oneOf("platform", v, pushPlatforms...)
	}
}

func (s *Server) unregisterPushToken(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b pushTokenDeleteBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if err := s.svc.Notifications.UnregisterPushToken(r.Context(), *p, b.Token); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
