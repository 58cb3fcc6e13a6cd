// Package inspect recognises the document formats CareCircle accepts from
// their content, not just their names, and reads what the app shows about a
// file: its SHA-256, a thumbnail of an image, the page count of a PDF.
package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// SniffLen is how many leading bytes Identify looks at.
const SniffLen = 512

// Format is a kind of file families may upload.
type Format struct {
	// Name is the format's short name ("pdf", "docx").
	Name string
	// MimeType is stored with the document and served with it.
	MimeType string
	// Extensions are the file name endings the format is accepted under.
	Extensions []string
	// aliases are further Content-Types a client may declare for it.
	aliases []string
	// content is the signature family its bytes must belong to.
	content string
}

// IsImage reports whether a thumbnail can be drawn from the format with the
// standard library's decoders.
func (f Format) IsImage() bool {
	return f.content == "jpeg" || f.content == "png" || f.content == "gif"
}

// IsPDF reports whether the format is PDF.
func (f Format) IsPDF() bool { return f.content == "pdf" }

// isText reports whether the whole content must be UTF-8 text.
func (f Format) isText() bool { return f.content == "text" }

// formats is the contract's whitelist: images, pdf, doc/x, xls/x, txt, csv,
// mp4/webm/mov and mp3/wav/weba. SVG is left out on purpose: it is a script
// container a browser would run when viewed inline.
var formats = []Format{
	{Name: "jpeg", MimeType: "image/jpeg", Extensions: []string{".jpg", ".jpeg"}, aliases: []string{"image/jpg", "image/pjpeg"}, content: "jpeg"},
	{Name: "png", MimeType: "image/png", Extensions: []string{".png"}, content: "png"},
	{Name: "gif", MimeType: "image/gif", Extensions: []string{".gif"}, content: "gif"},
	{Name: "webp", MimeType: "image/webp", Extensions: []string{".webp"}, content: "webp"},
	{Name: "bmp", MimeType: "image/bmp", Extensions: []string{".bmp"}, aliases: []string{"image/x-bmp", "image/x-ms-bmp"}, content: "bmp"},
	{Name: "pdf", MimeType: "application/pdf", Extensions: []string{".pdf"}, aliases: []string{"application/x-pdf"}, content: "pdf"},
	{Name: "doc", MimeType: "application/msword", Extensions: []string{".doc"}, content: "ole2"},
	{Name: "docx", MimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Extensions: []string{".docx"}, content: "zip"},
	{Name: "xls", MimeType: "application/vnd.ms-excel", Extensions: []string{".xls"}, content: "ole2"},
	{Name: "xlsx", MimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Extensions: []string{".xlsx"}, content: "zip"},
	{Name: "txt", MimeType: "text/plain", Extensions: []string{".txt"}, content: "text"},
	// Browsers on Windows declare CSV files as Excel sheets.
	{Name: "csv", MimeType: "text/csv", Extensions: []string{".csv"}, aliases: []string{"application/csv", "text/plain", "text/x-csv", "text/comma-separated-values", "application/vnd.ms-excel"}, content: "text"},
	{Name: "mp4", MimeType: "video/mp4", Extensions: []string{".mp4"}, content: "mp4"},
	{Name: "webm", MimeType: "video/webm", Extensions: []string{".webm"}, aliases: []string{"audio/webm"}, content: "webm"},
	{Name: "mov", MimeType: "video/quicktime", Extensions: []string{".mov"}, content: "mov"},
	{Name: "mp3", MimeType: "audio/mpeg", Extensions: []string{".mp3"}, aliases: []string{"audio/mp3"}, content: "mp3"},
	{Name: "wav", MimeType: "audio/wav", Extensions: []string{".wav"}, aliases: []string{"audio/wave", "audio/x-wav", "audio/vnd.wave"}, content: "wav"},
	{Name: "weba", MimeType: "audio/webm", Extensions: []string{".weba"}, aliases: []string{"video/webm"}, content: "webm"},
}

// Extensions lists every accepted file name ending, for messages.
func Extensions() []string {
	var out []string
	for _, f := range formats {
		out = append(out, f.Extensions...)
	}
	return out
}

// ByExtension finds the format accepted under a file name's ending.
func ByExtension(filename string) (Format, bool) {
	ext := strings.ToLower(path.Ext(filename))
	for _, f := range formats {
		for _, e := range f.Extensions {
			if e == ext {
				return f, true
			}
		}
	}
	return Format{}, false
}

