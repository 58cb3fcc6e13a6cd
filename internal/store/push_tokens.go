package store

import (
	"context"
	"fmt"
	"time"
)

// PushToken is a native push token of one app install (FCM on Android,
// APNs on iOS, or a browser vendor's token on the web).
type PushToken struct {
	ID        string    `json:"id"`
	UserID    string    `json:"-"`
	Token     string    `json:"token"`
	Platform  string    `json:"platform"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

const pushTokenColumns = `id, user_id, token, platform, created_at, updated_at`

func scanPushToken(row interface{ Scan(...any) error }) (*PushToken, error) {
	var p PushToken
	if err := row.Scan(&p.ID, &p.UserID, &p.Token, &p.Platform, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}); err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// SavePushToken registers a token for the user. Saving the same token again
// changes nothing but its platform and time; a token saved by another user
// (the app signed in to another account) moves to this one.
func (s *Store) SavePushToken(ctx context.Context, userID, token, platform string) (*PushToken, error) {
	now := ts(s.now())
	out, err := scanPushToken(s.wq(ctx).QueryRowContext(ctx, `INSERT INTO push_tokens (id, user_id, token,
		platform, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
		updated_at = excluded.updated_at
		RETURNING `+pushTokenColumns,
		newID(), userID, token, platform, now))
	if err != nil {
		return nil, fmt.Errorf("store: save push token: %w", err)
	}
	return out, nil
}

// DeletePushToken removes the user's token; ErrNotFound when the user has
// no such token.
func (s *Store) DeletePushToken(ctx context.Context, userID, token string) error {
	res, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM push_tokens WHERE user_id = $1 AND token = $2`, userID, token)
	if err != nil {
		return fmt.Errorf("store: delete push token: %w", mapErr(err))
	}
	return expectOne(res, "delete push token")
}

// PushTokens lists a user's tokens, most recently registered first.
func (s *Store) PushTokens(ctx context.Context, userID string) ([]PushToken, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+pushTokenColumns+` FROM push_tokens WHERE user_id = $1
		ORDER BY updated_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: push tokens: %w", err)
	}
	return collect(rows, scanPushToken)
}
