package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/backup"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// backupCmd writes DATA_DIR (and, on SQLite, a consistent copy of the
// database) to one archive while the server keeps running.
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{"backup takes one argument: the archive to write (e.g. carecircle-backup.tar.gz)"}
	}
	file := args[0]
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	opts := backup.Options{DataDir: cfg.DataDir, Postgres: cfg.Postgres(), BinaryVersion: version(), Now: time.Now}
	if cfg.Postgres() {
		st, err := app.OpenStore(ctx, cfg, nil)
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store = st
	}
	// Written under a dot name beside the target and renamed when complete,
	// so a failed backup never leaves a file that looks whole (and a backup
	// written into DATA_DIR does not archive itself).
	partial := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".partial")
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(partial)
	m, err := backup.Create(ctx, opts, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(partial, file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	what := fmt.Sprintf("the SQLite database (migration %d) and %d file(s) from %s", m.SchemaVersion, m.Files, cfg.DataDir)
	if m.Dialect == string(store.Postgres) {
		what = fmt.Sprintf("%d file(s) from %s", m.Files, cfg.DataDir)
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", what, file)
	if cfg.Postgres() {
		fmt.Fprintf(stdout, "The PostgreSQL database (migration %d) is not in the archive. Dump it with:\n"+
			"  pg_dump --format=custom --file=carecircle.pgdump \"$DATABASE_URL\"\n", m.SchemaVersion)
	}
	if cfg.S3() {
		fmt.Fprintf(stdout, "Document files are in the S3 bucket %q, not in the archive. Copy them with your S3 tools, e.g.:\n"+
			"  aws s3 sync s3://%s ./carecircle-documents   (or: mc mirror, rclone sync)\n", cfg.S3Bucket, cfg.S3Bucket)
	}
	return nil
}

// restoreCmd unpacks an archive into an empty DATA_DIR.
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{"restore takes one argument: the archive to read"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	m, err := backup.Restore(ctx, f, cfg.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the backup of %s (%s, migration %d, %d file(s)) into %s\n",
		m.CreatedAt.Format(time.RFC3339), m.Dialect, m.SchemaVersion, m.Files, cfg.DataDir)
	switch {
	case m.Dialect == string(store.Postgres):
		fmt.Fprint(stdout, "The PostgreSQL database is not in the archive. Restore its dump with:\n"+
			"  pg_restore --clean --if-exists --no-owner --dbname \"$DATABASE_URL\" carecircle.pgdump\n")
	case cfg.Postgres():
		fmt.Fprint(stdout, "Note: DATABASE_URL is set, so the server will use PostgreSQL, not the restored SQLite database.\n")
	}
	fmt.Fprint(stdout, "Start carecircle as usual: it applies any newer migrations on start.\n")
	return nil
}

// userCmd manages accounts from the command line: "user set-role EMAIL ROLE".
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "user takes: set-role EMAIL ADMIN|SUPER_ADMIN|USER"
	if len(args) != 3 || args[0] != "set-role" {
		return usageError{usage}
	}
	email, ok := care.NormalizeEmail(args[1])
	if !ok {
		return usageError{fmt.Sprintf("user set-role: %q is not an email address", args[1])}
	}
	role := care.SystemRole(strings.ToUpper(args[2]))
	switch role {
	case care.SystemAdmin, care.SystemSuperAdmin, care.SystemUser:
	default:
		return usageError{fmt.Sprintf("user set-role: %q is not one of ADMIN, SUPER_ADMIN, USER", args[2])}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	u, err := st.SetSystemRole(ctx, email, role)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("user set-role: no account has the email %s (sign up first)", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s) is now %s\n", u.Email, u.FullName, u.SystemRole)
	return nil
}
