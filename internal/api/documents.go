package api

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/store"
)

// JobInserter enqueues a job inside a database transaction; the River client
// is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// documentService is what the document routes need beside the store.
type documentService struct {
	files storage.Storage
	// queue enqueues the document-upload job; nil processes uploads inline
	// once they have committed.
	queue JobInserter
	// processor checks uploads inline, when there is no queue.
	processor *jobs.Documents
	// linkKey signs download links.
	linkKey []byte
}

// newDocumentService builds the document routes' dependencies. Without a
// link secret (tests), links are signed with a key of this process only.
func newDocumentService(d Deps) documentService {
	svc := documentService{files: d.Files, queue: d.DocumentJobs}
	if d.Files != nil {
		svc.processor = jobs.NewDocuments(jobs.DocumentsConfig{Store: d.Store, Files: d.Files, Clock: d.Clock, Logger: d.Logger})
	}
	if len(d.LinkSecret) > 0 {
		svc.linkKey = deriveKey(d.LinkSecret, "carecircle document links v1")
	} else {
		svc.linkKey = make([]byte, 32)
		_, _ = rand.Read(svc.linkKey)
	}
	return svc
}

func (s *Server) documentRoutes() {
	s.authed("POST", "/families/{familyId}/documents", s.uploadDocument)
	s.authed("GET", "/families/{familyId}/documents", s.listDocuments)
	s.authed("GET", "/families/{familyId}/documents/expiring", s.expiringDocuments)
	s.authed("GET", "/families/{familyId}/documents/by-category", s.documentsByCategory)
	// "GET /families/{familyId}/documents/{documentId}" would conflict with
	// "GET /families/invitations/{token}/details" in ServeMux (each matches
	// a path the other does not); a pattern with a wildcard in place of
	// "documents" is less specific than that one and so does not.
	s.authed("GET", "/families/{familyId}/{collection}/{documentId}", s.getDocument)
	s.authed("PATCH", "/families/{familyId}/documents/{documentId}", s.updateDocument)
	s.authed("DELETE", "/families/{familyId}/documents/{documentId}", s.deleteDocument)
	s.authed("GET", "/families/{familyId}/documents/{documentId}/url", s.documentLinks)
	// Signed links work without a session, for <img src> and downloads.
	s.route("GET", "/families/{familyId}/documents/{documentId}/download", s.downloadDocument)
}

// documentFamily reads {familyId} and checks that the principal is an active
// member with at least the needed role. Documents are private to a family:
// to anyone else the family does not exist (404, not 403).
func (s *Server) documentFamily(r *http.Request, p *Principal, n need) (string, error) {
	if s.docs.files == nil {
		return "", errorf(http.StatusServiceUnavailable, "Document storage is not configured")
	}
	id, err := pathID(r, "familyId")
	if err != nil {
		return "", err
	}
	m, err := s.store.MemberOf(r.Context(), id, p.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound("Family")
	}
	if err != nil {
		return "", err
	}
	switch {
	case n == writer && !m.Role.CanWrite():
		return "", forbidden("Viewers cannot make changes")
	case n == admin && m.Role != care.RoleAdmin:
		return "", forbidden("Only a family admin can do this")
	}
	return id, nil
}

// documentAccess loads the document {documentId} of the family {familyId}
// after checking the principal's membership (404 for strangers and for
// documents of other families).
func (s *Server) documentAccess(r *http.Request, p *Principal, n need) (*store.Document, error) {
	familyID, err := s.documentFamily(r, p, n)
	if err != nil {
		return nil, err
	}
	return s.familyDocument(r, familyID)
}

func (s *Server) familyDocument(r *http.Request, familyID string) (*store.Document, error) {
	id, err := pathID(r, "documentId")
	if err != nil {
		return nil, err
	}
	d, err := s.store.Document(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.FamilyID != familyID) {
		return nil, notFound("Document")
	}
	return d, err
}

// documentView is a document as the API answers it: the data of its
// events, whose hasThumbnail tells a client that GET .../url offers a
// thumbnailUrl.
type documentView = events.DocumentData

func viewDocument(d *store.Document) documentView { return documentData(d) }

func viewDocuments(ds []store.Document) []documentView {
	out := make([]documentView, len(ds))
	for i := range ds {
		out[i] = viewDocument(&ds[i])
	}
	return out
}

// documentTypes are the contract's document types as strings, for messages.
func documentTypes() []string {
	var out []string
	for _, t := range store.DocumentTypes() {
		out = append(out, string(t))
	}
	return out
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := s.documentFamily(r, p, anyMember)
	if err != nil {
		return err
	}
	var types []store.DocumentType
	if t := r.URL.Query().Get("type"); t != "" {
		pr := Problems{}
		pr.oneOf("type", t, documentTypes()...)
		if err := pr.Err(); err != nil {
			return err
		}
		types = append(types, store.DocumentType(t))
	}
	ds, err := s.store.Documents(r.Context(), familyID, types...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewDocuments(ds))
	return nil
}

