package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

const notificationColumns = `id, user_id, type, title, body, data, read, read_at, created_at`

func scanNotification(row interface{ Scan(...any) error }) (*care.Notification, error) {
	var n care.Notification
	err := row.Scan(&n.ID, &n.UserID, &n.Type, &n.Title, &n.Body, jsonCol{&n.Data}, &n.Read,
		nullTimeCol{&n.ReadAt}, timeCol{&n.CreatedAt})
	if err != nil {
		return nil, mapErr(err)
	}
	return &n, nil
}

// NotificationQuery filters a user's notifications.
type NotificationQuery struct {
	UnreadOnly bool
	Limit      int
	Offset     int
}

// UserNotifications lists a user's notifications, newest first.
func (s *Store) UserNotifications(ctx context.Context, userID string, q NotificationQuery) ([]care.Notification, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	where := `user_id = $1 AND ` + visibleNotification
	if q.UnreadOnly {
		where += ` AND read = FALSE`
	}
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE `+where+`
		ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, userID, q.Limit, q.Offset)
	if err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	return collect(rows, scanNotification)
}

// UnreadNotificationCount counts a user's unread notifications.
func (s *Store) UnreadNotificationCount(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.rq(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read = FALSE AND `+visibleNotification,
		userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: unread count: %w", err)
	}
	return n, nil
}

// MarkNotificationsRead marks the user's notifications with the given ids
// read (all of them when ids is nil) and returns how many changed.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string, ids []string) (int, error) {
	q := `UPDATE notifications SET read = TRUE, read_at = $2 WHERE user_id = $1 AND read = FALSE AND ` + visibleNotification
	args := []any{userID, ts(s.now())}
	if ids != nil {
		if len(ids) == 0 {
			return 0, nil
		}
		q += ` AND id IN (` + placeholders(3, len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	res, err := s.wq(ctx).ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("store: mark read: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Notification loads one of a user's notifications.
func (s *Store) Notification(ctx context.Context, userID, id string) (*care.Notification, error) {
	n, err := scanNotification(s.rq(ctx).QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE id = $1 AND user_id = $2 AND `+visibleNotification, id, userID))
	if err != nil {
		return nil, fmt.Errorf("store: notification: %w", err)
	}
	return n, nil
}

// UserPreferences returns the preferences of the given users, by id; users
// that do not exist are left out.
func (s *Store) UserPreferences(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(ids))
	err := inChunks(distinct(ids), s.batchRows(), func(chunk []string) error {
		rows, err := s.rq(ctx).QueryContext(ctx, `SELECT id, preferences FROM users WHERE id IN (`+
			placeholders(1, len(chunk))+`)`, anyArgs(chunk)...)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var prefs json.RawMessage
			if err := rows.Scan(&id, jsonCol{&prefs}); err != nil {
				return mapErr(err)
			}
			out[id] = prefs
		}
		return mapErr(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("store: user preferences: %w", err)
	}
	return out, nil
}
