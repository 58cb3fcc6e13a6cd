package store

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// The reads a batch of deliveries shares: the notifications, their users
// and those users' push subscriptions, one query per chunk each, so sending
// a morning peak's notifications costs the database a few reads per batch
// rather than a few per notification.

// NotificationsByID loads notifications by id, as Notification would (a
// staged reminder's stay hidden); missing ones are left out.
func (s *Store) NotificationsByID(ctx context.Context, ids []string) (map[string]*care.Notification, error) {
	out, err := byIDs(ctx, s, ids, `SELECT `+notificationColumns+` FROM notifications`, visibleNotification, scanNotification,
		func(n *care.Notification) string { return n.ID })
	if err != nil {
		return nil, fmt.Errorf("store: notifications by id: %w", err)
	}
	return out, nil
}

// UsersByID loads users by id; missing ones are left out.
func (s *Store) UsersByID(ctx context.Context, ids []string) (map[string]*care.User, error) {
	out, err := byIDs(ctx, s, ids, `SELECT `+userColumns+` FROM users`, "", scanUser, func(u *care.User) string { return u.ID })
	if err != nil {
		return nil, fmt.Errorf("store: users by id: %w", err)
	}
	return out, nil
}

// PushSubscriptionsOf lists the subscriptions of several users, by user id,
// each user's newest first.
func (s *Store) PushSubscriptionsOf(ctx context.Context, userIDs []string) (map[string][]PushSubscription, error) {
	out := make(map[string][]PushSubscription, len(userIDs))
	err := inChunks(distinct(userIDs), s.batchRows(), func(chunk []string) error {
		rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id IN (`+
			placeholders(1, len(chunk))+`) ORDER BY user_id, created_at DESC`, anyArgs(chunk)...)
		if err != nil {
			return mapErr(err)
		}
		subs, err := collect(rows, scanPush)
		for _, p := range subs {
			out[p.UserID] = append(out[p.UserID], p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: push subscriptions of users: %w", err)
	}
	return out, nil
}
