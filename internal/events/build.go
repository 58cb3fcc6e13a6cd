package events

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/carecircle/carecircle/internal/clock"
)

// Build encodes the envelope of a new event of type typ, ready for the
// outbox, and returns it with the event's id. familyID and careRecipientID
// scope the event (events of one family keep their order); actorID is who
// caused it and correlationID the request or job it came from. When data is
// a JSON object, familyId and careRecipientId are added to it unless it
// already has them, so a consumer reading only the data still knows where
// the change happened.
func Build(clk clock.Clock, typ, familyID, careRecipientID, actorID, correlationID string, data any) ([]byte, string, error) {
	raw, err := withScope(data, familyID, careRecipientID)
	if err != nil {
		return nil, "", fmt.Errorf("events: encode %s data: %w", typ, err)
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

// withScope encodes data, adding the family and care recipient ids to an
// object that lacks them. Anything but an object is encoded as it is.
func withScope(data any, familyID, careRecipientID string) (json.RawMessage, error) {
	if data == nil {
		data = map[string]any{}
	}
	raw, ok := data.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return nil, err
		}
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return raw, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
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
