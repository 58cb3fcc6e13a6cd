package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/kv"
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

// login signs a user in with email and password (see account.Login for
// the lockout, which treats an unknown email as a wrong password).
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var b loginRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.limit(ctx, "auth:login:"+b.Email, kv.Limit{Count: 10, Period: 15 * time.Minute}); err != nil {
		return err
	}
	in, err := s.svc.Account.Login(ctx, b.Email, b.Password, b.RememberMe, s.client(r))
	if err != nil {
		return err
	}
	s.writeSignIn(w, "", in)
	return nil
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
// token that was already exchanged betrays theft and ends its session, and
// the answer clears the cookies.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	old, err := s.refreshToken(w, r)
	if err != nil {
		return err
	}
	tok, err := s.svc.Account.Refresh(r.Context(), old)
	if errors.Is(err, account.ErrRefreshReused) {
		s.clearAuthCookies(w)
	}
	if err != nil {
		return err
	}
	s.setAuthCookies(w, tok.Access, tok.Refresh, tok.TTL)
	writeJSON(w, http.StatusOK, tokenPair{AccessToken: tok.Access, RefreshToken: tok.Refresh})
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
	other := ""
	if b.RefreshToken != nil {
		other = *b.RefreshToken
	}
	if err := s.svc.Account.Logout(r.Context(), *p, other); err != nil {
		return err
	}
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
	if err := s.svc.Account.LogoutAll(r.Context(), *p); err != nil {
		return err
	}
	s.clearAuthCookies(w)
	writeAuthMessage(w, "Logged out from all devices")
	return nil
}

// sessions lists the caller's live sessions, marking the current one.
func (s *Server) sessions(w http.ResponseWriter, r *http.Request, p *Principal) error {
	list, err := s.svc.Account.Sessions(r.Context(), *p)
	return writeOK(w, list, err)
}
