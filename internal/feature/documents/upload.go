package documents

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/storage/inspect"
	"github.com/carecircle/carecircle/internal/store"
)

// Upload limits.
const (
	// MaxBytes is the contract's 10 MB per file.
	MaxBytes = 10 << 20
	// maxFilenameBytes bounds a kept file name.
	maxFilenameBytes = 200
)

// TooLarge refuses a file over MaxBytes.
func TooLarge() error {
	return feature.Errorf(feature.KindTooLarge, "The file exceeds the %d MB limit", MaxBytes>>20)
}

// File is the file of an upload as the client sends it.
type File struct {
	// Name is the file name as sent, folders included (a name with
	// folders is refused).
	Name string
	// ContentType is the type the client declared.
	ContentType string
	// Body is the file's content, read once.
	Body io.Reader
}

// Put streams an upload's file to the file storage once its name, declared
// type and first bytes pass the whitelist, and returns the name the file is
// kept under (its client's name, cleaned). A failure to read Body is
// returned as it is, for the caller to tell its own faults from the
// storage's.
type Put func(f File) (filename string, err error)

// Upload is what an upload says about its document besides the file.
type Upload struct {
	// Name is the document's name; "" takes the file's.
	Name string
	// Type is the document's type; "" is OTHER.
	Type      Type
	Notes     *string
	ExpiresAt *time.Time
}

// stored is an upload's file once in the file storage.
type stored struct {
	key      string
	size     int64
	filename string
	format   inspect.Format
}

// Upload records a document of the family (a writer's command): read reads
// the upload, giving its file to put, which streams it to the file storage
// (never held in memory); the document row, its event and its processing
// job then commit together. Whatever fails on the way removes the stored
// file, so a refused upload leaves nothing behind. Without a job queue the
// file is checked inline once the row has committed, and the document is
// answered as that left it.
func (s *Service) Upload(ctx context.Context, a feature.Actor, familyID string, read func(put Put) (Upload, error)) (*View, error) {
	if err := s.family(ctx, a, familyID, feature.Writer); err != nil {
		return nil, err
	}
	var file stored
	kept := false
	defer func() {
		if file.key != "" && !kept {
			if err := s.files.Delete(context.WithoutCancel(ctx), file.key); err != nil {
				s.b.Logger.WarnContext(ctx, "remove refused upload", slog.String("key", file.key), slog.Any("error", err))
			}
		}
	}()
	in, err := read(func(f File) (string, error) {
		if file.key != "" {
			return "", feature.FieldError("file", "must be sent once")
		}
		if err := s.put(ctx, familyID, f, &file); err != nil {
			return "", err
		}
		return file.filename, nil
	})
	if err != nil {
		return nil, err
	}
	if file.key == "" {
		return nil, feature.FieldError("file", "is required")
	}
	uploader := a.ID()
	doc := Document{
		FamilyID: familyID, UploadedByID: &uploader, Name: in.Name, Type: in.Type, MimeType: file.format.MimeType,
		SizeBytes: file.size, Filename: file.filename, ExpiresAt: in.ExpiresAt, Notes: in.Notes, StorageKey: file.key,
	}
	if doc.Name == "" {
		doc.Name = file.filename
	}
	if doc.Type == "" {
		doc.Type = store.DocOther
	}
	var created *Document
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if created, err = s.b.Store.CreateDocument(ctx, doc); err != nil {
			return err
		}
		s.b.FamilyChanged(ctx, familyID)
		if err := s.b.Emit(ctx, feature.Event{Type: events.DocumentUploaded, FamilyID: familyID, ActorID: a.ID(), Data: view(created)}); err != nil {
			return err
		}
		if s.queue == nil {
			return nil
		}
		_, err = s.queue.InsertTx(ctx, s.b.Store.Tx(ctx), jobs.DocumentUploadArgs{DocumentID: created.ID}, nil)
		return err
	})
	if errors.Is(err, store.ErrReference) {
		return nil, feature.NotFound("Family")
	}
	if err != nil {
		return nil, err
	}
	kept = true
	if s.queue == nil {
		// No queue on this node: check the file now, after the commit, as
		// the job would.
		if done, _ := s.processor.ProcessInline(context.WithoutCancel(ctx), created.ID); done != nil {
			created = done
		}
	}
	v := view(created)
	return &v, nil
}

// put checks f against the whitelist from its name, its declared type and
// its first bytes, then streams it to storage under a key of the server's
// making, and records it in file.
func (s *Service) put(ctx context.Context, familyID string, f File, file *stored) error {
	if strings.ContainsAny(f.Name, `/\`) {
		// A name with folders ("../../etc/passwd") is refused rather than
		// guessed at.
		return feature.FieldError("file", "must be sent under a plain file name, without folders")
	}
	filename := cleanFilename(f.Name)
	if filename == "" {
		return feature.FieldError("file", "must be a file with a name")
	}
	head := make([]byte, inspect.SniffLen)
	n, err := io.ReadFull(f.Body, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	head = head[:n]
	if n == 0 {
		return feature.FieldError("file", "must not be empty")
	}
	format, err := inspect.Identify(filename, f.ContentType, head)
	switch {
	case errors.Is(err, inspect.ErrNotAllowed):
		ext := filepath.Ext(filename)
		if ext == "" {
			ext = "without an extension"
		}
		return feature.Errorf(feature.KindUnsupported, "Files %s are not allowed; allowed: %s", quoteExt(ext), strings.Join(inspect.Extensions(), ", "))
	case err != nil:
		return feature.Errorf(feature.KindUnsupported, "The file's content does not match its type (%s)", filepath.Ext(filename))
	}
	key := familyID + "/" + uuid.NewString()
	info, err := s.files.Put(ctx, key, io.MultiReader(bytes.NewReader(head), f.Body), MaxBytes, format.MimeType)
	switch {
	case errors.Is(err, storage.ErrTooLarge):
		return TooLarge()
	case err != nil:
		return err
	}
	*file = stored{key: key, size: info.Size, filename: filename, format: format}
	return nil
}

func quoteExt(ext string) string {
	if strings.HasPrefix(ext, ".") {
		return "of type " + ext
	}
	return ext
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
