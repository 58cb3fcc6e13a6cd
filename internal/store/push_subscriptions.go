package store

import (
	"context"
	"fmt"
	"time"
)

// PushSubscription is one browser's Web Push subscription.
type PushSubscription struct {
	ID         string     `json:"id"`
	UserID     string     `json:"-"`
	Endpoint   string     `json:"endpoint"`
	P256dh     string     `json:"-"`
	Auth       string     `json:"-"`
	Platform   *string    `json:"platform"`
	DeviceName *string    `json:"deviceName"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

const pushColumns = `id, user_id, endpoint, p256dh, auth, platform, device_name, created_at, last_used_at`

func scanPush(row interface{ Scan(...any) error }) (*PushSubscription, error) {
	var p PushSubscription
	if err := row.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &p.Platform, &p.DeviceName,
		timeCol{&p.CreatedAt}, nullTimeCol{&p.LastUsedAt}); err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// SavePushSubscription stores a subscription for the user. An endpoint is
// one browser: subscribing it again (possibly as another user on a shared
// device) replaces its keys and owner.
func (s *Store) SavePushSubscription(ctx context.Context, p PushSubscription) (*PushSubscription, error) {
	out, err := scanPush(s.wq(ctx).QueryRowContext(ctx, `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh,
		auth, platform, device_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
		auth = excluded.auth, platform = excluded.platform, device_name = excluded.device_name
		RETURNING `+pushColumns,
		newID(), p.UserID, p.Endpoint, p.P256dh, p.Auth, p.Platform, p.DeviceName, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: save push subscription: %w", err)
	}
	return out, nil
}

// DeletePushSubscription removes the user's subscription with that endpoint.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2`, userID, endpoint)
	if err != nil {
		return fmt.Errorf("store: delete push subscription: %w", err)
	}
	return expectOne(res, "delete push subscription")
}

// PushSubscriptions lists a user's subscriptions, newest first.
func (s *Store) PushSubscriptions(ctx context.Context, userID string) ([]PushSubscription, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id = $1
		ORDER BY created_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: push subscriptions: %w", err)
	}
	return collect(rows, scanPush)
}
