package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/carecircle/carecircle/internal/feature/notifications"
)

func (s *Server) pushSubscriptionRoutes() {
	s.authed("POST", "/notifications/push-subscription", s.subscribePush)
	s.authed("DELETE", "/notifications/push-subscription", s.unsubscribePush)
	s.authed("GET", "/notifications/vapid-public-key", s.vapidPublicKey)
}

// vapidPublicKey is the application server key a browser subscribes with.
func (s *Server) vapidPublicKey(w http.ResponseWriter, _ *http.Request, _ *Principal) error {
	if s.vapid == "" {
		return errorf(http.StatusServiceUnavailable, "Web push is not configured")
	}
	// The same key for everyone: the one API answer caches may keep.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]string{"publicKey": s.vapid})
	return nil
}

// pushKeys are a subscription's keys as the browser's PushSubscription.toJSON gives them.
type pushKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// pushSubscriptionBody is the body of POST /notifications/push-subscription.
type pushSubscriptionBody struct {
	Endpoint       string   `json:"endpoint"`
	ExpirationTime *float64 `json:"expirationTime"`
	Keys           pushKeys `json:"keys"`
	Platform       *string  `json:"platform"`
	DeviceName     *string  `json:"deviceName"`
}

// Validate checks the endpoint is an https URL and the keys decode to a P-256
// public key (65 bytes) and a 16-byte auth secret.
func (b *pushSubscriptionBody) Validate(p Problems) {
	checkEndpoint(p, b.Endpoint)
	if k, err := decodeB64URL(b.Keys.P256dh); err != nil || len(k) != 65 || k[0] != 4 {
		p.Add("keys.p256dh", "must be an uncompressed P-256 public key, base64url-encoded")
	}
	if a, err := decodeB64URL(b.Keys.Auth); err != nil || len(a) != 16 {
		p.Add("keys.auth", "must be a 16-byte secret, base64url-encoded")
	}
	b.Platform = p.optText("platform", b.Platform, 40)
	b.DeviceName = p.optText("deviceName", b.DeviceName, 100)
}

func checkEndpoint(p Problems, endpoint string) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(endpoint) > 2048 {
		p.Add("endpoint", "must be an https URL of at most 2048 characters")
	}
}

// decodeB64URL accepts base64url with or without padding.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func (s *Server) subscribePush(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b pushSubscriptionBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	sub, err := s.svc.Notifications.Subscribe(r.Context(), *p, notifications.PushSubscription{
		Endpoint: b.Endpoint, P256dh: b.Keys.P256dh, Auth: b.Keys.Auth,
		Platform: b.Platform, DeviceName: b.DeviceName,
	})
	return writeCreated(w, sub, err)
}

// pushEndpointBody is the body of DELETE /notifications/push-subscription.
type pushEndpointBody struct {
	Endpoint string `json:"endpoint"`
}

// Validate checks the endpoint.
func (b *pushEndpointBody) Validate(p Problems) { checkEndpoint(p, b.Endpoint) }

func (s *Server) unsubscribePush(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b pushEndpointBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if err := s.svc.Notifications.Unsubscribe(r.Context(), *p, b.Endpoint); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
