package api

import (
	"net/http"
	"strings"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/account"
)

// Account security policy (see internal/feature/account). The per-account
// request limits, applied on top of the per-client tiers where each route
// calls s.limit, are: register 10/h per address; login and verify-email
// 10/15 min per email; resend 5/h and forgot-password 3/h per email;
// change-password 5/15 min per user.
const (
	resetTokenTTL    = account.ResetTokenTTL    // lifetime of a password reset link
	maxLoginFailures = account.MaxLoginFailures // wrong passwords that lock an account
)

// dummyPasswordHash is what a sign-in for an unknown email is checked
// against (see account.DummyPasswordHash).
const dummyPasswordHash = account.DummyPasswordHash

// accountDeps are what the account service needs besides the base. The
// password check goes through s.checkPassword at each call, so a test may
// replace it after New; the codes and lockout default to the database
// there as here.
func (s *Server) accountDeps(d Deps) account.Deps {
	return account.Deps{
		Tokens: d.Tokens, Codes: d.Codes, Lockout: d.Lockout, SMS: d.SMS,
		SessionEnded: s.sessionEnded, SessionsEnded: s.sessionsEnded,
		CheckPassword: func(hash, password string) bool { return s.checkPassword(hash, password) },
		PublicURL:     s.cfg.PublicURL,
	}
}

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

// client is the device a request comes from, for the session a sign-in
// opens.
func (s *Server) client(r *http.Request) account.Client {
	return account.Client{Device: deviceLabel(r.UserAgent()), IP: s.clientIP(r), UserAgent: r.UserAgent()}
}

// writeSignIn sets the session's cookies and answers a successful sign-in
// with the user and their families.
func (s *Server) writeSignIn(w http.ResponseWriter, msg string, in *account.SignIn) {
	s.setAuthCookies(w, in.Access, in.Refresh, in.TTL)
	tok := tokenPair{AccessToken: in.Access, RefreshToken: in.Refresh}
	writeJSON(w, http.StatusOK, signInResponse{
		Message: msg, Tokens: tok, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		User: meResponse{User: in.User, Families: in.Families},
	})
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
	return care.ClipUTF8(product, 64)
}
