package webpush

import (
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// ErrInvalidSubscription reports a subscription no push can ever reach:
// its endpoint is not an https URL or its keys are not a P-256 point and a
// 16-byte secret. The caller should delete it.
var ErrInvalidSubscription = errors.New("webpush: invalid subscription")

// Subscription is one browser's PushSubscription: the push service URL and
// the keys from getKey("p256dh") and getKey("auth"), base64 as the browser
// gave them.
type Subscription struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// Validate checks that a push could be encrypted for and sent to s, so the
// API can refuse a broken subscription when it is registered.
func (s Subscription) Validate() error {
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: endpoint must be an https URL", ErrInvalidSubscription)
	}
	pub, err := decodeBase64(s.P256dh)
	if err != nil {
		return fmt.Errorf("%w: p256dh: %w", ErrInvalidSubscription, err)
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return fmt.Errorf("%w: p256dh: %w", ErrInvalidSubscription, err)
	}
	auth, err := decodeBase64(s.Auth)
	if err != nil {
		return fmt.Errorf("%w: auth: %w", ErrInvalidSubscription, err)
	}
	if len(auth) != 16 {
		return fmt.Errorf("%w: auth secret is %d bytes, want 16", ErrInvalidSubscription, len(auth))
	}
	return nil
}

// Action is a button on the notification; the service worker receives the
// chosen Action in its notificationclick event.
type Action struct {
	Action string `json:"action"`
	Title  string `json:"title"`
}

// Message is what the service worker shows. The caller maps each kind of
// notification to one.
type Message struct {
	Title string
	Body  string
	Icon  string
	// Tag groups notifications: a newer one with the same tag replaces the
	// older on the device, and one still queued at the push service.
	Tag string
	// URL is the page a click opens, sent as data.url.
	URL string
	// RequireInteraction keeps the notification up until the user acts,
	// for emergencies.
	RequireInteraction bool
	Actions            []Action
	// Data is extra JSON the service worker receives beside data.url.
	Data map[string]any
}

// payload is the JSON the service worker parses in its push event.
type payload struct {
	Title              string         `json:"title"`
	Body               string         `json:"body"`
	Icon               string         `json:"icon,omitempty"`
	Tag                string         `json:"tag,omitempty"`
	RequireInteraction bool           `json:"requireInteraction"`
	Data               map[string]any `json:"data"`
	Actions            []Action       `json:"actions,omitempty"`
}

// PayloadJSON returns the service-worker-facing JSON for m:
// {title, body, icon, tag, requireInteraction, data:{url, …Data}, actions}.
// URL wins over a "url" entry in Data.
func PayloadJSON(m Message) ([]byte, error) {
	data := make(map[string]any, len(m.Data)+1)
	for k, v := range m.Data {
		data[k] = v
	}
	if m.URL != "" {
		data["url"] = m.URL
	}
	b, err := json.Marshal(payload{
		Title:              m.Title,
		Body:               m.Body,
		Icon:               m.Icon,
		Tag:                m.Tag,
		RequireInteraction: m.RequireInteraction,
		Data:               data,
		Actions:            m.Actions,
	})
	if err != nil {
		return nil, fmt.Errorf("webpush: encode payload: %w", err)
	}
	return b, nil
}

// Priority says how urgently a message must reach the device and how long
// it stays worth delivering.
type Priority string

// Priorities, from an emergency alert down to background activity.
const (
	// Emergency: an emergency alert. Wakes the device at once (Urgency
	// high) and is kept for 24 hours, since a phone that was off must still
	// learn of it.
	Emergency Priority = "emergency"
	// High: a reminder due now (medication, shift, appointment). Urgency
	// high; worthless after an hour, so TTL 1 hour.
	High Priority = "high"
	// Normal: routine news about the family (a timeline entry, a new
	// member). Urgency normal; TTL 4 hours. The zero Priority means Normal.
	Normal Priority = "normal"
	// Low: background information (a refill that can wait, an export that
	// is ready). Urgency low, delivered when the device is awake; TTL 12
	// hours.
	Low Priority = "low"
)

// ErrInvalidPriority reports a Priority outside the four defined.
var ErrInvalidPriority = errors.New("webpush: unknown priority")

// Urgency returns the value of the Web Push Urgency header (RFC 8030 §5.3).
func (p Priority) Urgency() string {
	switch p {
	case Emergency, High:
		return "high"
	case Low:
		return "low"
	default:
		return "normal"
	}
}

// TTL returns how long the push service keeps the message for a device
// that is offline, the TTL header (RFC 8030 §5.2).
func (p Priority) TTL() time.Duration {
	switch p {
	case Emergency:
		return 24 * time.Hour
	case High:
		return time.Hour
	case Low:
		return 12 * time.Hour
	default:
		return 4 * time.Hour
	}
}

// valid reports whether p is one of the four priorities or the zero value.
func (p Priority) valid() bool {
	switch p {
	case "", Emergency, High, Normal, Low:
		return true
	}
	return false
}
