package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/storage/inspect"
	"github.com/carecircle/carecircle/internal/store"
)

// Upload limits.
const (
	// maxDocumentBytes is the contract's 10 MB per file.
	maxDocumentBytes = 10 << 20
	// uploadOverhead is what a multipart body may carry besides the file:
	// boundaries, part headers and the text fields.
	uploadOverhead = 64 << 10
	// maxUploadFieldBytes bounds one text field of an upload.
	maxUploadFieldBytes = 8 << 10
	// maxFilenameBytes bounds a kept file name.
	maxFilenameBytes = 200
)

// uploadFields are the upload's text fields; the file goes straight to
// storage.
var uploadFields = []string{"name", "type", "notes", "expiresAt"}

// upload is a multipart upload read so far.
type upload struct {
	key      string // storage key, once the file is stored
	size     int64
	filename string
	format   inspect.Format
	fields   map[string]string
}

func tooLarge() *Error {
	return errorf(http.StatusRequestEntityTooLarge, "The file exceeds the %d MB limit", maxDocumentBytes>>20)
}

// uploadDocument takes a multipart upload: the file part is streamed to
// storage (never held in memory) once its name, declared type and first
// bytes pass the whitelist; the document row, its domain event and its
// processing job then commit together. Whatever fails on the way removes
// the stored file, so a refused upload leaves nothing behind.
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := s.documentFamily(r, p, writer)
	if err != nil {
		return err
	}
	if r.ContentLength > maxDocumentBytes+uploadOverhead {
		return tooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDocumentBytes+uploadOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "Send the document as multipart/form-data with a file field")
	}
	ctx := r.Context()
	up := &upload{fields: map[string]string{}}
	stored := false
	defer func() {
		if up.key != "" && !stored {
			if err := s.docs.files.Delete(context.WithoutCancel(ctx), up.key); err != nil {
				s.logger.WarnContext(ctx, "remove refused upload", slog.String("key", up.key), slog.Any("error", err))
			}
		}
	}()
	if err := s.readUpload(ctx, mr, familyID, up); err != nil {
		return err
	}
	doc, err := up.document(familyID, p.User.ID)
	if err != nil {
		return err
	}
	var created *store.Document
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if created, err = s.store.CreateDocument(ctx, doc); err != nil {
			return err
		}
		s.familyChanged(ctx, familyID)
		if err := s.emit(ctx, domainEvent{Type: events.DocumentUploaded, FamilyID: familyID, ActorID: p.User.ID, Data: documentData(created)}); err != nil {
			return err
		}
		if s.docs.queue == nil {
			return nil
		}
		_, err = s.docs.queue.InsertTx(ctx, s.store.Tx(ctx), jobs.DocumentUploadArgs{DocumentID: created.ID}, nil)
		return err
	})
	if errors.Is(err, store.ErrReference) {
		return notFound("Family")
	}
	if err != nil {
		return err
	}
	stored = true
	if s.docs.queue == nil {
		// No queue on this node: check the file now, after the commit, as
		// the job would.
		if done, _ := s.docs.processor.ProcessInline(context.WithoutCancel(ctx), created.ID); done != nil {
			created = done
		}
	}
	writeJSON(w, http.StatusCreated, viewDocument(created))
	return nil
}

// readUpload reads every part: text fields into up.fields, the file into
// storage.
func (s *Server) readUpload(ctx context.Context, mr *multipart.Reader, familyID string, up *upload) error {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return uploadReadError(err)
		}
		err = s.readPart(ctx, part, familyID, up)
		part.Close()
		if err != nil {
			return err
		}
	}
}

func (s *Server) readPart(ctx context.Context, part *multipart.Part, familyID string, up *upload) error {
	name := part.FormName()
	switch {
	case name == "file":
		if up.key != "" {
			return Problems{"file": {"must be sent once"}}.Err()
		}
		return s.storeFile(ctx, part, familyID, up)
	case isUploadField(name):
		if _, dup := up.fields[name]; dup {
			return Problems{name: {"must be sent once"}}.Err()
		}
		v, err := io.ReadAll(io.LimitReader(part, maxUploadFieldBytes+1))
		if err != nil {
			return uploadReadError(err)
		}
		if len(v) > maxUploadFieldBytes || !utf8.Valid(v) {
			return Problems{name: {"must be UTF-8 text of at most 8 KiB"}}.Err()
		}
		up.fields[name] = string(v)
		return nil
	default:
		return Problems{name: {"is not a known field"}}.Err()
	}
}

func isUploadField(name string) bool {
	for _, f := range uploadFields {
		if f == name {
			return true
		}
	}
	return false
}

