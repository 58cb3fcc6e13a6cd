package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// backend opens a fresh, empty Storage for one test, with the directories
// it writes to (the local root, the S3 backend's spool): whatever a failed
// or refused upload wrote there must be gone again.
type backend struct {
	name string
	open func(t *testing.T) (s Storage, dirs []string)
}

func backends() []backend {
	return []backend{
		{name: "local", open: func(t *testing.T) (Storage, []string) {
			dir := t.TempDir()
			l, err := NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l, []string{dir}
		}},
		{name: "s3", open: func(t *testing.T) (Storage, []string) {
			spool := t.TempDir()
			return newFakeS3(t, spool), []string{spool}
		}},
	}
}

// newFakeS3 starts gofakes3, an S3-compatible server, on a real TCP socket
// and connects to it with the S3 backend.
func newFakeS3(t *testing.T, spool string) *S3 {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("documents"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	s, err := NewS3(context.Background(), S3Config{
		Endpoint: srv.URL, Bucket: "documents", AccessKey: "test-access", SecretKey: "test-secret",
		Region: "us-east-1", ForcePathStyle: true, SpoolDir: spool,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forEachBackend runs fn as a parallel subtest on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, s Storage, dirs []string)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, dirs := b.open(t)
			fn(t, s, dirs)
		})
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t *testing.T, s Storage, key string) []byte {
	t.Helper()
	rc, info, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(b)) {
		t.Fatalf("Open reported %d bytes, read %d", info.Size, len(b))
	}
	return b
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutOpenStatDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s Storage, _ []string) {
		ctx := context.Background()
		data := randomBytes(t, 3<<20+17)
		info, err := s.Put(ctx, "families/f1/doc-1", bytes.NewReader(data), 10<<20, "application/pdf")
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) || info.Key != "families/f1/doc-1" {
			t.Fatalf("Put returned %+v", info)
		}
		if got := readAll(t, s, "families/f1/doc-1"); !bytes.Equal(got, data) {
			t.Fatal("read back different bytes")
		}
		st, err := s.Stat(ctx, "families/f1/doc-1")
		if err != nil || st.Size != int64(len(data)) || st.ModTime.IsZero() {
			t.Fatalf("Stat = %+v, %v", st, err)
		}

		// The reader seeks and reads at offsets on both backends.
		rc, _, err := s.Open(ctx, "families/f1/doc-1")
		if err != nil {
			t.Fatal(err)
		}
		ra, ok := rc.(io.ReaderAt)
		if _, seeks := rc.(io.Seeker); !ok || !seeks {
			t.Fatalf("reader %T is not an io.ReaderAt and io.Seeker", rc)
		}
		part := make([]byte, 100)
		if _, err := ra.ReadAt(part, 2<<20); err != nil || !bytes.Equal(part, data[2<<20:2<<20+100]) {
			t.Fatalf("ReadAt: %v", err)
		}
		rc.Close()

		// Replacing an object.
		if _, err := s.Put(ctx, "families/f1/doc-1", strings.NewReader("short"), 10, "text/plain"); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, "families/f1/doc-1"); string(got) != "short" {
			t.Fatalf("after replace: %q", got)
		}

		if err := s.Delete(ctx, "families/f1/doc-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, "families/f1/doc-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat after delete: %v", err)
		}
		if _, _, err := s.Open(ctx, "families/f1/doc-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Open after delete: %v", err)
		}
		if err := s.Delete(ctx, "families/f1/doc-1"); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
	})
}

func TestEmptyObject(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s Storage, _ []string) {
		if _, err := s.Put(context.Background(), "empty", strings.NewReader(""), 10, ""); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, "empty"); len(got) != 0 {
			t.Fatalf("read %d bytes", len(got))
		}
	})
}

func TestPutRefusesMoreThanTheLimitAndLeavesNothing(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s Storage, dirs []string) {
		ctx := context.Background()
		if _, err := s.Put(ctx, "exact", bytes.NewReader(randomBytes(t, 1000)), 1000, ""); err != nil {
			t.Fatalf("exactly the limit: %v", err)
		}
		_, err := s.Put(ctx, "over", bytes.NewReader(randomBytes(t, 1001)), 1000, "")
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("one byte over: %v", err)
		}
		if _, err := s.Stat(ctx, "over"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat of refused object: %v", err)
		}
		// A refused replacement keeps the old object.
		if _, err := s.Put(ctx, "exact", bytes.NewReader(randomBytes(t, 5000)), 1000, ""); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("replacement over the limit: %v", err)
		}
		if got := readAll(t, s, "exact"); len(got) != 1000 {
			t.Fatalf("old object has %d bytes", len(got))
		}
		for _, d := range dirs {
			for _, f := range files(t, d) {
				if f != "exact" {
					t.Errorf("left behind in %s: %s", d, f)
				}
			}
		}
	})
}

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// cancellingReader cancels the upload's context after its first read.
type cancellingReader struct {
	cancel func()
	reads  int
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	c.reads++
	if c.reads == 2 {
		c.cancel()
	}
	return len(p), nil
}

