package api

import (
	"context"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// domainEvent is a state change to announce: its type from the contract's
// event list (such as "medication.logged"), the family and care recipient it
// concerns, who caused it and its data (the changed resource as the API
// answers it; the family and care recipient ids are added to it).
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
	env, id, err := events.Build(s.clock, ev.Type, ev.FamilyID, ev.CareRecipientID, ev.ActorID, requestID(ctx), ev.Data)
	if err != nil {
		return err
	}
	return s.store.AppendEvent(ctx, store.OutboxEvent{ID: id, Type: ev.Type, FamilyID: ev.FamilyID, Envelope: env})
}
