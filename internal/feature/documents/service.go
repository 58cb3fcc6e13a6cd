// Package documents is the application layer of a family's documents:
// uploads streamed to the file storage, their processing (a job, or inline
// where there is no job queue), signed links to open them, and their
// expiry. Its commands check access, apply the rules, run one transaction,
// and record their events (see internal/feature).
package documents

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/store"
)

// JobInserter enqueues a job inside a database transaction; the River
// client is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Deps are what the documents need besides the shared base.
type Deps struct {
	// Files keeps the uploaded files; without it every command and query
	// but Browse is KindUnavailable.
	Files storage.Storage
	// Jobs enqueues an upload's processing in the upload's transaction;
	// nil processes each upload inline once it has committed.
	Jobs JobInserter
	// LinkSecret keys the signed links; a key of this process only when
	// empty (tests).
	LinkSecret []byte
	// LinkBase is where the download route of signed links is served, as
	// a public URL with the API's prefix (https://example.org/api/v1).
	LinkBase string
}

// Service runs the documents' commands and queries.
type Service struct {
	b     *feature.Base
	files storage.Storage
	// queue enqueues the document-upload job; nil processes uploads inline.
	queue JobInserter
	// processor checks uploads inline, when there is no queue.
	processor *jobs.Documents
	// linkKey signs links.
	linkKey  []byte
	linkBase string
}

// New builds the service on the shared base.
func New(b *feature.Base, d Deps) *Service {
	s := &Service{b: b, files: d.Files, queue: d.Jobs, linkBase: d.LinkBase}
	if d.Files != nil {
		s.processor = jobs.NewDocuments(jobs.DocumentsConfig{Store: b.Store, Files: d.Files, Clock: b.Clock, Logger: b.Logger})
	}
	if len(d.LinkSecret) > 0 {
		s.linkKey = deriveKey(d.LinkSecret, "carecircle document links v1")
	} else {
		s.linkKey = make([]byte, 32)
		_, _ = rand.Read(s.linkKey)
	}
	return s
}

