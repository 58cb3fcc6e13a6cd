package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// domainEvent is a state change to announce: its type from the contract's
// event list (such as "medication.logged"), the family and care recipient it
// concerns, who caused it and its data.
type domainEvent struct {
	Type            string
	FamilyID        string
	CareRecipientID string
	ActorID         string
	Data            any
}

// emit appends ev to the outbox. Call it with the context of the
// store.Atomically block that makes the change, so the event commits with
// it or not at all.
func (s *Server) emit(ctx context.Context, ev domainEvent) error {
	e, err := events.NewEvent(s.clock, ev.Type, ev.Data)
	if err != nil {
		return err
	}
	e.FamilyID, e.CareRecipientID, e.CausedBy = ev.FamilyID, ev.CareRecipientID, ev.ActorID
	e.CorrelationID = requestID(ctx)
	env, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("emit %s: %w", ev.Type, err)
	}
	return s.store.AppendEvent(ctx, store.OutboxEvent{ID: e.ID, Type: e.Type, FamilyID: e.FamilyID, Envelope: env})
}
