package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/feature/documents"
)

// JobInserter enqueues a job inside a database transaction; the River client
// is one.
type JobInserter = documents.JobInserter

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

// documentIDs reads the path's family and document ids.
func documentIDs(r *http.Request) (familyID, docID string, err error) {
	if familyID, err = pathID(r, "familyId"); err != nil {
		return "", "", err
	}
	docID, err = pathID(r, "documentId")
	return familyID, docID, err
}

// documentTypes are the contract's document types as strings, for messages.
func documentTypes() []string {
	var out []string
	for _, t := range documents.Types() {
		out = append(out, string(t))
	}
	return out
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	ds, err := s.svc.Documents.List(r.Context(), *p, familyID, func() ([]documents.Type, error) {
		t := r.URL.Query().Get("type")
		if t == "" {
			return nil, nil
		}
		pr := Problems{}
		pr.oneOf("type", t, documentTypes()...)
		return []documents.Type{documents.Type(t)}, pr.Err()
	})
	return writeOK(w, ds, err)
}

// expiringDocuments lists the documents that expire within ?days (30).
func (s *Server) expiringDocuments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	ds, err := s.svc.Documents.Expiring(r.Context(), *p, familyID, func() (int, error) {
		return queryInt(r, "days", 30, 1, 3650)
	})
	return writeOK(w, ds, err)
}

// documentsByCategory answers {TYPE: [documents…]} with every type present.
func (s *Server) documentsByCategory(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "familyId", s.svc.Documents.ByCategory, writeOK)
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if r.PathValue("collection") != "documents" {
		return &Error{Status: http.StatusNotFound, Message: "Cannot " + r.Method + " " + r.URL.Path}
	}
	familyID, docID, err := documentIDs(r)
	if err != nil {
		return err
	}
	d, err := s.svc.Documents.Get(r.Context(), *p, familyID, docID)
	return writeOK(w, d, err)
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

func (b *documentPatch) apply(d *documents.Document) error {
	assignRequired(&d.Name, b.Name)
	if b.Type.Set && !b.Type.Null {
		d.Type = documents.Type(b.Type.Value)
	}
	assign(&d.Notes, b.Notes)
	if b.ExpiresAt.Set {
		d.ExpiresAt = b.expires
	}
	return nil
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
	return updateByIDs(w, r, p, documentIDs, s.svc.Documents.Update, &documentPatch{})
}

// deleteDocument deletes a document with its file (an admin's command).
func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByIDs(w, r, p, documentIDs, s.svc.Documents.Delete)
}
