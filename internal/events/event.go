package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/clock"
)

const (
	// Source is the envelope's source for every event CareCircle emits.
	Source = "carecircle-api"
	// SpecVersion is the envelope version this package writes.
	SpecVersion = "1.0"
	// timestampLayout is RFC 3339 in UTC with milliseconds, the form the
	// previous system's clients already parse.
	timestampLayout = "2006-01-02T15:04:05.000Z07:00"
)

// typePattern accepts dot-separated lower-case words of two or more segments,
// such as "medication.logged" or "emergency.alert.created".
var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// ErrInvalidEvent reports an envelope that breaks the contract.
var ErrInvalidEvent = errors.New("invalid event")

// Event is the contract's domain event envelope. Its Type is also the
// RabbitMQ routing key.
type Event struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Timestamp       time.Time       `json:"timestamp"`
	SpecVersion     string          `json:"specVersion"`
	Data            json.RawMessage `json:"data"`
	CorrelationID   string          `json:"correlationId"`
	CausedBy        string          `json:"causedBy"`
	FamilyID        string          `json:"familyId"`
	CareRecipientID string          `json:"careRecipientId"`
}

// NewEvent returns an event of type typ carrying data, with a fresh
// time-ordered id and the clock's current time (to the millisecond the
// envelope carries); the caller fills in correlation, actor, family and care
// recipient.
func NewEvent(clk clock.Clock, typ string, data any) (Event, error) {
	raw := json.RawMessage("{}")
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return Event{}, fmt.Errorf("events: encode %s data: %w", typ, err)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("events: new id: %w", err)
	}
	e := Event{
		ID:          id.String(),
		Type:        typ,
		Source:      Source,
		Timestamp:   clk.Now().UTC().Truncate(time.Millisecond),
		SpecVersion: SpecVersion,
		Data:        raw,
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// RoutingKey is the key the event is published under: its type.
func (e Event) RoutingKey() string { return e.Type }

// Validate reports whether e can be published: an id, a dotted lower-case
// type, a timestamp, and data that is JSON when present.
func (e Event) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("events: %w: missing id", ErrInvalidEvent)
	case !typePattern.MatchString(e.Type):
		return fmt.Errorf("events: %w: type %q is not dot-separated lower-case words", ErrInvalidEvent, e.Type)
	case e.Timestamp.IsZero():
		return fmt.Errorf("events: %w: %s has no timestamp", ErrInvalidEvent, e.ID)
	case len(e.Data) > 0 && !json.Valid(e.Data):
		return fmt.Errorf("events: %w: %s data is not JSON", ErrInvalidEvent, e.ID)
	}
	return nil
}

// wireEvent is the envelope as it travels: every key present, absent
// optional values as null, the timestamp in UTC.
type wireEvent struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Timestamp       string          `json:"timestamp"`
	SpecVersion     string          `json:"specVersion"`
	Data            json.RawMessage `json:"data"`
	CorrelationID   *string         `json:"correlationId"`
	CausedBy        *string         `json:"causedBy"`
	FamilyID        *string         `json:"familyId"`
	CareRecipientID *string         `json:"careRecipientId"`
}

// MarshalJSON writes the contract's envelope. Source and specVersion default
// to this service's values, and missing data is written as an empty object.
func (e Event) MarshalJSON() ([]byte, error) {
	w := wireEvent{
		ID:              e.ID,
		Type:            e.Type,
		Source:          orDefault(e.Source, Source),
		Timestamp:       e.Timestamp.UTC().Format(timestampLayout),
		SpecVersion:     orDefault(e.SpecVersion, SpecVersion),
		Data:            e.Data,
		CorrelationID:   nullable(e.CorrelationID),
		CausedBy:        nullable(e.CausedBy),
		FamilyID:        nullable(e.FamilyID),
		CareRecipientID: nullable(e.CareRecipientID),
	}
	if len(bytes.TrimSpace(w.Data)) == 0 {
		w.Data = json.RawMessage("{}")
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the contract's envelope, accepting any RFC 3339
// timestamp and null for the optional identifiers.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var ts time.Time
	if w.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, w.Timestamp)
		if err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		ts = t.UTC()
	}
	*e = Event{
		ID:              w.ID,
		Type:            w.Type,
		Source:          w.Source,
		Timestamp:       ts,
		SpecVersion:     w.SpecVersion,
		Data:            w.Data,
		CorrelationID:   deref(w.CorrelationID),
		CausedBy:        deref(w.CausedBy),
		FamilyID:        deref(w.FamilyID),
		CareRecipientID: deref(w.CareRecipientID),
	}
	return nil
}

// DecodeEvent parses and validates an envelope received from the broker.
func DecodeEvent(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("events: %w: %w", ErrInvalidEvent, err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func nullable(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
