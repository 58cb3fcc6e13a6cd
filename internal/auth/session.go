package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/carecircle/carecircle/internal/care"
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
// account that may act. It fails with ErrNoToken, ErrInvalidToken,
// ErrSessionEnded or ErrInactive, or with the database's error.
func Authenticate(ctx context.Context, tokens *Tokens, sessions *store.Store, token string) (*SignedIn, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	claims, err := tokens.Parse(token)
	if err != nil {
		return nil, err
	}
	sess, user, err := CheckSession(ctx, sessions, claims.SessionID, claims.Subject)
	if err != nil {
		return nil, err
	}
	return &SignedIn{Claims: claims, Session: sess, User: user}, nil
}

// CheckSession checks that a session is live (neither revoked nor expired),
// belongs to userID and that its user may act: ErrSessionEnded or
// ErrInactive when not. A connection that outlives its token checks its
// session this way.
func CheckSession(ctx context.Context, sessions *store.Store, sessionID, userID string) (*care.Session, *care.User, error) {
	sess, user, err := sessions.ActiveSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.UserID != userID) {
		return nil, nil, ErrSessionEnded
	}
	if err != nil {
		return nil, nil, err
	}
	if user.Status != care.UserActive {
		return nil, nil, ErrInactive
	}
	return sess, user, nil
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
