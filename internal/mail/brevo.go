package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// BrevoBaseURL is the address of Brevo's HTTP API.
const BrevoBaseURL = "https://api.brevo.com"

// Brevo is a Sender that posts each message to Brevo's transactional email
// API (POST /v3/smtp/email).
type Brevo struct {
	apiKey  string
	from    brevoAddress
	client  *http.Client
	baseURL string
}

type brevoAddress struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

type brevoEmail struct {
	Sender      brevoAddress   `json:"sender"`
	To          []brevoAddress `json:"to"`
	Subject     string         `json:"subject"`
	HTMLContent string         `json:"htmlContent,omitempty"`
	TextContent string         `json:"textContent"`
	// Headers carries the idempotency key of a message with an ID: Brevo
	// sends a request with a key it has seen in the last minutes only once.
	Headers map[string]string `json:"headers,omitempty"`
}

// NewBrevo returns a Brevo sender. from is the sender address, e.g.
// "CareCircle <no-reply@example.com>", and must be a sender verified in the
// Brevo account. A nil client gets a 15-second timeout; an empty baseURL
// means BrevoBaseURL.
func NewBrevo(apiKey, from string, client *http.Client, baseURL string) (*Brevo, error) {
	if apiKey == "" {
		return nil, errors.New("mail: brevo: no API key")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: brevo: from %q: %w", from, err)
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	if baseURL == "" {
		baseURL = BrevoBaseURL
	}
	return &Brevo{
		apiKey:  apiKey,
		from:    brevoAddress{Name: addr.Name, Email: addr.Address},
		client:  client,
		baseURL: strings.TrimRight(baseURL, "/"),
	}, nil
}

// Send posts m to the API. A 2xx answer (201 normally) means Brevo accepted
// it; 429 and 5xx wrap ErrTemporary, any other answer ErrPermanent.
func (b *Brevo) Send(ctx context.Context, m Message) error {
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: brevo: to %q: %w: %w", m.To, ErrPermanent, err)
	}
	e := brevoEmail{
		Sender:      b.from,
		To:          []brevoAddress{{Name: to.Name, Email: to.Address}},
		Subject:     singleLineHeader(m.Subject),
		HTMLContent: m.HTML,
		TextContent: m.Text,
	}
	if m.ID != "" {
		// Brevo wants a UUID: the name-based one of the ID.
		e.Headers = map[string]string{"idempotencyKey": uuid.NewSHA1(uuid.NameSpaceOID, []byte(m.ID)).String()}
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("mail: brevo: encode: %w: %w", ErrPermanent, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.baseURL+"/v3/smtp/email", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mail: brevo: %w: %w", ErrPermanent, err)
	}
	req.Header.Set("api-key", b.apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("mail: brevo: %w: %w", ErrTemporary, err)
	}
	defer resp.Body.Close()
	// Brevo explains a refusal in {"code": ..., "message": ...}; a short
	// read keeps a misbehaving proxy from filling memory.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	class := ErrPermanent
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		class = ErrTemporary
	}
	return fmt.Errorf("mail: brevo: status %d: %s: %w", resp.StatusCode, brevoReason(answer), class)
}

// brevoReason extracts Brevo's explanation from an error answer.
func brevoReason(answer []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &e) == nil && (e.Code != "" || e.Message != "") {
		return strings.TrimSpace(e.Code + " " + e.Message)
	}
	return strings.TrimSpace(string(answer))
}
