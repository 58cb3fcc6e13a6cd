package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/store"
)

// newDataDir makes a migrated SQLite installation with a secret, a document
// and a temporary upload in progress.
func newDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, DatabaseName)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	write(t, filepath.Join(dir, "jwt_secret"), "0123456789abcdef0123456789abcdef\n")
	write(t, filepath.Join(dir, "documents", "fam", "doc.pdf"), "%PDF-1.4 scan")
	write(t, filepath.Join(dir, "documents", "fam", ".upload-123"), "half an upload")
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Create(context.Background(), Options{DataDir: dir, BinaryVersion: "test", Now: time.Now}, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTripKeepsDatabaseSecretsAndDocuments(t *testing.T) {
	t.Parallel()
	src := newDataDir(t)
	archive := create(t, src)
	dst := filepath.Join(t.TempDir(), "restored")
	m, err := Restore(context.Background(), bytes.NewReader(archive), dst)
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := store.LatestSchemaVersion(store.SQLite)
	if m.Dialect != "sqlite" || m.SchemaVersion != latest || m.Files != 2 {
		t.Fatalf("manifest %+v, want sqlite at %d with 2 files", m, latest)
	}
	for _, f := range []string{"jwt_secret", "documents/fam/doc.pdf"} {
		want, _ := os.ReadFile(filepath.Join(src, f))
		got, err := os.ReadFile(filepath.Join(dst, f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", f, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "documents", "fam", ".upload-123")); err == nil {
		t.Error("a temporary upload was restored")
	}
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dst, DatabaseName)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, err := st.SchemaVersion(context.Background()); err != nil || v != latest {
		t.Fatalf("restored schema %d, %v", v, err)
	}
}

// TestRestoreIntoAnExistingEmptyDirectory: an empty DATA_DIR (a container
// volume's mount point, which cannot be replaced) is filled in place, with no
// temporary directory left in it.
func TestRestoreIntoAnExistingEmptyDirectory(t *testing.T) {
	t.Parallel()
	archive := create(t, newDataDir(t))
	dst := t.TempDir()
	if _, err := Restore(context.Background(), bytes.NewReader(archive), dst); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "carecircle.db documents jwt_secret" {
		t.Fatalf("restored %v", names)
	}
}

func TestRestoreRefusesANonEmptyDataDir(t *testing.T) {
	t.Parallel()
	archive := create(t, newDataDir(t))
	dst := t.TempDir()
	write(t, filepath.Join(dst, "carecircle.db"), "someone's live data")
	_, err := Restore(context.Background(), bytes.NewReader(archive), dst)
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a non-empty dir: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "carecircle.db")); string(b) != "someone's live data" {
		t.Fatal("the existing file was touched")
	}
}

// rewrite returns archive with its manifest changed by edit and extra
// entries appended.
func rewrite(t *testing.T, archive []byte, edit func(*Manifest), extra map[string]string) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		var body bytes.Buffer
		body.ReadFrom(tr)
		if hdr.Name == ManifestName {
			var m Manifest
			json.Unmarshal(body.Bytes(), &m)
			edit(&m)
			b, _ := json.Marshal(m)
			body.Reset()
			body.Write(b)
			hdr.Size = int64(body.Len())
		}
		tw.WriteHeader(hdr)
		tw.Write(body.Bytes())
	}
	for name, content := range extra {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(content)), Typeflag: tar.TypeReg})
		tw.Write([]byte(content))
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}

func TestRestoreRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	archive := rewrite(t, create(t, newDataDir(t)), func(m *Manifest) { m.SchemaVersion = 9999 }, nil)
	dst := filepath.Join(t.TempDir(), "data")
	_, err := Restore(context.Background(), bytes.NewReader(archive), dst)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("restore of a newer schema: %v", err)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatal("a refused restore created DATA_DIR")
	}
}

func TestRestoreRefusesADatabaseNewerThanItsManifest(t *testing.T) {
	t.Parallel()
	src := newDataDir(t)
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(src, DatabaseName)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9998, 'future', '2030-01-01T00:00:00.000000Z')`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	archive := rewrite(t, create(t, src), func(m *Manifest) { m.SchemaVersion = 1 }, nil)
	parent := t.TempDir()
	_, err = Restore(context.Background(), bytes.NewReader(archive), filepath.Join(parent, "data"))
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("restore of a newer database: %v", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Fatalf("a refused restore left %v", left)
	}
}

func TestRestoreRefusesEntriesOutsideDataDir(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../escape", "/etc/evil", "documents/../../escape", `documents\..\x`} {
		archive := rewrite(t, create(t, newDataDir(t)), func(*Manifest) {}, map[string]string{name: "x"})
		parent := t.TempDir()
		_, err := Restore(context.Background(), bytes.NewReader(archive), filepath.Join(parent, "data"))
		if err == nil || !strings.Contains(err.Error(), "refusing archive entry") {
			t.Errorf("%s: %v", name, err)
		}
		if left, _ := os.ReadDir(parent); len(left) != 0 {
			t.Errorf("%s: a refused restore left %v", name, left)
		}
	}
}

func TestRestoreRefusesSomethingElse(t *testing.T) {
	t.Parallel()
	_, err := Restore(context.Background(), strings.NewReader("not a backup"), filepath.Join(t.TempDir(), "data"))
	if err == nil || !strings.Contains(err.Error(), "not a CareCircle backup") {
		t.Fatalf("restore of garbage: %v", err)
	}
}
