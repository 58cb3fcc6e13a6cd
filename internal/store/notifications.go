package store

import (
	"context"
	"database/sql"
	"errors"
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

// InsertNotifications stores notifications, skipping any whose dedupe key
// the user already has. It returns the ones created.
func (s *Store) InsertNotifications(ctx context.Context, ns []care.Notification) ([]care.Notification, error) {
	var out []care.Notification
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.insertNotifications(ctx, tx, ns)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert notifications: %w", err)
	}
	return out, nil
}

func (s *Store) insertNotifications(ctx context.Context, q querier, ns []care.Notification) ([]care.Notification, error) {
	now := s.now()
	out := make([]care.Notification, 0, len(ns))
	for _, n := range ns {
		if n.ID == "" {
			n.ID = newID()
		}
		if n.CreatedAt.IsZero() {
			n.CreatedAt = now
		}
		row := q.QueryRowContext(ctx, `INSERT INTO notifications (id, user_id, type, title, body, data,
			read, dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8)
			ON CONFLICT DO NOTHING RETURNING `+notificationColumns,
			n.ID, n.UserID, n.Type, n.Title, n.Body, jsonArg(n.Data), n.DedupeKey, ts(n.CreatedAt))
		created, err := scanNotification(row)
		if errors.Is(err, ErrNotFound) {
			continue // deduplicated
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *created)
	}
	return out, nil
}

// InsertNotificationsTx is InsertNotifications inside the caller's
// transaction, so a delivery and its ledger update commit together.
func (s *Store) InsertNotificationsTx(ctx context.Context, tx *sql.Tx, ns []care.Notification) ([]care.Notification, error) {
	out, err := s.insertNotifications(ctx, tx, ns)
	if err != nil {
		return nil, fmt.Errorf("store: insert notifications: %w", err)
	}
	return out, nil
}
