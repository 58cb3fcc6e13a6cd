package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/carecircle/carecircle/internal/clock"
)

// ErrUnknownType reports an event type the catalog does not list.
var ErrUnknownType = errors.New("event type not in the catalog")

func unknownType(typ string) error {
	return fmt.Errorf("events: %w: %q (add it to catalog.go)", ErrUnknownType, typ)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("events: %w: %s", ErrInvalidEvent, fmt.Sprintf(format, args...))
}

// Build encodes the envelope of a new event of type typ, ready for the
// outbox, and returns it with the event's id. typ must be in the catalog,
// and data its catalog struct (or a map or value of other type whose JSON
// object has only that struct's fields). familyID and careRecipientID
// scope the event (events of one family keep their order); actorID is who
// caused it and correlationID the request or job it came from. familyId and
// careRecipientId are added to the data unless it already has them, so a
// consumer reading only the data still knows where the change happened.
func Build(clk clock.Clock, typ, familyID, careRecipientID, actorID, correlationID string, data any) ([]byte, string, error) {
	s, ok := specs[typ]
	if !ok {
		return nil, "", unknownType(typ)
	}
	raw, err := withScope(s, data, familyID, careRecipientID)
	if err != nil {
		return nil, "", err
	}
	e, err := NewEvent(clk, typ, raw)
	if err != nil {
		return nil, "", err
	}
	e.FamilyID, e.CareRecipientID, e.CausedBy, e.CorrelationID = familyID, careRecipientID, actorID, correlationID
	env, err := json.Marshal(e)
	if err != nil {
		return nil, "", fmt.Errorf("events: encode %s: %w", typ, err)
	}
	return env, e.ID, nil
}

// withScope encodes data, which must be a JSON object with only fields of
// s's struct, adding the family and care recipient ids when it lacks them.
func withScope(s Spec, data any, familyID, careRecipientID string) (json.RawMessage, error) {
	if data == nil {
		data = map[string]any{}
	}
	raw, ok := data.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return nil, fmt.Errorf("events: encode %s data: %w", s.Type, err)
		}
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return nil, invalid("%s data is not an object", s.Type)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("events: encode %s data: %w", s.Type, err)
	}
	if !s.isData(data) {
		if err := s.checkFields(obj); err != nil {
			return nil, err
		}
		// Every consumer decodes the data into the struct: so must this.
		if err := json.Unmarshal(raw, reflect.New(s.Data).Interface()); err != nil {
			return nil, invalid("%s data does not decode into its catalog struct %s: %v", s.Type, s.Data, err)
		}
	}
	changed := false
	for key, id := range map[string]string{"familyId": familyID, "careRecipientId": careRecipientID} {
		if _, has := obj[key]; has || id == "" {
			continue
		}
		obj[key], _ = json.Marshal(id)
		changed = true
	}
	if !changed {
		return raw, nil
	}
	return json.Marshal(obj)
}

// isData reports whether data is s's struct or a pointer to it.
func (s Spec) isData(data any) bool {
	t := reflect.TypeOf(data)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == s.Data
}

// checkFields refuses top-level fields that s's struct does not have.
func (s Spec) checkFields(obj map[string]json.RawMessage) error {
	fields := s.fields
	var unknown []string
	for k := range obj {
		if _, found := slices.BinarySearch(fields, k); !found {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return invalid("%s data has fields its catalog struct %s does not: %v", s.Type, s.Data, unknown)
	}
	return nil
}
