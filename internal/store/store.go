// Package store keeps CareCircle's data in SQLite (the embedded default) or
// PostgreSQL. Both dialects share one set of SQL statements; only schema
// migrations and error codes differ per dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/carecircle/carecircle/internal/clock"
)

// Dialect names the database engine behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the CareCircle database. It is safe for concurrent use.
type Store struct {
	dialect Dialect
	// w takes every write. On SQLite it holds a single connection, so writers
	// queue in Go instead of failing with SQLITE_BUSY; on PostgreSQL w and r
	// are the same pool.
	w     *sql.DB
	r     *sql.DB
	clock clock.Clock
	// onEvents, when set, is called after a commit that appended outbox
	// events, so an in-process dispatcher starts at once instead of polling.
	onEvents atomic.Pointer[func()]
	// watchers hear of committed changes to accounts and sessions
	// (OnAccountsChanged).
	watchers accountWatchers
}

// Options configures Open.
type Options struct {
	// DatabaseURL selects PostgreSQL when non-empty.
	DatabaseURL string
	// SQLitePath is the database file used when DatabaseURL is empty.
	SQLitePath string
	// Clock stamps created and updated times; the real clock when nil.
	Clock clock.Clock
	// MaxConns bounds the PostgreSQL pool and the SQLite reader pool.
	MaxConns int
}

// Open connects to the database chosen by opts. Call Migrate before use.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
	}
	s := &Store{clock: opts.Clock}
	if opts.DatabaseURL != "" {
		db, err := sql.Open("pgx", opts.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db.SetMaxOpenConns(opts.MaxConns)
		db.SetMaxIdleConns(opts.MaxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.dialect, s.w, s.r = Postgres, db, db
	} else {
		if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
		w, err := sql.Open("sqlite", sqliteDSN(opts.SQLitePath, false))
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		r, err := sql.Open("sqlite", sqliteDSN(opts.SQLitePath, true))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open sqlite readers: %w", err)
		}
		r.SetMaxOpenConns(opts.MaxConns)
		r.SetMaxIdleConns(opts.MaxConns)
		s.dialect, s.w, s.r = SQLite, w, r
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.w.PingContext(pingCtx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", s.dialect, err)
	}
	return s, nil
}

// sqliteDSN builds the connection string: WAL so readers never block the
// writer, a busy timeout for the rare lock wait, enforced foreign keys, and
// immediate transactions so a writer takes its lock up front.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close releases the database connections.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Dialect reports the database engine in use.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the writer handle, for components (such as the job queue) that
// share the database.
func (s *Store) DB() *sql.DB { return s.w }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// now returns the store's clock reading at the database's precision.
func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// newID returns a time-ordered UUID (v7), which keeps primary key indexes compact.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txKey carries a Store's open write transaction in a context.
type txKey struct{}

// ambient is the transaction Atomically opened, with the store it belongs to,
// what to run once it has committed, and whether outbox events were
// appended in it.
type ambient struct {
	store    *Store
	tx       *sql.Tx
	hooks    []func()
	appended bool
}

// txFrom returns the write transaction Atomically opened on s, if ctx carries one.
func (s *Store) txFrom(ctx context.Context) *sql.Tx {
	if a := s.ambientFrom(ctx); a != nil {
		return a.tx
	}
	return nil
}

func (s *Store) ambientFrom(ctx context.Context) *ambient {
	if a, ok := ctx.Value(txKey{}).(*ambient); ok && a.store == s {
		return a
	}
	return nil
}

// wq is where a single-statement write goes: the caller's transaction when
// there is one, the writer pool otherwise.
func (s *Store) wq(ctx context.Context) querier {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return s.w
}

// rq is where a read goes: the caller's transaction when there is one (so it
// sees its own writes), the reader pool otherwise.
func (s *Store) rq(ctx context.Context) querier {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return s.r
}

// Atomically runs fn so that every store call made with the context it is
// given commits together, or not at all: a state change, the domain events
// it appends to the outbox and the jobs it enqueues. Nested calls join the
// outer transaction. It is the one way to make several writes commit
// together; once the transaction has committed it runs the hooks registered
// with OnCommit, in order (none when it rolls back).
func (s *Store) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	a := &ambient{store: s}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a.tx = tx
		return fn(context.WithValue(ctx, txKey{}, a))
	})
	if err != nil {
		return err
	}
	for _, h := range a.hooks {
		h()
	}
	return nil
}

// InTransaction reports whether ctx carries a transaction (Atomically's):
// what is read through it may include writes not yet committed.
func (s *Store) InTransaction(ctx context.Context) bool { return s.txFrom(ctx) != nil }

// OnCommit runs fn once the transaction that ctx carries (Atomically's) has
// committed, and never if it rolls back. Whatever writes something that
// others must hear of after commit registers it here: appending an event
// wakes the outbox dispatcher this way, and a change to cached data drops
// the cache entry. Without a transaction in ctx the write it follows has
// committed already, and fn runs at once. Hooks run in the committing
// goroutine before Atomically returns, so fn must be short: a wake-up, a
// cache drop (at most one bounded broadcast), never a wait on other work.
func (s *Store) OnCommit(ctx context.Context, fn func()) {
	if a := s.ambientFrom(ctx); a != nil {
		a.hooks = append(a.hooks, fn)
		return
	}
	fn()
}

// inTx runs fn in a write transaction, committing when it returns nil. Inside
// Atomically it joins the caller's transaction, which commits later.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		return fn(tx)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return mapErr(tx.Commit())
}
