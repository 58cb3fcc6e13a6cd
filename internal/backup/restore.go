package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/carecircle/carecircle/internal/store"
)

// ErrNotEmpty is returned when the directory to restore into holds files.
var ErrNotEmpty = errors.New("backup: DATA_DIR is not empty")

// ErrNewerSchema is returned when the archive's database was written by a
// newer release than this binary.
var ErrNewerSchema = errors.New("backup: the archive's schema is newer than this binary knows")

// Restore unpacks the archive read from r into dataDir, which must be missing
// or empty. It refuses an archive whose schema version is newer than this
// binary's migrations. The files are unpacked into a temporary directory
// (inside dataDir when it exists, which may be a mount point such as a
// container volume; beside it otherwise) and moved into place only when all
// of them are there, so a refused or broken archive leaves nothing behind.
func Restore(ctx context.Context, r io.Reader, dataDir string) (Manifest, error) {
	var m Manifest
	entries, err := os.ReadDir(dataDir)
	exists := err == nil
	if exists && len(entries) > 0 {
		return m, fmt.Errorf("%w: %s holds %d entries; restore into an empty directory", ErrNotEmpty, dataDir, len(entries))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("backup: read %s: %w", dataDir, err)
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return m, fmt.Errorf("backup: not a CareCircle backup (gzip): %w", err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != ManifestName {
		return m, errors.New("backup: not a CareCircle backup (no manifest first)")
	}
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
		return m, fmt.Errorf("backup: read manifest: %w", err)
	}
	if m.Format != formatVersion {
		return m, fmt.Errorf("backup: archive format %d, this binary reads %d", m.Format, formatVersion)
	}
	if m.Dialect != string(store.SQLite) && m.Dialect != string(store.Postgres) {
		return m, fmt.Errorf("backup: unknown database %q in the manifest", m.Dialect)
	}
	known, err := store.LatestSchemaVersion(store.Dialect(m.Dialect))
	if err != nil {
		return m, err
	}
	if m.SchemaVersion > known {
		return m, fmt.Errorf("%w: archive at migration %d, this binary knows up to %d; restore with a newer carecircle", ErrNewerSchema, m.SchemaVersion, known)
	}

	parent := filepath.Dir(filepath.Clean(dataDir))
	if exists {
		parent = dataDir
	} else if err := os.MkdirAll(parent, 0o700); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".carecircle-restore-")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, fmt.Errorf("backup: read archive: %w", err)
		}
		if err := extract(tr, hdr, tmp); err != nil {
			return m, err
		}
	}
	if m.Dialect == string(store.SQLite) {
		db := filepath.Join(tmp, DatabaseName)
		v, err := sqliteSchemaVersion(ctx, db)
		if err != nil {
			return m, err
		}
		if v > known {
			return m, fmt.Errorf("%w: database at migration %d, this binary knows up to %d", ErrNewerSchema, v, known)
		}
	}
	if !exists {
		if err := os.Rename(tmp, dataDir); err != nil {
			return m, fmt.Errorf("backup: move into %s: %w", dataDir, err)
		}
		done = true
		return m, nil
	}
	// dataDir stays (it may be a mount point); what was unpacked moves up.
	unpacked, err := os.ReadDir(tmp)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	for _, e := range unpacked {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dataDir, e.Name())); err != nil {
			return m, fmt.Errorf("backup: move into %s: %w", dataDir, err)
		}
	}
	return m, nil
}

// extract writes one archive entry under root. Only regular files with
// clean relative names are accepted: nothing escapes root, and no link is
// created.
func extract(tr *tar.Reader, hdr *tar.Header, root string) error {
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	name := hdr.Name
	if hdr.Typeflag != tar.TypeReg || name == "" || path.IsAbs(name) || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "\\") || name == ManifestName {
		return fmt.Errorf("backup: refusing archive entry %q", hdr.Name)
	}
	dst := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.CopyN(f, tr, hdr.Size); err != nil {
		f.Close()
		return fmt.Errorf("backup: unpack %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: unpack %s: %w", name, err)
	}
	if !hdr.ModTime.IsZero() {
		_ = os.Chtimes(dst, hdr.ModTime, hdr.ModTime)
	}
	return nil
}