// readRecorder remembers the error its reader returned, to tell the
// client's faults (a cut or oversized body) from the storage's.
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF {
		rr.err = err
	}
	return n, err
}

// storeFile checks the file part against the whitelist from its name, its
// declared type and its first bytes, then streams it to storage under a key
// of the server's making.
func (s *Server) storeFile(ctx context.Context, part *multipart.Part, familyID string, up *upload) error {
	raw := rawFilename(part)
	if strings.ContainsAny(raw, `/\`) {
		// A name with folders ("../../etc/passwd") is refused rather than
		// guessed at.
		return Problems{"file": {"must be sent under a plain file name, without folders"}}.Err()
	}
	filename := cleanFilename(raw)
	if filename == "" {
		return Problems{"file": {"must be a file with a name"}}.Err()
	}
	src := &readRecorder{r: part}
	head := make([]byte, inspect.SniffLen)
	n, err := io.ReadFull(src, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return uploadReadError(err)
	}
	head = head[:n]
	if n == 0 {
		return Problems{"file": {"must not be empty"}}.Err()
	}
	format, err := inspect.Identify(filename, part.Header.Get("Content-Type"), head)
	switch {
	case errors.Is(err, inspect.ErrNotAllowed):
		ext := filepath.Ext(filename)
		if ext == "" {
			ext = "without an extension"
		}
		return errorf(http.StatusUnsupportedMediaType, "Files %s are not allowed; allowed: %s", quoteExt(ext), strings.Join(inspect.Extensions(), ", "))
	case err != nil:
		return errorf(http.StatusUnsupportedMediaType, "The file's content does not match its type (%s)", filepath.Ext(filename))
	}
	key := familyID + "/" + uuid.NewString()
	info, err := s.docs.files.Put(ctx, key, io.MultiReader(bytes.NewReader(head), src), maxDocumentBytes, format.MimeType)
	switch {
	case errors.Is(err, storage.ErrTooLarge):
		return tooLarge()
	case err != nil && src.err != nil:
		return uploadReadError(src.err)
	case err != nil:
		return err
	}
	up.key, up.size, up.filename, up.format = key, info.Size, filename, format
	return nil
}

// rawFilename is the file name the client sent, as it sent it:
// Part.FileName keeps only its last element and would hide a path.
func rawFilename(part *multipart.Part) string {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if err != nil {
		return part.FileName()
	}
	return params["filename"]
}

func quoteExt(ext string) string {
	if strings.HasPrefix(ext, ".") {
		return "of type " + ext
	}
	return ext
}

// uploadReadError maps a failure to read the request body to the client's
// fault: too large (413) or malformed or cut off (400).
func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge()
	}
	return badRequest("The multipart body could not be read")
}

// document validates the text fields and builds the document to record.
func (up *upload) document(familyID, userID string) (store.Document, error) {
	pr := Problems{}
	if up.key == "" {
		pr.Add("file", "is required")
	}
	name := up.filename
	if v, ok := up.fields["name"]; ok && strings.TrimSpace(v) != "" {
		name = pr.line("name", v, maxDocumentNameLen)
	}
	typ := store.DocOther
	if v, ok := up.fields["type"]; ok && v != "" {
		pr.oneOf("type", v, documentTypes()...)
		typ = store.DocumentType(v)
	}
	var notes *string
	if v, ok := up.fields["notes"]; ok {
		notes = pr.optText("notes", &v, maxNotesLen)
	}
	var expires *time.Time
	if v, ok := up.fields["expiresAt"]; ok && strings.TrimSpace(v) != "" {
		expires = pr.expiryDate("expiresAt", strings.TrimSpace(v))
	}
	if err := pr.Err(); err != nil {
		return store.Document{}, err
	}
	return store.Document{
		FamilyID: familyID, UploadedByID: &userID, Name: name, Type: typ, MimeType: up.format.MimeType,
		SizeBytes: up.size, Filename: up.filename, ExpiresAt: expires, Notes: notes, StorageKey: up.key,
	}, nil
}

// cleanFilename keeps the last element of a client's file name, with path
// separators, control and reserved characters replaced and leading and
// trailing dots and spaces trimmed, shortened to maxFilenameBytes with its
// extension kept. The name is only ever shown and offered on download;
// storage keys never derive from it.
func cleanFilename(raw string) string {
	if i := strings.LastIndexAny(raw, `/\`); i >= 0 {
		raw = raw[i+1:]
	}
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), strings.ContainsRune(`<>:"|?*`, r):
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	name := strings.Trim(b.String(), ". ")
	if len(name) > maxFilenameBytes {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		base := name[:maxFilenameBytes-len(ext)]
		for !utf8.ValidString(base) {
			base = base[:len(base)-1]
		}
		name = base + ext
	}
	return name
}
