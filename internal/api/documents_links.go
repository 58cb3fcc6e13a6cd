package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/storage/inspect"
	"github.com/carecircle/carecircle/internal/store"
)

// documentLinkTTL is how long a document link works.
const documentLinkTTL = 5 * time.Minute

// Link variants: the file itself or its thumbnail.
const (
	variantFile      = "file"
	variantThumbnail = "thumbnail"
)

// deriveKey derives a key for one purpose from a secret, so the secret
// itself never signs two kinds of thing.
func deriveKey(secret []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// documentLinkSet is the answer of GET .../documents/{id}/url.
type documentLinkSet struct {
	// URL shows the document (the same link as ViewURL).
	URL         string `json:"url"`
	ViewURL     string `json:"viewUrl"`
	DownloadURL string `json:"downloadUrl"`
	// ThumbnailURL is present for images with a thumbnail.
	ThumbnailURL *string   `json:"thumbnailUrl,omitempty"`
	Filename     string    `json:"filename"`
	MimeType     string    `json:"mimeType"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// documentLinks hands out short-lived links to a READY document: presigned
// by the object store when it can, otherwise signed by the API for its
// download route.
func (s *Server) documentLinks(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, err := s.documentAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	switch d.Status {
	case store.DocProcessing:
		return conflict("The document is still being processed")
	case store.DocFailed:
		return conflict("The document was refused and cannot be opened")
	}
	// A link opens the file to whoever holds it: the log shows who asked.
	if err := s.auditRead(r, p, "document.link", "document", d.ID); err != nil {
		return err
	}
	exp := s.clock.Now().Add(documentLinkTTL).Truncate(time.Second)
	ctx := r.Context()
	view, err := s.documentLink(ctx, d, variantFile, true, exp)
	if err != nil {
		return err
	}
	download, err := s.documentLink(ctx, d, variantFile, false, exp)
	if err != nil {
		return err
	}
	out := documentLinkSet{URL: view, ViewURL: view, DownloadURL: download, Filename: downloadName(d),
		MimeType: d.MimeType, ExpiresAt: exp.UTC()}
	if d.ThumbnailKey != nil {
		thumb, err := s.documentLink(ctx, d, variantThumbnail, true, exp)
		if err != nil {
			return err
		}
		out.ThumbnailURL = &thumb
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// downloadName is the file name a download is offered under.
func downloadName(d *store.Document) string {
	if d.Filename != "" {
		return d.Filename
	}
	if f, ok := inspect.ByMimeType(d.MimeType); ok {
		return d.Name + f.Extensions[0]
	}
	return d.Name
}

// linkTarget is the object a link variant serves, with its name and type.
func linkTarget(d *store.Document, variant string) (key, filename, contentType string, ok bool) {
	if variant == variantThumbnail {
		if d.ThumbnailKey == nil {
			return "", "", "", false
		}
		name := strings.TrimSuffix(downloadName(d), filepath.Ext(downloadName(d)))
		return *d.ThumbnailKey, name + "-thumbnail.jpg", inspect.ThumbnailMimeType, true
	}
	return d.StorageKey, downloadName(d), d.MimeType, true
}

func (s *Server) documentLink(ctx context.Context, d *store.Document, variant string, inline bool, exp time.Time) (string, error) {
	key, filename, contentType, _ := linkTarget(d, variant)
	u, err := s.docs.files.PresignGet(ctx, key, storage.Link{Filename: filename, ContentType: contentType,
		Inline: inline, TTL: exp.Sub(s.clock.Now())})
	if !errors.Is(err, storage.ErrPresignUnsupported) {
		return u, err
	}
	disposition := "attachment"
	if inline {
		disposition = "inline"
	}
	q := url.Values{}
	q.Set("variant", variant)
	q.Set("disposition", disposition)
	q.Set("expires", strconv.FormatInt(exp.Unix(), 10))
	q.Set("signature", s.signDocumentLink(d.FamilyID, d.ID, variant, disposition, exp.Unix()))
	return s.cfg.PublicURL + s.cfg.Prefix + "/families/" + d.FamilyID + "/documents/" + d.ID + "/download?" + q.Encode(), nil
}

// signDocumentLink is the HMAC-SHA256 of everything a link grants.
func (s *Server) signDocumentLink(familyID, documentID, variant, disposition string, expires int64) string {
	mac := hmac.New(sha256.New, s.docs.linkKey)
	mac.Write([]byte(strings.Join([]string{familyID, documentID, variant, disposition, strconv.FormatInt(expires, 10)}, "\n")))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// downloadDocument serves a document through a signed link, with range
// requests for media players. The signature, not a session, authorises it.
func (s *Server) downloadDocument(w http.ResponseWriter, r *http.Request) error {
	if s.docs.files == nil {
		return errorf(http.StatusServiceUnavailable, "Document storage is not configured")
	}
	familyID, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	docID, err := pathID(r, "documentId")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	variant, disposition := q.Get("variant"), q.Get("disposition")
	expires, perr := strconv.ParseInt(q.Get("expires"), 10, 64)
	want := s.signDocumentLink(familyID, docID, variant, disposition, expires)
	if perr != nil || !hmac.Equal([]byte(q.Get("signature")), []byte(want)) ||
		(variant != variantFile && variant != variantThumbnail) || (disposition != "inline" && disposition != "attachment") {
		return forbidden("This link is not valid")
	}
	if s.clock.Now().Unix() > expires {
		return forbidden("This link has expired")
	}
	d, err := s.store.Document(r.Context(), docID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (d.FamilyID != familyID || d.Status != store.DocReady)) {
		return notFound("Document")
	}
	if err != nil {
		return err
	}
	key, filename, contentType, ok := linkTarget(d, variant)
	if !ok {
		return notFound("Thumbnail")
	}
	rc, info, err := s.docs.files.Open(r.Context(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return notFound("Document")
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if strings.HasPrefix(contentType, "text/") {
		contentType += "; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", storage.ContentDisposition(filename, disposition == "inline"))
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(documentLinkTTL/time.Second)))
	// An uploaded file opened in the browser (an HTML page, an SVG) runs
	// no script and is an origin of its own, never CareCircle's.
	h.Set("Content-Security-Policy", "sandbox")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.ModTime, rs)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, rc)
	return nil
}
