// Package storetest gives tests a freshly migrated store on every backend:
// a temporary SQLite file, and a PostgreSQL schema of its own when
// CARECIRCLE_TEST_POSTGRES_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
)

// Backend opens a migrated store for one test.
type Backend struct {
	Name string
	Open func(t testing.TB, clk clock.Clock) *store.Store
}

// Backends lists SQLite and, when configured, PostgreSQL. Each test that
// ranges over it runs its body once per backend.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Open: OpenSQLite},
		{Name: "postgres", Open: OpenPostgres},
	}
}

// ForEach runs fn as a parallel subtest on every backend.
func ForEach(t *testing.T, fn func(t *testing.T, open func(t testing.TB, clk clock.Clock) *store.Store)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.Open)
		})
	}
}

// OpenSQLite opens a migrated store on a temporary SQLite file.
func OpenSQLite(t testing.TB, clk clock.Clock) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		SQLitePath: filepath.Join(t.TempDir(), "carecircle.db"),
		Clock:      clk,
		MaxConns:   4,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// PostgresURL returns the test server's URL, skipping the test (or failing it
// when services are required) when none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_POSTGRES_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("PostgreSQL tests skipped: set CARECIRCLE_TEST_POSTGRES_URL to run them")
	}
	return u
}

// NewPostgresSchema creates an empty schema for one test, dropped at cleanup,
// and returns a connection URL whose search_path points at it.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	schema := "t_" + hex.EncodeToString(buf)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres opens a migrated store in a fresh PostgreSQL schema.
func OpenPostgres(t testing.TB, clk clock.Clock) *store.Store {
	t.Helper()
	dsn := NewPostgresSchema(t)
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: dsn, Clock: clk, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
