package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/storage/inspect"
	"github.com/carecircle/carecircle/internal/store"
)

// NotifyDocumentExpiring tells a family's admins that a document runs out
// soon.
const NotifyDocumentExpiring care.NotificationType = "DOCUMENT_EXPIRING"

// DocumentExpiryNotice is how long before a document's expiry its family's
// admins hear about it.
const DocumentExpiryNotice = 30 * 24 * time.Hour

// ThumbnailSuffix is appended to a document's storage key for its
// thumbnail's.
const ThumbnailSuffix = ".thumb.jpg"

// DocumentUploadArgs is the document-upload job: check an uploaded file and
// make its document READY or FAILED.
type DocumentUploadArgs struct {
	DocumentID string `json:"documentId"`
}

// Kind names the job for River.
func (DocumentUploadArgs) Kind() string { return "document_upload" }

// InsertOpts puts the job in the document-upload queue.
func (DocumentUploadArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDocumentUpload}
}

// DocumentExpiryArgs is the daily pass that reminds families of documents
// about to expire.
type DocumentExpiryArgs struct{}

// Kind names the job for River.
func (DocumentExpiryArgs) Kind() string { return "document_expiry_reminders" }

// InsertOpts puts the pass in the document queue, once per hour at most.
func (DocumentExpiryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDocumentUpload, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// DocumentsConfig configures NewDocuments.
type DocumentsConfig struct {
	Store  *store.Store
	Files  storage.Storage
	Clock  clock.Clock
	Logger *slog.Logger
	// ExpiryReminders schedules the daily expiry pass on the job queue's
	// leader (ENABLE_CRON_JOBS).
	ExpiryReminders bool
}

// Documents processes uploaded documents and reminds families of the ones
// about to expire.
type Documents struct {
	cfg DocumentsConfig
	// thumbs admits one image decode at a time: a decoded photo takes far
	// more memory than its file.
	thumbs chan struct{}
}

// NewDocuments builds the document processor.
func NewDocuments(cfg DocumentsConfig) *Documents {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Documents{cfg: cfg, thumbs: make(chan struct{}, 1)}
}

// register adds the document workers to ws and, on a client that works
// jobs and when configured, the daily expiry pass to rc.
func (d *Documents) register(ws *river.Workers, rc *river.Config, work bool) {
	river.AddWorker(ws, &DocumentUploadWorker{docs: d})
	river.AddWorker(ws, &DocumentExpiryWorker{docs: d})
	if work && d.cfg.ExpiryReminders {
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return DocumentExpiryArgs{}, nil },
			&river.PeriodicJobOpts{ID: "document-expiry-reminders", RunOnStart: true}))
	}
}

// contentError is a file that is not what it claimed to be: processing
// records it as the document's failure instead of retrying.
type contentError struct{ reason string }

func (e contentError) Error() string { return e.reason }

