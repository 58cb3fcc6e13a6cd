package api

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/notify"
)

// notifyUsers notifies each user through the notification pipeline
// (notify.Notifier), in the caller's transaction when called inside
// Atomically. The announcing event is scoped to the family named in the
// draft's data (familyId), or to its care recipient's.
func (s *Server) notifyUsers(ctx context.Context, userIDs []string, d care.NotificationDraft) error {
	familyID, _ := d.Data["familyId"].(string)
	return s.notify(ctx, familyID, userIDs, d)
}

// notifyFamily notifies the family's active members, optionally only those
// with one of roles, never the user who caused it (except).
func (s *Server) notifyFamily(ctx context.Context, familyID, except string, roles []care.Role, d care.NotificationDraft) error {
	members, err := s.store.Members(ctx, familyID)
	if err != nil {
		return fmt.Errorf("notify family: %w", err)
	}
	var ids []string
	for _, m := range members {
		if !m.IsActive || m.UserID == except || (len(roles) > 0 && !hasRole(roles, m.Role)) {
			continue
		}
		ids = append(ids, m.UserID)
	}
	return s.notify(ctx, familyID, ids, d)
}

// notify sends the draft to userIDs through the notification pipeline.
func (s *Server) notify(ctx context.Context, familyID string, userIDs []string, d care.NotificationDraft) error {
	if len(userIDs) == 0 {
		return nil
	}
	crID, _ := d.Data["careRecipientId"].(string)
	n := notify.Notifier{Store: s.store, Clock: s.clock}
	_, err := n.Send(ctx, notify.Notice{To: userIDs, Type: d.Type, Text: care.Text{Title: d.Title, Body: d.Body},
		Data: d.Data, DedupeKey: d.DedupeKey, FamilyID: familyID, CareRecipientID: crID, CorrelationID: requestID(ctx)})
	return err
}

func hasRole(roles []care.Role, r care.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
