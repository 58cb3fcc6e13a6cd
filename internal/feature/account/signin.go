package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Client is the device a sign-in comes from, as its request tells it.
type Client struct {
	Device    string // a label such as "Firefox on Windows"
	IP        string
	UserAgent string
}

// Tokens are the credentials a sign-in or a refresh hands out, with how
// long the refresh token lives.
type Tokens struct {
	Access  string
	Refresh string
	TTL     time.Duration
}

// SignIn is a user just signed in on a device: the session's tokens, the
// account and the families they belong to, since clients route on them
// right after signing in.
type SignIn struct {
	Tokens
	User     *care.User
	Families []care.FamilySummary
}

// ErrRefreshReused refuses a refresh token that was already exchanged,
// which betrays theft: its session has been ended.
var ErrRefreshReused = feature.Errorf(feature.KindUnauthenticated, "Refresh token was already used; the session has been ended")

// unauthenticated is a KindUnauthenticated failure.
func unauthenticated(msg string) error { return feature.Errorf(feature.KindUnauthenticated, "%s", msg) }

// Login signs a user in with email and password. Wrong passwords count
// towards a temporary lock of the email address. An unknown email takes the
// same path: its failures are counted and locked alike, and every attempt,
// locked or not, costs one password check (against a dummy hash when there
// is no account), so neither the answers nor their timing tell whether an
// account exists.
func (s *Service) Login(ctx context.Context, email, password string, rememberMe bool, c Client) (*SignIn, error) {
	lockKey := loginLockKey(email)
	locked, _, err := s.lockout.Locked(ctx, lockKey)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	u, err := s.b.Store.UserByEmail(ctx, email)
	if err != nil && !feature.IsNotFound(err) {
		return nil, err
	}
	hash := DummyPasswordHash
	if u != nil {
		hash = u.PasswordHash
	}
	matched := s.check(hash, password) && u != nil
	if locked {
		return nil, feature.Forbidden("Account is locked. Try again later.")
	}
	if !matched {
		if _, _, err := s.lockout.Fail(ctx, lockKey, loginLockoutPolicy); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, unauthenticated("Invalid email or password")
	}
	// Only now, with the password proven, may the answer reveal the state.
	if err := statusRefusal(u.Status); err != nil {
		return nil, err
	}
	if err := s.b.Store.RecordLoginSuccess(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	s.liftLoginLock(ctx, u.Email)
	if u, err = s.b.Store.UserByID(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s.signIn(ctx, u, rememberMe, c)
}

// statusRefusal refuses an account in a state that may not sign in, or is
// nil for an active one.
func statusRefusal(st care.UserStatus) error {
	switch st {
	case care.UserActive:
		return nil
	case care.UserPending:
		return feature.Forbidden("Please verify your email")
	default:
		return feature.Forbidden("Account is not active")
	}
}

// signIn signs the user in on the client's device: it opens a session with
// a fresh refresh token, issues an access token for it, and reads the
// user's families.
func (s *Service) signIn(ctx context.Context, u *care.User, rememberMe bool, c Client) (*SignIn, error) {
	ttl := SessionTTL
	if rememberMe {
		ttl = RememberedSessionTTL
	}
	refresh := auth.NewOpaqueToken()
	sess, err := s.b.Store.CreateSession(ctx, store.NewSession{
		UserID:      u.ID,
		DeviceInfo:  nilIfEmpty(c.Device),
		IPAddress:   nilIfEmpty(c.IP),
		UserAgent:   nilIfEmpty(care.ClipUTF8(c.UserAgent, 512)),
		RememberMe:  rememberMe,
		TTL:         ttl,
		RefreshHash: auth.HashToken(refresh),
	})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	access, err := s.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	families, err := s.b.UserFamilies(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	return &SignIn{Tokens: Tokens{Access: access, Refresh: refresh, TTL: ttl}, User: u, Families: families}, nil
}

// Refresh exchanges a refresh token for a new access and refresh token,
// keeping the session's choice of lifetime. A token that was already
// exchanged betrays theft and ends its session (ErrRefreshReused).
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	oldHash := auth.HashToken(token)
	// The session's own choice of lifetime carries over; when the lookup
	// fails the rotation below reports why.
	ttl := SessionTTL
	if sess, err := s.b.Store.SessionByRefreshToken(ctx, oldHash); err == nil && sess.RememberMe {
		ttl = RememberedSessionTTL
	} else if err != nil && !feature.IsNotFound(err) {
		return Tokens{}, err
	}
	next := auth.NewOpaqueToken()
	sess, err := s.b.Store.RotateRefreshToken(ctx, oldHash, auth.HashToken(next), ttl)
	switch {
	case errors.Is(err, store.ErrTokenReused):
		return Tokens{}, ErrRefreshReused
	case feature.IsNotFound(err):
		return Tokens{}, unauthenticated("Invalid or expired refresh token")
	case err != nil:
		return Tokens{}, err
	}
	u, err := s.b.Store.UserByID(ctx, sess.UserID)
	if err != nil {
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	}
	if u.Status != care.UserActive {
		return Tokens{}, unauthenticated("Account is not active")
	}
	access, err := s.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	}
	return Tokens{Access: access, Refresh: next, TTL: ttl}, nil
}

// Logout ends the actor's session and, when otherRefresh is the refresh
// token of another of the actor's sessions, that one too, closing their
// realtime connections; the actor's other sessions stay connected.
func (s *Service) Logout(ctx context.Context, a feature.Actor, otherRefresh string) error {
	if otherRefresh != "" {
		other, err := s.b.Store.SessionByRefreshToken(ctx, auth.HashToken(otherRefresh))
		if err == nil && other.UserID == a.User.ID && other.ID != a.Session.ID {
			if err := s.b.Store.RevokeSession(ctx, a.User.ID, other.ID, "logout"); err != nil && !feature.IsNotFound(err) {
				return err
			}
			s.sessionEnded(ctx, a.User.ID, other.ID)
		} else if err != nil && !feature.IsNotFound(err) {
			return err
		}
	}
	if err := s.b.Store.RevokeSession(ctx, a.User.ID, a.Session.ID, "logout"); err != nil && !feature.IsNotFound(err) {
		return err
	}
	s.sessionEnded(ctx, a.User.ID, a.Session.ID)
	return nil
}

// LogoutAll ends every session of the actor, this one included, and closes
// all their realtime connections.
func (s *Service) LogoutAll(ctx context.Context, a feature.Actor) error {
	if _, err := s.b.Store.RevokeUserSessions(ctx, a.User.ID, "", "logout all"); err != nil {
		return err
	}
	s.sessionsEnded(ctx, a.User.ID, "")
	return nil
}

// Sessions lists the actor's live sessions, marking the current one.
func (s *Service) Sessions(ctx context.Context, a feature.Actor) ([]care.Session, error) {
	list, err := s.b.Store.UserSessions(ctx, a.User.ID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Current = list[i].ID == a.Session.ID
	}
	return list, nil
}

// nilIfEmpty returns nil for "", so optional columns stay NULL.
func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
