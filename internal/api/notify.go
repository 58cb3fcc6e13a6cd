package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// notifyUsers addresses a notification to each user and delivers it.
func (s *Server) notifyUsers(ctx context.Context, userIDs []string, d care.NotificationDraft) error {
	if len(userIDs) == 0 {
		return nil
	}
	data, err := json.Marshal(d.Data)
	if err != nil {
		return fmt.Errorf("notify: encode data: %w", err)
	}
	if d.Data == nil {
		data = []byte("{}")
	}
	ns := make([]care.Notification, 0, len(userIDs))
	for _, uid := range userIDs {
		n := care.Notification{UserID: uid, Type: d.Type, Title: d.Title, Body: d.Body, Data: data}
		if d.DedupeKey != "" {
			key := d.DedupeKey
			n.DedupeKey = &key
		}
		ns = append(ns, n)
	}
	if _, err := s.store.InsertNotifications(ctx, ns); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
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
	return s.notifyUsers(ctx, ids, d)
}

func hasRole(roles []care.Role, r care.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