// ByMimeType finds the format stored under a MIME type.
func ByMimeType(mt string) (Format, bool) {
	for _, f := range formats {
		if f.MimeType == mt {
			return f, true
		}
	}
	return Format{}, false
}

// Reasons Identify refuses a file.
var (
	// ErrNotAllowed: the file name's ending is not on the whitelist.
	ErrNotAllowed = errors.New("file type not allowed")
	// ErrContentMismatch: the bytes are not what the name says.
	ErrContentMismatch = errors.New("content does not match the file type")
	// ErrDeclaredMismatch: the declared Content-Type contradicts the name.
	ErrDeclaredMismatch = errors.New("declared type does not match the file type")
)

// Identify checks a file against the whitelist: its name's ending must be
// allowed, the declared Content-Type (when the client gave a specific one)
// must agree with it, and the leading bytes must be of that format. head is
// the content's first SniffLen bytes (fewer for a shorter file).
func Identify(filename, declared string, head []byte) (Format, error) {
	f, ok := ByExtension(filename)
	if !ok {
		return Format{}, ErrNotAllowed
	}
	if !f.accepts(declared) {
		return Format{}, fmt.Errorf("%w: %s declared for a %s file", ErrDeclaredMismatch, declared, f.Name)
	}
	if got := sniff(head); got != f.content {
		return Format{}, fmt.Errorf("%w: %s content in a %s file", ErrContentMismatch, describe(got), f.Name)
	}
	return f, nil
}

// accepts reports whether a declared Content-Type fits the format. Absent
// and generic declarations carry no claim and are accepted.
func (f Format) accepts(declared string) bool {
	mt, _, err := mime.ParseMediaType(declared)
	if declared == "" || (err == nil && mt == "application/octet-stream") {
		return true
	}
	if err != nil {
		return false
	}
	if mt == f.MimeType {
		return true
	}
	for _, a := range f.aliases {
		if mt == a {
			return true
		}
	}
	return false
}

func describe(content string) string {
	if content == "" {
		return "unrecognised"
	}
	return content
}

// sniff names the signature family of a file's leading bytes, or "".
func sniff(b []byte) string {
	has := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "\xFF\xD8\xFF"):
		return "jpeg"
	case has(0, "\x89PNG\r\n\x1a\n"):
		return "png"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "gif"
	case has(0, "RIFF") && has(8, "WEBP"):
		return "webp"
	case has(0, "RIFF") && has(8, "WAVE"):
		return "wav"
	case has(0, "BM") && len(b) >= 18 && bmpHeaderSize(b[14:18]):
		return "bmp"
	case has(0, "%PDF-"):
		return "pdf"
	case has(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"):
		return "ole2"
	case has(0, "PK\x03\x04"):
		return "zip"
	case has(4, "ftyp"):
		if has(8, "qt  ") {
			return "mov"
		}
		return "mp4"
	case has(4, "moov"), has(4, "mdat"), has(4, "wide"), has(4, "pnot"):
		return "mov"
	case has(0, "\x1A\x45\xDF\xA3"):
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return "webm"
		}
		return "matroska"
	case has(0, "ID3") && len(b) >= 5 && b[3] >= 2 && b[3] <= 4 && b[4] != 0xFF, len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]&0x06 != 0:
		return "mp3"
	case isPlainText(b):
		return "text"
	}
	return ""
}

// bmpHeaderSize reports whether b (little-endian) is the size of one of
// the BMP info header versions, which tells a bitmap from text that
// happens to start with "BM".
func bmpHeaderSize(b []byte) bool {
	if b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return false
	}
	switch b[0] {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// isPlainText reports whether b is UTF-8 text that a browser would not take
// for markup: no NUL or other binary control bytes, and not HTML or XML by
// the standard sniffing algorithm. A rune cut off at the end is allowed.
func isPlainText(b []byte) bool {
	if len(b) == 0 || !validText(trimPartialRune(b)) {
		return false
	}
	ct := http.DetectContentType(b)
	return !strings.HasPrefix(ct, "text/html") && !strings.HasPrefix(ct, "text/xml")
}

// validText reports whether b is valid UTF-8 without binary control bytes.
func validText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1B {
			return false
		}
	}
	return true
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}
