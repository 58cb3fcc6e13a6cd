// Package feature is the base of CareCircle's application layer. Each
// feature (family, care recipients, medications, appointments, shifts,
// emergency, timeline, documents, notifications, account) is a package
// under internal/feature holding its commands and queries; the HTTP API,
// the web pages and the jobs are three doors into them, and none of those
// reads the store or opens a transaction on its own.
//
// A command checks who may run it (Base.Member, Base.CareRecipient),
// applies the rules (the pure ones live in internal/care), runs one
// transaction (Base.Atomically), records its events (Base.Emit) and
// notifications (Base.NotifyUsers, Base.NotifyFamily) in it, and drops the
// cache entries it changes (Base.FamilyChanged, Base.MembershipsChanged),
// which happens once the transaction has committed. A query checks access
// and reads, through the cache where the feature caches.
//
// Failures a caller may show are *Error values of a Kind (not found,
// forbidden, conflict, invalid…); the API turns a Kind into an HTTP status
// and the pages into a page. Any other error is a fault.
package feature

import (
	"context"
	"log/slog"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// Deps are what the application layer is built from.
type Deps struct {
	Store *store.Store
	// Cache keeps read results (see cache.go); nil reads the database every
	// time.
	Cache  kv.Cache
	Clock  clock.Clock
	Logger *slog.Logger
	// Mail sends transactional mail (SendNow); nil fails every such send.
	Mail mail.Sender
}

// Base is what every feature's service shares: the store, the cache, the
// clock and the logger, with access checks, events, notifications and
// cache invalidation on top. Feature packages embed it; only they call the
// store.
type Base struct {
	Store  *store.Store
	Cache  kv.Cache
	Clock  clock.Clock
	Logger *slog.Logger
	Mail   mail.Sender
	// sessions is the session check (Authenticate), from the cache.
	sessions *auth.Sessions
	zones    zones
}

// New builds the base the feature services share.
func New(d Deps) *Base {
	b := &Base{Store: d.Store, Cache: d.Cache, Clock: d.Clock, Logger: d.Logger, Mail: d.Mail}
	if b.Clock == nil {
		b.Clock = clock.Real{}
	}
	b.sessions = auth.NewSessions(d.Store, d.Cache, b.Clock)
	if b.Logger == nil {
		b.Logger = slog.New(slog.DiscardHandler)
	}
	return b
}

// Atomically runs fn in one transaction (or in the caller's, when ctx
// already carries one): every write, event and notification it makes
// commits together or not at all, and the after-commit hooks (cache drops,
// waking the dispatcher) run only once it has committed.
func (b *Base) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	return b.Store.Atomically(ctx, fn)
}

// correlationKey carries the id that ties a request's events and
// notifications to it (the API's request id).
type correlationKey struct{}

// WithCorrelation returns ctx carrying id as the correlation id of the
// events and notifications recorded under it.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// Correlation returns the correlation id ctx carries, or "".
func Correlation(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// Input reads a command's input, decoding and checking it. A command calls
// it once it has checked access, and before it changes anything, so that
// someone without access learns nothing from the input's validation.
type Input[T any] func() (T, error)

// Edit changes a loaded value as the caller asked; returning an error
// (KindInvalid for a result that breaks a rule) abandons the change.
type Edit[T any] func(*T) error
