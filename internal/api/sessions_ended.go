package api

import (
	"context"
	"log/slog"
)

// SessionDisconnector closes the realtime connections of sessions that have
// ended, on every node; the realtime node is one.
type SessionDisconnector interface {
	// DisconnectSession closes the connections of one of the user's sessions.
	DisconnectSession(userID, sessionID string) error
	// DisconnectUser closes every connection of the user except those of
	// keepSessionID (empty: none is kept).
	DisconnectUser(userID, keepSessionID string) error
}

// sessionEnded closes the realtime connections of a session just revoked.
// The session is already dead in the database, so a failure here only
// leaves the connections to be refused at their next token refresh; it is
// logged, not returned.
func (s *Server) sessionEnded(ctx context.Context, userID, sessionID string) {
	if s.realtime == nil {
		return
	}
	if err := s.realtime.DisconnectSession(userID, sessionID); err != nil {
		s.logger.WarnContext(ctx, "closing the realtime connections of an ended session failed", slog.Any("error", err))
	}
}

// sessionsEnded closes the realtime connections of every session of the
// user except keepSessionID, after they were revoked together.
func (s *Server) sessionsEnded(ctx context.Context, userID, keepSessionID string) {
	if s.realtime == nil {
		return
	}
	if err := s.realtime.DisconnectUser(userID, keepSessionID); err != nil {
		s.logger.WarnContext(ctx, "closing the realtime connections of ended sessions failed", slog.Any("error", err))
	}
}
