package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// Account security policy. The per-account request limits, applied on top
// of the per-client tiers where each route calls s.limit, are: register 10/h
// per address; login and verify-email 10/15 min per email; resend 5/h and
// forgot-password 3/h per email; change-password 5/15 min per user.
const (
	sessionTTL           = 7 * 24 * time.Hour  // a sign-in without rememberMe
	rememberedSessionTTL = 30 * 24 * time.Hour // a sign-in with rememberMe
	verifyCodeTTL        = 5 * time.Minute     // lifetime of an email verification code
	verifyCodeMaxTries   = 5                   // wrong tries that void a code
	verifyCodeCooldown   = time.Minute         // least time between two codes
	resetTokenTTL        = time.Hour           // lifetime of a password reset link
	maxLoginFailures     = 5                   // wrong passwords that lock an account
	loginLockout         = 30 * time.Minute    // how long a locked account stays locked
)

// dummyPasswordHash is checked against when no account matches a sign-in, so
// an unknown email costs as much time as a wrong password.
const dummyPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$2nemrRy9TJ7/CEHq9712SA$kr1aivZ9cSVAiGAvXP7fVnGDUXk022Iaj/JFeQQV0Jw"

// authRoutes registers the auth section of the contract.
func (s *Server) authRoutes() {
	s.route("POST", "/auth/register", s.register)
	s.route("POST", "/auth/verify-email", s.verifyEmail)
	s.route("POST", "/auth/resend-verification", s.resendVerification)
	s.route("POST", "/auth/login", s.login)
	s.route("POST", "/auth/refresh", s.refresh)
	s.authed("POST", "/auth/logout", s.logout)
	s.authed("POST", "/auth/logout-all", s.logoutAll)
	s.route("POST", "/auth/forgot-password", s.forgotPassword)
	s.route("GET", "/auth/verify-reset-token/{token}", s.verifyResetToken)
	s.route("POST", "/auth/reset-password", s.resetPassword)
	s.authed("POST", "/auth/change-password", s.changePassword)
	s.authed("GET", "/auth/sessions", s.sessions)
	s.authed("GET", "/auth/me", s.me)
	s.authed("PATCH", "/auth/me", s.updateMe)
	s.authed("POST", "/auth/complete-onboarding", s.completeOnboarding)
	s.authed("POST", "/auth/invalidate-cache", s.invalidateCache)
}

// tokenPair is the credentials a sign-in hands out.
type tokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// signInResponse answers login and email verification. The tokens appear
// both nested and at the top level, as existing clients read either; the
// user carries their families as GET /auth/me does, because clients route
// on them right after signing in.
type signInResponse struct {
	Message      string     `json:"message,omitempty"`
	Tokens       tokenPair  `json:"tokens"`
	AccessToken  string     `json:"accessToken"`
	RefreshToken string     `json:"refreshToken"`
	User         meResponse `json:"user"`
}

// writeAuthMessage answers 200 with {message}.
func writeAuthMessage(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
}

// startSession signs the user in on this device: it opens a session with a
// fresh refresh token, issues an access token for it and sets both cookies.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *care.User, rememberMe bool) (tokenPair, error) {
	ttl := sessionTTL
	if rememberMe {
		ttl = rememberedSessionTTL
	}
	refresh := auth.NewOpaqueToken()
	sess, err := s.store.CreateSession(r.Context(), store.NewSession{
		UserID:      u.ID,
		DeviceInfo:  nilIfEmpty(deviceLabel(r.UserAgent())),
		IPAddress:   nilIfEmpty(s.clientIP(r)),
		UserAgent:   nilIfEmpty(clipUTF8(r.UserAgent(), 512)),
		RememberMe:  rememberMe,
		TTL:         ttl,
		RefreshHash: auth.HashToken(refresh),
	})
	if err != nil {
		return tokenPair{}, fmt.Errorf("start session: %w", err)
	}
	access, err := s.tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		return tokenPair{}, fmt.Errorf("start session: %w", err)
	}
	s.setAuthCookies(w, access, refresh, ttl)
	return tokenPair{AccessToken: access, RefreshToken: refresh}, nil
}

// writeSignIn answers a successful sign-in with the user and their families.
func (s *Server) writeSignIn(ctx context.Context, w http.ResponseWriter, msg string, tok tokenPair, u *care.User) error {
	families, err := s.userFamilies(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	writeJSON(w, http.StatusOK, signInResponse{
		Message: msg, Tokens: tok, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		User: meResponse{User: u, Families: families},
	})
	return nil
}

// deviceLabel names the browser and platform in a User-Agent, such as
// "Firefox on Windows"; for other clients, the first product name ("curl").
func deviceLabel(ua string) string {
	browsers := []struct{ marker, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"Chrome/", "Chrome"}, {"CriOS/", "Chrome"}, {"Safari/", "Safari"},
	}
	platforms := []struct{ marker, name string }{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Macintosh", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	}
	var browser, platform string
	for _, b := range browsers {
		if strings.Contains(ua, b.marker) {
			browser = b.name
			break
		}
	}
	for _, p := range platforms {
		if strings.Contains(ua, p.marker) {
			platform = p.name
			break
		}
	}
	switch {
	case browser != "" && platform != "":
		return browser + " on " + platform
	case browser != "":
		return browser
	case platform != "":
		return platform
	}
	product, _, _ := strings.Cut(strings.TrimSpace(ua), "/")
	product, _, _ = strings.Cut(product, " ")
	return clipUTF8(product, 64)
}

// nilIfEmpty returns nil for "", so optional columns stay NULL.
func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// clipUTF8 shortens s to at most n bytes without splitting a character.
func clipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