func TestFailedOrCancelledPutLeavesNothing(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s Storage, dirs []string) {
		ctx := context.Background()
		if _, err := s.Put(ctx, "broken", &failingReader{n: 100 << 10}, 10<<20, ""); err == nil {
			t.Fatal("a failing reader was stored")
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := s.Put(cctx, "cancelled", &cancellingReader{cancel: cancel}, 10<<20, ""); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled put: %v", err)
		}
		for _, key := range []string{"broken", "cancelled"} {
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: Stat = %v", key, err)
			}
		}
		for _, d := range dirs {
			if f := files(t, d); len(f) > 0 {
				t.Errorf("left behind in %s: %v", d, f)
			}
		}
	})
}

func TestInvalidKeysAreRefused(t *testing.T) {
	t.Parallel()
	bad := []string{"", "../escape.pdf", "a/../../b", "/etc/passwd", "a//b", "a/", ".hidden", "a/.upload-x",
		"..", "a\\b", "a b", "naïve", strings.Repeat("a", MaxKeyLen+1), "a/./b"}
	forEachBackend(t, func(t *testing.T, s Storage, dirs []string) {
		ctx := context.Background()
		for _, key := range bad {
			if _, err := s.Put(ctx, key, strings.NewReader("x"), 10, ""); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q) = %v", key, err)
			}
			if _, _, err := s.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Open(%q) = %v", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Stat(%q) = %v", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q) = %v", key, err)
			}
		}
		for _, d := range dirs {
			if f := files(t, d); len(f) > 0 {
				t.Errorf("written in %s: %v", d, f)
			}
		}
	})
}

func TestValidKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"a", "families/0190f000-0000-7000-8000-000000000000/x.thumb.jpg", "A_b-c.d"} {
		if !ValidKey(k) {
			t.Errorf("ValidKey(%q) = false", k)
		}
	}
}

func TestPresignedLinks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s Storage, _ []string) {
		ctx := context.Background()
		data := randomBytes(t, 64<<10)
		if _, err := s.Put(ctx, "f/doc", bytes.NewReader(data), 1<<20, "application/pdf"); err != nil {
			t.Fatal(err)
		}
		link := Link{Filename: "Insurance card.pdf", ContentType: "application/pdf", TTL: 5 * time.Minute}
		u, err := s.PresignGet(ctx, "f/doc", link)
		if _, local := s.(*Local); local {
			if !errors.Is(err, ErrPresignUnsupported) {
				t.Fatalf("local PresignGet = %q, %v", u, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Fatalf("GET presigned: %d, %d bytes", res.StatusCode, len(got))
		}
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="Insurance card.pdf"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}
	})
}

func TestContentDisposition(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		ContentDisposition("report.pdf", false): `attachment; filename=report.pdf`,
		ContentDisposition("a b.pdf", true):     `inline; filename="a b.pdf"`,
		ContentDisposition("Zoë.pdf", false):    `attachment; filename*=utf-8''Zo%C3%AB.pdf`,
		ContentDisposition("", true):            `inline`,
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestLocalStaysInsideItsRoot plants a symbolic link to a directory outside
// the root and checks that no operation follows it.
func TestLocalStaysInsideItsRoot(t *testing.T) {
	t.Parallel()
	rootDir, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(rootDir, "escape")); err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Put(ctx, "escape/planted", strings.NewReader("x"), 10, ""); err == nil {
		t.Error("Put through a symbolic link succeeded")
	}
	if _, _, err := l.Open(ctx, "escape/secret"); err == nil {
		t.Error("Open through a symbolic link succeeded")
	}
	if err := l.Delete(ctx, "escape/secret"); err == nil {
		t.Error("Delete through a symbolic link succeeded")
	}
	if f := files(t, outside); len(f) != 1 || f[0] != "secret" {
		t.Errorf("outside directory now holds %v", f)
	}
}
