package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// Why an access token signs nobody in (Authenticate), besides
// ErrInvalidToken.
var (
	ErrNoToken      = errors.New("auth: no access token")
	ErrSessionEnded = errors.New("auth: session has ended")
	ErrInactive     = errors.New("auth: account is not active")
)

// SignedIn is who an access token signs in.
type SignedIn struct {
	Claims  *Claims
	Session *care.Session
	User    *care.User
}

// Authenticate checks an access token the same way for every door (the
// API, the web pages, the realtime connection): a good signature, not
// expired, a session that is live and belongs to the token's user, and an
// account that may act (Sessions.Check). It fails with ErrNoToken,
// ErrInvalidToken, ErrSessionEnded or ErrInactive, or with the database's
// error.
func Authenticate(ctx context.Context, tokens *Tokens, sessions *Sessions, token string) (*SignedIn, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	claims, err := tokens.Parse(token)
	if err != nil {
		return nil, err
	}
	sess, user, err := sessions.Check(ctx, claims.SessionID, claims.Subject)
	if err != nil {
		return nil, err
	}
	return &SignedIn{Claims: claims, Session: sess, User: user}, nil
}

// SessionCacheTTL is how long a checked session, with its user, is kept in
// a node's memory at most (never past the session's own expiry). It bounds
// how long a change stays unseen when no invalidation reaches the node (see
// Sessions). A client's requests come in bursts (an app opening makes
// five), which a few seconds cover, so a longer TTL would save little and
// widen that bound.
const SessionCacheTTL = 10 * time.Second

// Sessions checks sessions and their users, from the node's memory when it
// can, so that a signed-in request normally makes no database round trip
// for its session.
//
// A session that store.ActiveSession found live is kept, with its user as
// read with it, for SessionCacheTTL or until the session expires, whichever
// comes first, in the node-memory cache (kv.NodeCache with Redis,
// kv.MemoryCache on SQLite; with any other cache, or none, every check
// reads the database). Entries are kept per user (a cache namespace), and
// every write to a user's row or sessions drops all of that user's entries
// once it has committed (store.OnAccountsChanged: sign-out, sign-out
// everywhere, refresh, password change and reset, account deletion,
// suspension and its lifting, role, profile, email and phone verification,
// sign-in success and failure), whichever door or job made it:
//
//   - On the node that made the write the entry is gone before the write's
//     request answers: a revoked session is refused at once there.
//   - Other nodes drop it when the invalidation broadcast on the realtime
//     bus reaches them (a Redis PUBLISH, milliseconds). Until then they may
//     accept the session as it was. A node that does not receive the bus
//     checks every session in the database, and drops everything it kept
//     once it receives it again.
//   - A broadcast that fails while other nodes still receive the bus is
//     sent again until it goes out (kv.NodeCache); meanwhile those nodes
//     may accept the session as it was for at most SessionCacheTTL.
//   - A change made outside a running server (the "carecircle user
//     set-role" command, or SQL by hand) is not broadcast: it shows within
//     SessionCacheTTL.
//   - The sessions of system administrators are never kept: every one of
//     their requests reads the database, so that a demotion, even one made
//     from the command line, takes their rights away at once. A promotion
//     from the command line shows on an existing session within
//     SessionCacheTTL (and at once on a new one).
//
// A read that loaded a session while it was being ended is not kept, so a
// late read never undoes a revocation. Checks made in a transaction read
// the database.
type Sessions struct {
	store *store.Store
	cache kv.Cache
	clock clock.Clock
}

// NewSessions returns the session check over st, keeping checked sessions
// in cache when it is in the node's memory (kv.KeepsValues); it then
// registers with st to hear of every account change (one registration per
// cache, however many Sessions share it). Time comes from clk.
func NewSessions(st *store.Store, cache kv.Cache, clk clock.Clock) *Sessions {
	if clk == nil {
		clk = clock.Real{}
	}
	s := &Sessions{store: st, clock: clk}
	if kv.KeepsValues(cache) {
		s.cache = cache
		st.OnAccountsChanged(cache, s.forget)
	}
	return s
}

// checkedSession is what a cache entry holds: both are shared by every
// request that finds the entry, and never changed.
type checkedSession struct {
	session *care.Session
	user    *care.User
}

// Check checks that a session is live (neither revoked nor expired),
// belongs to userID and that its user may act: ErrSessionEnded or
// ErrInactive when not. A connection that outlives its token checks its
// session this way. The session and user returned are the caller's own.
func (s *Sessions) Check(ctx context.Context, sessionID, userID string) (*care.Session, *care.User, error) {
	c, err := s.active(ctx, sessionID, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.session.UserID != userID) {
		return nil, nil, ErrSessionEnded
	}
	if err != nil {
		return nil, nil, err
	}
	if c.user.Status != care.UserActive {
		return nil, nil, ErrInactive
	}
	sess, user := *c.session, *c.user
	return &sess, &user, nil
}

// active loads the live session with its user, from the cache when it can.
func (s *Sessions) active(ctx context.Context, sessionID, userID string) (checkedSession, error) {
	load := func() (checkedSession, time.Duration, error) {
		sess, user, err := s.store.ActiveSession(ctx, sessionID)
		if err != nil {
			return checkedSession{}, 0, err
		}
		ttl := min(SessionCacheTTL, sess.ExpiresAt.Sub(s.clock.Now()))
		if sess.UserID != userID || user.SystemRole.IsAdmin() {
			ttl = 0 // kept under userID, it must be userID's; see Sessions for admins
		}
		return checkedSession{session: sess, user: user}, ttl, nil
	}
	if s.cache == nil || s.store.InTransaction(ctx) {
		c, _, err := load()
		return c, err
	}
	return kv.GetOrLoadValue(ctx, s.cache, sessionKey(userID, sessionID), load)
}

// forget drops every kept session of the users, on this node at once and
// on the others by the cache's broadcast.
func (s *Sessions) forget(ctx context.Context, userIDs []string) {
	for _, id := range userIDs {
		// A node-memory cache does not fail; it sends a broadcast that
		// fails again until it goes out.
		_ = s.cache.Bump(ctx, sessionNamespace(id))
	}
}

// sessionNamespace holds the user's kept sessions.
func sessionNamespace(userID string) string { return "sessions:" + userID }

func sessionKey(userID, sessionID string) string {
	return kv.Key(sessionNamespace(userID), sessionID)
}

// AccessToken reads a request's bearer token, falling back to its
// access_token cookie; a request with another kind of Authorization header
// has none.
func AccessToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie("access_token"); err == nil {
		return c.Value
	}
	return ""
}
