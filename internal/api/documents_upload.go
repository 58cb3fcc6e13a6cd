package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/documents"
)

// Upload limits.
const (
	// maxDocumentBytes is the contract's 10 MB per file.
	maxDocumentBytes = documents.MaxBytes
	// uploadOverhead is what a multipart body may carry besides the file:
	// boundaries, part headers and the text fields.
	uploadOverhead = 64 << 10
	// maxUploadFieldBytes bounds one text field of an upload.
	maxUploadFieldBytes = 8 << 10
)

// uploadFields are the upload's text fields; the file goes straight to
// storage.
var uploadFields = []string{"name", "type", "notes", "expiresAt"}

// upload is a multipart upload read so far.
type upload struct {
	put      documents.Put
	filename string // the file's name as kept, once the file is stored
	fields   map[string]string
}

// uploadDocument takes a multipart upload: the file part is streamed to
// storage (never held in memory) once its name, declared type and first
// bytes pass the whitelist; the document row, its domain event and its
// processing job then commit together (see documents.Upload). Whatever
// fails on the way removes the stored file, so a refused upload leaves
// nothing behind.
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	d, err := s.svc.Documents.Upload(r.Context(), *p, familyID, func(put documents.Put) (documents.Upload, error) {
		if r.ContentLength > maxDocumentBytes+uploadOverhead {
			return documents.Upload{}, documents.TooLarge()
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxDocumentBytes+uploadOverhead)
		mr, err := r.MultipartReader()
		if err != nil {
			return documents.Upload{}, errorf(http.StatusUnsupportedMediaType, "Send the document as multipart/form-data with a file field")
		}
		up := &upload{put: put, fields: map[string]string{}}
		if err := readUpload(mr, up); err != nil {
			return documents.Upload{}, err
		}
		return up.document()
	})
	return writeCreated(w, d, err)
}

// readUpload reads every part: text fields into up.fields, the file into
// storage.
func readUpload(mr *multipart.Reader, up *upload) error {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return uploadReadError(err)
		}
		err = readPart(part, up)
		part.Close()
		if err != nil {
			return err
		}
	}
}

func readPart(part *multipart.Part, up *upload) error {
	name := part.FormName()
	switch {
	case name == "file":
		if up.filename != "" {
			return Problems{"file": {"must be sent once"}}.Err()
		}
		return up.storeFile(part)
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

// storeFile hands the file part to the documents, which check it against
// the whitelist and stream it to storage. A failure to read the part is
// the client's (400, or 413 for an oversized body).
func (up *upload) storeFile(part *multipart.Part) error {
	src := &readRecorder{r: part}
	filename, err := up.put(documents.File{Name: rawFilename(part), ContentType: part.Header.Get("Content-Type"), Body: src})
	switch {
	case err == nil:
		up.filename = filename
		return nil
	case src.err != nil && feature.KindOf(err) != feature.KindTooLarge:
		return uploadReadError(src.err)
	}
	return err
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

// uploadReadError maps a failure to read the request body to the client's
// fault: too large (413) or malformed or cut off (400).
func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return documents.TooLarge()
	}
	return badRequest("The multipart body could not be read")
}

// document validates the text fields into what the upload says about its
// document.
func (up *upload) document() (documents.Upload, error) {
	pr := Problems{}
	if up.filename == "" {
		pr.Add("file", "is required")
	}
	var in documents.Upload
	if v, ok := up.fields["name"]; ok && strings.TrimSpace(v) != "" {
		in.Name = pr.line("name", v, maxDocumentNameLen)
	}
	if v, ok := up.fields["type"]; ok && v != "" {
		pr.oneOf("type", v, documentTypes()...)
		in.Type = documents.Type(v)
	}
	if v, ok := up.fields["notes"]; ok {
		in.Notes = pr.optText("notes", &v, maxNotesLen)
	}
	if v, ok := up.fields["expiresAt"]; ok && strings.TrimSpace(v) != "" {
		in.ExpiresAt = pr.expiryDate("expiresAt", strings.TrimSpace(v))
	}
	return in, pr.Err()
}
