package feature

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// What the application layer caches, and what drops it. Reads go through the cache
// (cache-aside: a miss loads from the database and fills the cache); every
// write that changes a cached read invalidates it after the write has
// committed (the invalidation is registered in the write's transaction with
// store.OnCommit, so a rolled-back write drops nothing), on this node at once
// and on every other node as soon as the invalidation broadcast on the
// realtime bus arrives (kv.NodeCache), so the next read anywhere sees the
// write.
//
//   - A family's view (its name and care recipients) is cached per family
//     for FamilyViewTTL. GET /families/{id}/care-recipients answers from
//     it, and GET /auth/me builds each family from it. FamilyChanged drops
//     it, and every other read cached with FamilyRead, in one command
//     (a namespace bump): after a care recipient is created, changed or
//     deleted, and after the family is renamed or deleted.
//   - A user's memberships (which families, with which role) are cached per
//     user for MembershipsTTL, for GET /auth/me and, in node memory, for the
//     access checks (Base.Member, Base.Family, Base.CareRecipient; see
//     access.go), which trust them only to let a member in. MembershipsChanged
//     drops them, for any number of users in one command: after a family is
//     created, an invitation accepted, a role changed, a member removed, an
//     account deleted and a family deleted. A deleted family's view also
//     says it is gone, and /auth/me and the access checks go by that too.
//   - Which family a care recipient belongs to is kept in node memory for
//     CareRecipientFamilyTTL; it never changes. The care recipient is then
//     read from the family's view, so no write to them needs more than
//     FamilyChanged.
//
// The account is cached only with the session check (auth.Sessions,
// Base.Authenticate): a session with its user, per user, for at most
// auth.SessionCacheTTL. No feature drops it by hand: the store tells the
// cache of every committed write to a user's row or sessions
// (store.OnAccountsChanged), so a profile, onboarding or password change
// shows on the next request, and a revoked session or barred account is
// refused at once on the node that made the change and on the others when
// the invalidation arrives.
//
// The cache is in each node's memory. Without Redis there is a cache only
// on SQLite (one node by construction); with Redis, while a node does not
// receive the bus it is bypassed, and when it does again the node drops
// everything it cached, since it may have missed invalidations.
const (
	MembershipsTTL = 5 * time.Minute
	FamilyViewTTL  = 5 * time.Minute
)

// The emergency information card is deliberately not cached: it gathers
// medications, contacts, doctors, members' phones and documents, whose
// writes do not all pass through one family invalidation (a member's phone
// is an account change), and a stale allergy or medication list is the one
// read a family must never get. It costs a few indexed queries on a rare
// read.

// FamilyRead answers a read of a family's data from the cache, or
// calls load and caches its result for ttl. name tells the reads of one
// family apart; FamilyChanged drops them all. Whatever load reads, every
// write to it must call b.FamilyChanged in its transaction.
//
// A cache that fails only costs the load. T must survive a JSON round trip
// (a Redis cache keeps it encoded), and what is returned must not be changed:
// a node-memory cache hands the same value to every reader (see
// cachedRead). Inside a transaction the cache is bypassed: what the
// transaction reads may never commit, and must not be kept for others.
func FamilyRead[T any](ctx context.Context, b *Base, familyID, name string, ttl time.Duration, load func() (T, error)) (T, error) {
	if b.Store.InTransaction(ctx) {
		return load()
	}
	return cachedRead(ctx, b.Cache, familyCacheKey(familyID, name), ttl, load)
}

// cachedRead reads through the cache (cache-aside). A cache in the node's
// memory keeps the value as it is (kv.GetOrLoadValue), which spares every
// hit a JSON decode but shares the value between readers, so nobody may
// change it; any other cache keeps it as JSON (kv.GetOrLoad).
func cachedRead[T any](ctx context.Context, c kv.Cache, key string, ttl time.Duration, load func() (T, error)) (T, error) {
	if !kv.KeepsValues(c) {
		return kv.GetOrLoad(ctx, c, key, ttl, load)
	}
	return kv.GetOrLoadValue(ctx, c, key, func() (T, time.Duration, error) {
		v, err := load()
		return v, ttl, err
	})
}

// familyCacheKey is a key in the family's namespace.
func familyCacheKey(familyID, name string) string {
	return kv.Key(familyNamespace(familyID), name)
}

func familyNamespace(familyID string) string { return "family:" + familyID }

// MembershipsKey holds a user's memberships.
func MembershipsKey(userID string) string { return "memberships:" + userID }