// Process checks an uploaded document's file — its size, its content read
// in full against its type, and for an office file its parts — computes its
// SHA-256, draws a thumbnail of an image and counts a PDF's pages, then
// makes the document READY; a file that fails a check makes it FAILED and
// is removed. A document that is gone or already finished is left alone.
// Errors are storage or database faults worth retrying.
func (d *Documents) Process(ctx context.Context, id string) (*store.Document, error) {
	doc, err := d.cfg.Store.Document(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || doc.Status != store.DocProcessing {
		return doc, err
	}
	outcome, err := d.examine(ctx, doc)
	var bad contentError
	if errors.As(err, &bad) {
		return d.fail(ctx, doc, bad.reason)
	}
	if err != nil {
		return nil, err
	}
	done, err := d.cfg.Store.FinishDocument(ctx, id, outcome)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted (or finished by another attempt) while we worked: the
		// thumbnail is an orphan unless the document is still there.
		if _, gone := d.cfg.Store.Document(ctx, id); errors.Is(gone, store.ErrNotFound) && outcome.ThumbnailKey != nil {
			d.remove(ctx, *outcome.ThumbnailKey)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.cfg.Logger.Info("document ready", slog.String("documentId", id), slog.String("mimeType", doc.MimeType),
		slog.Int64("bytes", doc.SizeBytes))
	return done, nil
}

func (d *Documents) examine(ctx context.Context, doc *store.Document) (store.DocumentOutcome, error) {
	format, ok := inspect.ByMimeType(doc.MimeType)
	if !ok {
		return store.DocumentOutcome{}, contentError{"files of type " + doc.MimeType + " are not accepted"}
	}
	rc, info, err := d.cfg.Files.Open(ctx, doc.StorageKey)
	if errors.Is(err, storage.ErrNotFound) {
		return store.DocumentOutcome{}, contentError{"the uploaded file is missing"}
	}
	if err != nil {
		return store.DocumentOutcome{}, err
	}
	defer rc.Close()
	if info.Size != doc.SizeBytes {
		return store.DocumentOutcome{}, contentError{fmt.Sprintf("the stored file has %d bytes, the upload had %d", info.Size, doc.SizeBytes)}
	}
	rep, err := inspect.Verify(format, rc)
	if errors.Is(err, inspect.ErrContentMismatch) {
		return store.DocumentOutcome{}, contentError{err.Error()}
	}
	if err != nil {
		return store.DocumentOutcome{}, err
	}
	out := store.DocumentOutcome{Status: store.DocReady, SHA256: &rep.SHA256}
	if rep.PageCount > 0 {
		out.PageCount = &rep.PageCount
	}
	if ra, ok := rc.(io.ReaderAt); ok {
		if err := inspect.VerifyPackage(format, ra, info.Size); err != nil {
			return store.DocumentOutcome{}, contentError{err.Error()}
		}
	}
	if rs, ok := rc.(io.ReadSeeker); ok && format.IsImage() {
		key, err := d.thumbnail(ctx, doc, rs)
		if err != nil {
			return store.DocumentOutcome{}, err
		}
		out.ThumbnailKey = key
	}
	return out, nil
}

// thumbnail draws and stores the image's thumbnail; nil when the image is
// too large to decode.
func (d *Documents) thumbnail(ctx context.Context, doc *store.Document, rs io.ReadSeeker) (*string, error) {
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	select {
	case d.thumbs <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	img, err := inspect.Thumbnail(rs)
	<-d.thumbs
	switch {
	case errors.Is(err, inspect.ErrImageTooLarge):
		d.cfg.Logger.Info("document image too large for a thumbnail", slog.String("documentId", doc.ID))
		return nil, nil
	case errors.Is(err, inspect.ErrContentMismatch):
		return nil, contentError{err.Error()}
	case err != nil:
		return nil, err
	}
	key := doc.StorageKey + ThumbnailSuffix
	if _, err := d.cfg.Files.Put(ctx, key, bytes.NewReader(img), int64(len(img)), inspect.ThumbnailMimeType); err != nil {
		return nil, err
	}
	return &key, nil
}

// fail makes the document FAILED with the reason and removes its file.
func (d *Documents) fail(ctx context.Context, doc *store.Document, reason string) (*store.Document, error) {
	done, err := d.cfg.Store.FinishDocument(ctx, doc.ID, store.DocumentOutcome{Status: store.DocFailed, FailureReason: &reason})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.cfg.Logger.Warn("document refused", slog.String("documentId", doc.ID), slog.String("reason", reason))
	d.remove(ctx, doc.StorageKey)
	return done, nil
}

// remove deletes a file whose document no longer needs it; a failure only
// leaves an orphan behind, so it is logged.
func (d *Documents) remove(ctx context.Context, key string) {
	if err := d.cfg.Files.Delete(context.WithoutCancel(ctx), key); err != nil {
		d.cfg.Logger.Warn("remove document file", slog.String("key", key), slog.Any("error", err))
	}
}

// RemindExpiring notifies the admins of each family, in the app, of every
// document that expires within DocumentExpiryNotice from now — once per
// document and expiry date, however often it runs. It returns how many
// notifications it created.
func (d *Documents) RemindExpiring(ctx context.Context, now time.Time) (int, error) {
	docs, err := d.cfg.Store.DocumentsExpiringBetween(ctx, now, now.Add(DocumentExpiryNotice))
	if err != nil {
		return 0, err
	}
	byFamily := map[string][]store.Document{}
	for _, doc := range docs {
		byFamily[doc.FamilyID] = append(byFamily[doc.FamilyID], doc)
	}
	families := make([]string, 0, len(byFamily))
	for f := range byFamily {
		families = append(families, f)
	}
	sort.Strings(families)
	var notices []notify.Notice
	for _, familyID := range families {
		members, err := d.cfg.Store.Members(ctx, familyID)
		if err != nil {
			return 0, err
		}
		var admins []string
		for _, m := range members {
			if m.Role == care.RoleAdmin {
				admins = append(admins, m.UserID)
			}
		}
		for _, doc := range byFamily[familyID] {
			notices = append(notices, expiryNotice(admins, doc))
		}
	}
	n := notify.Notifier{Store: d.cfg.Store, Clock: d.cfg.Clock}
	created, err := n.Send(ctx, notices...)
	return len(created), err
}

// expiryNotice tells the admins that doc expires soon, once per document
// and expiry date.
func expiryNotice(admins []string, doc store.Document) notify.Notice {
	return notify.Notice{
		To:   admins,
		Type: NotifyDocumentExpiring,
		Text: care.DocumentExpiringText(doc.Name, doc.ExpiresAt.UTC()),
		Data: map[string]any{
			"documentId": doc.ID, "familyId": doc.FamilyID, "type": string(doc.Type),
			"expiresAt": doc.ExpiresAt.UTC().Format(time.RFC3339),
		},
		DedupeKey: "document-expiry:" + doc.ID + ":" + doc.ExpiresAt.UTC().Format(time.DateOnly),
		FamilyID:  doc.FamilyID,
	}
}

// DocumentUploadWorker runs document-upload jobs.
type DocumentUploadWorker struct {
	river.WorkerDefaults[DocumentUploadArgs]
	docs *Documents
}

// Timeout allows for reading a large file back from object storage.
func (*DocumentUploadWorker) Timeout(*river.Job[DocumentUploadArgs]) time.Duration {
	return 2 * time.Minute
}

// Work processes the document. When its last attempt fails, the document
// is marked FAILED rather than left PROCESSING for ever.
func (w *DocumentUploadWorker) Work(ctx context.Context, job *river.Job[DocumentUploadArgs]) error {
	d := w.docs
	_, err := d.Process(ctx, job.Args.DocumentID)
	if err == nil || job.Attempt < job.MaxAttempts {
		return err
	}
	d.giveUp(ctx, job.Args.DocumentID)
	id := job.ID
	if dlErr := d.cfg.Store.AddDeadLetter(context.WithoutCancel(ctx), store.DeadLetter{
		JobID: &id, Kind: job.Kind, Queue: job.Queue, Args: string(job.EncodedArgs), Error: err.Error(), Attempts: job.Attempt,
	}); dlErr != nil {
		d.cfg.Logger.Error("record dead letter", slog.Int64("job", job.ID), slog.Any("error", dlErr))
	}
	return err
}

// ProcessInline is Process for a node without a job queue, which cannot
// retry: a fault marks the document FAILED instead of leaving it PROCESSING.
func (d *Documents) ProcessInline(ctx context.Context, id string) (*store.Document, error) {
	doc, err := d.Process(ctx, id)
	if err == nil {
		return doc, nil
	}
	d.cfg.Logger.Error("process document", slog.String("documentId", id), slog.Any("error", err))
	return d.giveUp(ctx, id), err
}

// giveUp marks a document that could not be processed FAILED and returns
// it as it now is (nil when it is gone).
func (d *Documents) giveUp(ctx context.Context, id string) *store.Document {
	ctx = context.WithoutCancel(ctx)
	doc, err := d.cfg.Store.Document(ctx, id)
	if err != nil {
		return nil
	}
	if doc.Status == store.DocProcessing {
		if failed, err := d.fail(ctx, doc, "the file could not be processed"); err == nil && failed != nil {
			return failed
		}
	}
	return doc
}

// DocumentExpiryWorker runs the daily expiry pass.
type DocumentExpiryWorker struct {
	river.WorkerDefaults[DocumentExpiryArgs]
	docs *Documents
}

// Work reminds families of documents about to expire and records the run.
func (w *DocumentExpiryWorker) Work(ctx context.Context, _ *river.Job[DocumentExpiryArgs]) error {
	d := w.docs
	start := time.Now()
	n, err := d.RemindExpiring(ctx, d.cfg.Clock.Now())
	run := store.JobRun{Job: "document-expiry-reminders", StartedAt: d.cfg.Clock.Now().Add(-time.Since(start)),
		DurationMS: time.Since(start).Milliseconds(), Items: n, Status: "ok"}
	if err != nil {
		msg := err.Error()
		run.Status, run.Error = "error", &msg
	}
	if rerr := d.cfg.Store.RecordJobRun(ctx, run); rerr != nil {
		d.cfg.Logger.Warn("record job run", slog.Any("error", rerr))
	}
	return err
}
