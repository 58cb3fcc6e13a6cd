package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises migrations
// across nodes starting together ("CareCare" in ASCII).
const migrationLockKey = 0x4361726543617265

// Migration is one numbered schema change.
type Migration struct {
	Version   int
	Name      string
	SQL       string
	AppliedAt *time.Time
}

// Migrations lists this dialect's migrations with the time each was applied
// (nil when pending).
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	all, err := migrationsFor(s.dialect)
	if err != nil {
		return nil, err
	}
	if err := s.ensureMigrationTable(ctx, s.w); err != nil {
		return nil, err
	}
	applied, err := appliedMigrations(ctx, s.r)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if at, ok := applied[all[i].Version]; ok {
			all[i].AppliedAt = &at
		}
	}
	return all, nil
}

// Migrate applies every pending migration, each in its own transaction. On
// PostgreSQL it holds an advisory lock so concurrent starters wait for each
// other instead of racing.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	all, err := migrationsFor(s.dialect)
	if err != nil {
		return 0, err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
			return 0, fmt.Errorf("store: migrate: take lock: %w", err)
		}
		defer func() {
			// A fresh context: the lock must be released even when ctx is done.
			_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey))
		}()
	}
	if err := s.ensureMigrationTable(ctx, conn); err != nil {
		return 0, err
	}
	done, err := appliedMigrations(ctx, conn)
	if err != nil {
		return 0, err
	}
	for _, m := range all {
		if _, ok := done[m.Version]; ok {
			continue
		}
		if err := s.applyMigration(ctx, conn, m); err != nil {
			return applied, err
		}
		applied++
	}
	return applied, nil
}

func (s *Store) applyMigration(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migration %04d: %w", m.Version, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("store: migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.Version, m.Name, ts(s.now())); err != nil {
		return fmt.Errorf("store: record migration %04d: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit migration %04d: %w", m.Version, err)
	}
	return nil
}

func (s *Store) ensureMigrationTable(ctx context.Context, q querier) error {
	_, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	return nil
}

func appliedMigrations(ctx context.Context, q querier) (map[int]time.Time, error) {
	rows, err := q.QueryContext(ctx, "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]time.Time{}
	for rows.Next() {
		var v int
		var at time.Time
		if err := rows.Scan(&v, timeCol{&at}); err != nil {
			return nil, fmt.Errorf("store: read schema_migrations: %w", err)
		}
		out[v] = at
	}
	return out, rows.Err()
}

// migrationsFor reads the embedded migrations of a dialect, ordered by number.
// Files are named NNNN_description.sql.
func migrationsFor(d Dialect) ([]Migration, error) {
	dir := "migrations/" + string(d)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]bool{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, desc, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %s is not named NNNN_description.sql", e.Name())
		}
		if seen[v] {
			return nil, fmt.Errorf("store: two migrations numbered %d", v)
		}
		seen[v] = true
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: desc, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// WithMigrationLock runs fn while holding the migration lock (PostgreSQL's
// advisory lock; SQLite needs none beyond its single writer), for schema
// work done by other components such as the job queue.
func (s *Store) WithMigrationLock(ctx context.Context, fn func() error) error {
	if s.dialect != Postgres {
		return fn()
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey))
	}()
	return fn()
}
