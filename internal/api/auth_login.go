package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// loginRequest is the body of POST /auth/login.
type loginRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	RememberMe bool   `json:"rememberMe"`
}

// Validate checks that both credentials are present. The password policy is
// not applied: it governs new passwords only.
func (b *loginRequest) Validate(p Problems) {
	b.Email = p.email("email", b.Email)
	if b.Password == "" {
		p.Add("password", "is required")
	}
}

// login signs a user in with email and password. Wrong passwords count
// towards a temporary lock of the email address. An unknown email takes the
// same path: its failures are counted and locked alike, and every attempt,
// locked or not, costs one argon2id check (against a dummy hash when there
// is no account), so neither the answers nor their timing tell whether an
// account exists.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var b loginRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:login:"+b.Email, kv.Limit{Count: 10, Period: 15 * time.Minute}); err != nil {
		return err
	}
	lockKey := loginLockKey(b.Email)
	locked, _, err := s.lockout.Locked(ctx, lockKey)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	u, err := s.store.UserByEmail(ctx, b.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := dummyPasswordHash
	if u != nil {
		hash = u.PasswordHash
	}
	matched := s.checkPassword(hash, b.Password) && u != nil
	if locked {
		return forbidden("Account is locked. Try again later.")
	}
	if !matched {
		if _, _, err := s.lockout.Fail(ctx, lockKey, loginLockoutPolicy); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		return unauthorized("Invalid email or password")
	}
	// Only now, with the password proven, may the answer reveal the state.
	if err := statusRefusal(u.Status); err != nil {
		return err
	}
	if err := s.store.RecordLoginSuccess(ctx, u.ID); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.liftLoginLock(ctx, u.Email)
	if u, err = s.store.UserByID(ctx, u.ID); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	tok, err := s.startSession(w, r, u, b.RememberMe)
	if err != nil {
		return err
	}
	return s.writeSignIn(ctx, w, "", tok, u)
}

// loginLockoutPolicy locks an account for loginLockout after
// maxLoginFailures wrong passwords within as long.
var loginLockoutPolicy = kv.LockoutPolicy{Max: maxLoginFailures, Window: loginLockout, LockFor: loginLockout}

// loginLockKey is where wrong passwords for an email address are counted:
// per address, account or not, so a lock looks the same for both.
func loginLockKey(email string) string { return store.AddressKey(store.PurposeLogin, email) }

// liftLoginLock forgets the wrong passwords for the account's email and any
// lock, after a sign-in or a new password. A failure only leaves the count
// to expire.
func (s *Server) liftLoginLock(ctx context.Context, email string) {
	if err := s.lockout.Reset(ctx, loginLockKey(email)); err != nil {
		s.logger.WarnContext(ctx, "lifting the login lock failed", slog.Any("error", err))
	}
}

// statusRefusal is the 403 for an account in a state that may not sign in,
// or nil for an active one.
func statusRefusal(st care.UserStatus) error {
	switch st {
	case care.UserActive:
		return nil
	case care.UserPending:
		return forbidden("Please verify your email")
	default:
		return forbidden("Account is not active")
	}
}

// refreshRequest is the body of POST /auth/refresh; the token may come from
// the refresh_token cookie instead.
type refreshRequest struct {
	RefreshToken *string `json:"refreshToken"`
}

// Validate bounds the token's size.
func (b *refreshRequest) Validate(p Problems) {
	if b.RefreshToken != nil && len(*b.RefreshToken) > 256 {
		p.Add("refreshToken", "is not a refresh token")
	}
}

// refreshToken reads the refresh token from the body or, failing that, the
// cookie; a cookie-borne token must come from a trusted origin, as any
// cookie-authenticated write.
func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) (string, error) {
	var b refreshRequest
	if err := decodeOptional(w, r, &b); err != nil {
		return "", err
	}
	if b.RefreshToken != nil && *b.RefreshToken != "" {
		return *b.RefreshToken, nil
	}
	c, err := r.Cookie("refresh_token")
	if err != nil || c.Value == "" {
		return "", unauthorized("Refresh token required")
	}
	if !s.trustedOrigin(r) {
		return "", forbidden("Cross-site request refused")
	}
	return c.Value, nil
}

// refresh exchanges a refresh token for a new access and refresh token. A
// token that was already exchanged betrays theft and ends its session.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	old, err := s.refreshToken(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	oldHash := auth.HashToken(old)
	// The session's own choice of lifetime carries over; when the lookup
	// fails the rotation below reports why.
	ttl := sessionTTL
	if sess, err := s.store.SessionByRefreshToken(ctx, oldHash); err == nil && sess.RememberMe {
		ttl = rememberedSessionTTL
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	next := auth.NewOpaqueToken()
	sess, err := s.store.RotateRefreshToken(ctx, oldHash, auth.HashToken(next), ttl)
	switch {
	case errors.Is(err, store.ErrTokenReused):
		s.clearAuthCookies(w)
		return unauthorized("Refresh token was already used; the session has been ended")
	case errors.Is(err, store.ErrNotFound):
		return unauthorized("Invalid or expired refresh token")
	case err != nil:
		return err
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	if u.Status != care.UserActive {
		return unauthorized("Account is not active")
	}
	access, err := s.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	s.setAuthCookies(w, access, next, ttl)
	writeJSON(w, http.StatusOK, tokenPair{AccessToken: access, RefreshToken: next})
	return nil
}

// logout ends the caller's session and, when a refresh token of another of
// the caller's sessions is given, that one too, closing their realtime
// connections; the caller's other sessions stay connected.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b refreshRequest
	if err := decodeOptional(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if b.RefreshToken != nil && *b.RefreshToken != "" {
		other, err := s.store.SessionByRefreshToken(ctx, auth.HashToken(*b.RefreshToken))
		if err == nil && other.UserID == p.User.ID && other.ID != p.Session.ID {
			if err := s.store.RevokeSession(ctx, p.User.ID, other.ID, "logout"); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			s.sessionEnded(ctx, p.User.ID, other.ID)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := s.store.RevokeSession(ctx, p.User.ID, p.Session.ID, "logout"); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.sessionEnded(ctx, p.User.ID, p.Session.ID)
	s.clearAuthCookies(w)
	writeAuthMessage(w, "Logged out successfully")
	return nil
}

// logoutAll ends every session of the caller, this one included, and
// closes all their realtime connections.
func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	if _, err := s.store.RevokeUserSessions(r.Context(), p.User.ID, "", "logout all"); err != nil {
		return err
	}
	s.sessionsEnded(r.Context(), p.User.ID, "")
	s.clearAuthCookies(w)
	writeAuthMessage(w, "Logged out from all devices")
	return nil
}

// sessions lists the caller's live sessions, marking the current one.
func (s *Server) sessions(w http.ResponseWriter, r *http.Request, p *Principal) error {
	list, err := s.store.UserSessions(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Current = list[i].ID == p.Session.ID
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}
