package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the address of Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// TwilioConfig is an account on a Twilio-compatible API.
type TwilioConfig struct {
	AccountSID string
	AuthToken  string
	// From is the sending number, in E.164 form.
	From string
	// BaseURL is the API's address; empty means DefaultBaseURL.
	BaseURL string
	// Client sends the requests; nil gets one with a 15-second timeout.
	Client *http.Client
}

// Twilio sends text messages through Twilio's Messages API
// (POST {base}/2010-04-01/Accounts/{sid}/Messages.json). It is safe for
// concurrent use.
type Twilio struct {
	sid, token, from string
	endpoint         string
	client           *http.Client
}

// NewTwilio checks the account settings and returns a client for them.
func NewTwilio(c TwilioConfig) (*Twilio, error) {
	if c.AccountSID == "" || c.AuthToken == "" {
		return nil, errors.New("sms: twilio: account SID and auth token are required")
	}
	if !ValidE164(c.From) {
		return nil, fmt.Errorf("sms: twilio: from %q: %w", c.From, ErrInvalidNumber)
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sms: twilio: base URL %q is not an http(s) URL", base)
	}
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return &Twilio{
		sid: c.AccountSID, token: c.AuthToken, from: c.From,
		endpoint: strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(c.AccountSID) + "/Messages.json",
		client:   client,
	}, nil
}

// Message is the provider's record of a message it accepted.
type Message struct {
	// SID identifies the message at the provider (SM…).
	SID string `json:"sid"`
	// Status is where the message stands: queued, accepted, sending, sent.
	Status string `json:"status"`
}

// APIError is the provider's refusal of a message, with its error code
// (such as 21211, an invalid To number) and explanation. It wraps
// ErrTemporary for 429 and 5xx answers, ErrPermanent otherwise.
type APIError struct {
	StatusCode int
	Code       int
	Message    string
	MoreInfo   string
	// RetryAfter is the wait a 429 or 503 asked for; zero when none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := "twilio: status " + strconv.Itoa(e.StatusCode)
	if e.Code != 0 {
		msg += ", error " + strconv.Itoa(e.Code)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Temporary reports whether the same message may be accepted later.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Unwrap classifies the refusal as ErrTemporary or ErrPermanent.
func (e *APIError) Unwrap() error {
	if e.Temporary() {
		return ErrTemporary
	}
	return ErrPermanent
}

// SendSMS implements Sender.
func (t *Twilio) SendSMS(ctx context.Context, to, body string) error {
	_, err := t.Send(ctx, to, body)
	return err
}

// Send posts one message and returns the provider's record of it. to may be
// written with the usual separators; it must carry its country code. A
// refusal is an *APIError; a provider that cannot be reached wraps
// ErrTemporary; an invalid number or body is refused before any request
// with ErrInvalidNumber or ErrInvalidBody.
func (t *Twilio) Send(ctx context.Context, to, body string) (Message, error) {
	number, err := NormalizeE164(to)
	if err != nil {
		return Message{}, fmt.Errorf("sms: twilio: to %s: %w: %w", maskNumber(to), err, ErrPermanent)
	}
	if !validBody(body) {
		return Message{}, fmt.Errorf("sms: twilio: %w (%d characters, at most %d): %w",
			ErrInvalidBody, len([]rune(body)), MaxBodyLength, ErrPermanent)
	}
	form := url.Values{"To": {number}, "From": {t.from}, "Body": {body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Message{}, fmt.Errorf("sms: twilio: %w: %w", err, ErrPermanent)
	}
	req.SetBasicAuth(t.sid, t.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return Message{}, fmt.Errorf("sms: twilio: send to %s: %w: %w", maskNumber(number), err, ErrTemporary)
	}
	defer resp.Body.Close()
	// A short read keeps a misbehaving proxy from filling memory.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Message{}, apiError(resp, answer)
	}
	var m Message
	if err := json.Unmarshal(answer, &m); err != nil {
		// Accepted all the same: the status code is what commits the send.
		return Message{Status: "accepted"}, nil
	}
	return m, nil
}

// apiError reads Twilio's error body {code, message, more_info, status}.
func apiError(resp *http.Response, answer []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode}
	var body struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal(answer, &body) == nil && (body.Code != 0 || body.Message != "") {
		e.Code, e.Message, e.MoreInfo = body.Code, body.Message, body.MoreInfo
	} else {
		e.Message = strings.TrimSpace(string(answer))
		if len(e.Message) > 200 {
			e.Message = strings.ToValidUTF8(e.Message[:200], "")
		}
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}
