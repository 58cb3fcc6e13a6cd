package feature

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
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

// EmitAbout appends the event typ about something of the care recipient
// cr's (cr themselves, a medication, an appointment…), caused by the actor;
// data is it as callers see it (as it was, for a deletion).
func (b *Base) EmitAbout(ctx context.Context, a Actor, cr *care.CareRecipient, typ string, data any) error {
	return b.Emit(ctx, Event{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: a.ID(), Data: data})
}
