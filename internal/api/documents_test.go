package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/store"
)

// docServer is an API server on a harness's store and clock that keeps
// documents in a directory of its own and, when asked, processes uploads on
// a real River job queue instead of inline.
type docServer struct {
	*harness
	// root is the storage root; outside is the directory holding it and
	// nothing else, so that anything written beside the root shows.
	root, outside string
	files         *storage.Local
	// events reports finished document jobs (nil without a queue).
	events <-chan *river.Event
}

// newDocServer replaces h's server with one that has document storage.
func newDocServer(t *testing.T, h *harness, queue bool) *docServer {
	t.Helper()
	outside := t.TempDir()
	root := filepath.Join(outside, "documents")
	files, err := storage.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	d := &docServer{harness: h, root: root, outside: outside, files: files}
	deps := Deps{Store: h.store, Tokens: h.api.tokens, Mail: h.mail, Limiter: h.api.limiter, Cache: h.api.cache,
		Codes: h.api.codes, Lockout: h.api.lockout, Clock: h.clock, Logger: h.api.logger,
		VAPIDPublicKey: h.api.vapid, Files: files}
	if queue {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, h.store); err != nil {
			t.Fatal(err)
		}
		proc := jobs.NewDocuments(jobs.DocumentsConfig{Store: h.store, Files: files, Clock: h.clock, Logger: h.api.logger})
		rc, err := jobs.NewClient(h.store, river.NewWorkers(), jobs.ClientConfig{Work: true, Logger: h.api.logger, Documents: proc})
		if err != nil {
			t.Fatal(err)
		}
		events, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		t.Cleanup(cancel)
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			if err := rc.Stop(ctx); err != nil {
				t.Errorf("stop job queue: %v", err)
			}
		})
		deps.DocumentJobs = rc
		d.events = events
	}
	h.srv.Close()
	h.api = New(h.api.cfg, deps)
	h.srv = httptest.NewServer(h.api.Handler())
	t.Cleanup(h.srv.Close)
	return d
}

// waitJob waits (at most 30 s) for the document-upload job of the document
// to finish and returns how it ended.
func (d *docServer) waitJob(t *testing.T, documentID string) river.EventKind {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-d.events:
			var args jobs.DocumentUploadArgs
			if ev.Job.Kind == (jobs.DocumentUploadArgs{}).Kind() && json.Unmarshal(ev.Job.EncodedArgs, &args) == nil && args.DocumentID == documentID {
				return ev.Kind
			}
		case <-timeout:
			t.Fatalf("the document-upload job of %s did not finish", documentID)
		}
	}
}

// formPart is one part of a multipart upload.
type formPart struct {
	field, filename, contentType string
	content                      []byte
}

// filePart is the upload's file; the file name is sent exactly as given.
func filePart(filename, contentType string, content []byte) formPart {
	return formPart{field: "file", filename: filename, contentType: contentType, content: content}
}

// textPart is one of the upload's text fields.
func textPart(name, value string) formPart { return formPart{field: name, content: []byte(value)} }

// encodeForm builds a multipart/form-data body of the parts, in order.
func encodeForm(t testing.TB, parts ...formPart) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		disposition := fmt.Sprintf(`form-data; name=%q`, p.field)
		if p.field == "file" {
			disposition += fmt.Sprintf(`; filename=%q`, p.filename)
			if p.contentType != "" {
				hdr.Set("Content-Type", p.contentType)
			}
		}
		hdr.Set("Content-Disposition", disposition)
		pw, err := w.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write(p.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), w.FormDataContentType()
}

// upload posts the parts as a document of the family.
func (d *docServer) upload(token, familyID string, parts ...formPart) *response {
	d.t.Helper()
	body, ct := encodeForm(d.t, parts...)
	return d.request("POST", "/families/"+familyID+"/documents", token, body, "Content-Type", ct)
}

