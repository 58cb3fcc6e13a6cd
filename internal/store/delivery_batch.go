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
	out := make(map[string]*care.Notification, len(ids))
	err := inChunks(distinct(ids), s.batchRows(), func(chunk []string) error {
		rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id IN (`+
			placeholders(1, len(chunk))+`) AND `+visibleNotification, anyArgs(chunk)...)
		if err != nil {
			return mapErr(err)
		}
		ns, err := collect(rows, scanNotification)
		for i := range ns {
			out[ns[i].ID] = &ns[i]
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: notifications by id: %w", err)
	}
	return out, nil
}

// UsersByID loads users by id; missing ones are left out.
func (s *Store) UsersByID(ctx context.Context, ids []string) (map[string]*care.User, error) {
	out := make(map[string]*care.User, len(ids))
	err := inChunks(distinct(ids), s.batchRows(), func(chunk []string) error {
		rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE id IN (`+
			placeholders(1, len(chunk))+`)`, anyArgs(chunk)...)
		if err != nil {
			return mapErr(err)
		}
		us, err := collect(rows, scanUser)
		for i := range us {
			out[us[i].ID] = &us[i]
		}
		return err
	})
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
