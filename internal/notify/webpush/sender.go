package webpush

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	webpushgo "github.com/SherClockHolmes/webpush-go"

	"github.com/carecircle/carecircle/internal/clock"
)

// ErrPayloadTooLarge reports a message whose JSON does not fit one 4 KiB
// push record; shorten the body or the data.
var ErrPayloadTooLarge = errors.New("webpush: payload too large for one push message")

// Outcome is what the push service made of one message.
type Outcome int

// Outcomes of a send.
const (
	// Delivered: the push service accepted the message (2xx).
	Delivered Outcome = iota + 1
	// Gone: the subscription no longer exists (404, 410); delete it.
	Gone
	// Retry: the push service is overloaded or failing (429, 5xx); send
	// again later, after Result.RetryAfter when it is set.
	Retry
	// Rejected: the push service refused this request (another 4xx, such as
	// 400, 403 or 413); sending it again will not help.
	Rejected
)

// String names the outcome for logs and delivery records.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Gone:
		return "gone"
	case Retry:
		return "retry"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Result is the push service's answer to one message.
type Result struct {
	Outcome    Outcome
	StatusCode int
	// RetryAfter is the wait the push service asked for with Retry-After;
	// zero when it gave none.
	RetryAfter time.Duration
	// Detail is the start of the push service's response body when it did
	// not deliver, for the delivery record.
	Detail string
}

// detailLimit bounds how much of an error response is kept in Result.Detail.
const detailLimit = 512

// Sender sends encrypted, VAPID-signed messages to push services. Each
// message gets its own ephemeral key and salt (webpush-go) and a fresh JWT;
// webpush-go sets that JWT's exp to 12 hours after the wall-clock time, which
// is the push service's concern and so is not read from the injected clock.
// A Sender is safe for concurrent use.
type Sender struct {
	vapid      VAPID
	subscriber string
	client     *http.Client
	clock      clock.Clock
	// endpoints, when set, is where this Sender may send.
	endpoints *Endpoints
}

// NewSender returns a Sender signing with v and sending through client; a
// nil client gets one with a 30-second timeout. clk reads Retry-After dates.
func NewSender(v VAPID, client *http.Client, clk clock.Clock) (*Sender, error) {
	if err := v.Keys.Validate(); err != nil {
		return nil, err
	}
	sub, err := NormalizeSubject(v.Subject)
	if err != nil {
		return nil, err
	}
	v.Keys, v.Subject = v.Keys.normalized(), sub
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Sender{
		vapid: v,
		// webpush-go prefixes every subject that is not an https: URL with
		// "mailto:", so hand it the bare address.
		subscriber: strings.TrimPrefix(sub, "mailto:"),
		client:     client,
		clock:      clk,
	}, nil
}

// NewGuardedSender returns a Sender for production: it sends only to the
// endpoints e allows, through e.Client(roots).
func NewGuardedSender(v VAPID, e Endpoints, roots *x509.CertPool, clk clock.Clock) (*Sender, error) {
	s, err := NewSender(v, e.Client(roots), clk)
	if err != nil {
		return nil, err
	}
	s.endpoints = &e
	return s, nil
}

// CheckEndpoint refuses an endpoint this Sender will not send to (see
// Endpoints.Check): ErrInsecureEndpoint or ErrPrivateEndpoint. A Sender made
// by NewSender leaves that to its client and accepts every endpoint.
func (s *Sender) CheckEndpoint(endpoint string) error {
	if s.endpoints == nil {
		return nil
	}
	return s.endpoints.Check(endpoint)
}

// PublicKey returns the VAPID public key browsers subscribe with
// (applicationServerKey), unpadded base64url.
func (s *Sender) PublicKey() string { return s.vapid.Keys.Public }

// Send encrypts msg for sub and posts it to the subscription's push service
// with the Urgency and TTL of priority. An error means no answer was had:
// the subscription or message is invalid (ErrInvalidSubscription,
// ErrPayloadTooLarge, ErrInvalidPriority), ctx ended, or the push service
// could not be reached; otherwise Result says what the push service did.
func (s *Sender) Send(ctx context.Context, sub Subscription, msg Message, priority Priority) (Result, error) {
	if !priority.valid() {
		return Result{}, fmt.Errorf("%w: %q", ErrInvalidPriority, string(priority))
	}
	if err := sub.Validate(); err != nil {
		return Result{}, err
	}
	if err := s.CheckEndpoint(sub.Endpoint); err != nil {
		return Result{}, err
	}
	body, err := PayloadJSON(msg)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("webpush: send: %w", err)
	}
	resp, err := webpushgo.SendNotificationWithContext(ctx, body,
		&webpushgo.Subscription{
			Endpoint: sub.Endpoint,
			Keys:     webpushgo.Keys{Auth: sub.Auth, P256dh: sub.P256dh},
		},
		&webpushgo.Options{
			HTTPClient:      s.client,
			Subscriber:      s.subscriber,
			Topic:           topic(msg.Tag),
			TTL:             int(priority.TTL() / time.Second),
			Urgency:         webpushgo.Urgency(priority.Urgency()),
			VAPIDPublicKey:  s.vapid.Keys.Public,
			VAPIDPrivateKey: s.vapid.Keys.Private,
		})
	if err != nil {
		if errors.Is(err, webpushgo.ErrMaxPadExceeded) {
			return Result{}, fmt.Errorf("%w: %d bytes of JSON", ErrPayloadTooLarge, len(body))
		}
		// The endpoint is a bearer capability; name only its origin.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			urlErr.URL = origin(sub.Endpoint)
		}
		return Result{}, fmt.Errorf("webpush: send to %s: %w", origin(sub.Endpoint), err)
	}
	defer resp.Body.Close()
	return s.result(resp), nil
}

// result classifies the push service's response and drains its body so the
// connection can be reused.
func (s *Sender) result(resp *http.Response) Result {
	r := Result{StatusCode: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		r.Outcome = Delivered
	case code == http.StatusNotFound || code == http.StatusGone:
		r.Outcome = Gone
	case code == http.StatusTooManyRequests || code >= 500:
		r.Outcome = Retry
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), s.clock.Now())
	default:
		r.Outcome = Rejected
	}
	if r.Outcome != Delivered {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, detailLimit))
		r.Detail = strings.TrimSpace(string(detail))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return r
}

// retryAfter reads a Retry-After header, delay-seconds or an HTTP date;
// zero when absent, malformed or already past.
func retryAfter(header string, now time.Time) time.Duration {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0
	}
	if secs, err := strconv.Atoi(header); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(header); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// topicPattern is what RFC 8030 §5.4 allows in a Topic header.
var topicPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// topic returns tag as a Topic header, so a newer message with the same tag
// replaces one still queued for an offline device; empty when the tag is
// not a valid topic.
func topic(tag string) string {
	if topicPattern.MatchString(tag) {
		return tag
	}
	return ""
}

// origin returns scheme://host of an endpoint, for errors that must not
// reveal the full URL.
func origin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "the push service"
	}
	return u.Scheme + "://" + u.Host
}
