package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/png"
	"io"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// docRig is a family (from rig) with local document storage and a
// document processor.
type docRig struct {
	*rig
	files *storage.Local
	docs  *Documents
}

func newDocRig(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) *docRig {
	t.Helper()
	r := newRig(t, open, mustTime("2026-03-02T15:00:00Z"), "UTC", "08:00")
	files, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	docs := NewDocuments(DocumentsConfig{Store: r.st, Files: files, Clock: r.clk, Logger: quietLogger()})
	return &docRig{rig: r, files: files, docs: docs}
}

// upload stores content and records a PROCESSING document for it.
func (r *docRig) upload(name, mimeType string, content []byte) *store.Document {
	r.t.Helper()
	ctx := context.Background()
	key := r.cr.FamilyID + "/" + name
	if _, err := r.files.Put(ctx, key, bytes.NewReader(content), 10<<20, mimeType); err != nil {
		r.t.Fatal(err)
	}
	d, err := r.st.CreateDocument(ctx, store.Document{FamilyID: r.cr.FamilyID, UploadedByID: &r.admin.ID, Name: name,
		Type: store.DocOther, MimeType: mimeType, SizeBytes: int64(len(content)), Filename: name, StorageKey: key})
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func (r *docRig) exists(key string) bool {
	_, err := r.files.Stat(context.Background(), key)
	return err == nil
}

func pngOf(w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		panic(err)
	}
	return b.Bytes()
}

const threePagePDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
	"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n" +
	"3 0 obj << /Type /Page >> endobj 4 0 obj << /Type /Page >> endobj 5 0 obj << /Type /Page >> endobj\n%%EOF\n"

func TestProcessMakesDocumentsReady(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newDocRig(t, open)
		ctx := context.Background()

		img := pngOf(1200, 600)
		photo := r.upload("photo", "image/png", img)
		done, err := r.docs.Process(ctx, photo.ID)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(img)
		if done.Status != store.DocReady || *done.SHA256 != hex.EncodeToString(sum[:]) || done.ThumbnailKey == nil || done.PageCount != nil {
			t.Fatalf("processed image: %+v", done)
		}
		rc, _, err := r.files.Open(ctx, *done.ThumbnailKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(rc)
		rc.Close()
		if err != nil || format != "jpeg" || cfg.Width != 256 || cfg.Height != 128 {
			t.Fatalf("thumbnail: %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
		}

		pdf := r.upload("labs", "application/pdf", []byte(threePagePDF))
		done, err = r.docs.Process(ctx, pdf.ID)
		if err != nil || done.Status != store.DocReady || done.PageCount == nil || *done.PageCount != 3 || done.ThumbnailKey != nil {
			t.Fatalf("processed PDF: %+v, %v", done, err)
		}

		// Processing again, or a document deleted meanwhile, changes nothing.
		again, err := r.docs.Process(ctx, pdf.ID)
		if err != nil || again.Status != store.DocReady || !again.UpdatedAt.Equal(done.UpdatedAt) {
			t.Fatalf("second run: %+v, %v", again, err)
		}
		if _, err := r.st.DeleteDocument(ctx, photo.ID); err != nil {
			t.Fatal(err)
		}
		if d, err := r.docs.Process(ctx, photo.ID); d != nil || err != nil {
			t.Fatalf("deleted document: %+v, %v", d, err)
		}
	})
}

func TestProcessRefusesContentThatIsNotItsType(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newDocRig(t, open)
		ctx := context.Background()
		cases := []struct {
			name, mimeType string
			content        []byte
		}{
			{"fake-png", "image/png", []byte("just some text pretending to be an image")},
			{"binary-txt", "text/plain", append([]byte("looks like text at first "), 0, 1, 2, 3)},
			{"not-a-docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []byte("PK\x03\x04 but no archive")},
			{"broken-png", "image/png", pngOf(10, 10)[:40]},
		}
		for _, tc := range cases {
			d := r.upload(tc.name, tc.mimeType, tc.content)
			done, err := r.docs.Process(ctx, d.ID)
			if err != nil || done.Status != store.DocFailed || done.FailureReason == nil || done.SHA256 != nil {
				t.Errorf("%s: %+v, %v", tc.name, done, err)
				continue
			}
			if r.exists(d.StorageKey) {
				t.Errorf("%s: the refused file is still stored", tc.name)
			}
		}

		// A file that went missing fails its document too.
		d := r.upload("vanished", "application/pdf", []byte(threePagePDF))
		if err := r.files.Delete(ctx, d.StorageKey); err != nil {
			t.Fatal(err)
		}
		if done, err := r.docs.Process(ctx, d.ID); err != nil || done.Status != store.DocFailed {
			t.Fatalf("missing file: %+v, %v", done, err)
		}
	})
}

// flakyFiles is storage whose reads fail, as an unreachable bucket would.
type flakyFiles struct{ storage.Storage }

func (flakyFiles) Open(context.Context, string) (io.ReadCloser, storage.Info, error) {
	return nil, storage.Info{}, errors.New("connection refused")
}

