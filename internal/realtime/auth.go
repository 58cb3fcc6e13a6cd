package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/golang-jwt/jwt/v5"

	"github.com/carecircle/carecircle/internal/auth"
)

// identity is who a connection belongs to, and until when its token holds.
type identity struct {
	UserID    string
	SessionID string
	Expires   time.Time
}

var (
	errNoToken      = errors.New("realtime: no access token")
	errTokenExpired = errors.New("realtime: access token expired")
	errBadToken     = errors.New("realtime: access token refused")
)

// verify checks an access token as the API's authenticated routes do: a
// good signature, not expired, a live session of the token's user, and an
// active account.
func (n *Node) verify(ctx context.Context, token string) (identity, error) {
	if token == "" {
		return identity{}, errNoToken
	}
	if n.tokens == nil {
		return identity{}, errBadToken
	}
	in, err := auth.Authenticate(ctx, n.tokens, n.sessions, token)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		if n.expired(token) {
			return identity{}, errTokenExpired
		}
		return identity{}, errBadToken
	case errors.Is(err, auth.ErrSessionEnded), errors.Is(err, auth.ErrInactive):
		return identity{}, errBadToken
	case err != nil:
		return identity{}, err
	}
	return identity{UserID: in.Claims.Subject, SessionID: in.Claims.SessionID, Expires: in.Claims.ExpiresAt.Time}, nil
}

// expired reports whether a token that failed verification is well formed
// but past its expiry, so that the client fetches a fresh one instead of
// giving up.
func (n *Node) expired(token string) bool {
	var c auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil || c.ExpiresAt == nil {
		return false
	}
	return !c.ExpiresAt.After(n.clock.Now())
}

// sessionLive checks that the session is neither revoked nor expired and
// that its user may still act.
func (n *Node) sessionLive(ctx context.Context, sessionID, userID string) error {
	_, _, err := n.sessions.Check(ctx, sessionID, userID)
	if errors.Is(err, auth.ErrSessionEnded) || errors.Is(err, auth.ErrInactive) {
		return errBadToken
	}
	return err
}

// expireAt turns a token's expiry, measured by the CareCircle clock, into
// the wall-clock Unix time Centrifuge expires connections at.
func (n *Node) expireAt(expires time.Time) int64 {
	return time.Now().Add(expires.Sub(n.clock.Now())).Unix()
}

type ctxKey int

const (
	httpIdentityKey ctxKey = iota // identity from the HTTP request's header or cookie
	httpAuthErrKey                // why that failed, when a token was sent
	connIdentityKey               // the connection's identity after connecting
)

// authenticateRequest verifies a token sent with the HTTP request (a
// Bearer header or the access_token cookie) and keeps the outcome in the
// request's context for onConnecting. A connect token, when the client sends
// one, takes precedence.
func (n *Node) authenticateRequest(r *http.Request) *http.Request {
	tok := auth.AccessToken(r)
	if tok == "" {
		return r
	}
	ctx := r.Context()
	id, err := n.verify(ctx, tok)
	if err != nil {
		return r.WithContext(context.WithValue(ctx, httpAuthErrKey, err))
	}
	return r.WithContext(context.WithValue(ctx, httpIdentityKey, id))
}

// onConnecting authenticates a connection: with the connect token when the
// client sends one (refreshed by the client through getToken), else with the
// HTTP request's header or cookie (refreshed on the server while the session
// lives). Every connection joins its user's channel.
func (n *Node) onConnecting(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
	var (
		id         identity
		err        error
		clientSide bool
	)
	switch {
	case e.Token != "":
		id, err = n.verify(ctx, e.Token)
		clientSide = true
	case ctx.Value(httpIdentityKey) != nil:
		id = ctx.Value(httpIdentityKey).(identity)
	case ctx.Value(httpAuthErrKey) != nil:
		err = ctx.Value(httpAuthErrKey).(error)
	default:
		err = errNoToken
	}
	if err != nil {
		return centrifuge.ConnectReply{}, connectError(err)
	}
	return centrifuge.ConnectReply{
		Context:           context.WithValue(ctx, connIdentityKey, id),
		Credentials:       &centrifuge.Credentials{UserID: id.UserID, ExpireAt: n.expireAt(id.Expires)},
		ClientSideRefresh: clientSide,
		Labels:            map[string]string{sessionLabel: id.SessionID},
		Subscriptions: map[string]centrifuge.SubscribeOptions{
			userChannel(id.UserID): {EnableRecovery: true, EnablePositioning: true},
		},
	}, nil
}

// connectError tells the client what to do: fetch a fresh token when it
// expired, retry later when the database did not answer, else stop.
func connectError(err error) error {
	switch {
	case errors.Is(err, errTokenExpired):
		return centrifuge.ErrorTokenExpired
	case errors.Is(err, errNoToken), errors.Is(err, errBadToken):
		return centrifuge.DisconnectInvalidToken
	default:
		return centrifuge.ErrorInternal
	}
}

// onConnect registers the connection's handlers.
func (n *Node) onConnect(c *centrifuge.Client) {
	c.OnRefresh(func(e centrifuge.RefreshEvent, cb centrifuge.RefreshCallback) {
		cb(n.refresh(c, e))
	})
	c.OnSubscribe(func(e centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
		cb(n.subscribe(c, e))
	})
	c.OnPresence(func(e centrifuge.PresenceEvent, cb centrifuge.PresenceCallback) {
		if !c.IsSubscribed(e.Channel) {
			cb(centrifuge.PresenceReply{}, centrifuge.ErrorPermissionDenied)
			return
		}
		cb(centrifuge.PresenceReply{}, nil)
	})
	c.OnPresenceStats(func(e centrifuge.PresenceStatsEvent, cb centrifuge.PresenceStatsCallback) {
		if !c.IsSubscribed(e.Channel) {
			cb(centrifuge.PresenceStatsReply{}, centrifuge.ErrorPermissionDenied)
			return
		}
		cb(centrifuge.PresenceStatsReply{}, nil)
	})
}

// refresh extends a connection whose token is expiring. A client that
// connected with a token sends a fresh one of the same user; a connection
// authenticated by header or cookie lives on while its session does.
func (n *Node) refresh(c *centrifuge.Client, e centrifuge.RefreshEvent) (centrifuge.RefreshReply, error) {
	ctx := c.Context()
	if e.ClientSideRefresh {
		id, err := n.verify(ctx, e.Token)
		if err != nil || id.UserID != c.UserID() {
			if err != nil && !errors.Is(err, errTokenExpired) && !errors.Is(err, errBadToken) {
				return centrifuge.RefreshReply{}, centrifuge.ErrorInternal
			}
			return centrifuge.RefreshReply{Expired: true}, nil
		}
		return centrifuge.RefreshReply{ExpireAt: n.expireAt(id.Expires)}, nil
	}
	id, _ := ctx.Value(connIdentityKey).(identity)
	if err := n.sessionLive(ctx, id.SessionID, c.UserID()); err != nil {
		if errors.Is(err, errBadToken) {
			return centrifuge.RefreshReply{Expired: true}, nil
		}
		n.logger.Warn("realtime: refresh", slog.Any("error", err))
		// Try again shortly rather than dropping the client for a database hiccup.
		return centrifuge.RefreshReply{ExpireAt: time.Now().Add(30 * time.Second).Unix()}, nil
	}
	return centrifuge.RefreshReply{ExpireAt: n.expireAt(n.clock.Now().Add(n.tokens.TTL()))}, nil
}
