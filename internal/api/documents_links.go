package api

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/feature/documents"
	"github.com/carecircle/carecircle/internal/storage"
)

// documentLinkTTL is how long a document link works.
const documentLinkTTL = documents.LinkTTL

// documentLinks hands out short-lived links to a READY document: presigned
// by the object store when it can, otherwise signed by the API for its
// download route. A link opens the file to whoever holds it: the audit log
// shows who asked.
func (s *Server) documentLinks(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, docID, err := documentIDs(r)
	if err != nil {
		return err
	}
	links, err := s.svc.Documents.Links(r.Context(), *p, familyID, docID, func() error {
		return s.auditRead(r, p, "document.link", "document", docID)
	})
	return writeOK(w, links, err)
}

// downloadDocument serves a document through a signed link, with range
// requests for media players. The signature, not a session, authorises it.
func (s *Server) downloadDocument(w http.ResponseWriter, r *http.Request) error {
	familyID, docID, err := documentIDs(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d, err := s.svc.Documents.Open(r.Context(), documents.SignedLink{FamilyID: familyID, DocumentID: docID,
		Variant: q.Get("variant"), Disposition: q.Get("disposition"), Expires: q.Get("expires"), Signature: q.Get("signature")})
	if err != nil {
		return err
	}
	defer d.Body.Close()
	contentType := d.ContentType
	if strings.HasPrefix(contentType, "text/") {
		contentType += "; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", storage.ContentDisposition(d.Filename, d.Inline))
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(documentLinkTTL/time.Second)))
	// An uploaded file opened in the browser (an HTML page, an SVG) runs
	// no script and is an origin of its own, never CareCircle's.
	h.Set("Content-Security-Policy", "sandbox")
	if rs, ok := d.Body.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", d.Info.ModTime, rs)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(d.Info.Size, 10))
	_, _ = io.Copy(w, d.Body)
	return nil
}
