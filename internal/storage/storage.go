// Package storage keeps the files families upload: on the local disk under
// DATA_DIR (the embedded default) or in an S3-compatible bucket. Both
// backends take server-generated keys only and stream every object, so a
// file is never held whole in memory.
package storage

import (
	"context"
	"errors"
	"io"
	"mime"
	"strings"
	"time"
)

// Errors every backend returns for the same conditions.
var (
	// ErrNotFound: no object has the key.
	ErrNotFound = errors.New("storage: object not found")
	// ErrTooLarge: the content exceeded the limit given to Put; nothing was stored.
	ErrTooLarge = errors.New("storage: object exceeds the size limit")
	// ErrInvalidKey: the key is not one ValidKey accepts.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrPresignUnsupported: the backend cannot hand out links of its own;
	// the caller signs links to a route that serves the object.
	ErrPresignUnsupported = errors.New("storage: backend cannot sign links")
)

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Link asks for a short-lived link that serves an object directly.
type Link struct {
	// Filename is offered to the browser in Content-Disposition.
	Filename string
	// ContentType is served as the response's Content-Type.
	ContentType string
	// Inline asks the browser to show the object instead of saving it.
	Inline bool
	// TTL is how long the link works.
	TTL time.Duration
}

// Storage is where document files live.
type Storage interface {
	// Put stores everything r yields under key, replacing any object there.
	// More than limit bytes fail with ErrTooLarge and store nothing; so does
	// any other error, including a cancelled ctx.
	Put(ctx context.Context, key string, r io.Reader, limit int64, contentType string) (Info, error)
	// Open reads an object. The reader also implements io.Seeker and
	// io.ReaderAt on both backends.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes an object.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// PresignGet returns a link that serves the object without further
	// authentication until l.TTL passes, or ErrPresignUnsupported.
	PresignGet(ctx context.Context, key string, l Link) (string, error)
}

// MaxKeyLen bounds a key's length.
const MaxKeyLen = 512

// ValidKey reports whether key is a relative, slash-separated path whose
// segments use only ASCII letters, digits, '-', '_' and '.', none of them
// empty or starting with a dot. No valid key can name anything outside the
// storage root.
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLen {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
			if !ok {
				return false
			}
		}
	}
	return true
}

// ContentDisposition is the Content-Disposition header value that shows
// (inline) or saves (attachment) a file under filename; names outside ASCII
// are encoded as RFC 2231 asks.
func ContentDisposition(filename string, inline bool) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	if filename == "" {
		return kind
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": filename}); v != "" {
		return v
	}
	return kind
}

// limitedReader yields at most limit bytes of r and records whether r had
// more.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func newLimitedReader(r io.Reader, limit int64) *limitedReader {
	return &limitedReader{r: r, left: limit}
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One more byte tells a reader that ends exactly at the limit from
		// one that goes past it.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.exceeded = true
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// ctxReader fails reads once ctx is done, so a cancelled upload stops
// instead of streaming on.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
