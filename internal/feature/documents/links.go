package documents

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/storage/inspect"
	"github.com/carecircle/carecircle/internal/store"
)

// LinkTTL is how long a document link works.
const LinkTTL = 5 * time.Minute

// Link variants: the file itself or its thumbnail.
const (
	variantFile      = "file"
	variantThumbnail = "thumbnail"
)

// Links are the short-lived links to a document.
type Links struct {
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

// Links hands out short-lived links to a READY document of the family:
// presigned by the object store when it can, otherwise signed for the
// download route (see Open). A link opens the file to whoever holds it, so
// record is called once the document may be opened and before any link is
// made, to note who asked (the API's audit log); its failure hands out
// nothing.
func (s *Service) Links(ctx context.Context, a feature.Actor, familyID, docID string, record func() error) (*Links, error) {
	d, err := s.access(ctx, a, familyID, docID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	switch d.Status {
	case store.DocProcessing:
		return nil, feature.Conflict("The document is still being processed")
	case store.DocFailed:
		return nil, feature.Conflict("The document was refused and cannot be opened")
	}
	if err := record(); err != nil {
		return nil, err
	}
	exp := s.b.Clock.Now().Add(LinkTTL).Truncate(time.Second)
	view, err := s.link(ctx, d, variantFile, true, exp)
	if err != nil {
		return nil, err
	}
	download, err := s.link(ctx, d, variantFile, false, exp)
	if err != nil {
		return nil, err
	}
	out := &Links{URL: view, ViewURL: view, DownloadURL: download, Filename: downloadName(d),
		MimeType: d.MimeType, ExpiresAt: exp.UTC()}
	if d.ThumbnailKey != nil {
		thumb, err := s.link(ctx, d, variantThumbnail, true, exp)
		if err != nil {
			return nil, err
		}
		out.ThumbnailURL = &thumb
	}
	return out, nil
}

// downloadName is the file name a download is offered under.
func downloadName(d *Document) string {
	if d.Filename != "" {
		return d.Filename
	}
	if f, ok := inspect.ByMimeType(d.MimeType); ok {
		return d.Name + f.Extensions[0]
	}
	return d.Name
}

// linkTarget is the object a link variant serves, with its name and type.
func linkTarget(d *Document, variant string) (key, filename, contentType string, ok bool) {
	if variant == variantThumbnail {
		if d.ThumbnailKey == nil {
			return "", "", "", false
		}
		name := strings.TrimSuffix(downloadName(d), filepath.Ext(downloadName(d)))
		return *d.ThumbnailKey, name + "-thumbnail.jpg", inspect.ThumbnailMimeType, true
	}
	return d.StorageKey, downloadName(d), d.MimeType, true
}

// link is one link to a variant of d, working until exp.
func (s *Service) link(ctx context.Context, d *Document, variant string, inline bool, exp time.Time) (string, error) {
	key, filename, contentType, _ := linkTarget(d, variant)
	u, err := s.files.PresignGet(ctx, key, storage.Link{Filename: filename, ContentType: contentType,
		Inline: inline, TTL: exp.Sub(s.b.Clock.Now())})
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
	q.Set("signature", s.sign(d.FamilyID, d.ID, variant, disposition, exp.Unix()))
	return s.linkBase + "/families/" + d.FamilyID + "/documents/" + d.ID + "/download?" + q.Encode(), nil
}

// sign is the HMAC-SHA256 of everything a link grants.
func (s *Service) sign(familyID, documentID, variant, disposition string, expires int64) string {
	mac := hmac.New(sha256.New, s.linkKey)
	mac.Write([]byte(strings.Join([]string{familyID, documentID, variant, disposition, strconv.FormatInt(expires, 10)}, "\n")))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// SignedLink is what a signed link carries, as it carries it.
type SignedLink struct {
	FamilyID, DocumentID string
	// Variant is "file" or "thumbnail"; Disposition "inline" or
	// "attachment".
	Variant, Disposition string
	// Expires is the Unix time the link ends, in decimal.
	Expires   string
	Signature string
}

// Download is a document's file opened through a signed link. The caller
// closes Body.
type Download struct {
	Body io.ReadCloser
	// Info tells the file's size and when it was stored.
	Info storage.Info
	// Filename and ContentType are what to offer it as; Inline whether to
	// show it rather than save it.
	Filename    string
	ContentType string
	Inline      bool
}

// Open opens the file a signed link names: the signature, not a session,
// authorises it. A link altered or expired is KindForbidden; a document
// gone, of another family or not READY, KindNotFound.
func (s *Service) Open(ctx context.Context, l SignedLink) (*Download, error) {
	if err := s.available(); err != nil {
		return nil, err
	}
	expires, perr := strconv.ParseInt(l.Expires, 10, 64)
	want := s.sign(l.FamilyID, l.DocumentID, l.Variant, l.Disposition, expires)
	if perr != nil || !hmac.Equal([]byte(l.Signature), []byte(want)) ||
		(l.Variant != variantFile && l.Variant != variantThumbnail) || (l.Disposition != "inline" && l.Disposition != "attachment") {
		return nil, feature.Forbidden("This link is not valid")
	}
	if s.b.Clock.Now().Unix() > expires {
		return nil, feature.Forbidden("This link has expired")
	}
	d, err := s.b.Store.Document(ctx, l.DocumentID)
	if feature.IsNotFound(err) || (err == nil && (d.FamilyID != l.FamilyID || d.Status != store.DocReady)) {
		return nil, feature.NotFound("Document")
	}
	if err != nil {
		return nil, err
	}
	key, filename, contentType, ok := linkTarget(d, l.Variant)
	if !ok {
		return nil, feature.NotFound("Thumbnail")
	}
	rc, info, err := s.files.Open(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, feature.NotFound("Document")
	}
	if err != nil {
		return nil, err
	}
	return &Download{Body: rc, Info: info, Filename: filename, ContentType: contentType, Inline: l.Disposition == "inline"}, nil
}