// deriveKey derives a key for one purpose from a secret, so the secret
// itself never signs two kinds of thing.
func deriveKey(secret []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// Document is a family's document as stored.
type Document = store.Document

// Type is a document's type (INSURANCE_CARD, PHOTO_ID…).
type Type = store.DocumentType

// Types are the document types, in the contract's order.
func Types() []Type { return store.DocumentTypes() }

// View is a document as callers are answered it: the data of its events,
// whose HasThumbnail tells a client that Links offers a thumbnail.
type View = events.DocumentData

// view is d as callers see it.
func view(d *Document) View {
	return View{
		ID: d.ID, FamilyID: d.FamilyID, UploadedByID: d.UploadedByID, Name: d.Name, Type: string(d.Type),
		Status: string(d.Status), MimeType: d.MimeType, SizeBytes: d.SizeBytes, Filename: d.Filename,
		ExpiresAt: d.ExpiresAt, Notes: d.Notes, SHA256: d.SHA256, PageCount: d.PageCount,
		FailureReason: d.FailureReason, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		HasThumbnail: d.ThumbnailKey != nil,
	}
}

func views(ds []Document) []View {
	out := make([]View, len(ds))
	for i := range ds {
		out[i] = view(&ds[i])
	}
	return out
}

// available refuses every use of the documents when this deployment keeps
// no files.
func (s *Service) available() error {
	if s.files == nil {
		return feature.Errorf(feature.KindUnavailable, "Document storage is not configured")
	}
	return nil
}

// member checks that the actor is an active member of the family with at
// least n. Documents are private to a family: to anyone else the family
// does not exist (KindNotFound, not KindForbidden).
func (s *Service) member(ctx context.Context, a feature.Actor, familyID string, n feature.Need) error {
	m, err := s.b.Store.MemberOf(ctx, familyID, a.ID())
	if feature.IsNotFound(err) {
		return feature.NotFound("Family")
	}
	if err != nil {
		return err
	}
	switch {
	case n == feature.Writer && !m.Role.CanWrite():
		return feature.Forbidden("Viewers cannot make changes")
	case n == feature.Admin && m.Role != care.RoleAdmin:
		return feature.Forbidden("Only a family admin can do this")
	}
	return nil
}

// family checks that documents are kept here and that the actor may use
// the family's with at least n.
func (s *Service) family(ctx context.Context, a feature.Actor, familyID string, n feature.Need) error {
	if err := s.available(); err != nil {
		return err
	}
	return s.member(ctx, a, familyID, n)
}

// access loads the document docID of the family familyID once the actor's
// membership is checked (KindNotFound for strangers and for documents of
// other families).
func (s *Service) access(ctx context.Context, a feature.Actor, familyID, docID string, n feature.Need) (*Document, error) {
	if err := s.family(ctx, a, familyID, n); err != nil {
		return nil, err
	}
	d, err := s.b.Store.Document(ctx, docID)
	if feature.IsNotFound(err) || (err == nil && d.FamilyID != familyID) {
		return nil, feature.NotFound("Document")
	}
	return d, err
}

// List lists the family's documents, of the types read returns (all when
// none).
func (s *Service) List(ctx context.Context, a feature.Actor, familyID string, read feature.Input[[]Type]) ([]View, error) {
	if err := s.family(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	types, err := read()
	if err != nil {
		return nil, err
	}
	ds, err := s.b.Store.Documents(ctx, familyID, types...)
	if err != nil {
		return nil, err
	}
	return views(ds), nil
}

// Browse lists the family's documents as the pages show them: the rows
// alone, which a deployment without file storage has too.
func (s *Service) Browse(ctx context.Context, a feature.Actor, familyID string) ([]Document, error) {
	if err := s.member(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	return s.b.Store.Documents(ctx, familyID)
}

// Expiring lists the family's documents that expire within the days read
// returns.
func (s *Service) Expiring(ctx context.Context, a feature.Actor, familyID string, read feature.Input[int]) ([]View, error) {
	if err := s.family(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	days, err := read()
	if err != nil {
		return nil, err
	}
	now := s.b.Clock.Now()
	ds, err := s.b.Store.ExpiringDocuments(ctx, familyID, now, now.Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	return views(ds), nil
}

// ByCategory groups the family's documents by type, with every type
// present (an empty list for a type without documents).
func (s *Service) ByCategory(ctx context.Context, a feature.Actor, familyID string) (map[Type][]View, error) {
	if err := s.family(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	ds, err := s.b.Store.Documents(ctx, familyID)
	if err != nil {
		return nil, err
	}
	out := map[Type][]View{}
	for _, t := range Types() {
		out[t] = []View{}
	}
	for i := range ds {
		out[ds[i].Type] = append(out[ds[i].Type], view(&ds[i]))
	}
	return out, nil
}

// Get returns one of the family's documents.
func (s *Service) Get(ctx context.Context, a feature.Actor, familyID, docID string) (*View, error) {
	d, err := s.access(ctx, a, familyID, docID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	v := view(d)
	return &v, nil
}

// Update edits a document's name, type, notes or expiry (a writer's
// command) with the edit read returns.
func (s *Service) Update(ctx context.Context, a feature.Actor, familyID, docID string, read feature.Input[feature.Edit[Document]]) (*View, error) {
	d, err := s.access(ctx, a, familyID, docID, feature.Writer)
	if err != nil {
		return nil, err
	}
	edit, err := read()
	if err != nil {
		return nil, err
	}
	out, err := s.b.Store.UpdateDocument(ctx, d.ID, edit)
	if err != nil {
		return nil, feature.Missing(err, "Document")
	}
	s.b.FamilyChanged(ctx, d.FamilyID)
	v := view(out)
	return &v, nil
}

// Delete deletes a document (an admin's command), then its file and
// thumbnail: the row is gone first, so a file whose removal fails is an
// orphan, never a document without its file.
func (s *Service) Delete(ctx context.Context, a feature.Actor, familyID, docID string) error {
	d, err := s.access(ctx, a, familyID, docID, feature.Admin)
	if err != nil {
		return err
	}
	var gone *Document
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if gone, err = s.b.Store.DeleteDocument(ctx, d.ID); err != nil {
			return err
		}
		s.b.FamilyChanged(ctx, gone.FamilyID)
		return s.b.Emit(ctx, feature.Event{Type: events.DocumentDeleted, FamilyID: gone.FamilyID, ActorID: a.ID(), Data: view(gone)})
	})
	if err != nil {
		return feature.Missing(err, "Document")
	}
	s.removeFiles(ctx, gone)
	return nil
}

// removeFiles deletes a document's file and thumbnail, logging failures.
func (s *Service) removeFiles(ctx context.Context, d *Document) {
	keys := []string{d.StorageKey}
	if d.ThumbnailKey != nil {
		keys = append(keys, *d.ThumbnailKey)
	}
	for _, k := range keys {
		if err := s.files.Delete(context.WithoutCancel(ctx), k); err != nil {
			s.b.Logger.WarnContext(ctx, "remove document file", slog.String("key", k), slog.Any("error", err))
		}
	}
}
