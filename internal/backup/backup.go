// Package backup writes and restores one archive (tar.gz) of a CareCircle
// installation: a consistent copy of the embedded SQLite database taken while
// the server keeps running, and the rest of DATA_DIR (generated secrets,
// document files, the mail outbox). On PostgreSQL the database is left to
// pg_dump and the archive holds the rest.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/store"
)

// ManifestName is the archive's first entry: what the archive holds.
const ManifestName = "carecircle-backup.json"

// DatabaseName is the SQLite database's file name in DATA_DIR and in the
// archive.
const DatabaseName = "carecircle.db"

// formatVersion changes when the archive's layout does.
const formatVersion = 1

// Manifest describes an archive.
type Manifest struct {
	Format int `json:"format"`
	// CreatedAt is when the backup began.
	CreatedAt time.Time `json:"createdAt"`
	// BinaryVersion is the version of the carecircle that wrote it.
	BinaryVersion string `json:"binaryVersion"`
	// Dialect is the database the installation ran on: "sqlite" (the
	// database is in the archive) or "postgres" (it is not).
	Dialect string `json:"dialect"`
	// SchemaVersion is the newest migration applied to the database.
	SchemaVersion int `json:"schemaVersion"`
	// Files counts the DATA_DIR files in the archive, the database aside.
	Files int `json:"files"`
}

// Options says what to back up.
type Options struct {
	DataDir string
	// Postgres is set when the installation runs on PostgreSQL; then Store
	// must be open on it (to read the schema version), and the database is
	// not in the archive.
	Postgres bool
	Store    *store.Store
	// BinaryVersion is recorded in the manifest.
	BinaryVersion string
	// Now stamps the manifest.
	Now func() time.Time
}

// Create writes the archive to w. On SQLite the database copy is taken with
// VACUUM INTO, one read transaction: it holds exactly the rows committed
// before it began, while the server goes on writing. DATA_DIR's other files
// are read afterwards, so every document a copied row names is there.
func Create(ctx context.Context, opts Options, w io.Writer) (Manifest, error) {
	m := Manifest{Format: formatVersion, CreatedAt: opts.Now().UTC(), BinaryVersion: opts.BinaryVersion, Dialect: string(store.SQLite)}
	tmpDir, err := os.MkdirTemp("", "carecircle-backup-")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	var dbCopy string
	if opts.Postgres {
		m.Dialect = string(store.Postgres)
		if m.SchemaVersion, err = opts.Store.SchemaVersion(ctx); err != nil {
			return m, fmt.Errorf("backup: %w", err)
		}
	} else {
		dbCopy = filepath.Join(tmpDir, DatabaseName)
		if m.SchemaVersion, err = copySQLite(ctx, filepath.Join(opts.DataDir, DatabaseName), dbCopy); err != nil {
			return m, err
		}
	}
	files, err := dataFiles(opts.DataDir)
	if err != nil {
		return m, err
	}
	m.Files = len(files)

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	manifest, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(manifest)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return m, fmt.Errorf("backup: write archive: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return m, fmt.Errorf("backup: write archive: %w", err)
	}
	if dbCopy != "" {
		if err := addFile(tw, dbCopy, DatabaseName); err != nil {
			return m, err
		}
	}
	for _, rel := range files {
		err := addFile(tw, filepath.Join(opts.DataDir, rel), filepath.ToSlash(rel))
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted since the walk (a document removed meanwhile): its row
			// was gone from the database before the copy, or will be.
			m.Files--
			continue
		}
		if err != nil {
			return m, err
		}
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("backup: write archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return m, fmt.Errorf("backup: write archive: %w", err)
	}
	return m, nil
}

// copySQLite copies the live database at src to dst with VACUUM INTO and
// returns the copy's schema version.
func copySQLite(ctx context.Context, src, dst string) (int, error) {
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("backup: no database at %s: %w", src, err)
	}
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return 0, fmt.Errorf("backup: copy %s: %w", src, err)
	}
	return sqliteSchemaVersion(ctx, dst)
}

// sqliteSchemaVersion reads the newest applied migration of the database file
// at path.
func sqliteSchemaVersion(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer db.Close()
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("backup: schema version of %s: %w", path, err)
	}
	return int(v.Int64), nil
}

// dataFiles lists DATA_DIR's regular files relative to it, leaving out the
// live database and its journals (copied separately) and dot files (a
// temporary file still being written: an upload, a secret).
func dataFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if isDatabaseFile(rel) {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backup: read %s: %w", dir, err)
	}
	return out, nil
}

func isDatabaseFile(rel string) bool {
	switch rel {
	case DatabaseName, DatabaseName + "-wal", DatabaseName + "-shm", DatabaseName + "-journal":
		return true
	}
	return false
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	// A file that changes while it is read would break the archive's entry
	// size; document files are written once (to a temporary name, then
	// renamed), secrets once, and outbox messages once.
	if _, err := io.CopyN(tw, f, info.Size()); err != nil {
		return fmt.Errorf("backup: archive %s: %w", name, err)
	}
	return nil
}