// FamilyChanged drops every cached read of the family, on every node (one
// PUBLISH on the bus), once the transaction ctx carries has committed, and
// never if it rolls back (store.OnCommit); without a transaction, at once.
// Call it in the transaction that writes the change, next to the write: a
// drop before the commit would let a read in between cache the old state
// again.
func (b *Base) FamilyChanged(ctx context.Context, familyID string) {
	if b.Cache == nil {
		return
	}
	b.Store.OnCommit(ctx, func() {
		if err := b.Cache.Bump(ctx, familyNamespace(familyID)); err != nil {
			b.cacheFailed(ctx, err)
		}
	})
}

// MembershipsChanged drops the cached memberships of the users, on every
// node, once the transaction ctx carries has committed (never if it rolls
// back); without a transaction, at once.
func (b *Base) MembershipsChanged(ctx context.Context, userIDs ...string) {
	if b.Cache == nil || len(userIDs) == 0 {
		return
	}
	keys := make([]string, len(userIDs))
	for i, id := range userIDs {
		keys[i] = MembershipsKey(id)
	}
	b.Store.OnCommit(ctx, func() {
		if err := b.Cache.Delete(ctx, keys...); err != nil {
			b.cacheFailed(ctx, err)
		}
	})
}

// cacheFailed reports an invalidation that did not happen: the entry stays
// stale until its TTL ends. (While Redis is away, invalidations are kept and
// replayed instead, and do not fail.)
func (b *Base) cacheFailed(ctx context.Context, err error) {
	b.Logger.ErrorContext(ctx, "cache invalidation failed; stale reads possible until the TTL ends", slog.Any("error", err))
}

// FamilyView is what reads of a family share: its name and care recipients,
// or that it is gone.
type FamilyView struct {
	Gone           bool                 `json:"gone,omitempty"`
	Name           string               `json:"name"`
	CareRecipients []care.CareRecipient `json:"careRecipients"`
}

// FamilyViewsInMemory reports whether FamilyView answers from the node's
// memory here, at the cost of a map lookup; elsewhere (another cache, none,
// or inside a transaction) it costs a round trip or two.
func (b *Base) FamilyViewsInMemory(ctx context.Context) bool {
	return kv.KeepsValues(b.Cache) && !b.Store.InTransaction(ctx)
}

// FamilyView returns the family's name and care recipients, from the cache
// when it can; the care recipients are the caller's own slice.
func (b *Base) FamilyView(ctx context.Context, familyID string) (FamilyView, error) {
	v, err := b.familyView(ctx, familyID)
	v.CareRecipients = slices.Clone(v.CareRecipients)
	return v, err
}

func (b *Base) familyView(ctx context.Context, familyID string) (FamilyView, error) {
	return FamilyRead(ctx, b, familyID, "view", FamilyViewTTL, func() (FamilyView, error) {
		f, err := b.Store.Family(ctx, familyID)
		if errors.Is(err, store.ErrNotFound) {
			return FamilyView{Gone: true, CareRecipients: []care.CareRecipient{}}, nil
		}
		if err != nil {
			return FamilyView{}, err
		}
		crs, err := b.Store.CareRecipients(ctx, familyID)
		if err != nil {
			return FamilyView{}, err
		}
		return FamilyView{Name: f.Name, CareRecipients: crs}, nil
	})
}

// Membership is one family of a user, with the user's role in it.
type Membership struct {
	FamilyID string    `json:"familyId"`
	Role     care.Role `json:"role"`
}

// UserFamilies lists the user's families with their care recipients, as
// GET /auth/me shows them: the memberships from the user's cache entry, each
// family from its own.
func (b *Base) UserFamilies(ctx context.Context, userID string) ([]care.FamilySummary, error) {
	ms, err := b.memberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]care.FamilySummary, 0, len(ms))
	for _, m := range ms {
		v, err := b.FamilyView(ctx, m.FamilyID)
		if err != nil {
			return nil, err
		}
		if v.Gone {
			continue
		}
		out = append(out, care.FamilySummary{ID: m.FamilyID, Name: v.Name, Role: m.Role, CareRecipients: v.CareRecipients})
	}
	return out, nil
}

// memberships returns the user's active memberships, oldest family first,
// from the cache when it can; nobody may change what it returns (see
// cachedRead).
func (b *Base) memberships(ctx context.Context, userID string) ([]Membership, error) {
	cache := b.Cache
	if b.Store.InTransaction(ctx) {
		cache = nil // see FamilyRead
	}
	return cachedRead(ctx, cache, MembershipsKey(userID), MembershipsTTL, func() ([]Membership, error) {
		fams, err := b.Store.UserFamilies(ctx, userID)
		if err != nil {
			return nil, err
		}
		out := make([]Membership, len(fams))
		for i, f := range fams {
			out[i] = Membership{FamilyID: f.ID, Role: f.Role}
		}
		return out, nil
	})
}
