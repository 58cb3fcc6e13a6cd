package api

import (
	"context"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// domainEvent is a state change to announce: its type from the event
// catalog (such as events.MedicationLogged), the family and care recipient
// it concerns, who caused it and its data, of the struct the catalog gives
// that type (the family and care recipient ids are added to it).
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

// documentData is a document as the API answers it, as the data of its
// events.
func documentData(d *store.Document) events.DocumentData {
	return events.DocumentData{
		ID: d.ID, FamilyID: d.FamilyID, UploadedByID: d.UploadedByID, Name: d.Name, Type: string(d.Type),
		Status: string(d.Status), MimeType: d.MimeType, SizeBytes: d.SizeBytes, Filename: d.Filename,
		ExpiresAt: d.ExpiresAt, Notes: d.Notes, SHA256: d.SHA256, PageCount: d.PageCount,
		FailureReason: d.FailureReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		HasThumbnail: d.ThumbnailKey != nil,
	}
}
