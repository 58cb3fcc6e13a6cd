package api

import (
	"context"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// domainEvent is a state change to announce (see feature.Event).
type domainEvent = feature.Event

// emit appends ev to the outbox, in the transaction ctx carries.
func (s *Server) emit(ctx context.Context, ev domainEvent) error { return s.base.Emit(ctx, ev) }

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
