package api

import (
	"bytes"
	"context"
	"net/url"
	"testing"

	"github.com/carecircle/carecircle/internal/store"
)

// Documents answer 404, not 403, to anyone outside the family: to them the
// family does not exist.
var (
	// [M] for documents
	docMember = func(ok int) statuses { return statuses{401, 404, ok, ok, ok} }
	// [A or CAREGIVER]
	docWriter = func(ok int) statuses { return statuses{401, 404, 403, ok, ok} }
	// [A]
	docAdmin = func(ok int) statuses { return statuses{401, 404, 403, 403, ok} }
)

// docFixture is a matrix fixture with a READY document in its family.
type docFixture struct {
	*fixture
	DocumentID string
	// Link is a signed download link to the document, on the server's
	// public URL.
	Link string
}

// docMatrixCase is one row of the documents' matrix; request may return a
// multipart body with its Content-Type.
type docMatrixCase struct {
	name    string
	method  string
	request func(f *docFixture) (path string, body any, contentType string)
	want    statuses
}

// docPath is a request builder for a path without a body.
func docPath(build func(f *docFixture) string) func(f *docFixture) (string, any, string) {
	return func(f *docFixture) (string, any, string) { return build(f), nil, "" }
}

func documentsMatrix(t *testing.T) []docMatrixCase {
	base := func(f *docFixture) string { return "/families/" + f.FamilyID + "/documents" }
	one := func(f *docFixture) string { return base(f) + "/" + f.DocumentID }
	// The link with its host left off: the harness sends the path to its
	// own server.
	link := func(f *docFixture) string {
		u, _ := url.Parse(f.Link)
		return u.RequestURI()
	}
	return []docMatrixCase{
		{"upload", "POST", func(f *docFixture) (string, any, string) {
			body, ct := encodeForm(t, textPart("type", "DNR"), filePart("dnr.pdf", "application/pdf", pdfOf(1000)))
			return base(f), body, ct
		}, docWriter(201)},
		{"list", "GET", docPath(base), docMember(200)},
		{"list by type", "GET", docPath(func(f *docFixture) string { return base(f) + "?type=LAB_RESULT" }), docMember(200)},
		{"expiring", "GET", docPath(func(f *docFixture) string { return base(f) + "/expiring?days=60" }), docMember(200)},
		{"by category", "GET", docPath(func(f *docFixture) string { return base(f) + "/by-category" }), docMember(200)},
		{"get", "GET", docPath(one), docMember(200)},
		{"links", "GET", docPath(func(f *docFixture) string { return one(f) + "/url" }), docMember(200)},
		{"patch", "PATCH", func(f *docFixture) (string, any, string) {
			return one(f), map[string]any{"name": "Renamed"}, ""
		}, docWriter(200)},
		{"delete", "DELETE", docPath(one), docAdmin(200)},
		// Signed links need no session: the signature is the permission.
		{"download by signed link", "GET", docPath(link), public(200)},
		{"download by a forged link", "GET", docPath(func(f *docFixture) string {
			u, _ := url.Parse(link(f))
			q := u.Query()
			q.Set("expires", q.Get("expires")+"0")
			return u.Path + "?" + q.Encode()
		}), public(403)},
		// A document of another family, asked for through this one.
		{"get another family's document", "GET", docPath(func(f *docFixture) string {
			return base(f) + "/" + f.foreignDocument()
		}), statuses{401, 404, 404, 404, 404}},
		{"delete another family's document", "DELETE", docPath(func(f *docFixture) string {
			return base(f) + "/" + f.foreignDocument()
		}), statuses{401, 404, 403, 403, 404}},
	}
}

// newDocFixture builds a fresh family with a READY lab result, uploaded by
// its admin through the API.
func newDocFixture(t *testing.T, d *docServer, users matrixUsers) *docFixture {
	t.Helper()
	f := &docFixture{fixture: newFixture(t, d.harness, users)}
	doc := d.upload(users.admin.Token, f.FamilyID, textPart("type", "LAB_RESULT"), textPart("expiresAt", "2026-04-01"),
		filePart("labs.pdf", "application/pdf", pdfOf(2000))).expect(201).doc()
	if doc.Status != "READY" {
		t.Fatalf("fixture document is %s", doc.Status)
	}
	f.DocumentID = doc.ID
	var links linkSet
	d.request("GET", "/families/"+f.FamilyID+"/documents/"+doc.ID+"/url", users.admin.Token, nil).expect(200).JSON(&links)
	f.Link = links.DownloadURL
	return f
}

// foreignDocument records a document in another family and returns its id.
func (f *docFixture) foreignDocument() string {
	f.t.Helper()
	ctx := context.Background()
	fam, _, err := f.h.store.CreateFamily(ctx, "Other family", f.outsider.ID, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	d, err := f.h.store.CreateDocument(ctx, store.Document{FamilyID: fam.ID, Name: "theirs", Type: store.DocOther,
		MimeType: "application/pdf", SizeBytes: 1, Filename: "theirs.pdf", StorageKey: fam.ID + "/theirs"})
	if err != nil {
		f.t.Fatal(err)
	}
	return d.ID
}

// TestPermissionMatrixDocuments checks every documents route for every kind
// of caller, each on a fresh family.
func TestPermissionMatrixDocuments(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	d := newDocServer(t, h, false)
	users := newMatrixUsers(h)
	for _, tc := range documentsMatrix(t) {
		for c := caller(0); c < callerCount; c++ {
			f := newDocFixture(t, d, users)
			p, body, ct := tc.request(f)
			var header []string
			if ct != "" {
				header = []string{"Content-Type", ct}
			}
			res := h.request(tc.method, p, f.token(c), body, header...)
			if res.Status != tc.want[c] {
				t.Errorf("%s %s (%s) as %s: status %d, want %d: %.300s", tc.method, p, tc.name, c, res.Status, tc.want[c], res.Body)
				continue
			}
			if res.Status >= 400 {
				res.errorEnvelope(res.Status)
			}
			// A refused write changes nothing.
			if res.Status >= 400 && tc.method != "GET" {
				got, err := h.store.Document(context.Background(), f.DocumentID)
				if err != nil || got.Name != "labs.pdf" {
					t.Errorf("%s as %s changed the document: %+v, %v", tc.name, c, got, err)
				}
				if n := len(mustDocuments(t, h.store, f.FamilyID)); n != 1 {
					t.Errorf("%s as %s: the family has %d documents", tc.name, c, n)
				}
			}
			if tc.name == "download by signed link" && res.Status == 200 && !bytes.HasPrefix(res.Body, []byte("%PDF-")) {
				t.Errorf("download as %s served %.40q", c, res.Body)
			}
		}
	}
}

func mustDocuments(t *testing.T, st *store.Store, familyID string) []store.Document {
	t.Helper()
	ds, err := st.Documents(context.Background(), familyID)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