func (s *Server) expiringDocuments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := s.documentFamily(r, p, anyMember)
	if err != nil {
		return err
	}
	days, err := queryInt(r, "days", 30, 1, 3650)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	ds, err := s.store.ExpiringDocuments(r.Context(), familyID, now, now.Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewDocuments(ds))
	return nil
}

// documentsByCategory answers {TYPE: [documents…]} with every type present.
func (s *Server) documentsByCategory(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := s.documentFamily(r, p, anyMember)
	if err != nil {
		return err
	}
	ds, err := s.store.Documents(r.Context(), familyID)
	if err != nil {
		return err
	}
	out := map[store.DocumentType][]documentView{}
	for _, t := range store.DocumentTypes() {
		out[t] = []documentView{}
	}
	for i := range ds {
		out[ds[i].Type] = append(out[ds[i].Type], viewDocument(&ds[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if r.PathValue("collection") != "documents" {
		return &Error{Status: http.StatusNotFound, Message: "Cannot " + r.Method + " " + r.URL.Path}
	}
	d, err := s.documentAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewDocument(d))
	return nil
}

// maxDocumentNameLen bounds a document's name, which defaults to the file's.
const maxDocumentNameLen = 200

// documentPatch is the body of PATCH .../documents/{documentId}: absent
// fields stay, null clears notes and expiresAt.
type documentPatch struct {
	Name      Optional[string] `json:"name"`
	Type      Optional[string] `json:"type"`
	Notes     Optional[string] `json:"notes"`
	ExpiresAt Optional[string] `json:"expiresAt"`
	expires   *time.Time
}

func (b *documentPatch) Validate(p Problems) {
	p.patchRequired("name", &b.Name, func(v string) string { return p.line("name", v, maxDocumentNameLen) })
	p.patchRequired("type", &b.Type, func(v string) string { p.oneOf("type", v, documentTypes()...); return v })
	patchOptional(&b.Notes, func(v *string) *string { return p.optText("notes", v, maxNotesLen) })
	if b.ExpiresAt.Set && !b.ExpiresAt.Null {
		b.expires = p.expiryDate("expiresAt", b.ExpiresAt.Value)
	}
}

func (b *documentPatch) apply(d *store.Document) {
	assignRequired(&d.Name, b.Name)
	if b.Type.Set && !b.Type.Null {
		d.Type = store.DocumentType(b.Type.Value)
	}
	assign(&d.Notes, b.Notes)
	if b.ExpiresAt.Set {
		d.ExpiresAt = b.expires
	}
}

// expiryDate checks an expiry given as an RFC 3339 instant or a date
// (YYYY-MM-DD, read as midnight UTC).
func (p Problems) expiryDate(field, v string) *time.Time {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Year() < 1900 || t.Year() > 9999 {
				break
			}
			t = t.UTC()
			return &t
		}
	}
	p.Add(field, "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp")
	return nil
}

func (s *Server) updateDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, err := s.documentAccess(r, p, writer)
	if err != nil {
		return err
	}
	var b documentPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	out, err := s.store.UpdateDocument(r.Context(), d.ID, func(d *store.Document) error {
		b.apply(d)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Document")
	}
	if err != nil {
		return err
	}
	s.familyChanged(r.Context(), d.FamilyID)
	writeJSON(w, http.StatusOK, viewDocument(out))
	return nil
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, err := s.documentAccess(r, p, admin)
	if err != nil {
		return err
	}
	var gone *store.Document
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if gone, err = s.store.DeleteDocument(ctx, d.ID); err != nil {
			return err
		}
		s.familyChanged(ctx, gone.FamilyID)
		return s.emit(ctx, domainEvent{Type: events.DocumentDeleted, FamilyID: gone.FamilyID, ActorID: p.User.ID, Data: documentData(gone)})
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Document")
	}
	if err != nil {
		return err
	}
	// The row is gone first: a file whose removal fails is an orphan, never
	// a document without its file.
	s.removeFiles(r.Context(), gone)
	writeDeleted(w)
	return nil
}

// removeFiles deletes a document's file and thumbnail, logging failures.
func (s *Server) removeFiles(ctx context.Context, d *store.Document) {
	keys := []string{d.StorageKey}
	if d.ThumbnailKey != nil {
		keys = append(keys, *d.ThumbnailKey)
	}
	for _, k := range keys {
		if err := s.docs.files.Delete(context.WithoutCancel(ctx), k); err != nil {
			s.logger.WarnContext(ctx, "remove document file", slog.String("key", k), slog.Any("error", err))
		}
	}
}
