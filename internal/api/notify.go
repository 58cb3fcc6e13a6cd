package api

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
)

// notifyUsers notifies each user through the notification pipeline (see
// feature.Base.NotifyUsers).
func (s *Server) notifyUsers(ctx context.Context, userIDs []string, d care.NotificationDraft) error {
	return s.base.NotifyUsers(ctx, userIDs, d)
}

// notifyFamily notifies the family's active members, optionally only those
// with one of roles, never the user who caused it (except).
func (s *Server) notifyFamily(ctx context.Context, familyID, except string, roles []care.Role, d care.NotificationDraft) error {
	return s.base.NotifyFamily(ctx, familyID, except, roles, d)
}