// uploadStream posts the parts without a Content-Length (chunked), so that
// the server can only find out the size by reading.
func (d *docServer) uploadStream(token, familyID string, parts ...formPart) *response {
	d.t.Helper()
	body, ct := encodeForm(d.t, parts...)
	// A reader of unknown length makes the client send the body chunked.
	req, err := http.NewRequest("POST", d.srv.URL+testPrefix+"/families/"+familyID+"/documents", io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return d.do(req)
}

func (d *docServer) do(req *http.Request) *response {
	d.t.Helper()
	res, err := d.srv.Client().Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{t: d.t, Status: res.StatusCode, Header: res.Header, Body: b}
}

// fetch follows a link the API handed out (with the harness's public URL)
// without a session.
func (d *docServer) fetch(link string, header ...string) *response {
	d.t.Helper()
	const public = "http://carecircle.test"
	if !strings.HasPrefix(link, public+testPrefix+"/families/") {
		d.t.Fatalf("link %q is not on the public URL", link)
	}
	req, err := http.NewRequest("GET", d.srv.URL+strings.TrimPrefix(link, public), nil)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return d.do(req)
}

// leftovers lists every file and directory beside or under the storage
// root, relative to the directory holding it; the root itself is expected.
func (d *docServer) leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(d.outside, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != d.outside && p != d.root {
			rel, _ := filepath.Rel(d.outside, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// storedFiles lists the regular files under the storage root.
func (d *docServer) storedFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range d.leftovers(t) {
		if st, err := os.Stat(filepath.Join(d.outside, p)); err == nil && st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out
}

// documentRows counts every row of the documents table.
func documentRows(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM documents`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// docJSON is a document as the API answers it.
type docJSON struct {
	ID            string  `json:"id"`
	FamilyID      string  `json:"familyId"`
	UploadedByID  *string `json:"uploadedById"`
	Name          string  `json:"name"`
	Type          string  `json:"type"`
	Status        string  `json:"status"`
	MimeType      string  `json:"mimeType"`
	SizeBytes     int64   `json:"sizeBytes"`
	Filename      string  `json:"filename"`
	ExpiresAt     *string `json:"expiresAt"`
	Notes         *string `json:"notes"`
	SHA256        *string `json:"sha256"`
	PageCount     *int    `json:"pageCount"`
	FailureReason *string `json:"failureReason"`
	HasThumbnail  bool    `json:"hasThumbnail"`
	StorageKey    *string `json:"storageKey"`
}

func (r *response) doc() docJSON {
	r.t.Helper()
	var d docJSON
	r.JSON(&d)
	return d
}

// linkSet is the answer of GET .../documents/{id}/url.
type linkSet struct {
	URL          string  `json:"url"`
	ViewURL      string  `json:"viewUrl"`
	DownloadURL  string  `json:"downloadUrl"`
	ThumbnailURL *string `json:"thumbnailUrl"`
	Filename     string  `json:"filename"`
	MimeType     string  `json:"mimeType"`
	ExpiresAt    string  `json:"expiresAt"`
}

// pdfOf is a three-page PDF padded with comment lines to at least size
// bytes.
func pdfOf(size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n" +
		"3 0 obj << /Type /Page >> endobj 4 0 obj << /Type /Page >> endobj 5 0 obj << /Type /Page >> endobj\n")
	const line = "% padding of a scanned lab report\n"
	if n := size - 6 - b.Len(); n > 0 {
		b.Write(bytes.Repeat([]byte(line), n/len(line)+1))
	}
	b.WriteString("%%EOF\n")
	return b.Bytes()
}

// pngOf is a w×h PNG.
func pngOf(w, h int) []byte {
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestDocumentUploadProcessedByTheJobQueue is the seed scenario "document
// upload → processed successfully": a multipart upload answers 201
// PROCESSING, the document-upload job on River makes it READY with its
// SHA-256 and size, and its signed link serves the same bytes until it
// expires; a forged or altered link is refused.
func TestDocumentUploadProcessedByTheJobQueue(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		d := newDocServer(t, h, true)
		f := newFixture(t, h, newMatrixUsers(h))
		content := pdfOf(300 << 10)
		up := d.upload(f.caregiver.Token, f.FamilyID, textPart("name", "Lab results, March"), textPart("type", "LAB_RESULT"),
			textPart("notes", "Fasting"), textPart("expiresAt", "2027-01-31"),
			filePart("labs march.pdf", "application/pdf", content)).expect(201)
		doc := up.doc()
		if doc.Status != "PROCESSING" || doc.SHA256 != nil || doc.SizeBytes != int64(len(content)) || doc.MimeType != "application/pdf" ||
			doc.Name != "Lab results, March" || doc.Type != "LAB_RESULT" || doc.Filename != "labs march.pdf" || doc.FamilyID != f.FamilyID ||
			doc.UploadedByID == nil || *doc.UploadedByID != f.caregiver.ID || doc.Notes == nil || *doc.Notes != "Fasting" ||
			doc.ExpiresAt == nil || !strings.HasPrefix(*doc.ExpiresAt, "2027-01-31T00:00:00") {
			t.Fatalf("upload answered %s", up.Body)
		}
		if strings.Contains(string(up.Body), "storageKey") || strings.Contains(string(up.Body), f.FamilyID+"/") {
			t.Fatalf("the storage key leaked: %s", up.Body)
		}
		if kind := d.waitJob(t, doc.ID); kind != river.EventKindJobCompleted {
			t.Fatalf("document-upload job: %s", kind)
		}
		ready := d.request("GET", "/families/"+f.FamilyID+"/documents/"+doc.ID, f.viewer.Token, nil).expect(200).doc()
		if ready.Status != "READY" || ready.SHA256 == nil || *ready.SHA256 != sha256Hex(content) || ready.SizeBytes != int64(len(content)) ||
			ready.PageCount == nil || *ready.PageCount != 3 || ready.HasThumbnail {
			t.Fatalf("after the job: %+v", ready)
		}

		var links linkSet
		d.request("GET", "/families/"+f.FamilyID+"/documents/"+doc.ID+"/url", f.viewer.Token, nil).expect(200).JSON(&links)
		if links.URL != links.ViewURL || links.Filename != "labs march.pdf" || links.MimeType != "application/pdf" || links.ThumbnailURL != nil {
			t.Fatalf("links: %+v", links)
		}
		if exp, err := time.Parse(time.RFC3339, links.ExpiresAt); err != nil || !exp.Equal(testStart.Add(documentLinkTTL)) {
			t.Fatalf("links expire at %q", links.ExpiresAt)
		}
		// Handing out a link is a sensitive read: the audit log names who.
		entries, _, err := h.store.AuditLog(context.Background(), store.AuditQuery{ActorID: f.viewer.ID, Action: "document.link", Limit: 10})
		if err != nil || len(entries) != 1 || *entries[0].ResourceType != "document" || *entries[0].ResourceID != doc.ID ||
			entries[0].FamilyID == nil || *entries[0].FamilyID != f.FamilyID {
			t.Fatalf("audit of the link: %+v, %v", entries, err)
		}
		entries, _, err = h.store.AuditLog(context.Background(), store.AuditQuery{ActorID: f.caregiver.ID, Action: "POST /families/{familyId}/documents", Limit: 10})
		if err != nil || len(entries) != 1 || *entries[0].ResourceType != "document" || *entries[0].ResourceID != doc.ID || entries[0].Status != 201 {
			t.Fatalf("audit of the upload: %+v, %v", entries, err)
		}
		got := d.fetch(links.DownloadURL).expect(200)
		if !bytes.Equal(got.Body, content) {
			t.Fatalf("download: %d bytes, want the %d uploaded", len(got.Body), len(content))
		}
		if ct := got.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd := got.Header.Get("Content-Disposition"); cd != `attachment; filename="labs march.pdf"` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		view := d.fetch(links.ViewURL).expect(200)
		if !bytes.Equal(view.Body, content) || !strings.HasPrefix(view.Header.Get("Content-Disposition"), "inline") {
			t.Fatalf("view: %d bytes, %q", len(view.Body), view.Header.Get("Content-Disposition"))
		}
		// Neither the download nor the inline view may run script as this
		// site: the file is sandboxed, an origin of its own.
		for _, res := range []*response{got, view} {
			if csp := res.Header.Get("Content-Security-Policy"); csp != "sandbox" {
				t.Fatalf("document served with Content-Security-Policy %q, want sandbox", csp)
			}
		}
		// Media players ask for ranges.
		part := d.fetch(links.DownloadURL, "Range", "bytes=100-199").expect(206)
		if !bytes.Equal(part.Body, content[100:200]) {
			t.Fatalf("range: %q", part.Body)
		}

		// Any change to what the link grants breaks its signature.
		other := d.upload(f.admin.Token, f.FamilyID, filePart("other.pdf", "", pdfOf(1000))).expect(201).doc()
		d.waitJob(t, other.ID)
		u, _ := url.Parse(links.DownloadURL)
		alter := func(change func(path string, q url.Values) string) string {
			q := u.Query()
			p := change(u.Path, q)
			return "http://carecircle.test" + p + "?" + q.Encode()
		}
		forged := map[string]string{
			"signature":    alter(func(p string, q url.Values) string { q.Set("signature", strings.Repeat("A", 43)); return p }),
			"no signature": alter(func(p string, q url.Values) string { q.Del("signature"); return p }),
			"expiry": alter(func(p string, q url.Values) string {
				q.Set("expires", fmt.Sprint(testStart.Add(time.Hour).Unix()))
				return p
			}),
			"variant":     alter(func(p string, q url.Values) string { q.Set("variant", "thumbnail"); return p }),
			"disposition": alter(func(p string, q url.Values) string { q.Set("disposition", "inline"); return p }),
			"document":    alter(func(p string, _ url.Values) string { return strings.Replace(p, doc.ID, other.ID, 1) }),
		}
		for what, link := range forged {
			if res := d.fetch(link); res.Status != 403 || bytes.Contains(res.Body, content[:64]) {
				t.Errorf("link with a changed %s: %d %.80s", what, res.Status, res.Body)
			} else {
				res.errorEnvelope(403)
			}
		}
		// The link of another family's id is refused too.
		f2 := newFixture(t, h, f.matrixUsers)
		moved := alter(func(p string, _ url.Values) string { return strings.Replace(p, f.FamilyID, f2.FamilyID, 1) })
		d.fetch(moved).errorEnvelope(403)

		h.clock.Advance(documentLinkTTL + time.Second)
		if m := d.fetch(links.DownloadURL).errorEnvelope(403); !strings.Contains(m["message"].(string), "expired") {
			t.Fatalf("expired link: %v", m)
		}
		// A fresh link works again.
		d.request("GET", "/families/"+f.FamilyID+"/documents/"+doc.ID+"/url", f.viewer.Token, nil).expect(200).JSON(&links)
		d.fetch(links.DownloadURL).expect(200)
	})
}

// TestDocumentRoutes covers listing, filtering, reading, editing and
// deleting documents, with uploads checked inline (no job queue).
func TestDocumentRoutes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		d := newDocServer(t, h, false)
		f := newFixture(t, h, newMatrixUsers(h))
		base := "/families/" + f.FamilyID + "/documents"

		// An image gets a thumbnail.
		photo := pngOf(640, 480)
		card := d.upload(f.admin.Token, f.FamilyID, textPart("type", "INSURANCE_CARD"), textPart("expiresAt", "2026-03-20"),
			filePart("card.png", "image/png", photo)).expect(201).doc()
		if card.Status != "READY" || !card.HasThumbnail || card.Name != "card.png" || *card.SHA256 != sha256Hex(photo) {
			t.Fatalf("photo: %+v", card)
		}
		var links linkSet
		d.request("GET", base+"/"+card.ID+"/url", f.viewer.Token, nil).expect(200).JSON(&links)
		if links.ThumbnailURL == nil {
			t.Fatalf("no thumbnail link: %+v", links)
		}
		thumb := d.fetch(*links.ThumbnailURL).expect(200)
		img, err := jpeg.Decode(bytes.NewReader(thumb.Body))
		if err != nil || thumb.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("thumbnail: %v, %q", err, thumb.Header.Get("Content-Type"))
		}
		if b := img.Bounds(); b.Dx() > 640 || b.Dy() > 480 || b.Dx() == 640 {
			t.Fatalf("thumbnail is %v", b)
		}

		// A text file with binary content after its first bytes passes the
		// upload's sniffing but not processing: FAILED, and its file is gone.
		bad := append([]byte(strings.Repeat("blood pressure 120/80\n", 100)), 0, 1, 2, 3)
		failed := d.upload(f.caregiver.Token, f.FamilyID, textPart("type", "MEDICAL_RECORD"), filePart("notes.txt", "text/plain", bad)).expect(201).doc()
		if failed.Status != "FAILED" || failed.FailureReason == nil || failed.SHA256 != nil {
			t.Fatalf("binary text: %+v", failed)
		}
		if files := d.storedFiles(t); len(files) != 2 {
			t.Fatalf("stored files: %v (want the photo and its thumbnail)", files)
		}
		d.request("GET", base+"/"+failed.ID+"/url", f.admin.Token, nil).errorEnvelope(409)

		// A document still being processed has no link yet.
		ctx := context.Background()
		pending, err := h.store.CreateDocument(ctx, store.Document{FamilyID: f.FamilyID, Name: "scan", Type: store.DocPrescription,
			MimeType: "application/pdf", SizeBytes: 10, Filename: "scan.pdf", StorageKey: f.FamilyID + "/pending"})
		if err != nil {
			t.Fatal(err)
		}
		d.request("GET", base+"/"+pending.ID+"/url", f.admin.Token, nil).errorEnvelope(409)

		// Lists: newest first, filtered by type.
		all := d.request("GET", base, f.viewer.Token, nil).expect(200).List()
		if len(all) != 3 || all[0]["id"] != pending.ID || all[2]["id"] != card.ID {
			t.Fatalf("list: %v", all)
		}
		if l := d.request("GET", base+"?type=INSURANCE_CARD", f.viewer.Token, nil).expect(200).List(); len(l) != 1 || l[0]["id"] != card.ID {
			t.Fatalf("by type: %v", l)
		}
		d.request("GET", base+"?type=PASSPORT", f.viewer.Token, nil).errorEnvelope(400)
		var cats map[string][]map[string]any
		d.request("GET", base+"/by-category", f.viewer.Token, nil).expect(200).JSON(&cats)
		if len(cats) != len(store.DocumentTypes()) || len(cats["INSURANCE_CARD"]) != 1 || len(cats["MEDICAL_RECORD"]) != 1 ||
			len(cats["PRESCRIPTION"]) != 1 || len(cats["DNR"]) != 0 {
			t.Fatalf("by category: %v", cats)
		}
		// Expiring: the card runs out on 2026-03-20, 18 days after testStart.
		if l := d.request("GET", base+"/expiring", f.viewer.Token, nil).expect(200).List(); len(l) != 1 || l[0]["id"] != card.ID {
			t.Fatalf("expiring in 30 days: %v", l)
		}
		if l := d.request("GET", base+"/expiring?days=10", f.viewer.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("expiring in 10 days: %v", l)
		}
		d.request("GET", base+"/expiring?days=0", f.viewer.Token, nil).errorEnvelope(400)

		// Edits.
		patched := d.request("PATCH", base+"/"+card.ID, f.caregiver.Token, map[string]any{"name": "Insurance card (front)",
			"notes": "Renewed yearly", "expiresAt": "2027-03-20T00:00:00Z"}).expect(200).doc()
		if patched.Name != "Insurance card (front)" || patched.Notes == nil || *patched.Notes != "Renewed yearly" ||
			!strings.HasPrefix(*patched.ExpiresAt, "2027-03-20") || patched.Type != "INSURANCE_CARD" || patched.Status != "READY" {
			t.Fatalf("patched: %+v", patched)
		}
		cleared := d.request("PATCH", base+"/"+card.ID, f.admin.Token, map[string]any{"notes": nil, "expiresAt": nil, "type": "PHOTO_ID"}).expect(200).doc()
		if cleared.Notes != nil || cleared.ExpiresAt != nil || cleared.Type != "PHOTO_ID" || cleared.Name != "Insurance card (front)" {
			t.Fatalf("cleared: %+v", cleared)
		}
		for _, body := range []any{
			map[string]any{"type": "PASSPORT"},
			map[string]any{"name": ""},
			map[string]any{"name": nil},
			map[string]any{"expiresAt": "next week"},
			map[string]any{"status": "READY"},
			"not json",
		} {
			d.request("PATCH", base+"/"+card.ID, f.admin.Token, body).errorEnvelope(400)
		}
		if got := d.request("GET", base+"/"+card.ID, f.viewer.Token, nil).expect(200).doc(); got.Name != "Insurance card (front)" || got.Type != "PHOTO_ID" {
			t.Fatalf("refused edits changed the document: %+v", got)
		}

		// Documents of another family cannot be reached through this one.
		f2 := newFixture(t, h, f.matrixUsers)
		foreign := d.upload(f2.admin.Token, f2.FamilyID, filePart("will.pdf", "application/pdf", pdfOf(2000))).expect(201).doc()
		d.request("GET", base+"/"+foreign.ID, f.admin.Token, nil).errorEnvelope(404)
		d.request("PATCH", base+"/"+foreign.ID, f.admin.Token, map[string]any{"name": "mine"}).errorEnvelope(404)
		d.request("DELETE", base+"/"+foreign.ID, f.admin.Token, nil).errorEnvelope(404)
		d.request("GET", base+"/"+foreign.ID+"/url", f.admin.Token, nil).errorEnvelope(404)
		d.request("GET", "/families/"+f2.FamilyID+"/documents/"+foreign.ID, f2.admin.Token, nil).expect(200)
		// Malformed and unknown ids.
		d.request("GET", base+"/not-a-uuid", f.admin.Token, nil).errorEnvelope(400)
		d.request("GET", base+"/0190f000-0000-7000-8000-000000000000", f.admin.Token, nil).errorEnvelope(404)

		// Deleting removes the row, the file and the thumbnail.
		d.request("DELETE", base+"/"+card.ID, f.caregiver.Token, nil).errorEnvelope(403)
		d.request("DELETE", base+"/"+card.ID, f.admin.Token, nil).expect(200)
		d.request("GET", base+"/"+card.ID, f.admin.Token, nil).errorEnvelope(404)
		d.fetch(links.DownloadURL).errorEnvelope(404)
		d.request("DELETE", base+"/"+card.ID, f.admin.Token, nil).errorEnvelope(404)
		for _, p := range d.storedFiles(t) {
			if strings.HasPrefix(filepath.ToSlash(p), "documents/"+f.FamilyID+"/") {
				t.Errorf("left behind after delete: %s", p)
			}
		}
		for _, p := range d.leftovers(t) {
			if filepath.ToSlash(p) == "documents/"+f.FamilyID {
				t.Errorf("the family's emptied folder is left behind")
			}
		}
	})
}

// TestBadUploadsLeaveNothingBehind sends uploads that must be refused and
// checks that each answers a 4xx in the error envelope and leaves no row
// and no file, under the storage root or beside it.
func TestBadUploadsLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		d := newDocServer(t, h, true)
		f := newFixture(t, h, newMatrixUsers(h))
		pdf := pdfOf(4000)
		png := pngOf(8, 8)
		big := pdfOf(11 << 20)
		cases := []struct {
			name   string
			send   func() *response
			status int
		}{
			{"a PNG named .pdf", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("scan.pdf", "application/pdf", png))
			}, 415},
			{"a PNG named .pdf, declared as a PNG", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("scan.pdf", "image/png", png))
			}, 415},
			{"a PDF declared as a PNG", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("scan.png", "image/png", pdf))
			}, 415},
			{"an 11 MB file", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("big.pdf", "application/pdf", big))
			}, 413},
			{"an 11 MB file sent chunked", func() *response {
				return d.uploadStream(f.admin.Token, f.FamilyID, filePart("big.pdf", "application/pdf", big))
			}, 413},
			{"10 MB and one byte, chunked", func() *response {
				return d.uploadStream(f.admin.Token, f.FamilyID, filePart("big.pdf", "application/pdf", pdfOf(10<<20 + 1)[:10<<20+1]))
			}, 413},
			{"an empty file", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("empty.pdf", "application/pdf", nil))
			}, 400},
			{"a path as the file name", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("../../../escape.pdf", "application/pdf", pdf))
			}, 400},
			{"an absolute path as the file name", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("/tmp/escape.pdf", "application/pdf", pdf))
			}, 400},
			{"a file name of dots", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("..", "application/pdf", pdf))
			}, 400},
			{"an .exe", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("setup.exe", "application/x-msdownload", []byte("MZ\x90\x00\x03\x00\x00\x00")))
			}, 415},
			{"an .exe declared as a PDF", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("setup.exe", "application/pdf", pdf))
			}, 415},
			{"a PDF declared as a program", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("scan.pdf", "application/x-msdownload", pdf))
			}, 415},
			{"an .html page", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("page.html", "text/html", []byte("<html><script>alert(1)</script></html>")))
			}, 415},
			{"HTML named .txt", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("notes.txt", "text/plain", []byte("<!DOCTYPE html><html><body>hi</body></html>")))
			}, 415},
			{"an SVG", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("logo.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)))
			}, 415},
			{"a file without an extension", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("README", "", []byte("plain words")))
			}, 415},
			{"no file", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, textPart("name", "Nothing"))
			}, 400},
			{"two files", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("a.pdf", "", pdf), filePart("b.pdf", "", pdf))
			}, 400},
			{"a bad type after the file", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("a.pdf", "", pdf), textPart("type", "PASSPORT"))
			}, 400},
			{"a bad expiry after the file", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("a.pdf", "", pdf), textPart("expiresAt", "soon"))
			}, 400},
			{"an unknown field after the file", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("a.pdf", "", pdf), textPart("storageKey", "x"))
			}, 400},
			{"a field sent twice", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, textPart("name", "a"), textPart("name", "b"), filePart("a.pdf", "", pdf))
			}, 400},
			{"an oversized field", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, filePart("a.pdf", "", pdf), textPart("notes", strings.Repeat("n", 9<<10)))
			}, 400},
			{"a name too long", func() *response {
				return d.upload(f.admin.Token, f.FamilyID, textPart("name", strings.Repeat("n", 201)), filePart("a.pdf", "", pdf))
			}, 400},
			{"JSON instead of a form", func() *response {
				return d.request("POST", "/families/"+f.FamilyID+"/documents", f.admin.Token, map[string]any{"name": "x"})
			}, 415},
			{"a form cut off after the file", func() *response {
				body, ct := encodeForm(t, filePart("a.pdf", "", pdf))
				return d.request("POST", "/families/"+f.FamilyID+"/documents", f.admin.Token, body[:len(body)-10], "Content-Type", ct)
			}, 400},
			{"a form cut off inside the file", func() *response {
				body, ct := encodeForm(t, filePart("a.pdf", "", pdf))
				return d.request("POST", "/families/"+f.FamilyID+"/documents", f.admin.Token, body[:len(body)/2], "Content-Type", ct)
			}, 400},
			{"a viewer's upload", func() *response {
				return d.upload(f.viewer.Token, f.FamilyID, filePart("a.pdf", "", pdf))
			}, 403},
			{"a stranger's upload", func() *response {
				return d.upload(f.outsider.Token, f.FamilyID, filePart("a.pdf", "", pdf))
			}, 404},
		}
		for _, tc := range cases {
			res := tc.send()
			if res.Status != tc.status {
				t.Errorf("%s: status %d, want %d: %.300s", tc.name, res.Status, tc.status, res.Body)
				continue
			}
			res.errorEnvelope(tc.status)
			if n := documentRows(t, h.store); n != 0 {
				t.Fatalf("%s left %d document rows", tc.name, n)
			}
			if left := d.leftovers(t); len(left) != 0 {
				t.Fatalf("%s left %v", tc.name, left)
			}
		}
		// The refusals are specific.
		m := d.upload(f.admin.Token, f.FamilyID, filePart("setup.exe", "application/x-msdownload", []byte("MZ"))).errorEnvelope(415)
		if msg := m["message"].(string); !strings.Contains(msg, ".exe") || !strings.Contains(msg, ".pdf") {
			t.Fatalf("message for an .exe: %q", msg)
		}
		m = d.upload(f.admin.Token, f.FamilyID, filePart("../../../escape.pdf", "application/pdf", pdf)).errorEnvelope(400)
		if errs, _ := json.Marshal(m["errors"]); !strings.Contains(string(errs), "file") {
			t.Fatalf("errors for a path: %s", errs)
		}
		// And a good upload still works afterwards, under a key of the
		// server's making.
		ok := d.upload(f.admin.Token, f.FamilyID, filePart("fine.pdf", "application/pdf", pdf)).expect(201).doc()
		d.waitJob(t, ok.ID)
		files := d.storedFiles(t)
		if len(files) != 1 || !strings.HasPrefix(filepath.ToSlash(files[0]), "documents/"+f.FamilyID+"/") || strings.Contains(files[0], "fine") {
			t.Fatalf("stored: %v", files)
		}
	})
}

// TestDocumentsWithoutStorageAnswer503 checks that a server without
// document storage says so instead of failing.
func TestDocumentsWithoutStorageAnswer503(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	f := newFixture(t, h, newMatrixUsers(h))
	h.request("GET", "/families/"+f.FamilyID+"/documents", f.admin.Token, nil).errorEnvelope(503)
	body, ct := encodeForm(t, filePart("a.pdf", "", pdfOf(100)))
	h.request("POST", "/families/"+f.FamilyID+"/documents", f.admin.Token, body, "Content-Type", ct).errorEnvelope(503)
}

// TestUploadFileNames checks how a file's name is kept: reserved and
// control characters replaced, long names shortened with their extension,
// and names outside ASCII offered on download as RFC 2231 asks.
func TestUploadFileNames(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	d := newDocServer(t, h, false)
	f := newFixture(t, h, newMatrixUsers(h))
	pdf := pdfOf(500)
	for _, tc := range []struct{ sent, kept, disposition string }{
		{"Überweisung März.pdf", "Überweisung März.pdf", `attachment; filename*=utf-8''%C3%9Cberweisung%20M%C3%A4rz.pdf`},
		{`a<b>:"c"|?.pdf`, "a_b___c___.pdf", `attachment; filename=a_b___c___.pdf`},
		{" ..hidden.pdf. ", "hidden.pdf", `attachment; filename=hidden.pdf`},
		{strings.Repeat("x", 300) + ".pdf", strings.Repeat("x", 196) + ".pdf", `attachment; filename=` + strings.Repeat("x", 196) + `.pdf`},
	} {
		doc := d.upload(f.admin.Token, f.FamilyID, filePart(tc.sent, "application/pdf", pdf)).expect(201).doc()
		if doc.Filename != tc.kept || doc.Name != tc.kept {
			t.Errorf("%q kept as %q (name %q), want %q", tc.sent, doc.Filename, doc.Name, tc.kept)
			continue
		}
		var links linkSet
		d.request("GET", "/families/"+f.FamilyID+"/documents/"+doc.ID+"/url", f.admin.Token, nil).expect(200).JSON(&links)
		if cd := d.fetch(links.DownloadURL).expect(200).Header.Get("Content-Disposition"); cd != tc.disposition {
			t.Errorf("%q downloads as %q, want %q", tc.sent, cd, tc.disposition)
		}
	}
}
