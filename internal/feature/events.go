package feature

import (
	"context"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// Event is a state change to announce: its type from the event catalog
// (such as events.MedicationLogged), the family and care recipient it
// concerns, who caused it and its data, of the struct the catalog gives
// that type (the family and care recipient ids are added to it).
type Event struct {
	Type            string
	FamilyID        string
	CareRecipientID string
	ActorID         string
	Data            any
}

// Emit appends ev to the outbox. Call it inside the Atomically block that
// makes the change, so the event commits with it or not at all; the
// dispatcher is woken once it has.
func (b *Base) Emit(ctx context.Context, ev Event) error {
	env, id, err := events.Build(b.Clock, ev.Type, ev.FamilyID, ev.CareRecipientID, ev.ActorID, Correlation(ctx), ev.Data)
	if err != nil {
		return err
	}
	return b.Store.AppendEvent(ctx, store.OutboxEvent{ID: id, Type: ev.Type, FamilyID: ev.FamilyID, Envelope: env})
}