func TestUploadJobRetriesThenFails(t *testing.T) {
	t.Parallel()
	r := newDocRig(t, storetest.OpenSQLite)
	ctx := context.Background()
	d := r.upload("labs", "application/pdf", []byte(threePagePDF))
	flaky := NewDocuments(DocumentsConfig{Store: r.st, Files: flakyFiles{r.files}, Clock: r.clk, Logger: quietLogger()})
	w := &DocumentUploadWorker{docs: flaky}
	job := &river.Job[DocumentUploadArgs]{JobRow: &rivertype.JobRow{ID: 9, Kind: "document_upload", Queue: QueueDocumentUpload,
		Attempt: 1, MaxAttempts: 5, EncodedArgs: []byte(`{"documentId":"` + d.ID + `"}`)}, Args: DocumentUploadArgs{DocumentID: d.ID}}
	if err := w.Work(ctx, job); err == nil {
		t.Fatal("a storage fault must be retried")
	}
	if got, _ := r.st.Document(ctx, d.ID); got.Status != store.DocProcessing {
		t.Fatalf("after an early failure: %s", got.Status)
	}
	job.Attempt = 5
	if err := w.Work(ctx, job); err == nil {
		t.Fatal("the last attempt's error is reported")
	}
	got, _ := r.st.Document(ctx, d.ID)
	if got.Status != store.DocFailed || got.FailureReason == nil {
		t.Fatalf("after the last attempt: %+v", got)
	}
	if dls, _ := r.st.DeadLetters(ctx, 10, 0); len(dls) != 1 || dls[0].Kind != "document_upload" {
		t.Fatalf("dead letters: %+v", dls)
	}
}

// TestUploadJobCommitsWithItsDocument enqueues the job in the document's
// transaction: a rollback leaves neither, a commit is worked by River.
func TestUploadJobCommitsWithItsDocument(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newDocRig(t, open)
		ctx := context.Background()
		if err := Migrate(ctx, r.st); err != nil {
			t.Fatal(err)
		}
		rc, err := NewClient(r.st, river.NewWorkers(), ClientConfig{Work: true, Logger: quietLogger(), Documents: r.docs})
		if err != nil {
			t.Fatal(err)
		}
		events, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()

		record := func(fail error) (*store.Document, error) {
			var d *store.Document
			err := r.st.Atomically(ctx, func(ctx context.Context) error {
				var err error
				d, err = r.st.CreateDocument(ctx, store.Document{FamilyID: r.cr.FamilyID, Name: "labs", Type: store.DocLabResult,
					MimeType: "application/pdf", SizeBytes: int64(len(threePagePDF)), StorageKey: r.cr.FamilyID + "/labs"})
				if err != nil {
					return err
				}
				if _, err := rc.InsertTx(ctx, r.st.Tx(ctx), DocumentUploadArgs{DocumentID: d.ID}, nil); err != nil {
					return err
				}
				return fail
			})
			return d, err
		}
		if _, err := r.files.Put(ctx, r.cr.FamilyID+"/labs", bytes.NewReader([]byte(threePagePDF)), 1<<20, ""); err != nil {
			t.Fatal(err)
		}
		rolledBack := errors.New("rolled back")
		if _, err := record(rolledBack); !errors.Is(err, rolledBack) {
			t.Fatal(err)
		}
		jobs, err := rc.JobList(ctx, river.NewJobListParams().Kinds("document_upload"))
		if err != nil || len(jobs.Jobs) != 0 {
			t.Fatalf("jobs after a rollback: %d, %v", len(jobs.Jobs), err)
		}
		d, err := record(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.st.Document(ctx, d.ID); got.Status != store.DocProcessing {
			t.Fatalf("before the job ran: %s", got.Status)
		}
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			_ = rc.Stop(stopCtx)
		}()
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCompleted || ev.Job.Kind != "document_upload" {
				t.Fatalf("event %s for %s", ev.Kind, ev.Job.Kind)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the document-upload job did not run")
		}
		if got, _ := r.st.Document(ctx, d.ID); got.Status != store.DocReady || *got.PageCount != 3 {
			t.Fatalf("after the job: %+v", got)
		}
	})
}

func TestExpiryRemindersReachAdminsOnce(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newDocRig(t, open)
		ctx := context.Background()
		now := r.clk.Now()
		expiring := r.upload("card", "application/pdf", []byte(threePagePDF))
		later := r.upload("passport", "application/pdf", []byte(threePagePDF))
		refused := r.upload("refused", "image/png", []byte("not an image"))
		setExpiry := func(d *store.Document, at time.Time) {
			t.Helper()
			if _, err := r.st.UpdateDocument(ctx, d.ID, func(d *store.Document) error { d.ExpiresAt = &at; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		setExpiry(expiring, now.Add(29*24*time.Hour))
		setExpiry(later, now.Add(31*24*time.Hour))
		setExpiry(refused, now.Add(5*24*time.Hour))
		if _, err := r.docs.Process(ctx, refused.ID); err != nil {
			t.Fatal(err)
		}

		for range 2 {
			if _, err := r.docs.RemindExpiring(ctx, r.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		got := r.reminders(r.admin, NotifyDocumentExpiring)
		if len(got) != 1 || got[0].Title == "" {
			t.Fatalf("admin got %+v", got)
		}
		for _, u := range r.others { // the caregiver and the viewer
			if n := r.reminders(u, NotifyDocumentExpiring); len(n) != 0 {
				t.Fatalf("%s got %+v", u.Email, n)
			}
		}

		// Two days on, the passport enters the window: one more reminder.
		r.clk.Advance(48 * time.Hour)
		n, err := r.docs.RemindExpiring(ctx, r.clk.Now())
		if err != nil || n != 1 {
			t.Fatalf("second day: %d, %v", n, err)
		}
		// A new expiry date is a new reminder.
		setExpiry(expiring, r.clk.Now().Add(20*24*time.Hour))
		if n, err := r.docs.RemindExpiring(ctx, r.clk.Now()); err != nil || n != 1 {
			t.Fatalf("after renewal: %d, %v", n, err)
		}
		if got := r.reminders(r.admin, NotifyDocumentExpiring); len(got) != 3 {
			t.Fatalf("admin has %d reminders", len(got))
		}
	})
}
