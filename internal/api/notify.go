package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// notifyUsers addresses a notification to each user, stores it and
// announces it with one "notification.created" event, all in one
// transaction (the caller's, when called inside Atomically). The event is
// scoped to the family of the care recipient named in the draft's data, or
// to its familyId.
func (s *Server) notifyUsers(ctx context.Context, userIDs []string, d care.NotificationDraft) error {
	return s.notify(ctx, "", userIDs, d)
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

// notify stores the notifications of userIDs and emits their event.
func (s *Server) notify(ctx context.Context, familyID string, userIDs []string, d care.NotificationDraft) error {
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
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		created, err := s.store.InsertNotifications(ctx, ns)
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		if len(created) == 0 {
			return nil // every recipient already had it
		}
		crID, _ := d.Data["careRecipientId"].(string)
		ev := domainEvent{Type: "notification.created", FamilyID: familyID, CareRecipientID: crID}
		if ev.FamilyID == "" {
			if ev.FamilyID, err = s.notificationFamily(ctx, d.Data, crID); err != nil {
				return err
			}
		}
		users, ids := make([]string, len(created)), make([]string, len(created))
		for i, n := range created {
			users[i], ids[i] = n.UserID, n.ID
		}
		ev.Data = map[string]any{
			"userIds": users, "notificationIds": ids, "type": d.Type, "title": d.Title, "body": d.Body,
			"data": json.RawMessage(data),
		}
		return s.emit(ctx, ev)
	})
}

// notificationFamily finds the family a notification concerns: its data's
// familyId, or the family of its care recipient; none for a notification
// about no family (such as one to system admins).
func (s *Server) notificationFamily(ctx context.Context, data map[string]any, careRecipientID string) (string, error) {
	if id, ok := data["familyId"].(string); ok && id != "" {
		return id, nil
	}
	if careRecipientID == "" {
		return "", nil
	}
	cr, err := s.store.CareRecipient(ctx, careRecipientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("notify: family of care recipient: %w", err)
	}
	return cr.FamilyID, nil
}

func hasRole(roles []care.Role, r care.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
